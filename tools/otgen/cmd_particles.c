/* otgen particles: mean-field particle gradient flows (Chizat & Bach 2018). Runs forward Euler on
 * m particles of a problem (the library's otg_particles_run; the problems are enumerated from the
 * registry) and writes metrics.csv (step, objective, excess over the known global minimum or
 * empty), particles.npy (final particles, one row each) and particles.png (trajectories with the
 * truth marked); --sweep-m runs several m and seeds (otg_particles_sweep) and writes
 * excess_vs_m.csv and excess_vs_m.png, plus the problem's profile chart when it has one. This file
 * names no problem: per-problem behaviour comes from the type's fields. */
#define _POSIX_C_SOURCE 200809L
#include "cli.h"
#include "options.h"
#include "otgen/io.h"
#include "otgen/particles.h"
#include "otgen/plot.h"
#include "otgen/study.h"
#include "stop.h"

#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct {
    char problem[64], out[4096], inputs[16], init[16], sweep_m[1024]; /* "" = not given */
    int64_t m, m0, d, steps, seed, n, batch, K, threads, log_every, seeds, checkpoint_every;
    double lambda, lr, r0;
    int force, resume;
} part_opts;

#define OFF(f) offsetof(part_opts, f), 0
#define STR(f) OTG_PARAM_STR_FIELD(part_opts, f)
static const otg_param_def defs[] = {
    {"problem", OTG_PARAM_STR, STR(problem), "NAME", "the problem (listed above)", 0, 0, 0},
    {"m", OTG_PARAM_INT, OFF(m), "M", "particles", 1, 1 << 20, 0},
    {"m0", OTG_PARAM_INT, OFF(m0), "M0", "teacher neurons / true spikes", 1, 4096, 0},
    {"d", OTG_PARAM_INT, OFF(d), "D", "input dimension (networks)", 1, 4096, 0},
    {"lambda", OTG_PARAM_REAL, OFF(lambda), "L", "regulariser weight (0: F* = 0 is known)", 0, 1e6,
     0},
    {"steps", OTG_PARAM_INT, OFF(steps), "N", "forward Euler steps (default: the problem's, above)",
     1, 100000000, 0},
    {"lr", OTG_PARAM_REAL, OFF(lr), "ETA",
     "step size of the speed field m grad F_m (default: the problem's)", 1e-12, 1e6, 0},
    {"seed", OTG_PARAM_INT, OFF(seed), "S", "seed (teacher, data, init, batches)", 0, 9e15, 0},
    {"n", OTG_PARAM_INT, OFF(n), "N", "fixed sample size, 0 = fresh samples each step", 0, 1 << 24,
     0},
    {"batch", OTG_PARAM_INT, OFF(batch), "B", "points per step", 1, 1 << 24, 0},
    {"inputs", OTG_PARAM_STR, STR(inputs), "LAW", "gaussian | sphere", 0, 0, 0},
    {"init", OTG_PARAM_STR, STR(init), "KIND",
     "spread (as the theorems need) | point (all at one point)", 0, 0, 0},
    {"r0", OTG_PARAM_REAL, OFF(r0), "R", "init radius, 0 = the problem's default (listed above)", 0,
     1e6, 0},
    {"K", OTG_PARAM_INT, OFF(K), "K", "Dirichlet kernel order (kernel problems)", 1, 10000, 0},
    {"threads", OTG_PARAM_INT, OFF(threads), "T", "threads, 0 = all cores", 0, 1024, 0},
    {"log-every", OTG_PARAM_INT, OFF(log_every), "N",
     "metrics row every N steps, 0 = auto (~200 rows)", 0, 1 << 30, 0},
    {"sweep-m", OTG_PARAM_STR, STR(sweep_m), "LIST",
     "run each m of LIST (e.g. 2,4,8,16) x --seeds and plot excess vs m", 0, 0, 0},
    {"seeds", OTG_PARAM_INT, OFF(seeds), "S", "seeds per m in a sweep (seed, seed+1, ...)", 1, 1000,
     0},
    {"out", OTG_PARAM_STR, STR(out), "DIR", "output directory (required)", 0, 0, 0},
    {"force", OTG_PARAM_FLAG, OFF(force), NULL, "overwrite existing outputs", 0, 0, 0},
    {"checkpoint-every", OTG_PARAM_INT, OFF(checkpoint_every), "N",
     "DIR/checkpoint.otg every N steps, 0 = every tenth of the run (single runs)", 0, 1 << 30, 0},
    {"resume", OTG_PARAM_FLAG, OFF(resume), NULL,
     "continue the run in --out from its checkpoint (the same options)", 0, 0, 0},
};
static const int n_defs = (int)(sizeof defs / sizeof defs[0]);

