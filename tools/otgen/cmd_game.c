/* otgen game: min-max dynamics (simGD, altGDA, optimistic, anchored, extragradient and the Adam
 * variants) on a test game (dirac, quadratic, bilinear, nonsmooth), R seeds each. Writes
 * metrics.csv (or one metrics-<method>.csv per method plus a combined metrics.csv), config.json,
 * convergence.png (|G(z_k)|^2 on log-log axes, mean +- standard error over seeds) and, for 2-D
 * games, trajectory.png. Prints one result line per method on stdout. ALGORITHMS.md section 5. */
#define _POSIX_C_SOURCE 200809L
#include "cli.h"
#include "options.h"
#include "otgen/games.h"
#include "otgen/io.h"
#include "otgen/minimax.h"
#include "otgen/plot.h"

#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#define MAX_METHODS 8

typedef struct {
    char *game, *method, *out;
    int64_t steps, seed, repeat, every, dim, refresh;
    double noise, lr, optimism, p, q, gamma, scale, rho, cond, init;
    int force;
} game_opts;

#define OFF(f) offsetof(game_opts, f)
static const opt_def defs[] = {
    {"game", OPT_STR, OFF(game), "NAME", "dirac, quadratic, bilinear, nonsmooth", 0, 0, 1},
    {"method", OPT_STR, OFF(method), "LIST", "comma-separated: simgd, altgda, optimistic, anchored, extragradient, optimistic-adam, anchored-adam", 0, 0, 1},
    {"steps", OPT_INT, OFF(steps), "N", "iterations", 1, 1e8, 1},
    {"seed", OPT_INT, OFF(seed), "S", "seed: the game's random matrix; repeat r uses seed + r for z_0 and the noise", 0, 9e15, 1},
    {"repeat", OPT_INT, OFF(repeat), "R", "seeds to average (mean +- standard error)", 1, 10000, 1},
    {"noise", OPT_REAL, OFF(noise), "SIGMA", "std of the Gaussian noise added to G(z)", 0, 1e6, 1},
    {"lr", OPT_REAL, OFF(lr), "A", "learning rate alpha (all but anchored)", 1e-12, 1e6, 1},
    {"p", OPT_REAL, OFF(p), "P", "anchored: p in (0,1) [2/3]; others: alpha_k = alpha/(k+1)^p [0]", 0, 10, 1},
    {"optimism", OPT_REAL, OFF(optimism), "B", "optimistic: optimism rate beta", 0, 1e6, 1},
    {"q", OPT_REAL, OFF(q), "Q", "optimistic: beta_k = beta/(k+1)^q", 0, 10, 1},
    {"gamma", OPT_REAL, OFF(gamma), "G", "anchored: anchor pull gamma (theorem: >= 2)", 0, 1e6, 1},
    {"scale", OPT_REAL, OFF(scale), "C", "anchored: step scale c of c(1-p)/(k+1)^p", 1e-12, 1e6, 1},
    {"refresh", OPT_INT, OFF(refresh), "K", "anchored: reset the anchor to z_k every K steps, 0 = never", 0, 1e8, 1},
    {"dim", OPT_INT, OFF(dim), "D", "size of x and of y (dirac: 1)", 1, 4096, 1},
    {"rho", OPT_REAL, OFF(rho), "R", "quadratic: L = rho/2 |x|^2 + <x,y>", 0, 1e6, 1},
    {"cond", OPT_REAL, OFF(cond), "K", "bilinear: condition number of A", 1, 1e12, 1},
    {"init", OPT_REAL, OFF(init), "S", "z_0 = z* + S u with u uniform on the unit sphere", 1e-12, 1e6, 1},
    {"every", OPT_INT, OFF(every), "K", "write a metrics row every K steps (and the last)", 1, 1e8, 1},
    {"out", OPT_STR, OFF(out), "DIR", "output directory (required)", 0, 0, 0},
    {"force", OPT_FLAG, OFF(force), NULL, "overwrite existing outputs", 0, 0, 0},
};
static const int n_defs = (int)(sizeof defs / sizeof defs[0]);

