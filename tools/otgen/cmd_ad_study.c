/* otgen ad-study: does relu'(0) change training? (Bertoin et al. 2021, on otgen's SW generators.)
 * For each width x depth x seed it trains the same MLP generator twice from the same seed and the
 * same batches with plain SGD — relu'(0) = 0 and relu'(0) = 1 — and reports the first step at
 * which the parameters differ bitwise, the ReLU inputs exactly at 0 met on the way, and the final
 * losses; then the same for a small model on the float64 reference path (study_ref.c). Writes
 * DIR/study.csv and the charts DIR/affected.png and DIR/kinks.png. */
#define _POSIX_C_SOURCE 200809L /* strdup */
#include "cli.h"
#include "options.h"
#include "study.h"

#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

typedef struct {
    char data[64], source[64], widths[256], depths[256], out[4096];
    int64_t seeds, seed, steps, batch, projections, ref_width, ref_depth, val_n, threads;
    double lr;
    int force;
} study_opts;

#define OFF(f) offsetof(study_opts, f), 0
#define STR(f) OTG_PARAM_STR_FIELD(study_opts, f)
static const otg_param_def defs[] = {
    {"data", OTG_PARAM_STR, STR(data), "NAME",
     "2-D target: moons, swiss-roll, gaussians8, rings, checkerboard, ...", 0, 0, 0},
    {"source", OTG_PARAM_STR, STR(source), "NAME",
     "latent law: gaussian, uniform or a 2-D law (grid: discrete points, 0 included)", 0, 0, 0},
    {"widths", OTG_PARAM_STR, STR(widths), "W,W", "hidden widths swept", 0, 0, 0},
    {"depths", OTG_PARAM_STR, STR(depths), "D,D", "numbers of hidden layers swept (1..8)", 0, 0, 0},
    {"seeds", OTG_PARAM_INT, OFF(seeds), "N",
     "runs per width and depth (seeds --seed, --seed + 1, ...)", 1, 100000, 0},
    {"seed", OTG_PARAM_INT, OFF(seed), "N", "first seed", 0, 9e15, 0},
    {"steps", OTG_PARAM_INT, OFF(steps), "N", "SGD steps per run", 1, 1e9, 0},
    {"batch", OTG_PARAM_INT, OFF(batch), "N", "generated and target points per step", 2, 1 << 20,
     0},
    {"projections", OTG_PARAM_INT, OFF(projections), "L",
     "SW directions per step (fresh each step)", 1, 1 << 20, 0},
    {"lr", OTG_PARAM_REAL, OFF(lr), "A", "fixed SGD step", 1e-12, 1e6, 0},
    {"ref-width", OTG_PARAM_INT, OFF(ref_width), "W", "float64 reference model: hidden width", 1,
     4096, 0},
    {"ref-depth", OTG_PARAM_INT, OFF(ref_depth), "D",
     "float64 reference model: hidden layers (1..8)", 1, 8, 0},
    {"val-n", OTG_PARAM_INT, OFF(val_n), "N",
     "validation points (rounded up to a multiple of --batch)", 2, 1 << 24, 0},
    {"threads", OTG_PARAM_INT, OFF(threads), "N", "threads, 0 = all cores", 0, 1024, 0},
    {"out", OTG_PARAM_STR, STR(out), "DIR", "output directory (study.csv, affected.png, kinks.png)",
     0, 0, 0},
    {"force", OTG_PARAM_FLAG, OFF(force), NULL, "overwrite DIR's files", 0, 0, 0},
};
#undef OFF
#undef STR
static const int n_defs = (int)(sizeof defs / sizeof defs[0]);

static const char *USAGE =
    "usage: otgen ad-study [options]\n"
    "Trains the same MLP generator (SW_2^2 loss, plain SGD) from the same seed with relu'(0) = 0\n"
    "and relu'(0) = 1 for every width x depth x seed, and reports the first step at which the\n"
    "parameters differ bitwise, the ReLU inputs exactly at 0 met (kink hits) and the final\n"
    "losses; then the same pair, and its float32-vs-float64 drift, on the float64 reference path\n"
    "for a small model. A table per width and depth on stdout, then a key=value summary line;\n"
    "DIR/study.csv (one row per run), DIR/affected.png and DIR/kinks.png. Progress on stderr.\n"
    "Example: otgen ad-study --widths 32,128,512 --depths 1,2,4 --seeds 8 --out runs/ad-study\n";

