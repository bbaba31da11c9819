/* otgen sw A.npy B.npy: the Sliced-Wasserstein distance between two point clouds, with POT's
 * conventions (directions as columns of a d x L matrix, mean over directions, distance =
 * (SW_p^p)^(1/p)), its Monte-Carlo standard error, max-sliced variants, per-direction values and
 * the gradient with respect to A. */
#define _GNU_SOURCE
#include "cli.h"
#include "otgen/otgen.h"

#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    const char *a_path, *b_path, *dir_path, *wa_path, *wb_path, *per_dir_path, *grad_path, *max;
    double p, ascent_step;
    int64_t L, seed, threads, chunk, ascent_iters;
    otg_dir_kind kind;
    int squared, force;
} sw_opts;

static void sw_help(void) {
    printf("usage: otgen sw A.npy B.npy [options]\n"
           "Sliced-Wasserstein distance between the rows of A [n, d] and B [m, d] (NPY, float32 or\n"
           "float64). Prints one line of key=value pairs on stdout: the value, its Monte-Carlo\n"
           "standard error, and how it was computed. Estimator: SW_p^p = (1/L) sum_l W_p^p along L\n"
           "directions (divided by the number of directions actually used); the distance printed\n"
           "is (SW_p^p)^(1/p) as POT's sliced_wasserstein_distance, or SW_p^p with --squared.\n\n"
           "  --p P               order of the cost |x - y|^p, P >= 1 [2]\n"
           "  --projections L     number of random directions [256]\n"
           "  --kind K            gaussian (uniform on the sphere) | orthogonal (Haar blocks) [gaussian]\n"
           "  --directions D.npy  use the columns of D [d, L] as given (not normalised, as POT)\n"
           "  --seed S            seed of the direction stream [0]\n"
           "  --weights-a W.npy   weights of A's rows [uniform]; normalised to sum 1\n"
           "  --weights-b W.npy   weights of B's rows [uniform]; normalised to sum 1\n"
           "  --max M             sampled: max over the directions | ascent: then projected\n"
           "                      gradient ascent on the sphere from the best one [off]\n"
           "  --ascent-iters N    ascent iterations [100]\n"
           "  --ascent-step S     ascent step on W_p^p [0.1]\n"
           "  --squared           print SW_p^p instead of SW_p\n"
           "  --per-direction F   write W_p^p for each direction to F.npy [L]\n"
           "  --grad F            write the gradient of the printed value with respect to A to F.npy\n"
           "  --chunk C           directions held in memory at once (results do not depend on it) [256]\n"
           "  --threads N         threads, 0 = all cores [0]\n"
           "  --force             overwrite existing output files\n");
}

static void sw_parse(int argc, char **argv, sw_opts *o) {
    static const struct option lo[] = {
        {"p", required_argument, 0, 'p'},          {"projections", required_argument, 0, 'L'},
        {"kind", required_argument, 0, 'k'},       {"directions", required_argument, 0, 'D'},
        {"seed", required_argument, 0, 's'},       {"weights-a", required_argument, 0, 'a'},
        {"weights-b", required_argument, 0, 'b'},  {"max", required_argument, 0, 'm'},
        {"ascent-iters", required_argument, 0, 'I'}, {"ascent-step", required_argument, 0, 'S'},
        {"squared", no_argument, 0, 'q'},          {"per-direction", required_argument, 0, 'P'},
        {"grad", required_argument, 0, 'g'},       {"chunk", required_argument, 0, 'c'},
        {"threads", required_argument, 0, 't'},    {"force", no_argument, 0, 'f'},
        {"help", no_argument, 0, 'h'},             {0, 0, 0, 0}};
    *o = (sw_opts){0};
    o->p = 2.0, o->L = 256, o->chunk = 256, o->ascent_iters = 100, o->ascent_step = 0.1;
    o->kind = OTG_DIR_GAUSSIAN;
    int c;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
        switch (c) {
        case 'p': o->p = cli_parse_double("sw", "--p", optarg, 1.0, 1e6); break;
        case 'L': o->L = cli_parse_int("sw", "--projections", optarg, 1, INT64_C(1) << 31); break;
        case 'k':
            if (otg_dir_parse(optarg, &o->kind) != OTG_OK) cli_usage_error("sw", "--kind: %s", otg_last_error());
            break;
        case 'D': o->dir_path = optarg; break;
        case 's': o->seed = cli_parse_int("sw", "--seed", optarg, 0, INT64_MAX); break;
        case 'a': o->wa_path = optarg; break;
        case 'b': o->wb_path = optarg; break;
        case 'm':
            if (strcmp(optarg, "sampled") && strcmp(optarg, "ascent"))
                cli_usage_error("sw", "--max: '%s' (sampled or ascent)", optarg);
            o->max = optarg;
            break;
        case 'I': o->ascent_iters = cli_parse_int("sw", "--ascent-iters", optarg, 0, 1 << 30); break;
        case 'S': o->ascent_step = cli_parse_double("sw", "--ascent-step", optarg, 0, 1e12); break;
        case 'q': o->squared = 1; break;
        case 'P': o->per_dir_path = optarg; break;
        case 'g': o->grad_path = optarg; break;
        case 'c': o->chunk = cli_parse_int("sw", "--chunk", optarg, 1, INT64_C(1) << 31); break;
        case 't': o->threads = cli_parse_int("sw", "--threads", optarg, 0, 1024); break;
        case 'f': o->force = 1; break;
        case 'h': sw_help(); exit(OTG_EXIT_OK);
        default: cli_usage_error("sw", "unknown or incomplete option '%s' (otgen sw --help)", argv[optind - 1]);
        }
    }
    if (argc - optind != 2) cli_usage_error("sw", "needs two NPY files A and B (otgen sw --help)");
    o->a_path = argv[optind], o->b_path = argv[optind + 1];
    if (o->max && (o->grad_path || o->per_dir_path) && !strcmp(o->max, "ascent"))
        cli_usage_error("sw", "--max ascent gives one direction: --grad and --per-direction do not apply");
}

