/* otgen sw A.npy B.npy: the Sliced-Wasserstein distance between two point clouds, with POT's
 * conventions (directions as columns of a d x L matrix, mean over directions, distance =
 * (SW_p^p)^(1/p)), its Monte-Carlo standard error, max-sliced variants, per-direction values and
 * the gradient with respect to A. */
#define _GNU_SOURCE
#include "cli.h"
#include "options.h"
#include "otgen/otgen.h"

#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *file_a = "", *file_b = ""; /* the two point files, for messages */

typedef struct {
    const char *a_path, *b_path; /* the positional arguments */
    char dir_path[4096], wa_path[4096], wb_path[4096], dw_path[4096], per_dir_path[4096];
    char grad_path[4096];
    char max[16], kind_name[16]; /* "" = not given */
    char est_name[16], energy_name[16];
    double p, ascent_step, temperature;
    int64_t L, seed, threads, chunk, ascent_iters;
    otg_dir_kind kind;
    otg_sw_estimator_opts est;
    int squared, force, fixed_gamma;
} sw_opts;

#define OFF(f) offsetof(sw_opts, f), 0
#define STR(f) OTG_PARAM_STR_FIELD(sw_opts, f)
static const otg_param_def defs[] = {
    {"p", OTG_PARAM_REAL, OFF(p), "P", "order of the cost |x - y|^p, P >= 1", 1, 1e6, 0},
    {"projections", OTG_PARAM_INT, OFF(L), "L", "number of random directions", 1, 2147483648.0, 0},
    {"kind", OTG_PARAM_STR, STR(kind_name), "K",
     "gaussian (uniform on the sphere) | orthogonal (Haar blocks) | rqmc (d = 3: rotated "
     "Fibonacci points) | hadamard (structured orthogonal blocks H D H D H D)",
     0, 0, 0},
    {"directions-kind", OTG_PARAM_STR, STR(kind_name), "K", "the same as --kind", 0, 0, 0},
    {"estimator", OTG_PARAM_STR, STR(est_name), "E",
     "mc (plain mean) | lcv, ucv (control variates) | ebsw (energy-based SW, another quantity)", 0,
     0, 0},
    {"ebsw-energy", OTG_PARAM_STR, STR(energy_name), "F",
     "EBSW weights f(W): exp (softmax of W / T) | identity (W / sum W)", 0, 0, 0},
    {"temperature", OTG_PARAM_REAL, OFF(temperature), "T", "EBSW with exp: temperature on W_p^p",
     1e-300, 1e300, 0},
    {"fixed-gamma", OTG_PARAM_FLAG, OFF(fixed_gamma), NULL,
     "lcv/ucv --grad: hold the coefficient constant (default: its derivative included)", 0, 0, 0},
    {"directions", OTG_PARAM_STR, STR(dir_path), "D.npy",
     "use the columns of D [d, L] as given (not normalised, as POT)", 0, 0, 0},
    {"seed", OTG_PARAM_INT, OFF(seed), "S", "seed of the direction stream", 0, 9.2e18, 0},
    {"weights-a", OTG_PARAM_STR, STR(wa_path), "W.npy",
     "weights of A's rows (default uniform); normalised to sum 1", 0, 0, 0},
    {"weights-b", OTG_PARAM_STR, STR(wb_path), "W.npy",
     "weights of B's rows (default uniform); normalised to sum 1", 0, 0, 0},
    {"direction-weights", OTG_PARAM_STR, STR(dw_path), "W.npy",
     "mc: weights of the L directions (default uniform; OTT's weights): sum_l w_l W_p^p, "
     "normalised to sum 1",
     0, 0, 0},
    {"max", OTG_PARAM_STR, STR(max), "M",
     "sampled: max over the directions | ascent: then projected gradient ascent on the sphere "
     "from the best one (default off)",
     0, 0, 0},
    {"ascent-iters", OTG_PARAM_INT, OFF(ascent_iters), "N", "ascent iterations", 0, 1 << 30, 0},
    {"ascent-step", OTG_PARAM_REAL, OFF(ascent_step), "S", "ascent step on W_p^p", 0, 1e12, 0},
    {"squared", OTG_PARAM_FLAG, OFF(squared), NULL, "print SW_p^p instead of SW_p", 0, 0, 0},
    {"per-direction", OTG_PARAM_STR, STR(per_dir_path), "F",
     "write W_p^p for each direction to F.npy [L]", 0, 0, 0},
    {"grad", OTG_PARAM_STR, STR(grad_path), "F",
     "write the gradient of the printed value with respect to A to F.npy", 0, 0, 0},
    {"chunk", OTG_PARAM_INT, OFF(chunk), "C",
     "directions held in memory at once (results do not depend on it)", 1, 2147483648.0, 0},
    {"threads", OTG_PARAM_INT, OFF(threads), "N", "threads, 0 = all cores", 0, 1024, 0},
    {"force", OTG_PARAM_FLAG, OFF(force), NULL, "overwrite existing output files", 0, 0, 0},
};
static const int n_defs = (int)(sizeof defs / sizeof defs[0]);

