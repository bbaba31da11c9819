/* otgen particles: mean-field particle gradient flows (Chizat & Bach 2018). Runs forward Euler on
 * m particles of a problem (relu2, sigmoid2, deconv) and writes metrics.csv (step, objective,
 * excess over the known global minimum or empty), particles.npy (final particles, one row each)
 * and particles.png (trajectories with the truth marked); --sweep-m runs several m and seeds and
 * writes excess_vs_m.csv and excess_vs_m.png (for deconv also mass_vs_t.png, the cumulative mass
 * of the final particles per m against the truth's). */
#define _POSIX_C_SOURCE 200809L
#include "cli.h"
#include "options.h"
#include "otgen/io.h"
#include "otgen/particles.h"
#include "otgen/plot.h"

#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

typedef struct {
    char *problem, *out, *inputs, *init, *sweep_m;
    int64_t m, m0, d, steps, seed, n, batch, K, threads, log_every, seeds;
    double lambda, lr, r0;
    int force;
} part_opts;

#define OFF(f) offsetof(part_opts, f)
static const opt_def defs[] = {
    {"problem", OPT_STR, OFF(problem), "NAME", "relu2 | sigmoid2 | deconv", 0, 0, 0},
    {"m", OPT_INT, OFF(m), "M", "particles", 1, 1 << 20, 0},
    {"m0", OPT_INT, OFF(m0), "M0", "teacher neurons / true spikes", 1, 4096, 0},
    {"d", OPT_INT, OFF(d), "D", "input dimension (networks)", 1, 4096, 0},
    {"lambda", OPT_REAL, OFF(lambda), "L", "regulariser weight (0: F* = 0 is known)", 0, 1e6, 0},
    {"steps", OPT_INT, OFF(steps), "N", "forward Euler steps", 1, 100000000, 0},
    {"lr", OPT_REAL, OFF(lr), "ETA", "step size of the speed field m grad F_m", 1e-12, 1e6, 0},
    {"seed", OPT_INT, OFF(seed), "S", "seed (teacher, data, init, batches)", 0, 9e15, 0},
    {"n", OPT_INT, OFF(n), "N", "fixed sample size, 0 = fresh samples each step", 0, 1 << 24, 0},
    {"batch", OPT_INT, OFF(batch), "B", "points per step", 1, 1 << 24, 0},
    {"inputs", OPT_STR, OFF(inputs), "LAW", "gaussian | sphere", 0, 0, 0},
    {"init", OPT_STR, OFF(init), "KIND", "spread (as the theorems need) | point (all at one point)", 0, 0, 0},
    {"r0", OPT_REAL, OFF(r0), "R", "init radius, 0 = problem default (relu2 0.1, sigmoid2 4)", 0, 1e6, 0},
    {"K", OPT_INT, OFF(K), "K", "Dirichlet kernel order (deconv)", 1, 10000, 0},
    {"threads", OPT_INT, OFF(threads), "T", "threads, 0 = all cores", 0, 1024, 0},
    {"log-every", OPT_INT, OFF(log_every), "N", "metrics row every N steps, 0 = auto (~200 rows)", 0, 1 << 30, 0},
    {"sweep-m", OPT_STR, OFF(sweep_m), "LIST", "run each m of LIST (e.g. 2,4,8,16) x --seeds and plot excess vs m", 0, 0, 0},
    {"seeds", OPT_INT, OFF(seeds), "S", "seeds per m in a sweep (seed, seed+1, ...)", 1, 1000, 0},
    {"out", OPT_STR, OFF(out), "DIR", "output directory (required)", 0, 0, 0},
    {"force", OPT_FLAG, OFF(force), NULL, "overwrite existing outputs", 0, 0, 0},
};
static const int n_defs = (int)(sizeof defs / sizeof defs[0]);