/* The registry's names, "a, b, c", into buf[cap]. */
static const char *problem_names(char *buf, size_t cap) {
    size_t len = 0;
    buf[0] = '\0';
    for (int i = 0; i < otg_particles_type_count() && len < cap; i++)
        len += (size_t)snprintf(buf + len, cap - len, "%s%s", i ? ", " : "",
                                otg_particles_type_at(i)->name);
    return buf;
}

/* The usage text with one line per problem (summary and defaults) into buf[cap]. */
static const char *usage_text(char *buf, size_t cap) {
    char names[256];
    size_t len = (size_t)snprintf(
        buf, cap,
        "usage: otgen particles --problem NAME --out DIR [options]\n"
        "Mean-field particle gradient flow (Chizat & Bach 2018): u_i <- u_i - lr * m grad_{u_i} "
        "F_m.\nF* = 0 when lambda = 0, else excess is left empty. The problems, with the defaults "
        "used\nwithout --steps, --lr, --r0 (docs/particles.md gives otgen's constants; %s):",
        problem_names(names, sizeof names));
    for (int i = 0; i < otg_particles_type_count() && len < cap; i++) {
        const otg_particles_type *t = otg_particles_type_at(i);
        len += (size_t)snprintf(buf + len, cap - len, "\n  %-9s %s [%lld steps, lr %g", t->name,
                                t->summary, (long long)t->default_steps, t->default_lr);
        if (len < cap && t->default_r0 > 0.0)
            len += (size_t)snprintf(buf + len, cap - len, ", r0 %g", t->default_r0);
        if (len < cap) len += (size_t)snprintf(buf + len, cap - len, "]");
    }
    return buf;
}

/* Prints the library's error and returns the exit code rc. */
static int report_failure(int rc) {
    fprintf(stderr, "otgen particles: %s\n", otg_last_error());
    return rc;
}

/* Reports a failed write; I/O errors (an existing file, a bad path) are the user's. */
static int write_failure(otg_status st) {
    if (st == OTG_ENOMEM) { /* from this file's own allocations: no library message */
        fprintf(stderr, "otgen particles: out of memory\n");
        return OTG_EXIT_FAIL;
    }
    return report_failure(st == OTG_EIO ? OTG_EXIT_USAGE : OTG_EXIT_FAIL);
}

static otg_particles_params make_params(const part_opts *o) {
    otg_particles_params p = otg_particles_params_default();
    p.d = o->d, p.m0 = o->m0, p.lambda = o->lambda, p.n = o->n, p.batch = o->batch;
    p.inputs = !strcmp(o->inputs, "sphere") ? OTG_PARTICLES_X_SPHERE : OTG_PARTICLES_X_GAUSSIAN;
    p.init = !strcmp(o->init, "point") ? OTG_PARTICLES_INIT_POINT : OTG_PARTICLES_INIT_SPREAD;
    p.r0 = o->r0, p.kernel_order = o->K, p.seed = (uint64_t)o->seed;
    return p;
}

static otg_particles_run_opts make_run_opts(const part_opts *o) {
    otg_particles_run_opts r = otg_particles_run_opts_default(NULL);
    r.steps = o->steps, r.lr = o->lr, r.log_every = o->log_every;
    return r;
}

/* ---- one run: metrics.csv, particles.npy, particles.png ------------------------------------ */

typedef struct {
    const otg_particles_type *t;
    int64_t m, dim, steps, snap_every, nsnap;
    float *snaps; /* [nsnap * m, 2] trajectory snapshots */
    char *csv;    /* [cap] metrics.csv */
    size_t cap, len;
    double F; /* the last row's objective */
    cli_progress prog;
    const part_opts *o;
    char key[8192], ckpt[4200]; /* the options' identity; DIR/checkpoint.otg */
    int64_t snap_cap;
} run_ctx;