#define USAGE                                                                                      \
    "usage: otgen game --game NAME --method LIST --out DIR [options]\n"                           \
    "Run min-max methods on a test game; write metrics.csv, convergence.png, trajectory.png."

/* One method's logged series, mean and standard error over the repeats. */
typedef struct {
    const otg_minimax_type *type;
    double *sum[3], *sq[3]; /* grad_sq, dist, loss: [rows] */
    int64_t *count;         /* finite repeats per row */
    double *tx, *ty;        /* first repeat's trajectory (2-D games) [rows] */
    int64_t diverged_at;    /* first repeat's divergence step, -1 if none */
} method_log;

static int mkdir_p(const char *path) {
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s", path);
    for (char *s = tmp + 1; *s; s++)
        if (*s == '/') {
            *s = '\0';
            if (mkdir(tmp, 0755) && errno != EEXIST) return -1;
            *s = '/';
        }
    return mkdir(tmp, 0755) && errno != EEXIST ? -1 : 0;
}

static int64_t n_rows(const game_opts *o) {
    return o->steps / o->every + 1 + (o->steps % o->every != 0);
}
static int64_t row_step(const game_opts *o, int64_t r) {
    int64_t s = r * o->every;
    return s > o->steps ? o->steps : s;
}

static otg_minimax_params method_params(const game_opts *o, const otg_minimax_type *t,
                                        int p_given) {
    otg_minimax_params mp = otg_minimax_params_default();
    int anchored = !strncmp(otg_minimax_type_name(t), "anchored", 8);
    mp.lr = o->lr, mp.optimism = o->optimism, mp.opt_exp = o->q;
    mp.gamma = o->gamma, mp.scale = o->scale, mp.refresh = o->refresh;
    if (anchored) mp.p = p_given ? o->p : 2.0 / 3.0;
    else mp.lr_exp = p_given ? o->p : 0.0;
    return mp;
}

/* z_0 = z* + init u, u uniform on the sphere, from stream (seed, 1). */
static void initial_point(const otg_game *g, const game_opts *o, uint64_t seed, double *z) {
    int64_t n = otg_game_nx(g) + otg_game_ny(g);
    otg_rng r = otg_rng_make(seed, 1);
    double s = 0.0;
    otg_game_saddle(g, z + n); /* z + n: scratch for z* */
    for (int64_t i = 0; i < n; i++) z[i] = otg_rng_normal(&r), s += z[i] * z[i];
    for (int64_t i = 0; i < n; i++) z[i] = z[n + i] + o->init * z[i] / sqrt(s);
}

/* Logs row values at z into lg (repeat rep); work [3 n]. */
static void log_row(const otg_game *g, method_log *lg, int64_t row, int rep, const double *z,
                    double *work) {
    int64_t n = otg_game_nx(g) + otg_game_ny(g);
    double *gz = work, *zs = work + n, v[3] = {0, 0, otg_game_loss(g, z)};
    otg_game_operator(g, z, gz);
    otg_game_saddle(g, zs);
    for (int64_t i = 0; i < n; i++) v[0] += gz[i] * gz[i], v[1] += (z[i] - zs[i]) * (z[i] - zs[i]);
    v[1] = sqrt(v[1]);
    if (rep == 0 && n == 2) lg->tx[row] = z[0], lg->ty[row] = z[1];
    if (!(isfinite(v[0]) && isfinite(v[1]) && isfinite(v[2]))) return;
    for (int c = 0; c < 3; c++) lg->sum[c][row] += v[c], lg->sq[c][row] += v[c] * v[c];
    lg->count[row]++;
}