static const char *USAGE =
    "usage: otgen particles --problem relu2|sigmoid2|deconv --out DIR [options]\n"
    "Mean-field particle gradient flow (Chizat & Bach 2018): u_i <- u_i - lr * m grad_{u_i} F_m.\n"
    "otgen's constants (the paper's are unknown): relu2 teacher = m0 unit neurons (bias 0, w = 1),\n"
    "init on the sphere of radius 0.1; sigmoid2 teacher = sigma(4 theta.x) with weights +-1, init\n"
    "w = 0 and theta on the sphere of radius 4; deconv K = 7, spikes with weights +-[1,2), init\n"
    "w = 0 on a uniform grid. F* = 0 when lambda = 0, else excess is left empty.\n"
    "--steps 0 and --lr 0 select the problem's defaults (relu2 3000 steps lr 0.2, sigmoid2 3000/0.5,\n"
    "deconv 3000/0.03).";

static int mkdir_p(const char *path) {
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s", path);
    for (char *q = tmp + 1; *q; q++)
        if (*q == '/') {
            *q = '\0';
            if (mkdir(tmp, 0755) && errno != EEXIST) return -1;
            *q = '/';
        }
    return mkdir(tmp, 0755) && errno != EEXIST ? -1 : 0;
}

/* Plot coordinates of particle u (dim floats): networks (w theta_0, w theta_1) (theta_1 = bias
 * when d = 1); deconv (t, w / count). */
static void coords(int deconv, const float *u, int64_t dim, int64_t count, float *xy) {
    if (deconv) {
        xy[0] = u[1], xy[1] = (float)((double)u[0] / (double)count);
    } else {
        xy[0] = u[0] * u[1], xy[1] = u[0] * u[dim > 3 ? 2 : dim - 1];
    }
}

typedef struct {
    double objective, excess;
    float *final; /* if not NULL, receives the final particles [m, dim] */
    float *truth; /* with final: set to a malloc'd copy of the truth [n_truth, dim] */
    int64_t n_truth;
} run_result;