static void on_particles(void *user, otg_particles *s, int64_t k) {
    run_ctx *c = user;
    if (k > 0) {
        char status[64];
        snprintf(status, sizeof status, "objective %.4g", c->F);
        cli_progress_update(&c->prog, k, status);
    }
    if (k % c->snap_every && k != c->steps) return;
    const float *u = otg_particles_data(s);
    for (int64_t i = 0; i < c->m; i++)
        otg_particles_type_xy(c->t, u + i * c->dim, c->dim, c->m,
                              c->snaps + (c->nsnap * c->m + i) * 2);
    c->nsnap++;
}

static void on_row(void *user, const otg_particles_row *row) {
    run_ctx *c = user;
    char ex[64] = "";
    if (!isnan(row->excess)) snprintf(ex, sizeof ex, "%.9g", row->excess);
    c->len += (size_t)snprintf(c->csv + c->len, c->cap - c->len, "%lld,%.9g,%s\n",
                               (long long)row->step, row->objective, ex);
    c->F = row->objective;
}

/* particles.png: the trajectories of c with the truth of s marked. */
static otg_status write_trajectories(const part_opts *o, const run_ctx *c, otg_particles *s) {
    int64_t nt;
    const float *tu = otg_particles_truth(s, &nt);
    float *txy = malloc((size_t)(nt + 1) * 2 * sizeof(float));
    if (!txy) return OTG_ENOMEM;
    for (int64_t j = 0; j < nt; j++)
        otg_particles_type_xy(c->t, tu + j * c->dim, c->dim, nt, txy + 2 * j);
    char title[256], path[4200];
    snprintf(title, sizeof title, "%s m=%lld: %s", c->t->name, (long long)c->m,
             c->t->xy_title ? c->t->xy_title : "first 2 coords over time");
    snprintf(path, sizeof path, "%s/particles.png", o->out);
    otg_status st =
        otg_plot_paths(path, c->snaps, c->nsnap, c->m, txy, nt,
                       c->t->truth_label ? c->t->truth_label : "truth", title, o->force);
    free(txy);
    return st;
}

static otg_status write_run(const part_opts *o, const run_ctx *c, otg_particles *s) {
    char path[4200];
    snprintf(path, sizeof path, "%s/metrics.csv", o->out);
    otg_status st = otg_write_file_atomic(path, c->csv, c->len, o->force);
    if (st == OTG_OK) {
        snprintf(path, sizeof path, "%s/particles.npy", o->out);
        otg_tensor v = otg_tensor_view(otg_particles_data(s), 2, (int64_t[]){c->m, c->dim});
        st = otg_npy_write(path, &v, o->force);
    }
    return st == OTG_OK ? write_trajectories(o, c, s) : st;
}

static void print_run(const part_opts *o, const otg_particles_result *r) {
    char ex[64] = "";
    if (!isnan(r->excess)) snprintf(ex, sizeof ex, "%.9g", r->excess);
    printf("problem=%s m=%lld m0=%lld d=%lld lambda=%g steps=%lld lr=%g seed=%lld objective=%.9g "
           "excess=%s out=%s\n",
           o->problem, (long long)o->m, (long long)o->m0, (long long)o->d, o->lambda,
           (long long)o->steps, o->lr, (long long)o->seed, r->objective, ex, o->out);
}

/* ---- checkpoints (otg_particles_checkpoint_*): the rows and snapshots so far ---------------- */

/* The options that decide the run (not threads, paths, checkpoints) as the checkpoint's key. */
static void options_key(const part_opts *o, char text[8192]) {
    char val[1100];
    size_t k = 0;
    text[0] = '\0';
    for (int i = 0; i < n_defs; i++) {
        const char *n = defs[i].name;
        if (!strcmp(n, "threads") || !strcmp(n, "out") || !strcmp(n, "force") ||
            !strcmp(n, "checkpoint-every") || !strcmp(n, "resume"))
            continue;
        otg_param_format(&defs[i], o, val, sizeof val);
        k += (size_t)snprintf(text + k, 8192 - k, "%s=%s;", n, val);
        if (k >= 8192) k = 8191;
    }
}