/* Reads a finite NPY array or exits 2 with the reader's one-line reason. */
static otg_tensor *read_or_die(const char *path) {
    otg_tensor *t;
    if (otg_npy_read(path, 1, &t) != OTG_OK) cli_usage_error("sw", "%s", otg_last_error());
    return t;
}

/* A point cloud: [n, d] as given, or a 1-D array as n points in dimension 1. */
static otg_tensor *read_cloud(const char *path) {
    otg_tensor *t = read_or_die(path);
    if (t->ndim == 1) t->shape[1] = 1, t->ndim = 2;
    if (t->ndim != 2) cli_usage_error("sw", "%s: need a 2-D array [n, d], got %d dimensions", path, t->ndim);
    return t;
}

static otg_tensor *read_weights(const char *path, int64_t n, const char *flag) {
    if (!path) return NULL;
    otg_tensor *w = read_or_die(path);
    if (otg_tensor_numel(w) != n)
        cli_usage_error("sw", "%s %s: %lld weights for %lld points", flag, path,
                        (long long)otg_tensor_numel(w), (long long)n);
    return w;
}

/* The directions [d, L]: from a file (checked) or drawn from stream (seed, 1). */
static otg_tensor *get_directions(const sw_opts *o, int64_t d, const char **label) {
    if (o->dir_path) {
        otg_tensor *t = read_or_die(o->dir_path);
        if (t->ndim == 1 && d == 1) t->shape[1] = t->shape[0], t->shape[0] = 1, t->ndim = 2;
        if (t->ndim != 2 || t->shape[0] != d)
            cli_usage_error("sw", "%s: directions must be [d, L] = [%lld, L] (one per column)", o->dir_path, (long long)d);
        *label = "file(as-given,not-normalised)";
        return t;
    }
    otg_tensor *t = otg_tensor_new(2, (int64_t[]){d, o->L});
    otg_rng r = otg_rng_make((uint64_t)o->seed, 1);
    if (!t || otg_sw_directions(&r, o->kind, d, o->L, t->data) != OTG_OK) return NULL;
    *label = o->kind == OTG_DIR_GAUSSIAN ? "gaussian" : "orthogonal";
    return t;
}

static void write_or_die(const char *path, const otg_tensor *t, int force) {
    if (otg_npy_write(path, t, force) != OTG_OK) cli_usage_error("sw", "%s", otg_last_error());
}

/* The printed quantity from SW_p^p: itself (--squared) or its p-th root; d(root)/d(value). */
static double shown(const sw_opts *o, double v) { return o->squared ? v : pow(v, 1.0 / o->p); }
static double shown_slope(const sw_opts *o, double v) {
    return o->squared ? 1.0 : v > 0 ? pow(v, 1.0 / o->p - 1.0) / o->p : 0.0;
}

/* Library errors on valid files are bad input (weights, shapes): exit 2 with the reason. */
static int lib_error(otg_status st) {
    fprintf(stderr, "otgen sw: %s\n", otg_last_error());
    return st == OTG_EINVAL || st == OTG_ESHAPE ? OTG_EXIT_USAGE : OTG_EXIT_FAIL;
}