/* One pair of runs (s = 0 and s = 1). */
typedef struct {
    int64_t first_diff; /* 1-based step whose update first made the parameters differ; 0 none */
    int64_t diverged;   /* 1-based step of the first non-finite loss (the pair stops); 0 none */
    int64_t kinks, kinks_to_diff, ties;
    double loss0, loss1, val0, val1;
    double drift, grad_rel; /* float64 rows: |u32 - u64| / |u64| at the end; at step 1 for g */
} pair_result;

typedef struct {
    const study_opts *o;
    otg_source *target, *latent;
    study_val val;
    float *z, *y;
    otg_tensor *theta;
} study_ctx;

/* The batches of step k of seed `seed` (streams (seed, 1..3)), identical for every run. */
typedef struct {
    otg_rng lat, data, dirs;
} study_streams;

static study_streams streams_make(uint64_t seed) {
    return (study_streams){otg_rng_make(seed, 1), otg_rng_make(seed, 2), otg_rng_make(seed, 3)};
}

/* One step's latents, data and directions; 0 or -1 (error set). */
static int draw(study_ctx *c, study_streams *s) {
    const int64_t b = c->o->batch;
    if (otg_source_sample(c->latent, &s->lat, b, c->z) != OTG_OK) return -1;
    if (otg_source_sample(c->target, &s->data, b, c->y) != OTG_OK) return -1;
    return otg_sw_directions(&s->dirs, OTG_DIR_GAUSSIAN, 2, c->o->projections, c->theta->data) ? -1
                                                                                               : 0;
}

/* p, or exit 1 when an allocation failed */
static void *need(void *p) {
    if (!p) {
        fprintf(stderr, "otgen ad-study: out of memory\n");
        exit(OTG_EXIT_FAIL);
    }
    return p;
}

static int make_widths(int64_t w, int64_t depth, int64_t *widths) {
    widths[0] = 2;
    for (int64_t l = 1; l <= depth; l++)
        widths[l] = w;
    widths[depth + 1] = 2;
    return (int)depth + 2;
}

/* The float32 pair for hidden width w and `depth` layers. Returns 0 or -1 (error set). */
static int pair_f32(study_ctx *c, int64_t w, int64_t depth, uint64_t seed, pair_result *res) {
    int64_t widths[STUDY_MAX_LAYERS + 1];
    int nw = make_widths(w, depth, widths);
    study_f32 m0, m1;
    memset(res, 0, sizeof *res);
    memset(&m1, 0, sizeof m1);
    int rc = study_f32_build(&m0, widths, nw, c->o->batch, c->theta, 0.0f, seed);
    if (!rc) rc = study_f32_build(&m1, widths, nw, c->o->batch, c->theta, 1.0f, seed);
    study_streams s = streams_make(seed);
    const size_t bytes = rc ? 0 : (size_t)m0.n_params * sizeof(float);
    for (int64_t k = 1; !rc && k <= c->o->steps; k++) {
        if ((rc = draw(c, &s)) != 0) break;
        int64_t k0, k1, t0, t1;
        if ((rc = study_f32_step(&m0, c->z, c->y, c->o->lr, &res->loss0, &k0, &t0)) ||
            (rc = study_f32_step(&m1, c->z, c->y, c->o->lr, &res->loss1, &k1, &t1)))
            break;
        res->kinks += k0, res->ties += t0;
        if (!isfinite(res->loss0) || !isfinite(res->loss1)) {
            res->diverged = k;
            break;
        }
        if (!res->first_diff) {
            res->kinks_to_diff += k0;
            if (memcmp(otg_graph_params(m0.g, NULL), otg_graph_params(m1.g, NULL), bytes))
                res->first_diff = k;
        }
    }
    if (!rc) res->val0 = study_val_sw(&c->val, &m0), res->val1 = study_val_sw(&c->val, &m1);
    study_f32_release(&m0);
    study_f32_release(&m1);
    return rc;
}

static double rel_dist_f32_f64(const float *a, const double *b, int64_t n) {
    double num = 0.0, den = 0.0;
    for (int64_t i = 0; i < n; i++)
        num += ((double)a[i] - b[i]) * ((double)a[i] - b[i]), den += b[i] * b[i];
    return sqrt(num / fmax(den, 1e-300));
}