static const char *USAGE =
    "usage: otgen sw A.npy B.npy [options]\n"
    "Sliced-Wasserstein distance between the rows of A [n, d] and B [m, d] (NPY, float32 or\n"
    "float64). Prints one line of key=value pairs on stdout: the value, its Monte-Carlo\n"
    "standard error, and how it was computed. Estimator: SW_p^p = (1/L) sum_l W_p^p along L\n"
    "directions (divided by the number of directions actually used); the distance printed\n"
    "is (SW_p^p)^(1/p) as POT's sliced_wasserstein_distance, or SW_p^p with --squared.\n"
    "float64 input: A and B are shifted by their common mean (in double) before rounding to\n"
    "float32 (SW is translation invariant), so offset data keep their digits.\n"
    "Many clouds: otgen sw --pairwise C1.npy C2.npy ... --out D.npy (otgen sw --pairwise "
    "--help).\n"
    "--estimator lcv|ucv: control variates from the projected means (and variances), same\n"
    "target, smaller standard error; ebsw: energy-based SW, sum_l w_l W_p^p with\n"
    "w = softmax(W_p^p / T) (another quantity). docs/sliced-wasserstein.md.\n";

static void sw_parse(int argc, char **argv, sw_opts *o) {
    *o = (sw_opts){.p = 2.0,
                   .L = 256,
                   .chunk = 256,
                   .ascent_iters = 100,
                   .ascent_step = 0.1,
                   .temperature = 1.0,
                   .kind_name = "gaussian",
                   .est_name = "mc",
                   .energy_name = "exp"};
    char *pos[2];
    params_parse_argv_pos("sw", USAGE, defs, n_defs, o, argc, argv, 2, pos,
                          "needs two NPY files A and B (otgen sw --help)");
    o->a_path = pos[0], o->b_path = pos[1];
    file_a = pos[0], file_b = pos[1];
    if (otg_dir_parse(o->kind_name, &o->kind) != OTG_OK)
        cli_usage_error("sw", "--kind: %s", otg_last_error());
    o->est = otg_sw_estimator_opts_default();
    if (otg_sw_estimator_parse(o->est_name, &o->est.kind) != OTG_OK)
        cli_usage_error("sw", "--estimator: %s", otg_last_error());
    if (otg_ebsw_energy_parse(o->energy_name, &o->est.energy) != OTG_OK)
        cli_usage_error("sw", "--ebsw-energy: %s", otg_last_error());
    o->est.temperature = o->temperature, o->est.fixed_gamma = o->fixed_gamma;
    if (o->est.kind != OTG_SW_EST_MC && (o->max[0] || cli_comm()))
        cli_usage_error("sw", "--estimator %s: not with --max nor under mpirun", o->est_name);
    if (o->dw_path[0] && o->est.kind != OTG_SW_EST_MC)
        cli_usage_error("sw",
                        "--direction-weights: with the mc estimator only, not with --estimator %s",
                        o->est_name);
    if (o->dw_path[0] && o->max[0]) cli_usage_error("sw", "--direction-weights: not with --max");
    if (o->max[0] && strcmp(o->max, "sampled") && strcmp(o->max, "ascent"))
        cli_usage_error("sw", "--max: '%s' (sampled or ascent)", o->max);
    if (o->max[0] && cli_comm())
        cli_usage_error("sw", "--max: not available under mpirun (one process only)");
    if (!strcmp(o->max, "ascent") && (o->grad_path[0] || o->per_dir_path[0]))
        cli_usage_error(
            "sw", "--max ascent gives one direction: --grad and --per-direction do not apply");
}

/* Reads a finite NPY array or exits 2 with the reader's one-line reason. */
static otg_tensor *read_or_die(const char *path) {
    otg_tensor *t;
    if (otg_npy_read(path, 1, &t) != OTG_OK) cli_usage_error("sw", "%s", otg_last_error());
    return t;
}