/* Runs one method for all repeats; 0 on success, exit status otherwise. */
static int run_method(const otg_game *g, const game_opts *o, method_log *lg, int p_given) {
    int64_t n = otg_game_nx(g) + otg_game_ny(g), rows = n_rows(o);
    otg_minimax_params mp = method_params(o, lg->type, p_given);
    otg_minimax *m = otg_minimax_new(lg->type, otg_game_nx(g), otg_game_ny(g), &mp);
    if (!m) cli_usage_error("game", "%s", otg_last_error());
    double *z = calloc((size_t)(5 * n), sizeof(double));
    lg->diverged_at = -1;
    for (int rep = 0; rep < o->repeat; rep++) {
        uint64_t seed = (uint64_t)o->seed + (uint64_t)rep;
        otg_rng noise = otg_rng_make(seed, 2);
        otg_minimax_reset(m);
        initial_point(g, o, seed, z);
        log_row(g, lg, 0, rep, z, z + n);
        for (int64_t k = 1, row = 1; k <= o->steps; k++) {
            otg_status st = otg_minimax_step(m, z, otg_game_oracle, (void *)g, &noise);
            if (st == OTG_ENONFINITE) {
                if (rep == 0) lg->diverged_at = k;
                fprintf(stderr, "otgen game: %s diverged at step %lld (seed %llu): %s\n",
                        otg_minimax_type_name(lg->type), (long long)k, (unsigned long long)seed,
                        otg_last_error());
                break;
            }
            if (st != OTG_OK) {
                fprintf(stderr, "otgen game: %s\n", otg_last_error());
                free(z), otg_minimax_free(m);
                return OTG_EXIT_FAIL;
            }
            if (row < rows && k == row_step(o, row)) log_row(g, lg, row++, rep, z, z + n);
        }
    }
    free(z);
    otg_minimax_free(m);
    return 0;
}

static void stat_of(const method_log *lg, int c, int64_t row, double *mean, double *se) {
    int64_t cnt = lg->count[row];
    *mean = cnt ? lg->sum[c][row] / (double)cnt : (double)NAN;
    double var = cnt > 1 ? (lg->sq[c][row] - cnt * *mean * *mean) / (double)(cnt - 1) : (double)NAN;
    *se = cnt > 1 ? sqrt(fmax(var, 0.0) / (double)cnt) : (double)NAN;
}

/* Appends method lg's rows as CSV to buf (growing it); with_method adds the method column. */
static void csv_rows(char **buf, size_t *len, size_t *cap, const game_opts *o, const method_log *lg,
                     int has_saddle, int with_method) {
    for (int64_t r = 0; r < n_rows(o); r++) {
        if (*cap - *len < 512) *buf = realloc(*buf, *cap *= 2);
        char *p = *buf + *len;
        size_t room = *cap - *len;
        int w = snprintf(p, room, "%lld", (long long)row_step(o, r));
        for (int c = 0; c < 3; c++) {
            double mean, se;
            stat_of(lg, c, r, &mean, &se);
            if (c == 1 && !has_saddle) w += snprintf(p + w, room - (size_t)w, ",");
            else w += snprintf(p + w, room - (size_t)w, ",%.10g", mean);
        }
        for (int c = 0; c < 3; c++) {
            double mean, se;
            stat_of(lg, c, r, &mean, &se);
            if (isnan(se) || (c == 1 && !has_saddle)) w += snprintf(p + w, room - (size_t)w, ",");
            else w += snprintf(p + w, room - (size_t)w, ",%.10g", se);
        }
        if (with_method)
            w += snprintf(p + w, room - (size_t)w, ",%s", otg_minimax_type_name(lg->type));
        w += snprintf(p + w, room - (size_t)w, "\n");
        *len += (size_t)w;
    }
}

static int write_csv(const char *dir, const char *name, const game_opts *o, const method_log *lgs,
                     int n_methods, int with_method) {
    size_t cap = 1 << 16, len = 0;
    char *buf = malloc(cap), path[4200];
    len = (size_t)snprintf(buf, cap, "step,grad_sq,dist,loss,grad_sq_se,dist_se,loss_se%s\n",
                           with_method ? ",method" : "");
    for (int i = 0; i < n_methods; i++) csv_rows(&buf, &len, &cap, o, &lgs[i], 1, with_method);
    snprintf(path, sizeof path, "%s/%s", dir, name);
    otg_status st = otg_write_file_atomic(path, buf, len, o->force);
    free(buf);
    if (st != OTG_OK) {
        fprintf(stderr, "otgen game: %s\n", otg_last_error());
        return OTG_EXIT_FAIL;
    }
    return 0;
}