/* One run; when out_dir is set, writes the run's files. Returns an exit code. */
static int run_one(const part_opts *o, int64_t m, uint64_t seed, const char *out_dir, int quiet,
                   run_result *res) {
    const otg_particles_type *t = otg_particles_type_find(o->problem);
    otg_particles_params p = otg_particles_params_default();
    p.d = o->d, p.m0 = o->m0, p.lambda = o->lambda, p.n = o->n, p.batch = o->batch;
    p.inputs = !strcmp(o->inputs, "sphere") ? OTG_PARTICLES_X_SPHERE : OTG_PARTICLES_X_GAUSSIAN;
    p.init = !strcmp(o->init, "point") ? OTG_PARTICLES_INIT_POINT : OTG_PARTICLES_INIT_SPREAD;
    p.r0 = o->r0, p.kernel_order = o->K, p.seed = seed;
    otg_particles *s = otg_particles_new(t, &p, m);
    if (!s) {
        fprintf(stderr, "otgen particles: %s\n", otg_last_error());
        return OTG_EXIT_USAGE;
    }
    int deconv = !strcmp(t->name, "deconv");
    int64_t dim = otg_particles_dim(s), every = o->log_every ? o->log_every : (o->steps + 199) / 200;
    int64_t snap_every = (o->steps + 99) / 100, nsnap = 0;
    double Fstar = otg_particles_minimum(s), F = NAN;
    size_t cap = 64 + (size_t)(o->steps / every + 2) * 64, len = 0;
    char *csv = malloc(cap);
    float *snaps = out_dir ? malloc((size_t)(o->steps / snap_every + 2) * (size_t)m * 2 * sizeof(float)) : NULL;
    len += (size_t)snprintf(csv, cap, "step,objective,excess\n");
    cli_progress prog;
    if (!quiet) cli_progress_start(&prog, o->steps, every);
    int rc = OTG_EXIT_OK;
    for (int64_t k = 0; k <= o->steps; k++) {
        if (snaps && (k % snap_every == 0 || k == o->steps)) {
            const float *u = otg_particles_data(s);
            for (int64_t i = 0; i < m; i++) coords(deconv, u + i * dim, dim, m, snaps + (nsnap * m + i) * 2);
            nsnap++;
        }
        if (k % every == 0 || k == o->steps) {
            if (otg_particles_objective(s, &F) != OTG_OK) break;
            char ex[64] = "";
            if (!isnan(Fstar)) snprintf(ex, sizeof ex, "%.9g", F - Fstar);
            len += (size_t)snprintf(csv + len, cap - len, "%lld,%.9g,%s\n", (long long)k, F, ex);
        }
        if (k == o->steps) break;
        if (otg_particles_step(s, o->lr) != OTG_OK) {
            fprintf(stderr, "otgen particles: step %lld: %s\n", (long long)k + 1, otg_last_error());
            rc = OTG_EXIT_FAIL;
            break;
        }
        if (!quiet) {
            char status[64];
            snprintf(status, sizeof status, "objective %.4g", F);
            cli_progress_update(&prog, k + 1, status);
        }
    }
    if (!quiet) cli_progress_end(&prog);
    res->objective = F, res->excess = isnan(Fstar) ? (double)NAN : F - Fstar;
    if (res->final) {
        memcpy(res->final, otg_particles_data(s), (size_t)(m * dim) * sizeof(float));
        const float *tu = otg_particles_truth(s, &res->n_truth);
        res->truth = malloc((size_t)(res->n_truth * dim) * sizeof(float));
        if (res->truth) memcpy(res->truth, tu, (size_t)(res->n_truth * dim) * sizeof(float));
    }
    if (out_dir && rc == OTG_EXIT_OK) {
        char path[4200];
        otg_status st;
        snprintf(path, sizeof path, "%s/metrics.csv", out_dir);
        st = otg_write_file_atomic(path, csv, len, o->force);
        if (st == OTG_OK) {
            snprintf(path, sizeof path, "%s/particles.npy", out_dir);
            otg_tensor v = otg_tensor_view(otg_particles_data(s), 2, (int64_t[]){m, dim});
            st = otg_npy_write(path, &v, o->force);
        }
        if (st == OTG_OK) {
            int64_t nt;
            const float *tu = otg_particles_truth(s, &nt);
            float *txy = malloc((size_t)nt * 2 * sizeof(float));
            for (int64_t j = 0; j < nt; j++) coords(deconv, tu + j * dim, dim, nt, txy + 2 * j);
            char title[256];
            snprintf(title, sizeof title, deconv ? "%s m=%lld: position t vs mass w/m over time"
                                                 : "%s m=%lld: w*theta (first 2 coords) over time",
                     t->name, (long long)m);
            snprintf(path, sizeof path, "%s/particles.png", out_dir);
            st = otg_plot_scatter(path, txy, nt, deconv ? "true spikes" : "teacher", snaps, nsnap * m,
                                  "particles (trajectories)", title, o->force);
            free(txy);
        }
        if (st != OTG_OK) {
            fprintf(stderr, "otgen particles: %s\n", otg_last_error());
            rc = st == OTG_EIO ? OTG_EXIT_USAGE : OTG_EXIT_FAIL;
        }
    }
    free(csv), free(snaps);
    otg_particles_free(s);
    return rc;
}

#define MASS_GRID 1001
/* deconv: the signed mass on [0, t], M(t) = (1/n) sum_{t_i <= t} w_i, on MASS_GRID points of
 * [0, 1) for particles u [n, 2] (w, t) with normaliser n; out [MASS_GRID]. */
static void cumulative_mass(const float *u, int64_t n, int64_t norm, double *out) {
    for (int g = 0; g < MASS_GRID; g++) out[g] = 0.0;
    for (int64_t i = 0; i < n; i++) {
        int g0 = (int)ceil((double)u[2 * i + 1] * (MASS_GRID - 1));
        for (int g = g0 < 0 ? 0 : g0; g < MASS_GRID; g++) out[g] += (double)u[2 * i] / (double)norm;
    }
}

/* mass_vs_t.png for a deconv sweep: M(t) of the first seed's final particles for each m, and of
 * the true spikes truth [nt, 2]: the measures mu_m approach one limit as m grows.
 * finals [nm][m_i * 2]. */