/* Writes u (double) into the float32 model's parameters and returns its validation SW. */
static double val_of_f64(study_ctx *c, study_f32 *m, const double *u) {
    float *p = otg_graph_params(m->g, NULL);
    for (int64_t i = 0; i < m->n_params; i++)
        p[i] = (float)u[i];
    return study_val_sw(&c->val, m);
}

/* The float64 pair for the reference model, with the float32 s = 0 run beside it for the drift. */
static int pair_f64(study_ctx *c, uint64_t seed, pair_result *res) {
    int64_t widths[STUDY_MAX_LAYERS + 1];
    int nw = make_widths(c->o->ref_width, c->o->ref_depth, widths);
    study_f32 m;
    memset(res, 0, sizeof *res);
    if (study_f32_build(&m, widths, nw, c->o->batch, c->theta, 0.0f, seed)) return -1;
    study_ref *r0 = study_ref_new(widths, nw, c->o->batch, c->o->projections, 0.0);
    study_ref *r1 = study_ref_new(widths, nw, c->o->batch, c->o->projections, 1.0);
    int rc = r0 && r1 && r0->n_params == m.n_params ? 0 : -1;
    const float *u32 = otg_graph_params(m.g, NULL);
    for (int64_t i = 0; !rc && i < m.n_params; i++)
        r0->u[i] = r1->u[i] = (double)u32[i];
    study_streams s = streams_make(seed);
    for (int64_t k = 1; !rc && k <= c->o->steps; k++) {
        int64_t kk, tt;
        double l32;
        if ((rc = draw(c, &s)) != 0 ||
            (rc = study_f32_step(&m, c->z, c->y, c->o->lr, &l32, &kk, &tt)))
            break;
        res->loss0 = study_ref_loss_grad(r0, c->z, c->y, c->theta->data);
        res->loss1 = study_ref_loss_grad(r1, c->z, c->y, c->theta->data);
        if (k == 1) res->grad_rel = rel_dist_f32_f64(otg_graph_grads(m.g, NULL), r0->g, m.n_params);
        for (int64_t i = 0; i < m.n_params; i++)
            r0->u[i] -= c->o->lr * r0->g[i], r1->u[i] -= c->o->lr * r1->g[i];
        res->kinks += r0->kinks;
        if (!isfinite(res->loss0) || !isfinite(res->loss1)) {
            res->diverged = k;
            break;
        }
        if (!res->first_diff) {
            res->kinks_to_diff += r0->kinks;
            if (memcmp(r0->u, r1->u, (size_t)m.n_params * sizeof(double))) res->first_diff = k;
        }
    }
    if (!rc) {
        res->drift = rel_dist_f32_f64(otg_graph_params(m.g, NULL), r0->u, m.n_params);
        res->val0 = val_of_f64(c, &m, r0->u), res->val1 = val_of_f64(c, &m, r1->u);
    }
    study_ref_free(r0), study_ref_free(r1);
    study_f32_release(&m);
    return rc;
}

/* ---- the command: options, output directory, sweep, table, charts ------------------------- */

static void parse_args(study_opts *o, int64_t *widths, int *nw, int64_t *depths, int *nd, int argc,
                       char **argv) {
    *o = (study_opts){"moons",   "gaussian", "16,32,64,128,256",
                      "1,2,3,4", "ad-study", 4,
                      0,         300,        128,
                      32,        16,         2,
                      512,       1,          0.005,
                      0};
    params_parse_argv("ad-study", USAGE, defs, n_defs, o, argc, argv, NULL);
    *nw = cli_parse_int_list("ad-study", "--widths", o->widths, widths, 16);
    *nd = cli_parse_int_list("ad-study", "--depths", o->depths, depths, 16);
    for (int i = 0; i < *nw; i++)
        if (widths[i] > 4096)
            cli_usage_error("ad-study", "--widths: %lld above 4096", (long long)widths[i]);
    for (int i = 0; i < *nd; i++)
        if (depths[i] > STUDY_MAX_LAYERS - 1)
            cli_usage_error("ad-study", "--depths: %lld outside [1, %d]", (long long)depths[i],
                            STUDY_MAX_LAYERS - 1);
    o->val_n = (o->val_n + o->batch - 1) / o->batch * o->batch;
}