static otg_tensor *read_weights(const char *path, int64_t n, const char *flag, const char *what) {
    if (!path[0]) return NULL;
    otg_tensor *w = read_or_die(path);
    if (otg_tensor_numel(w) != n)
        cli_usage_error("sw", "%s %s: %lld weights for %lld %s", flag, path,
                        (long long)otg_tensor_numel(w), (long long)n, what);
    return w;
}

/* The directions [d, L] (cli_sw_directions) and how they were made. */
static otg_tensor *get_directions(const sw_opts *o, int64_t d, const char **label) {
    *label = o->dir_path[0] ? "file(as-given,not-normalised)" : o->kind_name;
    return cli_sw_directions("sw", o->dir_path, o->kind, d, o->L, o->seed);
}

static void write_or_die(const char *path, const otg_tensor *t, int force) {
    if (otg_npy_write(path, t, force) != OTG_OK) cli_usage_error("sw", "%s", otg_last_error());
}

/* The printed quantity from SW_p^p: itself (--squared) or its p-th root; d(root)/d(value). */
static double shown(const sw_opts *o, double v) {
    return o->squared ? v : v > 0.0 ? pow(v, 1.0 / o->p) : v < 0.0 ? 0.0 : v; /* CV: v < 0 */
}
static double shown_slope(const sw_opts *o, double v) {
    return o->squared ? 1.0 : v > 0 ? pow(v, 1.0 / o->p - 1.0) / o->p : 0.0;
}

/* Library errors on valid files are bad input (weights, shapes): exit 2 with the reason. The
 * library's "sw: " prefix goes (the line starts "otgen sw: " already), and its x and y are named
 * as the user's files. */
static int lib_error(otg_status st) {
    const char *e = otg_last_error();
    if (!strncmp(e, "sw: ", 4)) e += 4;
    int xy = strstr(e, " x") || strstr(e, " y") || !strncmp(e, "x", 1) || !strncmp(e, "y", 1);
    fprintf(stderr, "otgen sw: %s", e);
    if (xy && file_a[0]) fprintf(stderr, " (x = %s, y = %s)", file_a, file_b);
    fprintf(stderr, "\n");
    return st == OTG_EINVAL || st == OTG_ESHAPE ? OTG_EXIT_USAGE : OTG_EXIT_FAIL;
}

/* A value that overflowed double precision (|x - y|^p with a large --p) is no answer. */
static int overflowed(const sw_opts *o, double v) {
    if (isfinite(v)) return 0;
    fprintf(stderr,
            "otgen sw: SW_p^p is not finite (%g) with --p %g: |x - y|^p overflows; use a "
            "smaller --p or rescale the points\n",
            fabs(v), o->p);
    return 1;
}

/* A value of 0 with p > 1 from clouds that differ (SW_1 > 0) underflowed: |x - y|^p is below
 * double precision, which a large --p gives for distances below 1. No answer either. */
static int underflowed(const sw_opts *o, double v, otg_sw_workspace *ws, const otg_tensor *a,
                       const float *wa, const otg_tensor *b, const float *wb,
                       const otg_tensor *th) {
    if (v != 0.0 || o->p <= 1.0) return 0;
    otg_sw_opts so = {1.0, o->chunk, NULL, NULL};
    otg_sw_result r1;
    if (otg_sw(ws, a, wa, b, wb, th, &so, &r1, NULL, NULL) != OTG_OK || !(r1.value > 0.0)) return 0;
    fprintf(stderr,
            "otgen sw: SW_p^p underflowed to 0 with --p %g although the clouds differ (SW_1 = "
            "%.3g): |x - y|^p is below double precision; use a smaller --p or rescale the points\n",
            o->p, r1.value);
    return 1;
}

/* Writes the gradient (scaled to the printed quantity) and per-direction values if asked. */
static void write_extras(const sw_opts *o, otg_tensor *grad, double slope, const double *w,
                         int64_t L) {
    if (grad) {
        for (int64_t i = 0; i < otg_tensor_numel(grad); i++)
            grad->data[i] *= (float)slope;
        write_or_die(o->grad_path, grad, o->force);
    }
    if (w) {
        otg_tensor *per = otg_tensor_new(1, &L);
        if (!per) {
            fprintf(stderr, "otgen sw: %s\n", otg_last_error());
            exit(OTG_EXIT_FAIL);
        }
        for (int64_t l = 0; l < L; l++)
            per->data[l] = (float)w[l];
        write_or_die(o->per_dir_path, per, o->force);
        otg_tensor_free(per);
    }
}