static otg_status write_mass_chart(const part_opts *o, const int64_t *ms, int nm, float **finals,
                                   const float *truth, int64_t nt) {
    int ns = nm < 8 ? nm : 8;
    double *buf = malloc((size_t)(ns + 2) * MASS_GRID * sizeof(double)), *t = buf;
    char labels[9][32], path[4200], title[160];
    otg_series ser[9];
    for (int g = 0; g < MASS_GRID; g++) t[g] = (double)g / (MASS_GRID - 1);
    for (int i = 0; i < ns; i++) { /* the last (largest) ns values of m */
        int j = nm - ns + i;
        cumulative_mass(finals[j], ms[j], ms[j], buf + (size_t)(i + 1) * MASS_GRID);
        snprintf(labels[i], sizeof labels[i], "m = %lld", (long long)ms[j]);
        ser[i] = (otg_series){labels[i], t, buf + (size_t)(i + 1) * MASS_GRID, MASS_GRID};
    }
    cumulative_mass(truth, nt, nt, buf + (size_t)(ns + 1) * MASS_GRID);
    snprintf(labels[ns], sizeof labels[ns], "true spikes");
    ser[ns] = (otg_series){labels[ns], t, buf + (size_t)(ns + 1) * MASS_GRID, MASS_GRID};
    snprintf(title, sizeof title, "deconv, m0=%lld, lambda=%g, seed %lld: mass on [0, t]",
             (long long)o->m0, o->lambda, (long long)o->seed);
    snprintf(path, sizeof path, "%s/mass_vs_t.png", o->out);
    otg_status st = otg_plot_lines(path, ser, ns + 1, title, "position t",
                                   "(1/m) sum of w_i over t_i <= t", 0, 0, o->force);
    free(buf);
    return st;
}

static int run_sweep(const part_opts *o) {
    int64_t ms[64];
    int nm = cli_parse_int_list("particles", "--sweep-m", o->sweep_m, ms, 64);
    for (int i = 0; i < nm; i++)
        if (ms[i] < 1 || ms[i] > (1 << 20)) cli_usage_error("particles", "--sweep-m: m = %lld out of 1..2^20", (long long)ms[i]);
    int64_t ns = o->seeds;
    int deconv = !strcmp(o->problem, "deconv");
    float *finals[64] = {0}, *truth = NULL;
    int64_t n_truth = 0;
    double *x = malloc((size_t)nm * sizeof(double)), *y = malloc((size_t)(nm * ns) * sizeof(double));
    size_t cap = 64 + (size_t)(nm * ns) * 96, len = 0;
    char *csv = malloc(cap);
    len += (size_t)snprintf(csv, cap, "m,seed,objective,excess\n");
    int rc = OTG_EXIT_OK, known = 1;
    for (int i = 0; i < nm && !rc; i++) {
        x[i] = (double)ms[i];
        for (int64_t k = 0; k < ns && !rc; k++) {
            run_result r = {0};
            if (deconv && k == 0) r.final = finals[i] = malloc((size_t)ms[i] * 2 * sizeof(float));
            rc = run_one(o, ms[i], (uint64_t)(o->seed + k), NULL, 1, &r);
            if (r.truth) free(truth), truth = r.truth, n_truth = r.n_truth; /* the same each m */
            known = !isnan(r.excess);
            y[k * nm + i] = known ? r.excess : r.objective;
            char ex[64] = "";
            if (known) snprintf(ex, sizeof ex, "%.9g", r.excess);
            len += (size_t)snprintf(csv + len, cap - len, "%lld,%lld,%.9g,%s\n", (long long)ms[i],
                                    (long long)(o->seed + k), r.objective, ex);
            fprintf(stderr, "m=%lld seed=%lld objective=%.4g\n", (long long)ms[i], (long long)(o->seed + k), r.objective);
        }
    }
    if (!rc) {
        char path[4200], labels[64][32], title[160];
        otg_series ser[64];
        int nser = ns < 64 ? (int)ns : 64;
        for (int k = 0; k < nser; k++) {
            snprintf(labels[k], sizeof labels[k], "seed %lld", (long long)(o->seed + k));
            ser[k] = (otg_series){labels[k], x, y + k * nm, nm};
        }
        snprintf(path, sizeof path, "%s/excess_vs_m.csv", o->out);
        otg_status st = otg_write_file_atomic(path, csv, len, o->force);
        snprintf(title, sizeof title, "%s, m0=%lld, %lld steps: %s at the end vs m", o->problem,
                 (long long)o->m0, (long long)o->steps, known ? "excess F - F*" : "objective");
        snprintf(path, sizeof path, "%s/excess_vs_m.png", o->out);
        if (st == OTG_OK)
            st = otg_plot_lines(path, ser, nser, title, "particles m", known ? "excess objective" : "objective", 1, 1, o->force);
        if (st == OTG_OK && deconv && truth)
            st = write_mass_chart(o, ms, nm, finals, truth, n_truth);
        if (st != OTG_OK) {
            fprintf(stderr, "otgen particles: %s\n", otg_last_error());
            rc = st == OTG_EIO ? OTG_EXIT_USAGE : OTG_EXIT_FAIL;
        } else {
            printf("sweep=%s problem=%s m0=%lld seeds=%lld steps=%lld csv=%s/excess_vs_m.csv\n", o->sweep_m,
                   o->problem, (long long)o->m0, (long long)ns, (long long)o->steps, o->out);
        }
    }
    for (int i = 0; i < nm; i++) free(finals[i]);
    free(truth);
    free(x), free(y), free(csv);
    return rc;
}