/* convergence.png: mean |G(z_k)|^2 per method on log-log axes; with R > 1 each series also
 * carries mean +- se (joined after NaN breaks, so they share the method's colour). */
static int write_convergence(const char *dir, const game_opts *o, const method_log *lgs,
                             int n_methods, const char *game) {
    int64_t rows = n_rows(o), len = o->repeat > 1 ? 3 * rows + 2 : rows;
    otg_series s[MAX_METHODS];
    char labels[MAX_METHODS][64], path[4200], title[256];
    double *buf = calloc((size_t)(2 * len * n_methods), sizeof(double));
    for (int i = 0; i < n_methods; i++) {
        double *x = buf + 2 * len * i, *y = x + len;
        for (int64_t r = 0, j = 0; r < rows; r++) {
            double mean, se;
            stat_of(&lgs[i], 0, r, &mean, &se);
            x[j] = (double)row_step(o, r), y[j++] = mean;
            if (o->repeat == 1) continue;
            x[rows + 1 + r] = x[2 * rows + 2 + r] = (double)row_step(o, r);
            y[rows + 1 + r] = mean + se, y[2 * rows + 2 + r] = mean - se;
        }
        if (o->repeat > 1) x[rows] = y[rows] = x[2 * rows + 1] = y[2 * rows + 1] = (double)NAN;
        snprintf(labels[i], sizeof labels[i], "%s", otg_minimax_type_name(lgs[i].type));
        s[i] = (otg_series){labels[i], x, y, len};
    }
    snprintf(path, sizeof path, "%s/convergence.png", dir);
    if (o->repeat > 1)
        snprintf(title, sizeof title, "%s, noise %g: mean +- se over %lld seeds", game, o->noise,
                 (long long)o->repeat);
    else snprintf(title, sizeof title, "%s, noise %g, seed %lld", game, o->noise, (long long)o->seed);
    otg_status st = otg_plot_lines(path, s, n_methods, title, "step k", "|G(z_k)|^2", 1, 1, o->force);
    free(buf);
    if (st != OTG_OK) fprintf(stderr, "otgen game: convergence.png: %s\n", otg_last_error());
    return st == OTG_OK ? 0 : OTG_EXIT_FAIL;
}

/* trajectory.png: the first seed's (x_k, y_k) per method, cut where |z_k - z*| > 5 |z_0 - z*|,
 * and the saddle as a point. */
static int write_trajectory(const char *dir, const game_opts *o, const method_log *lgs,
                            int n_methods, const otg_game *g) {
    int64_t rows = n_rows(o);
    otg_series s[MAX_METHODS + 1];
    double *buf = calloc((size_t)(2 * rows * n_methods), sizeof(double)), zs[2];
    otg_game_saddle(g, zs);
    double lim = 5.0 * o->init;
    for (int i = 0; i < n_methods; i++) {
        double *x = buf + 2 * rows * i, *y = x + rows;
        int out = 0;
        for (int64_t r = 0; r < rows; r++) {
            double dx = lgs[i].tx[r] - zs[0], dy = lgs[i].ty[r] - zs[1];
            out = out || !(sqrt(dx * dx + dy * dy) <= lim);
            x[r] = out ? (double)NAN : lgs[i].tx[r], y[r] = out ? (double)NAN : lgs[i].ty[r];
        }
        s[i] = (otg_series){otg_minimax_type_name(lgs[i].type), x, y, rows};
    }
    s[n_methods] = (otg_series){"saddle z*", &zs[0], &zs[1], 1};
    char path[4200], title[256];
    snprintf(path, sizeof path, "%s/trajectory.png", dir);
    snprintf(title, sizeof title, "%s: (x_k, y_k), seed %lld, cut at 5|z_0 - z*|",
             otg_game_name(g), (long long)o->seed);
    otg_status st = otg_plot_lines(path, s, n_methods + 1, title, "x", "y", 0, 0, o->force);
    free(buf);
    if (st != OTG_OK) fprintf(stderr, "otgen game: trajectory.png: %s\n", otg_last_error());
    return st == OTG_OK ? 0 : OTG_EXIT_FAIL;
}

