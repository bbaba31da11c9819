/* otgen ad-study: does relu'(0) change training? (Bertoin et al. 2021, on otgen's SW generators.)
 * The study itself is the library's (otg_ad_study_run, src/study/ad_study.c); this file maps the
 * options to its config, writes DIR/study.csv row by row from its hooks with a table on stdout,
 * draws DIR/affected.png and DIR/kinks.png, and prints the summary line. */
#define _POSIX_C_SOURCE 200809L
#include "cli.h"
#include "options.h"
#include "otgen/otgen.h"

#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct {
    otg_ad_study_config c;
    char widths[256], depths[256], out[4096];
    int64_t threads;
    int force;
} study_opts;

#define OFF(f) offsetof(study_opts, f), 0
#define STR(f) OTG_PARAM_STR_FIELD(study_opts, f)
static const otg_param_def defs[] = {
    {"data", OTG_PARAM_STR, STR(c.data), "NAME",
     "2-D target: moons, swiss-roll, gaussians8, rings, checkerboard, ...", 0, 0, 0},
    {"source", OTG_PARAM_STR, STR(c.source), "NAME",
     "latent law: gaussian, uniform or a 2-D law (grid: discrete points, 0 included)", 0, 0, 0},
    {"widths", OTG_PARAM_STR, STR(widths), "W,W", "hidden widths swept", 0, 0, 0},
    {"depths", OTG_PARAM_STR, STR(depths), "D,D", "numbers of hidden layers swept (1..8)", 0, 0, 0},
    {"seeds", OTG_PARAM_INT, OFF(c.seeds), "N",
     "runs per width and depth (seeds --seed, --seed + 1, ...)", 1, 100000, 0},
    {"seed", OTG_PARAM_INT, OFF(c.seed), "N", "first seed", 0, 9e15, 0},
    {"steps", OTG_PARAM_INT, OFF(c.steps), "N", "SGD steps per run", 1, 1e9, 0},
    {"batch", OTG_PARAM_INT, OFF(c.batch), "N", "generated and target points per step", 2, 1 << 20,
     0},
    {"projections", OTG_PARAM_INT, OFF(c.projections), "L",
     "SW directions per step (fresh each step)", 1, 1 << 20, 0},
    {"lr", OTG_PARAM_REAL, OFF(c.lr), "A", "fixed SGD step", 1e-12, 1e6, 0},
    {"ref-width", OTG_PARAM_INT, OFF(c.ref_width), "W", "float64 reference model: hidden width", 1,
     4096, 0},
    {"ref-depth", OTG_PARAM_INT, OFF(c.ref_depth), "D",
     "float64 reference model: hidden layers (1..8)", 1, 8, 0},
    {"val-n", OTG_PARAM_INT, OFF(c.val_n), "N",
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

/* What the hooks need: the CSV, the chart points per cell, the last f32-ref row. */
typedef struct {
    const study_opts *o;
    FILE *csv;
    double frac[256], kinks[256], t0;
    int cell;
    otg_ad_study_row ref32;
} sink;

static void on_row(void *user, const otg_ad_study_row *r) {
    sink *k = user;
    char fd[32] = "", dv[32] = "", drift[32] = "", grel[32] = "", fd32[32] = "-";
    int f64 = !strcmp(r->path, "f64");
    if (r->first_diff) snprintf(fd, sizeof fd, "%lld", (long long)r->first_diff);
    if (r->diverged) snprintf(dv, sizeof dv, "%lld", (long long)r->diverged);
    if (f64)
        snprintf(drift, sizeof drift, "%.6g", r->drift),
            snprintf(grel, sizeof grel, "%.6g", r->grad_rel);
    fprintf(k->csv, "%s,%lld,%lld,%lld,%lld,%s,%s,%lld,%lld,%lld,%.9g,%.9g,%.9g,%.9g,%s,%s\n",
            r->path, (long long)r->width, (long long)r->depth, (long long)r->seed,
            (long long)r->steps, fd, dv, (long long)r->kinks, (long long)r->kinks_to_diff,
            (long long)r->ties, r->loss0, r->loss1, r->val0, r->val1, drift, grel);
    if (!strcmp(r->path, "f32-ref")) {
        if (r->seed == k->o->c.seed) {
            printf("# reference model: width %lld, depth %lld, the same batches on both paths "
                   "(first_diff and kinks of the s = 0 / 1 pair; f32_drift = |u32 - u64| / |u64| "
                   "at the end, grad_rel = |g32 - g64| / |g64| at step 1)\n",
                   (long long)r->width, (long long)r->depth);
            printf("%6s %14s %10s %14s %10s %12s %12s %12s %12s\n", "seed", "f32_first_diff",
                   "f32_kinks", "f64_first_diff", "f64_kinks", "f64_val_s0", "f64_val_s1",
                   "f32_drift", "grad_rel");
        }
        k->ref32 = *r;
    } else if (f64) {
        const otg_ad_study_row *q = &k->ref32;
        snprintf(fd, sizeof fd, "-");
        if (r->first_diff) snprintf(fd, sizeof fd, "%lld", (long long)r->first_diff);
        if (q->first_diff) snprintf(fd32, sizeof fd32, "%lld", (long long)q->first_diff);
        printf("%6lld %14s %10lld %14s %10lld %12.6g %12.6g %12.4g %12.4g\n", (long long)r->seed,
               fd32, (long long)q->kinks, fd, (long long)r->kinks, r->val0, r->val1, r->drift,
               r->grad_rel);
    }
}

static void on_cell(void *user, const otg_ad_study_cell *c) {
    sink *k = user;
    char med[32] = "-";
    if (c->affected) snprintf(med, sizeof med, "%lld", (long long)c->median_first_diff);
    k->frac[k->cell] = c->fraction, k->kinks[k->cell++] = c->kinks_per_run;
    printf("%6lld %6lld %5lld %9lld %9.3f %11.2f %11s %12.4g %9lld\n", (long long)c->width,
           (long long)c->depth, (long long)c->runs, (long long)c->affected, c->fraction,
           c->kinks_per_run, med, c->dval, (long long)c->diverged);
    fflush(stdout);
    double now = cli_now();
    fprintf(stderr, "otgen ad-study: width %lld depth %lld: %lld/%lld runs affected (%.1f s)\n",
            (long long)c->width, (long long)c->depth, (long long)c->affected, (long long)c->runs,
            now - k->t0);
    k->t0 = now;
}

/* The two charts: fraction of runs affected, and kink hits per run, against width, per depth. */
static void draw_charts(char (*paths)[4200], const sink *k) {
    const otg_ad_study_config *c = &k->o->c;
    const int nw = c->n_widths, nd = c->n_depths;
    otg_series s[OTG_AD_STUDY_MAX_SWEEP];
    char labels[OTG_AD_STUDY_MAX_SWEEP][32], ylab[96];
    double x[OTG_AD_STUDY_MAX_SWEEP];
    for (int i = 0; i < nw; i++)
        x[i] = (double)c->widths[i];
    for (int d = 0; d < nd; d++) {
        snprintf(labels[d], sizeof labels[d], "depth %lld", (long long)c->depths[d]);
        s[d] = (otg_series){labels[d], x, k->frac + d * nw, nw};
    }
    snprintf(ylab, sizeof ylab, "fraction of %lld runs (%lld steps each)", (long long)c->seeds,
             (long long)c->steps);
    if (otg_plot_lines_ylim(paths[1], s, nd, "relu'(0) = 0 vs 1: runs whose training differs",
                            "hidden width", ylab, 1, -0.02, 1.02, 1) != OTG_OK)
        fprintf(stderr, "otgen ad-study: %s: %s\n", paths[1], otg_last_error());
    for (int d = 0; d < nd; d++)
        s[d].y = k->kinks + d * nw;
    snprintf(ylab, sizeof ylab, "kink hits per run (%lld steps, batch %lld)", (long long)c->steps,
             (long long)c->batch);
    if (otg_plot_lines(paths[2], s, nd, "ReLU inputs exactly 0 (float32 tape)", "hidden width",
                       ylab, 1, 1, 1) != OTG_OK)
        fprintf(stderr, "otgen ad-study: %s: %s (no kink hit at all?)\n", paths[2],
                otg_last_error());
}

static void parse_args(study_opts *o, int argc, char **argv) {
    o->c = otg_ad_study_config_default();
    snprintf(o->widths, sizeof o->widths, "16,32,64,128,256");
    snprintf(o->depths, sizeof o->depths, "1,2,3,4");
    snprintf(o->out, sizeof o->out, "ad-study");
    o->threads = 1, o->force = 0;
    params_parse_argv("ad-study", USAGE, defs, n_defs, o, argc, argv, NULL);
    o->c.n_widths =
        cli_parse_int_list("ad-study", "--widths", o->widths, o->c.widths, OTG_AD_STUDY_MAX_SWEEP);
    o->c.n_depths =
        cli_parse_int_list("ad-study", "--depths", o->depths, o->c.depths, OTG_AD_STUDY_MAX_SWEEP);
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

int cmd_ad_study(int argc, char **argv) {
    study_opts o;
    parse_args(&o, argc, argv);
    otg_threads_set((int)o.threads);
    otg_ad_study *st = NULL;
    otg_status rc = otg_ad_study_new(&o.c, &st);
    if (rc == OTG_EINVAL) { /* "ad-study: data: ..." names the config field: the flag */
        const char *m = otg_last_error(), *f = strncmp(m, "ad-study: ", 10) ? m : m + 10;
        cli_usage_error("ad-study", "%s%s", strncmp(f, "config", 6) ? "--" : "", f);
    }
    char paths[3][4200];
    sink k = {&o, NULL, {0}, {0}, cli_now(), 0, {0}};
    if (rc == OTG_OK) prepare_dir(&o, paths);
    if (rc == OTG_OK && !(k.csv = fopen(paths[0], "w")))
        cli_usage_error("ad-study", "%s: cannot write: %s", paths[0], strerror(errno));
    otg_ad_study_totals t = {0, 0, 0, 0, 0, 0, 0.0, 0.0};
    if (rc == OTG_OK) {
        const otg_ad_study_config *c = &o.c;
        fprintf(k.csv, "path,width,depth,seed,steps,first_diff,diverged,relu_kinks,"
                       "relu_kinks_to_diff,sort_ties,loss_s0,loss_s1,"
                       "val_sw_s0,val_sw_s1,drift_vs_f64,grad_rel_vs_f64\n");
        printf("# otgen ad-study: %s from %s latents, MLP 2 -> width^depth -> 2 (ReLU), SW_2^2 "
               "with %lld directions, SGD lr=%g, batch %lld, %lld steps; relu'(0) = 0 vs 1 on "
               "the float32 tape\n",
               c->data, c->source, (long long)c->projections, c->lr, (long long)c->batch,
               (long long)c->steps);
        printf("%6s %6s %5s %9s %9s %11s %11s %12s %9s\n", "width", "depth", "runs", "affected",
               "fraction", "kinks/run", "first_diff", "|dval_sw|", "diverged");
        rc = otg_ad_study_run(st, &(otg_ad_study_hooks){on_row, on_cell, &k}, &t);
    }
    int closed = !k.csv || fclose(k.csv) == 0;
    if (rc == OTG_OK && !closed) {
        fprintf(stderr, "otgen ad-study: %s: %s\n", paths[0], strerror(errno));
        rc = OTG_EIO;
    } else if (rc == OTG_OK) {
        draw_charts(paths, &k);
        printf("runs=%lld affected=%lld fraction=%.4g kink_hits=%lld f64_runs=%lld "
               "f64_affected=%lld f64_kink_hits=%lld f64_grad_rel=%.3g f32_drift=%.3g table=%s "
               "chart=%s kinks_chart=%s\n",
               (long long)t.runs, (long long)t.affected, (double)t.affected / (double)t.runs,
               (long long)t.kinks, (long long)t.f64_runs, (long long)t.f64_affected,
               (long long)t.f64_kinks, t.f64_grad_rel, t.f32_drift, paths[0], paths[1], paths[2]);
    } else if (closed) {
        fprintf(stderr, "otgen ad-study: %s\n", otg_last_error());
    }
    otg_ad_study_free(st);
    return rc == OTG_OK ? OTG_EXIT_OK : OTG_EXIT_FAIL;
}