int cmd_particles(int argc, char **argv) {
    part_opts o = {.problem = NULL, .out = NULL, .inputs = (char *)"gaussian", .init = (char *)"spread", .sweep_m = NULL,
                   .m = 32, .m0 = 3, .d = 2, .steps = 0, .seed = 1, .n = 0, .batch = 256, .K = 7,
                   .threads = 0, .log_every = 0, .seeds = 3, .lambda = 0.0, .lr = 0.0, .r0 = 0.0};
    int seen[sizeof defs / sizeof defs[0]] = {0};
    opts_own_strings(defs, n_defs, &o);
    opts_parse_argv("particles", USAGE, defs, n_defs, &o, argc, argv, seen);
    if (!o.problem) cli_usage_error("particles", "--problem is required (relu2, sigmoid2, deconv)");
    if (!otg_particles_type_find(o.problem))
        cli_usage_error("particles", "--problem '%s': unknown (relu2, sigmoid2, deconv)", o.problem);
    if (!o.out) cli_usage_error("particles", "--out DIR is required");
    if (strcmp(o.inputs, "gaussian") && strcmp(o.inputs, "sphere"))
        cli_usage_error("particles", "--inputs '%s': gaussian or sphere", o.inputs);
    if (strcmp(o.init, "spread") && strcmp(o.init, "point"))
        cli_usage_error("particles", "--init '%s': spread or point", o.init);
    if (o.n > 0 && o.batch > o.n) o.batch = o.n;
    int deconv = !strcmp(o.problem, "deconv");
    if (!o.steps) o.steps = deconv ? 3000 : 3000;
    if (o.lr == 0.0) o.lr = deconv ? 0.03 : !strcmp(o.problem, "relu2") ? 0.2 : 0.5;
    otg_threads_set((int)o.threads);
    if (mkdir_p(o.out)) cli_usage_error("particles", "--out %s: cannot create the directory (%s)", o.out, strerror(errno));
    int rc;
    if (o.sweep_m) {
        rc = run_sweep(&o);
    } else {
        run_result r = {0};
        rc = run_one(&o, o.m, (uint64_t)o.seed, o.out, 0, &r);
        if (!rc) {
            char ex[64] = "";
            if (!isnan(r.excess)) snprintf(ex, sizeof ex, "%.9g", r.excess);
            printf("problem=%s m=%lld m0=%lld d=%lld lambda=%g steps=%lld lr=%g seed=%lld objective=%.9g excess=%s out=%s\n",
                   o.problem, (long long)o.m, (long long)o.m0, (long long)o.d, o.lambda, (long long)o.steps,
                   o.lr, (long long)o.seed, r.objective, ex, o.out);
        }
    }
    opts_free(defs, n_defs, &o);
    return rc;
}