static otg_status save_checkpoint(void *user, otg_particles *s, int64_t done) {
    run_ctx *c = user;
    otg_particles_checkpoint ck = {.steps_done = done,
                                   .metrics = c->csv,
                                   .snapshots = c->snaps,
                                   .n_snapshots = c->nsnap,
                                   .objective = c->F};
    return otg_particles_checkpoint_save(c->ckpt, s, c->key, &ck);
}

/* Restores the run state of c->ckpt into s and c; returns the steps done. Exits 2 on a
 * checkpoint of other options or a malformed one. */
static int64_t load_checkpoint(run_ctx *c, otg_particles *s) {
    otg_particles_checkpoint ck;
    if (otg_particles_checkpoint_load(c->ckpt, s, c->key, c->steps, &ck) != OTG_OK)
        cli_usage_error("particles", "--resume: %s", otg_last_error());
    if (strlen(ck.metrics) >= c->cap || ck.n_snapshots > c->snap_cap) {
        otg_particles_checkpoint_release(&ck);
        cli_usage_error("particles", "--resume: %s: malformed checkpoint header", c->ckpt);
    }
    c->len = (size_t)snprintf(c->csv, c->cap, "%s", ck.metrics);
    c->nsnap = ck.n_snapshots;
    if (ck.n_snapshots)
        memcpy(c->snaps, ck.snapshots, (size_t)(ck.n_snapshots * c->m * 2) * sizeof(float));
    c->F = ck.objective;
    const int64_t done = ck.steps_done;
    otg_particles_checkpoint_release(&ck);
    return done;
}

static int should_stop(void *user) {
    (void)user;
    return stop_signal() != 0;
}

/* The thread count recorded in DIR/checkpoint.otg (0 = all cores when unknown): a resume without
 * --threads keeps the run's, so that it stays bit-identical. */
static int checkpoint_threads(const char *dir) {
    char path[4200];
    snprintf(path, sizeof path, "%s/checkpoint.otg", dir);
    otg_particles_checkpoint ck;
    if (otg_particles_checkpoint_load(path, NULL, NULL, 0, &ck) != OTG_OK)
        return 0; /* reported by the resume */
    const int t = ck.threads;
    otg_particles_checkpoint_release(&ck);
    return t;
}

static int run_single(const part_opts *o, const otg_particles_type *t) {
    otg_particles_params p = make_params(o);
    otg_particles *s = otg_particles_new(t, &p, o->m);
    if (!s) return report_failure(OTG_EXIT_USAGE); /* bad parameters */
    otg_particles_run_opts ro = make_run_opts(o);
    int64_t every = o->log_every ? o->log_every : (o->steps + 199) / 200;
    run_ctx c = {.t = t, .m = o->m, .dim = otg_particles_dim(s), .steps = o->steps, .F = NAN};
    c.o = o;
    options_key(o, c.key);
    snprintf(c.ckpt, sizeof c.ckpt, "%s/checkpoint.otg", o->out);
    c.snap_every = (o->steps + 99) / 100;
    c.snap_cap = o->steps / c.snap_every + 2;
    c.cap = 64 + (size_t)(o->steps / every + 2) * 64;
    c.csv = malloc(c.cap);
    c.snaps = malloc((size_t)c.snap_cap * (size_t)o->m * 2 * sizeof(float));
    ro.checkpoint_every = o->checkpoint_every ? o->checkpoint_every : (o->steps + 9) / 10;
    int rc = OTG_EXIT_OK;
    if (!c.csv || !c.snaps) {
        fprintf(stderr, "otgen particles: out of memory\n");
        rc = OTG_EXIT_FAIL;
    } else {
        c.len = (size_t)snprintf(c.csv, c.cap, "step,objective,excess\n");
        if (o->resume && access(c.ckpt, F_OK) == 0)
            ro.start = load_checkpoint(&c, s);
        else if (o->resume) /* killed before its first checkpoint: the run starts again */
            fprintf(stderr, "otgen particles: --resume: no %s yet: starting at step 0\n", c.ckpt);
        otg_particles_hooks h = {.on_particles = on_particles,
                                 .on_row = on_row,
                                 .user = &c,
                                 .on_checkpoint = save_checkpoint,
                                 .should_stop = should_stop};
        otg_particles_result r;
        cli_progress_start(&c.prog, o->steps, every);
        otg_status st = otg_particles_run(s, &ro, &h, &r);
        cli_progress_end(&c.prog);
        if (st == OTG_CONTINUE) {
            fprintf(stderr,
                    "otgen particles: signal %d: stopped after step %lld; %s written: continue "
                    "with the same command and --resume\n",
                    stop_signal(), (long long)r.steps_done, c.ckpt);
            rc = 128 + stop_signal();
        } else if (st != OTG_OK) {
            fprintf(stderr, "otgen particles: step %lld: %s\n", (long long)r.steps_done + 1,
                    otg_last_error());
            rc = OTG_EXIT_FAIL;
        } else if ((st = write_run(o, &c, s)) != OTG_OK) {
            rc = write_failure(st);
        } else {
            print_run(o, &r);
        }
    }
    free(c.csv), free(c.snaps);
    otg_particles_free(s);
    return rc;
}