/* Writes the gradient (scaled to the printed quantity) and per-direction values if asked. */
static void write_extras(const sw_opts *o, otg_tensor *grad, double slope, const double *w, int64_t L) {
    if (grad) {
        for (int64_t i = 0; i < otg_tensor_numel(grad); i++) grad->data[i] *= (float)slope;
        write_or_die(o->grad_path, grad, o->force);
    }
    if (w) {
        otg_tensor *per = otg_tensor_new(1, &L);
        for (int64_t l = 0; l < L; l++) per->data[l] = (float)w[l];
        write_or_die(o->per_dir_path, per, o->force);
        otg_tensor_free(per);
    }
}

static void print_context(const sw_opts *o, const otg_tensor *a, const otg_tensor *b, int64_t L,
                          const char *dlabel) {
    printf(" quantity=%s p=%g projections=%lld directions=%s seed=%lld n=%lld m=%lld d=%lld "
           "weights=%s\n", o->squared ? "SW_p^p" : "SW_p", o->p, (long long)L, dlabel,
           (long long)o->seed, (long long)a->shape[0], (long long)b->shape[0], (long long)a->shape[1],
           o->wa_path || o->wb_path ? "given" : "uniform");
}

static int sw_run(const sw_opts *o, otg_tensor *a, otg_tensor *wa, otg_tensor *b, otg_tensor *wb,
                  otg_tensor *th, otg_sw_workspace *ws, const char *dlabel) {
    const int64_t L = th->shape[1];
    otg_tensor *grad = o->grad_path ? otg_tensor_new(2, a->shape) : NULL;
    double *w = o->per_dir_path ? malloc((size_t)L * sizeof *w) : NULL;
    otg_sw_opts so = {o->p, o->chunk};
    otg_sw_result r;
    otg_status st = otg_sw(ws, a, wa ? wa->data : NULL, b, wb ? wb->data : NULL, th, &so, &r,
                           grad ? grad->data : NULL, w);
    int rc = st == OTG_OK ? OTG_EXIT_OK : lib_error(st);
    if (rc == OTG_EXIT_OK) {
        double slope = shown_slope(o, r.value);
        write_extras(o, grad, slope, w, L);
        /* standard error of the printed quantity (delta method for the root) */
        printf("sw=%.9g stderr=%.3g estimator=mean-over-directions", shown(o, r.value),
               r.stderr_value * slope);
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
    for (int64_t k = 0; k < d; k++) dir->data[k] = th->data[k * L + best];
    v0 = v;
    if (!strcmp(o->max, "ascent")) st = otg_sw_max_ascent(a, pa, b, pb, o->p, o->ascent_iters, o->ascent_step, dir->data, &v);
    otg_tensor *grad = o->grad_path ? otg_tensor_new(2, a->shape) : NULL;
    double *w = o->per_dir_path ? malloc((size_t)L * sizeof *w) : NULL;
    otg_sw_opts so = {o->p, o->chunk};
    otg_sw_result r;
    if (st == OTG_OK && w) st = otg_sw(ws, a, pa, b, pb, th, &so, &r, NULL, w);
    if (st == OTG_OK && grad) st = otg_sw(ws, a, pa, b, pb, dir, &so, &r, grad->data, NULL);
    int rc = st == OTG_OK ? OTG_EXIT_OK : lib_error(st);
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
    sw_opts o;
    sw_parse(argc, argv, &o);
    otg_threads_set((int)o.threads);
    otg_tensor *a = read_cloud(o.a_path), *b = read_cloud(o.b_path);
    if (a->shape[1] != b->shape[1])
        cli_usage_error("sw", "%s has dimension %lld, %s has %lld", o.a_path, (long long)a->shape[1], o.b_path, (long long)b->shape[1]);
    otg_tensor *wa = read_weights(o.wa_path, a->shape[0], "--weights-a"), *wb = read_weights(o.wb_path, b->shape[0], "--weights-b");
    const char *dlabel = "";
    otg_tensor *th = get_directions(&o, a->shape[1], &dlabel);
    otg_sw_workspace *ws = otg_sw_workspace_new();
    int rc = th && ws ? OTG_EXIT_OK : OTG_EXIT_FAIL;
    if (rc == OTG_EXIT_OK) rc = o.max ? sw_run_max(&o, a, wa, b, wb, th, ws, dlabel) : sw_run(&o, a, wa, b, wb, th, ws, dlabel);
    otg_sw_workspace_free(ws);
    otg_tensor_free(a), otg_tensor_free(b), otg_tensor_free(wa), otg_tensor_free(wb), otg_tensor_free(th);
    return rc;
}