static void print_context(const sw_opts *o, const otg_tensor *a, const otg_tensor *b, int64_t L,
                          const char *dlabel) {
    printf(" quantity=%s p=%g projections=%lld directions=%s seed=%lld n=%lld m=%lld d=%lld "
           "weights=%s",
           o->squared ? "SW_p^p" : "SW_p", o->p, (long long)L, dlabel, (long long)o->seed,
           (long long)a->shape[0], (long long)b->shape[0], (long long)a->shape[1],
           o->wa_path[0] || o->wb_path[0] ? "given" : "uniform");
    printf("%s\n", o->dw_path[0] ? " direction_weights=given" : "");
}

static int sw_run(const sw_opts *o, otg_tensor *a, otg_tensor *wa, otg_tensor *b, otg_tensor *wb,
                  otg_tensor *th, const otg_tensor *dw, otg_sw_workspace *ws, const char *dlabel) {
    const int64_t L = th->shape[1];
    otg_tensor *grad = o->grad_path[0] ? otg_tensor_new(2, a->shape) : NULL;
    double *w = o->per_dir_path[0] ? malloc((size_t)L * sizeof *w) : NULL;
    otg_sw_opts so = {o->p, o->chunk, dw ? dw->data : NULL, NULL};
    otg_sw_result r;
    otg_sw_estimate_info info;
    const int plain = o->est.kind == OTG_SW_EST_MC;
    otg_status st = (o->grad_path[0] && !grad) || (o->per_dir_path[0] && !w) ? OTG_ENOMEM
                    : plain
                        ? otg_sw_comm(ws, a, wa ? wa->data : NULL, b, wb ? wb->data : NULL, th, &so,
                                      &r, grad ? grad->data : NULL, NULL, w, cli_comm())
                        : otg_sw_estimate(ws, a, wa ? wa->data : NULL, b, wb ? wb->data : NULL, th,
                                          &so, &o->est, &r, &info, grad ? grad->data : NULL, w);
    int rc = st == OTG_OK ? OTG_EXIT_OK : lib_error(st);
    if (rc == OTG_EXIT_OK && overflowed(o, r.value)) rc = OTG_EXIT_USAGE;
    if (rc == OTG_EXIT_OK && plain &&
        underflowed(o, r.value, ws, a, wa ? wa->data : NULL, b, wb ? wb->data : NULL, th))
        rc = OTG_EXIT_USAGE;
    if (rc == OTG_EXIT_OK && cli_rank() == 0) { /* under MPI: rank 0 writes and prints */
        double slope = shown_slope(o, r.value);
        write_extras(o, grad, slope, w, L);
        /* standard error of the printed quantity (delta method for the root) */
        printf("sw=%.9g stderr=%.3g estimator=", shown(o, r.value), r.stderr_value * slope);
        if (plain)
            printf("mean-over-directions");
        else if (o->est.kind == OTG_SW_EST_EBSW)
            printf("ebsw ess=%.4g", info.ess);
        else
            printf("%s gamma=%.6g", o->est_name, info.gamma);
        if (!plain) printf(" mc_sw=%.9g", shown(o, info.mc_value));
        print_context(o, a, b, L, dlabel);
    }
    otg_tensor_free(grad);
    free(w);
    return rc;
}