/* ---- a sweep over m and seeds: excess_vs_m.csv / .png and the type's profile chart --------- */

#define MAX_M 64
#define PROFILE_GRID 1001

typedef struct {
    const part_opts *o;
    const otg_particles_type *t;
    const int64_t *ms;
    int nm, known, runs_done;
    double *y;               /* [seeds, nm] excess (or objective when F* is unknown) */
    otg_series_stats *stats; /* [nm, 1] the same over seeds: mean and standard error per m */
    char *csv;               /* [cap] excess_vs_m.csv */
    size_t cap, len;
    float *finals[MAX_M]; /* the first seed's final particles per m (profile charts) */
    float *truth;         /* [n_truth, dim] */
    int64_t n_truth, dim;
    int oom;
} sweep_ctx;

/* Keeps a copy of n rows of dim floats; NULL (and c->oom) when out of memory. */
static float *copy_rows(sweep_ctx *c, const float *u, int64_t n) {
    float *v = malloc((size_t)(n * c->dim + 1) * sizeof(float));
    if (!v)
        c->oom = 1;
    else if (n)
        memcpy(v, u, (size_t)(n * c->dim) * sizeof(float));
    return v;
}

static void on_run(void *user, int im, int64_t k, otg_particles *s, const otg_particles_result *r) {
    sweep_ctx *c = user;
    int64_t m = c->ms[im], seed = c->o->seed + k;
    c->runs_done++;
    if (c->t->profile && k == 0) {
        c->dim = otg_particles_dim(s);
        c->finals[im] = copy_rows(c, otg_particles_data(s), m);
        const float *tu = otg_particles_truth(s, &c->n_truth); /* the same for each m */
        free(c->truth);
        c->truth = tu ? copy_rows(c, tu, c->n_truth) : NULL;
    }
    c->known = !isnan(r->excess);
    c->y[k * c->nm + im] = c->known ? r->excess : r->objective;
    otg_series_stats_add(c->stats, im, &c->y[k * c->nm + im]);
    char ex[64] = "";
    if (c->known) snprintf(ex, sizeof ex, "%.9g", r->excess);
    c->len += (size_t)snprintf(c->csv + c->len, c->cap - c->len, "%lld,%lld,%.9g,%s\n",
                               (long long)m, (long long)seed, r->objective, ex);
    fprintf(stderr, "m=%lld seed=%lld objective=%.4g\n", (long long)m, (long long)seed,
            r->objective);
}

/* The profile chart: P of the first seed's final particles for the largest 8 values of m, and of
 * the truth. */