/* DIR exists or is created; its outputs are not overwritten without --force. */
static void prepare_dir(const study_opts *o, char (*paths)[4200]) {
    const char *names[3] = {"study.csv", "affected.png", "kinks.png"};
    if (otg_mkdir_p(o->out) != OTG_OK)
        cli_usage_error("ad-study", "--out %s: %s", o->out, otg_last_error());
    for (int i = 0; i < 3; i++) {
        snprintf(paths[i], 4200, "%s/%s", o->out, names[i]);
        if (!o->force && access(paths[i], F_OK) == 0)
            cli_usage_error("ad-study", "%s exists (pass --force to overwrite)", paths[i]);
    }
}

static void csv_row(FILE *f, const char *path, int64_t w, int64_t d, int64_t seed, int64_t steps,
                    const pair_result *r) {
    char fd[32] = "", dv[32] = "", drift[32] = "", grel[32] = "";
    if (r->first_diff) snprintf(fd, sizeof fd, "%lld", (long long)r->first_diff);
    if (r->diverged) snprintf(dv, sizeof dv, "%lld", (long long)r->diverged);
    if (!strcmp(path, "f64"))
        snprintf(drift, sizeof drift, "%.6g", r->drift),
            snprintf(grel, sizeof grel, "%.6g", r->grad_rel);
    fprintf(f, "%s,%lld,%lld,%lld,%lld,%s,%s,%lld,%lld,%lld,%.9g,%.9g,%.9g,%.9g,%s,%s\n", path,
            (long long)w, (long long)d, (long long)seed, (long long)steps, fd, dv,
            (long long)r->kinks, (long long)r->kinks_to_diff, (long long)r->ties, r->loss0,
            r->loss1, r->val0, r->val1, drift, grel);
}

static int cmp_i64(const void *p, const void *q) {
    int64_t a = *(const int64_t *)p, b = *(const int64_t *)q;
    return (a > b) - (a < b);
}

/* Totals over the sweep, for the summary line. */
typedef struct {
    int64_t runs, affected, kinks;
} totals;

/* The runs of one width and depth: csv rows, one table row, the chart points. */
static int sweep_config(study_ctx *c, FILE *csv, int64_t w, int64_t d, double *frac,
                        double *kinks_per_run, totals *t) {
    const study_opts *o = c->o;
    int64_t affected = 0, diverged = 0, kinks = 0,
            *diffs = need(calloc((size_t)o->seeds, sizeof *diffs));
    double dval = 0.0, t0 = cli_now();
    for (int64_t k = 0; k < o->seeds; k++) {
        pair_result r;
        if (pair_f32(c, w, d, (uint64_t)(o->seed + k), &r)) {
            free(diffs);
            return -1;
        }
        csv_row(csv, "f32", w, d, o->seed + k, o->steps, &r);
        if (r.first_diff) diffs[affected++] = r.first_diff;
        kinks += r.kinks;
        if (r.diverged)
            diverged++;
        else
            dval += fabs(r.val0 - r.val1);
    }
    dval = diverged < o->seeds ? dval / (double)(o->seeds - diverged) : (double)NAN;
    qsort(diffs, (size_t)affected, sizeof *diffs, cmp_i64);
    char med[32] = "-";
    if (affected) snprintf(med, sizeof med, "%lld", (long long)diffs[affected / 2]);
    *frac = (double)affected / (double)o->seeds;
    *kinks_per_run = (double)kinks / (double)o->seeds;
    printf("%6lld %6lld %5lld %9lld %9.3f %11.2f %11s %12.4g %9lld\n", (long long)w, (long long)d,
           (long long)o->seeds, (long long)affected, *frac, *kinks_per_run, med, dval,
           (long long)diverged);
    fflush(stdout);
    fprintf(stderr, "otgen ad-study: width %lld depth %lld: %lld/%lld runs affected (%.1f s)\n",
            (long long)w, (long long)d, (long long)affected, (long long)o->seeds, cli_now() - t0);
    t->runs += o->seeds, t->affected += affected, t->kinks += kinks;
    free(diffs);
    return 0;
}

/* The reference model's pairs on both paths: the float32 pair (csv rows f32-ref) and the float64
 * pair (rows f64); worst grad_rel and drift, float64 runs affected and kink hits. */