/* --max sampled: the best column (and its gradient); --max ascent: then ascend from it. */
static int sw_run_max(const sw_opts *o, otg_tensor *a, otg_tensor *wa, otg_tensor *b,
                      otg_tensor *wb, otg_tensor *th, otg_sw_workspace *ws, const char *dlabel) {
    const int64_t L = th->shape[1], d = th->shape[0];
    const float *pa = wa ? wa->data : NULL, *pb = wb ? wb->data : NULL;
    double v, v0;
    int64_t best;
    otg_status st = otg_sw_max_sampled(ws, a, pa, b, pb, th, o->p, &v, &best);
    if (st != OTG_OK) return lib_error(st);
    otg_tensor *dir = otg_tensor_new(2, (int64_t[]){d, 1});
    if (!dir) return lib_error(OTG_ENOMEM);
    for (int64_t k = 0; k < d; k++)
        dir->data[k] = th->data[k * L + best];
    v0 = v;
    if (!strcmp(o->max, "ascent"))
        st = otg_sw_max_ascent(a, pa, b, pb, o->p, o->ascent_iters, o->ascent_step, dir->data, &v);
    otg_tensor *grad = o->grad_path[0] ? otg_tensor_new(2, a->shape) : NULL;
    double *w = o->per_dir_path[0] ? malloc((size_t)L * sizeof *w) : NULL;
    otg_sw_opts so = {o->p, o->chunk, NULL, NULL};
    otg_sw_result r;
    if (st == OTG_OK && ((o->grad_path[0] && !grad) || (o->per_dir_path[0] && !w))) st = OTG_ENOMEM;
    if (st == OTG_OK && w) st = otg_sw(ws, a, pa, b, pb, th, &so, &r, NULL, w);
    if (st == OTG_OK && grad) st = otg_sw(ws, a, pa, b, pb, dir, &so, &r, grad->data, NULL);
    int rc = st == OTG_OK ? OTG_EXIT_OK : lib_error(st);
    if (rc == OTG_EXIT_OK && overflowed(o, v)) rc = OTG_EXIT_USAGE;
    if (rc == OTG_EXIT_OK && underflowed(o, v, ws, a, pa, b, pb, th)) rc = OTG_EXIT_USAGE;
    if (rc == OTG_EXIT_OK) {
        write_extras(o, grad, shown_slope(o, v), w, L);
        printf("sw=%.9g estimator=max-%s best_sampled=%lld sampled_value=%.9g", shown(o, v), o->max,
               (long long)best, shown(o, v0));
        if (!strcmp(o->max, "ascent"))
            printf(" ascent_iters=%lld ascent_step=%g", (long long)o->ascent_iters, o->ascent_step);
        print_context(o, a, b, L, dlabel);
    }
    otg_tensor_free(dir), otg_tensor_free(grad);
    free(w);
    return rc;
}

int cmd_sw(int argc, char **argv) {
    for (int i = 1; i < argc && strcmp(argv[i], "--"); i++)
        if (!strcmp(argv[i], "--pairwise")) return cmd_sw_pairwise(argc, argv);
    sw_opts o;
    sw_parse(argc, argv, &o);
    otg_threads_set(cli_comm() && o.threads == 0 ? 1 : (int)o.threads); /* mpirun: 1 per rank */
    double *wide[2];
    otg_tensor *a = cli_read_cloud_f64("sw", o.a_path, &wide[0]),
               *b = cli_read_cloud_f64("sw", o.b_path, &wide[1]);
    if (a->shape[1] != b->shape[1]) {
        long long da = (long long)a->shape[1], db = (long long)b->shape[1];
        otg_tensor_free(a), otg_tensor_free(b); /* nothing held at exit (LeakSanitizer) */
        free(wide[0]), free(wide[1]);
        cli_usage_error("sw", "%s has dimension %lld, %s has %lld", o.a_path, da, o.b_path, db);
    }
    cli_centre_clouds((otg_tensor *[]){a, b}, wide, 2); /* float64: shifted by a common mean */
    otg_tensor *wa = read_weights(o.wa_path, a->shape[0], "--weights-a", "points"),
               *wb = read_weights(o.wb_path, b->shape[0], "--weights-b", "points");
    const char *dlabel = "";
    otg_tensor *th = get_directions(&o, a->shape[1], &dlabel);
    otg_tensor *dw =
        th ? read_weights(o.dw_path, th->shape[1], "--direction-weights", "directions") : NULL;
    otg_sw_workspace *ws = otg_sw_workspace_new();
    int rc = th && ws ? OTG_EXIT_OK : OTG_EXIT_FAIL;
    if (rc != OTG_EXIT_OK)
        fprintf(stderr, "otgen sw: out of memory for the directions [%lld, %lld] (--projections)\n",
                (long long)a->shape[1], (long long)o.L);
    if (rc == OTG_EXIT_OK)
        rc = o.max[0] ? sw_run_max(&o, a, wa, b, wb, th, ws, dlabel)
                      : sw_run(&o, a, wa, b, wb, th, dw, ws, dlabel);
    otg_sw_workspace_free(ws);
    otg_tensor_free(a), otg_tensor_free(b), otg_tensor_free(wa), otg_tensor_free(wb),
        otg_tensor_free(th), otg_tensor_free(dw);
    return rc;
}