/* Least-squares slope of log mean |G|^2 against log k over k in [steps/100, steps], each row
 * weighted by 1/k so that every decade counts alike. NaN when fewer than 3 usable rows. */
static double fitted_slope(const game_opts *o, const method_log *lg) {
    double sw = 0, sx = 0, sy = 0, sxx = 0, sxy = 0;
    int used = 0;
    for (int64_t r = 1; r < n_rows(o); r++) {
        double k = (double)row_step(o, r), mean, se;
        stat_of(lg, 0, r, &mean, &se);
        if (k < o->steps / 100.0 || !(mean > 0.0) || !isfinite(mean)) continue;
        double w = 1.0 / k, lx = log(k), ly = log(mean);
        sw += w, sx += w * lx, sy += w * ly, sxx += w * lx * lx, sxy += w * lx * ly, used++;
    }
    if (used < 3) return NAN;
    return (sw * sxy - sx * sy) / (sw * sxx - sx * sx);
}

static int parse_methods(const game_opts *o, method_log *lgs) {
    char *list = strdup(o->method), *save = NULL;
    int n = 0;
    for (char *t = strtok_r(list, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        if (n == MAX_METHODS) cli_usage_error("game", "--method: at most %d methods", MAX_METHODS);
        const otg_minimax_type *mt = otg_minimax_type_by_name(t);
        if (!mt) cli_usage_error("game", "--method: unknown method '%s' (expected %s)", t, otg_minimax_names());
        for (int i = 0; i < n; i++)
            if (lgs[i].type == mt) cli_usage_error("game", "--method: '%s' given twice", t);
        lgs[n++].type = mt;
    }
    free(list);
    if (n == 0) cli_usage_error("game", "--method: empty list");
    return n;
}

static void check_output(const game_opts *o, const char *name) {
    char path[4200];
    struct stat sb;
    snprintf(path, sizeof path, "%s/%s", o->out, name);
    if (!o->force && stat(path, &sb) == 0)
        cli_usage_error("game", "--out %s: %s exists (use --force to overwrite)", o->out, name);
}

static otg_game *make_game(const game_opts *o) {
    const otg_game_type *gt = otg_game_type_by_name(o->game);
    if (!gt) cli_usage_error("game", "--game: unknown game '%s' (expected %s)", o->game, otg_game_names());
    otg_game_params gp = otg_game_params_default();
    gp.dim = o->dim, gp.rho = o->rho, gp.cond = o->cond, gp.sigma = o->noise;
    gp.seed = (uint64_t)o->seed;
    otg_game *g = otg_game_new(gt, &gp);
    if (!g) cli_usage_error("game", "--game %s: %s", o->game, otg_last_error());
    return g;
}

static int write_outputs(const game_opts *o, method_log *lgs, int nm, const otg_game *g) {
    int rc = 0;
    char name[128];
    if (nm == 1) rc = write_csv(o->out, "metrics.csv", o, lgs, 1, 0);
    for (int i = 0; nm > 1 && i < nm && !rc; i++) {
        snprintf(name, sizeof name, "metrics-%s.csv", otg_minimax_type_name(lgs[i].type));
        rc = write_csv(o->out, name, o, &lgs[i], 1, 0);
    }
    if (!rc && nm > 1) rc = write_csv(o->out, "metrics.csv", o, lgs, nm, 1);
    if (!rc) rc = write_convergence(o->out, o, lgs, nm, otg_game_name(g));
    if (!rc && otg_game_nx(g) + otg_game_ny(g) == 2) rc = write_trajectory(o->out, o, lgs, nm, g);
    cJSON *cfg = opts_to_json(defs, n_defs, o);
    cJSON_AddStringToObject(cfg, "version", otg_version());
    char *text = cJSON_Print(cfg), path[4200];
    snprintf(path, sizeof path, "%s/config.json", o->out);
    if (!rc && otg_write_file_atomic(path, text, strlen(text), o->force) != OTG_OK) {
        fprintf(stderr, "otgen game: %s\n", otg_last_error());
        rc = OTG_EXIT_FAIL;
    }
    free(text);
    cJSON_Delete(cfg);
    return rc;
}

static void print_results(const game_opts *o, const method_log *lgs, int nm, const otg_game *g) {
    int64_t last = n_rows(o) - 1;
    for (int i = 0; i < nm; i++) {
        double gm, gse, dm, dse;
        stat_of(&lgs[i], 0, last, &gm, &gse);
        stat_of(&lgs[i], 1, last, &dm, &dse);
        double g0, d0, s0;
        stat_of(&lgs[i], 0, 0, &g0, &s0);
        stat_of(&lgs[i], 1, 0, &d0, &s0);
        printf("game=%s method=%s steps=%lld repeat=%lld noise=%g grad_sq_0=%.6g grad_sq=%.6g "
               "dist_0=%.6g dist=%.6g slope=%.4f diverged_at=%lld out=%s\n",
               otg_game_name(g), otg_minimax_type_name(lgs[i].type), (long long)o->steps,
               (long long)o->repeat, o->noise, g0, lgs[i].count[last] ? gm : (double)INFINITY, d0,
               lgs[i].count[last] ? dm : (double)INFINITY, fitted_slope(o, &lgs[i]),
               (long long)lgs[i].diverged_at, o->out);
    }
}

int cmd_game(int argc, char **argv) {
    game_opts o = {.game = strdup("dirac"), .method = strdup("simgd"), .out = NULL, .steps = 1000, .seed = 0,
                   .repeat = 1, .every = 1, .dim = 1, .refresh = 0, .noise = 0.0, .lr = 0.1,
                   .optimism = 0.1, .p = 0.0, .q = 0.0, .gamma = 2.0, .scale = 1.0, .rho = 0.4,
                   .cond = 10.0, .init = 1.0, .force = 0};
    int seen[32] = {0};
    opts_parse_argv("game", USAGE, defs, n_defs, &o, argc, argv, seen);
    if (!o.out) cli_usage_error("game", "--out DIR is required");
    method_log lgs[MAX_METHODS] = {{0}};
    int nm = parse_methods(&o, lgs), p_given = seen[opts_find(defs, n_defs, "p")];
    for (int i = 0; i < nm; i++) { /* parameter errors before any work */
        otg_minimax_params mp = method_params(&o, lgs[i].type, p_given);
        otg_minimax *m = otg_minimax_new(lgs[i].type, 1, 1, &mp);
        if (!m) cli_usage_error("game", "--method %s: %s", otg_minimax_type_name(lgs[i].type), otg_last_error());
        otg_minimax_free(m);
    }
    otg_game *g = make_game(&o);
    check_output(&o, "metrics.csv");
    check_output(&o, "convergence.png");
    if (mkdir_p(o.out)) cli_usage_error("game", "--out %s: cannot create the directory (%s)", o.out, strerror(errno));
    int64_t rows = n_rows(&o);
    for (int i = 0; i < nm; i++) {
        for (int c = 0; c < 3; c++) lgs[i].sum[c] = calloc((size_t)rows, sizeof(double)), lgs[i].sq[c] = calloc((size_t)rows, sizeof(double));
        lgs[i].count = calloc((size_t)rows, sizeof(int64_t));
        lgs[i].tx = calloc((size_t)rows, sizeof(double)), lgs[i].ty = calloc((size_t)rows, sizeof(double));
    }
    int rc = 0;
    cli_progress pg;
    cli_progress_start(&pg, nm, 1);
    for (int i = 0; i < nm && !rc; i++) {
        rc = run_method(g, &o, &lgs[i], p_given);
        cli_progress_update(&pg, i + 1, otg_minimax_type_name(lgs[i].type));
    }
    cli_progress_end(&pg);
    if (!rc) rc = write_outputs(&o, lgs, nm, g);
    if (!rc) print_results(&o, lgs, nm, g);
    for (int i = 0; i < nm; i++) {
        for (int c = 0; c < 3; c++) free(lgs[i].sum[c]), free(lgs[i].sq[c]);
        free(lgs[i].count), free(lgs[i].tx), free(lgs[i].ty);
    }
    otg_game_free(g);
    opts_free(defs, n_defs, &o);
    return rc;
}