static int reference(study_ctx *c, FILE *csv, totals *t, double *grad_rel, double *drift) {
    const study_opts *o = c->o;
    printf(
        "# reference model: width %lld, depth %lld, the same batches on both paths (first_diff and "
        "kinks of the s = 0 / 1 pair; f32_drift = |u32 - u64| / |u64| at the end, grad_rel = "
        "|g32 - g64| / |g64| at step 1)\n",
        (long long)o->ref_width, (long long)o->ref_depth);
    printf("%6s %14s %10s %14s %10s %12s %12s %12s %12s\n", "seed", "f32_first_diff", "f32_kinks",
           "f64_first_diff", "f64_kinks", "f64_val_s0", "f64_val_s1", "f32_drift", "grad_rel");
    *grad_rel = *drift = 0.0;
    for (int64_t k = 0; k < o->seeds; k++) {
        pair_result r, r32;
        if (pair_f32(c, o->ref_width, o->ref_depth, (uint64_t)(o->seed + k), &r32)) return -1;
        if (pair_f64(c, (uint64_t)(o->seed + k), &r)) return -1;
        csv_row(csv, "f32-ref", o->ref_width, o->ref_depth, o->seed + k, o->steps, &r32);
        csv_row(csv, "f64", o->ref_width, o->ref_depth, o->seed + k, o->steps, &r);
        char fd[32] = "-", fd32[32] = "-";
        if (r.first_diff) snprintf(fd, sizeof fd, "%lld", (long long)r.first_diff);
        if (r32.first_diff) snprintf(fd32, sizeof fd32, "%lld", (long long)r32.first_diff);
        printf("%6lld %14s %10lld %14s %10lld %12.6g %12.6g %12.4g %12.4g\n",
               (long long)(o->seed + k), fd32, (long long)r32.kinks, fd, (long long)r.kinks, r.val0,
               r.val1, r.drift, r.grad_rel);
        t->runs++, t->affected += r.first_diff != 0, t->kinks += r.kinks;
        *grad_rel = fmax(*grad_rel, r.grad_rel), *drift = fmax(*drift, r.drift);
    }
    return 0;
}

/* The two charts: fraction of runs affected, and kink hits per run, against width, per depth. */
static void draw_charts(char (*paths)[4200], const int64_t *widths, int nw, const int64_t *depths,
                        int nd, const double *frac, const double *kinks, const study_opts *o) {
    otg_series s[16];
    char labels[16][32], title[160];
    double *x = need(malloc((size_t)nw * sizeof *x));
    for (int i = 0; i < nw; i++)
        x[i] = (double)widths[i];
    for (int d = 0; d < nd; d++) {
        snprintf(labels[d], sizeof labels[d], "depth %lld", (long long)depths[d]);
        s[d] = (otg_series){labels[d], x, frac + d * nw, nw};
    }
    char ylab[96];
    snprintf(title, sizeof title, "relu'(0) = 0 vs 1: runs whose training differs");
    snprintf(ylab, sizeof ylab, "fraction of %lld runs (%lld steps each)", (long long)o->seeds,
             (long long)o->steps);
    if (otg_plot_lines_ylim(paths[1], s, nd, title, "hidden width", ylab, 1, -0.02, 1.02, 1) !=
        OTG_OK)
        fprintf(stderr, "otgen ad-study: %s: %s\n", paths[1], otg_last_error());
    for (int d = 0; d < nd; d++)
        s[d].y = kinks + d * nw;
    snprintf(title, sizeof title, "ReLU inputs exactly 0 (float32 tape)");
    snprintf(ylab, sizeof ylab, "kink hits per run (%lld steps, batch %lld)", (long long)o->steps,
             (long long)o->batch);
    if (otg_plot_lines(paths[2], s, nd, title, "hidden width", ylab, 1, 1, 1) != OTG_OK)
        fprintf(stderr, "otgen ad-study: %s: %s (no kink hit at all?)\n", paths[2],
                otg_last_error());
    free(x);
}