static otg_status write_profile(const sweep_ctx *c) {
    const otg_particles_profile *pr = c->t->profile;
    int ns = c->nm < 8 ? c->nm : 8;
    double *buf = malloc((size_t)(ns + 2) * PROFILE_GRID * sizeof(double)), *x = buf;
    if (!buf) return OTG_ENOMEM;
    char labels[9][32], path[4200], title[160];
    otg_series ser[9];
    for (int g = 0; g < PROFILE_GRID; g++)
        x[g] = (double)g / (PROFILE_GRID - 1);
    for (int i = 0; i <= ns; i++) {
        int j = c->nm - ns + i; /* i == ns: the truth */
        double *yv = buf + (size_t)(i + 1) * PROFILE_GRID;
        if (i < ns) {
            pr->eval(c->finals[j], c->ms[j], c->dim, c->ms[j], PROFILE_GRID, yv);
            snprintf(labels[i], sizeof labels[i], "m = %lld", (long long)c->ms[j]);
        } else {
            pr->eval(c->truth, c->n_truth, c->dim, c->n_truth, PROFILE_GRID, yv);
            snprintf(labels[i], sizeof labels[i], "%s",
                     c->t->truth_label ? c->t->truth_label : "truth");
        }
        ser[i] = (otg_series){labels[i], x, yv, PROFILE_GRID};
    }
    snprintf(title, sizeof title, "%s, m0=%lld, lambda=%g, seed %lld: %s", c->t->name,
             (long long)c->o->m0, c->o->lambda, (long long)c->o->seed, pr->what);
    snprintf(path, sizeof path, "%s/%s", c->o->out, pr->file);
    otg_status st =
        otg_plot_lines(path, ser, ns + 1, title, pr->xlabel, pr->ylabel, 0, 0, c->o->force);
    free(buf);
    return st;
}

/* excess_vs_m.csv, excess_vs_m.png (one line per seed, at most 64) and the profile chart. */
static otg_status write_sweep(const sweep_ctx *c, const double *x) {
    const part_opts *o = c->o;
    char path[4200], labels[64][32], title[160];
    otg_series ser[64];
    int nser = o->seeds < 64 ? (int)o->seeds : 64;
    for (int k = 0; k < nser; k++) {
        snprintf(labels[k], sizeof labels[k], "seed %lld", (long long)(o->seed + k));
        ser[k] = (otg_series){labels[k], x, c->y + k * c->nm, c->nm};
    }
    snprintf(path, sizeof path, "%s/excess_vs_m.csv", o->out);
    otg_status st = otg_write_file_atomic(path, c->csv, c->len, o->force);
    snprintf(title, sizeof title, "%s, m0=%lld, %lld steps: %s at the end vs m", o->problem,
             (long long)o->m0, (long long)o->steps, c->known ? "excess F - F*" : "objective");
    snprintf(path, sizeof path, "%s/excess_vs_m.png", o->out);
    if (st == OTG_OK)
        st = otg_plot_lines(path, ser, nser, title, "particles m",
                            c->known ? "excess objective" : "objective", 1, 1, o->force);
    if (st == OTG_OK && c->t->profile && c->truth) st = write_profile(c);
    snprintf(path, sizeof path, "%s/excess_summary.csv", o->out);
    const char *col[1] = {c->known ? "excess" : "objective"};
    if (st == OTG_OK) st = otg_series_stats_write_csv(c->stats, col, c->ms, path, o->force);
    return st;
}

static int sweep_finish(sweep_ctx *c, otg_status st, const otg_particles_result *res) {
    const part_opts *o = c->o;
    double x[MAX_M];
    for (int i = 0; i < c->nm; i++)
        x[i] = (double)c->ms[i];
    if (st == OTG_EINVAL) return report_failure(OTG_EXIT_USAGE); /* bad parameters */
    if (st != OTG_OK) {
        int at = c->runs_done; /* the failed run: m outer, seeds inner */
        const otg_particles_result *r = &res[(at % o->seeds) * c->nm + at / o->seeds];
        fprintf(stderr, "otgen particles: step %lld: %s\n", (long long)r->steps_done + 1,
                otg_last_error());
        return OTG_EXIT_FAIL;
    }
    if (c->oom) st = OTG_ENOMEM, fprintf(stderr, "otgen particles: out of memory\n");
    if (st == OTG_OK && (st = write_sweep(c, x)) != OTG_OK) return write_failure(st);
    if (st != OTG_OK) return OTG_EXIT_FAIL;
    printf("sweep=%s problem=%s m0=%lld seeds=%lld steps=%lld csv=%s/excess_vs_m.csv\n", o->sweep_m,
           o->problem, (long long)o->m0, (long long)o->seeds, (long long)o->steps, o->out);
    return OTG_EXIT_OK;
}