static int run_study(study_ctx *c, char (*paths)[4200], const int64_t *widths, int nw,
                     const int64_t *depths, int nd) {
    const study_opts *o = c->o;
    FILE *csv = fopen(paths[0], "w");
    if (!csv) cli_usage_error("ad-study", "%s: cannot write: %s", paths[0], strerror(errno));
    fprintf(csv, "path,width,depth,seed,steps,first_diff,diverged,relu_kinks,relu_kinks_to_diff,"
                 "sort_ties,loss_s0,loss_s1,"
                 "val_sw_s0,val_sw_s1,drift_vs_f64,grad_rel_vs_f64\n");
    printf("# otgen ad-study: %s from %s latents, MLP 2 -> width^depth -> 2 (ReLU), SW_2^2 with "
           "%lld directions, SGD "
           "lr=%g, batch %lld, %lld steps; relu'(0) = 0 vs 1 on the float32 tape\n",
           o->data, o->source, (long long)o->projections, o->lr, (long long)o->batch,
           (long long)o->steps);
    printf("%6s %6s %5s %9s %9s %11s %11s %12s %9s\n", "width", "depth", "runs", "affected",
           "fraction", "kinks/run", "first_diff", "|dval_sw|", "diverged");
    double *frac = need(calloc((size_t)(nw * nd), sizeof *frac)),
           *kinks = need(calloc((size_t)(nw * nd), sizeof *kinks));
    totals t32 = {0, 0, 0}, t64 = {0, 0, 0};
    double grad_rel = 0.0, drift = 0.0;
    int rc = 0;
    for (int d = 0; !rc && d < nd; d++)
        for (int i = 0; !rc && i < nw; i++)
            rc = sweep_config(c, csv, widths[i], depths[d], &frac[d * nw + i], &kinks[d * nw + i],
                              &t32);
    if (!rc) rc = reference(c, csv, &t64, &grad_rel, &drift);
    fclose(csv);
    if (!rc) {
        draw_charts(paths, widths, nw, depths, nd, frac, kinks, o);
        printf("runs=%lld affected=%lld fraction=%.4g kink_hits=%lld f64_runs=%lld "
               "f64_affected=%lld f64_kink_hits=%lld "
               "f64_grad_rel=%.3g f32_drift=%.3g table=%s chart=%s kinks_chart=%s\n",
               (long long)t32.runs, (long long)t32.affected,
               (double)t32.affected / (double)t32.runs, (long long)t32.kinks, (long long)t64.runs,
               (long long)t64.affected, (long long)t64.kinks, grad_rel, drift, paths[0], paths[1],
               paths[2]);
    }
    free(frac), free(kinks);
    return rc;
}

int cmd_ad_study(int argc, char **argv) {
    study_opts o;
    int64_t widths[16], depths[16];
    int nw, nd;
    parse_args(&o, widths, &nw, depths, &nd, argc, argv);
    otg_threads_set((int)o.threads);
    char paths[3][4200];
    study_ctx c = {&o, NULL, NULL, {0}, NULL, NULL, NULL};
    otg_source_opts so = otg_source_opts_default();
    if (!(c.target = otg_source_open(o.data, &so)))
        cli_usage_error("ad-study", "--data: %s", otg_last_error());
    if (otg_source_dim(c.target) != 2 || otg_source_is_image(c.target, NULL, NULL))
        cli_usage_error("ad-study", "--data %s: the study trains 2-D generators (a 2-D data set)",
                        o.data);
    otg_source_opts lo = otg_source_opts_default();
    lo.dim = 2;
    if (!(c.latent = otg_source_open(o.source, &lo)))
        cli_usage_error("ad-study", "--source: %s", otg_last_error());
    if (otg_source_dim(c.latent) != 2 || otg_source_size(c.latent) > 0)
        cli_usage_error(
            "ad-study",
            "--source %s: needs a 2-D law sampled afresh (gaussian, uniform, grid, moons, ...)",
            o.source);
    prepare_dir(&o, paths);
    c.z = malloc((size_t)(o.batch * 2) * sizeof(float));
    c.y = malloc((size_t)(o.batch * 2) * sizeof(float));
    c.theta = otg_tensor_new(2, (int64_t[]){2, o.projections});
    int rc = c.z && c.y && c.theta &&
                     !study_val_make(&c.val, c.target, c.latent, o.val_n, (uint64_t)o.seed)
                 ? 0
                 : -1;
    if (!rc) rc = run_study(&c, paths, widths, nw, depths, nd);
    if (rc) fprintf(stderr, "otgen ad-study: %s\n", otg_last_error());
    study_val_release(&c.val);
    otg_tensor_free(c.theta);
    free(c.z), free(c.y);
    otg_source_free(c.target), otg_source_free(c.latent);
    return rc ? OTG_EXIT_FAIL : OTG_EXIT_OK;
}