static int run_sweep(const part_opts *o, const otg_particles_type *t) {
    int64_t ms[MAX_M];
    int nm = cli_parse_int_list("particles", "--sweep-m", o->sweep_m, ms, MAX_M);
    for (int i = 0; i < nm; i++)
        if (ms[i] < 1 || ms[i] > (1 << 20))
            cli_usage_error("particles", "--sweep-m: m = %lld out of 1..2^20", (long long)ms[i]);
    sweep_ctx c = {.o = o, .t = t, .ms = ms, .nm = nm, .known = 1};
    c.cap = 64 + (size_t)(nm * o->seeds) * 96;
    c.y = malloc((size_t)(nm * o->seeds) * sizeof(double));
    c.csv = malloc(c.cap);
    c.stats = otg_series_stats_new(nm, 1);
    otg_particles_result *res = malloc((size_t)(nm * o->seeds) * sizeof *res);
    int rc = OTG_EXIT_FAIL;
    if (!c.y || !c.csv || !c.stats || !res) {
        fprintf(stderr, "otgen particles: out of memory\n");
    } else {
        c.len = (size_t)snprintf(c.csv, c.cap, "m,seed,objective,excess\n");
        otg_particles_params p = make_params(o);
        otg_particles_run_opts ro = make_run_opts(o);
        otg_status st = otg_particles_sweep(t, &p, ms, nm, o->seeds, &ro, on_run, &c, res);
        rc = sweep_finish(&c, st, res);
    }
    for (int i = 0; i < nm; i++)
        free(c.finals[i]);
    otg_series_stats_free(c.stats);
    free(c.truth), free(c.y), free(c.csv), free(res);
    return rc;
}

/* Checks the options; resolves --steps 0 / --lr 0 to the type's defaults. */
static const otg_particles_type *check_opts(part_opts *o) {
    char names[256];
    if (!o->problem[0])
        cli_usage_error("particles", "--problem is required (%s)",
                        problem_names(names, sizeof names));
    const otg_particles_type *t = otg_particles_type_by_name(o->problem);
    if (!t) cli_usage_error("particles", "--problem: %s", otg_last_error());
    if (!o->out[0]) cli_usage_error("particles", "--out DIR is required");
    if (strcmp(o->inputs, "gaussian") && strcmp(o->inputs, "sphere"))
        cli_usage_error("particles", "--inputs '%s': gaussian or sphere", o->inputs);
    if (strcmp(o->init, "spread") && strcmp(o->init, "point"))
        cli_usage_error("particles", "--init '%s': spread or point", o->init);
    if (o->n > 0 && o->batch > o->n) o->batch = o->n;
    otg_particles_run_opts d = otg_particles_run_opts_default(t);
    if (!o->steps) o->steps = d.steps;
    if (o->lr == 0.0) o->lr = d.lr;
    return t;
}

int cmd_particles(int argc, char **argv) {
    part_opts o = {.inputs = "gaussian",
                   .init = "spread",
                   .m = 32,
                   .m0 = 3,
                   .d = 2,
                   .steps = 0,
                   .seed = 1,
                   .n = 0,
                   .batch = 256,
                   .K = 7,
                   .threads = 0,
                   .log_every = 0,
                   .seeds = 3,
                   .lambda = 0.0,
                   .lr = 0.0,
                   .r0 = 0.0};
    int seen[sizeof defs / sizeof defs[0]] = {0};
    static char usage[4096];
    params_parse_argv("particles", usage_text(usage, sizeof usage), defs, n_defs, &o, argc, argv,
                      seen);
    const otg_particles_type *t = check_opts(&o);
    if (o.sweep_m[0] && (o.resume || o.checkpoint_every))
        cli_usage_error("particles", "--resume and --checkpoint-every are for single runs, not "
                                     "--sweep-m");
    if (o.resume) o.force = 1; /* the outputs are this run's */
    stop_catch_signals();
    int ti = otg_params_find(defs, n_defs, "threads");
    otg_threads_set(o.resume && !seen[ti] ? checkpoint_threads(o.out) : (int)o.threads);
    if (otg_mkdir_p(o.out) != OTG_OK) cli_usage_error("particles", "--out: %s", otg_last_error());
    int rc = o.sweep_m[0] ? run_sweep(&o, t) : run_single(&o, t);
    return rc;
}
