/* otgen game: min-max dynamics (simGD, altGDA, optimistic, anchored, extragradient and the Adam
 * variants) on a test game (dirac, quadratic, bilinear, nonsmooth, onelayer, gan2d), R seeds each.
 * Writes
 * metrics.csv (or one metrics-<method>.csv per method plus a combined metrics.csv), config.json,
 * convergence.png (|G(z_k)|^2 on log-log axes, mean +- standard error over seeds), for 2-D games
 * trajectory.png, for onelayer cov_err.png (against target samples), for gan2d modes.png and
 * samples.png (samples-<method>.png with several methods). Prints one result line per
 * method on stdout. docs/algorithms.md section 5. */
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
#define MAX_COLS 6 /* grad_sq, dist, loss and the game's metrics (onelayer: cov_err, sw; gan2d:
                      modes, hq, sw) */

typedef struct {
    char *game, *method, *out, *act, *sweep, *gan_loss;
    int64_t steps, seed, repeat, every, dim, refresh, batch, hidden;
    double noise, lr, optimism, p, q, gamma, scale, rho, cond, init, lambda, clip, target_noise;
    int force;
} game_opts;

#define OFF(f) offsetof(game_opts, f)
static const opt_def defs[] = {
    {"game", OPT_STR, OFF(game), "NAME", "dirac, quadratic, bilinear, nonsmooth, onelayer, gan2d", 0, 0, 1},
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
    {"cond", OPT_REAL, OFF(cond), "K", "bilinear: condition number of A; onelayer: of W*", 1, 1e12, 1},
    {"act", OPT_STR, OFF(act), "NAME", "onelayer: phi = relu, leaky_relu (slope 0.2) or tanh", 0, 0, 1},
    {"batch", OPT_INT, OFF(batch), "B", "onelayer, gan2d: target (and generator) samples per oracle call", 1, 1e8, 1},
    {"gan-loss", OPT_STR, OFF(gan_loss), "NAME", "gan2d: standard (zero-sum), nonsat (non-saturating generator) or wasserstein (clipped critic)", 0, 0, 1},
    {"hidden", OPT_INT, OFF(hidden), "H", "gan2d: hidden width of both MLPs (2 hidden layers)", 1, 1024, 1},
    {"clip", OPT_REAL, OFF(clip), "C", "gan2d, wasserstein: clip the discriminator's parameters to [-C, C] after each step", 1e-12, 1e6, 1},
    {"target-noise", OPT_REAL, OFF(target_noise), "S", "gan2d: sd of each of the 8 modes on the circle of radius 2", 1e-6, 10, 1},
    {"lambda", OPT_REAL, OFF(lambda), "L", "onelayer: L2 penalty (L/2)(|V|^2 + |v|^2) on the discriminator", 1e-12, 1e6, 1},
    {"init", OPT_REAL, OFF(init), "S", "z_0 = z* + S u with u uniform on the unit sphere (onelayer: W_0 ~ N(0, S^2/d), V = v = 0; gan2d: He init times S)", 1e-12, 1e6, 1},
    {"every", OPT_INT, OFF(every), "K", "write a metrics row every K steps (and the last); gan2d, where a row costs 8 minibatch steps: steps/500 unless given", 1, 1e8, 1},
    {"sweep", OPT_STR, OFF(sweep), "NAME=V1,V2,..", "one series per value of NAME (p, q, lr, optimism, gamma, scale, noise, dim, batch, lambda) and method, drawn together; at most 8 series", 0, 0, 1},
    {"out", OPT_STR, OFF(out), "DIR", "output directory (required)", 0, 0, 0},
    {"force", OPT_FLAG, OFF(force), NULL, "overwrite existing outputs", 0, 0, 0},
};
static const int n_defs = (int)(sizeof defs / sizeof defs[0]);

#define USAGE                                                                                      \
    "usage: otgen game --game NAME --method LIST --out DIR [options]\n"                           \
    "Run min-max methods on a test game; write metrics.csv, convergence.png, trajectory.png."

/* One series (a method, with one value of the swept option), mean and standard error over the
 * repeats. */
typedef struct {
    const otg_minimax_type *type;
    char label[64];         /* "anchored" or "anchored p=0.6": legend, file and stdout name */
    game_opts o;            /* the options with the swept value applied (strings shared) */
    int p_given;            /* --p given or swept */
    otg_game *g;            /* this series' game (owned) */
    double *sum[MAX_COLS], *sq[MAX_COLS]; /* grad_sq, dist, loss, metrics...: [rows] */
    int64_t *count;         /* finite repeats per row */
    double *tx, *ty;        /* first repeat's trajectory (2-D games) [rows] */
    int64_t diverged_at;    /* first repeat's divergence step, -1 if none */
    double *zlast;          /* first repeat's last finite iterate [nx + ny] (gan2d samples) */
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

static int n_cols(const otg_game *g) {
    return 3 + otg_game_n_metrics(g);
}

static int game_has_saddle(const otg_game *g) {
    double *zs = malloc((size_t)(otg_game_nx(g) + otg_game_ny(g)) * sizeof(double));
    int h = zs && otg_game_saddle(g, zs);
    free(zs);
    return h;
}

/* Target samples drawn by step k (onelayer), counting every oracle call. */
static int64_t samples_at(const method_log *lg, int64_t k) {
    return k * otg_minimax_oracle_calls(lg->type) * otg_game_samples_per_call(lg->g);
}

/* Logs row values at z into lg (repeat rep); work [3 n]. dist is 0 (and left out of the CSV)
 * when the saddle is unknown. */
static void log_row(otg_game *g, method_log *lg, int64_t row, int rep, const double *z,
                    double *work) {
    int64_t n = otg_game_nx(g) + otg_game_ny(g);
    double *gz = work, *zs = work + n, v[MAX_COLS] = {0, 0, otg_game_loss(g, z)};
    int has_saddle = otg_game_saddle(g, zs), nc = n_cols(g);
    otg_game_operator(g, z, gz);
    for (int64_t i = 0; i < n; i++)
        v[0] += gz[i] * gz[i], v[1] += has_saddle ? (z[i] - zs[i]) * (z[i] - zs[i]) : 0.0;
    v[1] = sqrt(v[1]);
    if (nc > 3 && otg_game_metrics(g, z, v + 3) != OTG_OK) v[3] = (double)NAN;
    if (rep == 0 && n == 2) lg->tx[row] = z[0], lg->ty[row] = z[1];
    for (int c = 0; c < nc; c++)
        if (!isfinite(v[c])) return;
    for (int c = 0; c < nc; c++) lg->sum[c][row] += v[c], lg->sq[c][row] += v[c] * v[c];
    lg->count[row]++;
}

/* Runs one method for all repeats, reporting step base + rep * steps + k to pg; 0 on success,
 * exit status otherwise. */
static int run_method(method_log *lg, cli_progress *pg, int64_t base) {
    otg_game *g = lg->g;
    const game_opts *o = &lg->o;
    int p_given = lg->p_given;
    int64_t n = otg_game_nx(g) + otg_game_ny(g), rows = n_rows(o);
    otg_minimax_params mp = method_params(o, lg->type, p_given);
    otg_minimax *m = otg_minimax_new(lg->type, otg_game_nx(g), otg_game_ny(g), &mp);
    if (!m) cli_usage_error("game", "%s", otg_last_error());
    double *z = calloc((size_t)(5 * n), sizeof(double));
    lg->diverged_at = -1;
    lg->zlast = calloc((size_t)n, sizeof(double));
    for (int rep = 0; rep < o->repeat; rep++) {
        uint64_t seed = (uint64_t)o->seed + (uint64_t)rep;
        otg_rng noise = otg_rng_make(seed, 2);
        otg_rng init = otg_rng_make(seed, 1);
        otg_minimax_reset(m);
        otg_game_initial_point(g, o->init, &init, z);
        log_row(g, lg, 0, rep, z, z + n);
        for (int64_t k = 1, row = 1; k <= o->steps; k++) {
            otg_status st = otg_minimax_step(m, z, otg_game_oracle, g, &noise);
            if (st == OTG_OK) otg_game_project(g, z);
            if (st == OTG_ENONFINITE) {
                if (rep == 0) lg->diverged_at = k;
                fprintf(stderr, "otgen game: %s diverged at step %lld (seed %llu): %s\n",
                        lg->label, (long long)k, (unsigned long long)seed,
                        otg_last_error());
                break;
            }
            if (st != OTG_OK) {
                fprintf(stderr, "otgen game: %s\n", otg_last_error());
                free(z), otg_minimax_free(m);
                return OTG_EXIT_FAIL;
            }
            if (row < rows && k == row_step(o, row)) log_row(g, lg, row++, rep, z, z + n);
            if (rep == 0) memcpy(lg->zlast, z, (size_t)n * sizeof(double));
            cli_progress_update(pg, base + rep * o->steps + k, lg->label);
        }
        if (rep == 0 && o->steps == 0) memcpy(lg->zlast, z, (size_t)n * sizeof(double));
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
                     const otg_game *g, int with_method) {
    int has_saddle = game_has_saddle(g), nc = n_cols(g);
    for (int64_t r = 0; r < n_rows(o); r++) {
        if (*cap - *len < 512) *buf = realloc(*buf, *cap *= 2);
        char *p = *buf + *len;
        size_t room = *cap - *len;
        int w = snprintf(p, room, "%lld", (long long)row_step(o, r));
        if (otg_game_samples_per_call(g) > 0)
            w += snprintf(p + w, room - (size_t)w, ",%lld",
                          (long long)samples_at(lg, row_step(o, r)));
        for (int c = 0; c < nc; c++) {
            double mean, se;
            stat_of(lg, c, r, &mean, &se);
            if (c == 1 && !has_saddle) w += snprintf(p + w, room - (size_t)w, ",");
            else w += snprintf(p + w, room - (size_t)w, ",%.10g", mean);
        }
        for (int c = 0; c < nc; c++) {
            double mean, se;
            stat_of(lg, c, r, &mean, &se);
            if (isnan(se) || (c == 1 && !has_saddle)) w += snprintf(p + w, room - (size_t)w, ",");
            else w += snprintf(p + w, room - (size_t)w, ",%.10g", se);
        }
        if (with_method)
            w += snprintf(p + w, room - (size_t)w, ",%s", lg->label);
        w += snprintf(p + w, room - (size_t)w, "\n");
        *len += (size_t)w;
    }
}

static int write_csv(const char *dir, const char *name, const game_opts *o, const method_log *lgs,
                     int n_methods, int with_method, const otg_game *g) {
    size_t cap = 1 << 16, len = 0;
    char *buf = malloc(cap), path[4200];
    const char *names[MAX_COLS] = {"grad_sq", "dist", "loss"};
    int nc = n_cols(g);
    for (int c = 3; c < nc; c++) names[c] = otg_game_metric_name(g, c - 3);
    len = (size_t)snprintf(buf, cap, "step%s", otg_game_samples_per_call(g) > 0 ? ",samples" : "");
    for (int c = 0; c < nc; c++) len += (size_t)snprintf(buf + len, cap - len, ",%s", names[c]);
    for (int c = 0; c < nc; c++) len += (size_t)snprintf(buf + len, cap - len, ",%s_se", names[c]);
    len += (size_t)snprintf(buf + len, cap - len, "%s\n", with_method ? ",method" : "");
    for (int i = 0; i < n_methods; i++) csv_rows(&buf, &len, &cap, o, &lgs[i], g, with_method);
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
        snprintf(labels[i], sizeof labels[i], "%s", lgs[i].label);
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
        s[i] = (otg_series){lgs[i].label, x, y, rows};
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

/* cov_err.png (onelayer): mean cov_err per method against the target samples drawn, log-log. */
static int write_cov_err(const char *dir, const game_opts *o, const method_log *lgs,
                         int n_methods, const otg_game *g) {
    int64_t rows = n_rows(o) - 1; /* row 0 has no samples: left out of the log axis */
    otg_series s[MAX_METHODS];
    double *buf = calloc((size_t)(2 * rows * n_methods), sizeof(double));
    for (int i = 0; i < n_methods; i++) {
        double *x = buf + 2 * rows * i, *y = x + rows, se;
        for (int64_t r = 0; r < rows; r++) {
            x[r] = (double)samples_at(&lgs[i], row_step(o, r + 1));
            stat_of(&lgs[i], 3, r + 1, &y[r], &se);
        }
        s[i] = (otg_series){lgs[i].label, x, y, rows};
    }
    char path[4200], title[256];
    snprintf(path, sizeof path, "%s/cov_err.png", dir);
    if (strncmp(o->sweep, "dim=", 4) && strncmp(o->sweep, "batch=", 6))
        snprintf(title, sizeof title, "onelayer d=%lld, batch %lld: mean over %lld seed(s)",
                 (long long)o->dim, (long long)o->batch, (long long)o->repeat);
    else snprintf(title, sizeof title, "onelayer: mean over %lld seed(s)", (long long)o->repeat);
    otg_status st = otg_plot_lines(path, s, n_methods, title, "target samples",
                                   "|WW^T - W*W*^T|_F / |W*W*^T|_F", 1, 1, o->force);
    free(buf);
    if (st != OTG_OK) fprintf(stderr, "otgen game: cov_err.png: %s\n", otg_last_error());
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

/* Copies the options into each method's series and, with --sweep NAME=V1,V2,..., makes one series
 * per (method, value); returns the number of series. Exits 2 on a bad sweep. */
static int expand_sweep(const game_opts *o, method_log *lgs, int nm, int p_given) {
    static const char *const sweepable[] = {"p", "q", "lr", "optimism", "gamma", "scale",
                                            "noise", "dim", "batch", "lambda"};
    for (int i = 0; i < nm; i++) {
        lgs[i].o = *o, lgs[i].p_given = p_given;
        snprintf(lgs[i].label, sizeof lgs[i].label, "%s", otg_minimax_type_name(lgs[i].type));
    }
    if (!o->sweep[0]) return nm;
    char *spec = strdup(o->sweep), *eq = strchr(spec, '='), *save = NULL;
    if (!eq) cli_usage_error("game", "--sweep: expected NAME=V1,V2,... (got '%s')", o->sweep);
    *eq = '\0';
    int ok = 0, idx = opts_find(defs, n_defs, spec);
    for (size_t k = 0; k < sizeof sweepable / sizeof sweepable[0]; k++) ok |= !strcmp(spec, sweepable[k]);
    if (!ok || idx < 0)
        cli_usage_error("game", "--sweep: cannot sweep '%s' (expected p, q, lr, optimism, gamma, "
                        "scale, noise, dim, batch, lambda)", spec);
    const opt_def *d = &defs[idx];
    double vals[MAX_METHODS];
    int nv = 0;
    for (char *t = strtok_r(eq + 1, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        char *end;
        double v = strtod(t, &end);
        if (*end || end == t || !(v >= d->lo && v <= d->hi) || (d->kind == OPT_INT && v != floor(v)))
            cli_usage_error("game", "--sweep %s: bad value '%s' (range [%g, %g])", spec, t, d->lo, d->hi);
        if (nv == MAX_METHODS || nv * nm >= MAX_METHODS)
            cli_usage_error("game", "--sweep: at most %d series (methods x values)", MAX_METHODS);
        vals[nv++] = v;
    }
    if (nv == 0) cli_usage_error("game", "--sweep %s: no values", spec);
    method_log base[MAX_METHODS];
    memcpy(base, lgs, sizeof base);
    for (int i = 0; i < nm; i++)
        for (int j = 0; j < nv; j++) {
            method_log *lg = &lgs[i * nv + j];
            *lg = base[i];
            char *field = (char *)&lg->o + d->offset;
            if (d->kind == OPT_INT) *(int64_t *)field = (int64_t)vals[j];
            else *(double *)field = vals[j];
            if (!strcmp(spec, "p")) lg->p_given = 1;
            snprintf(lg->label, sizeof lg->label, "%s %s=%g", otg_minimax_type_name(lg->type),
                     spec, vals[j]);
        }
    free(spec);
    return nm * nv;
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
    gp.seed = (uint64_t)o->seed, gp.batch = o->batch, gp.lambda = o->lambda;
    gp.hidden = o->hidden, gp.clip = o->clip, gp.target_noise = o->target_noise;
    if (otg_game_gan_loss_parse(o->gan_loss, &gp.gan_loss) != OTG_OK)
        cli_usage_error("game", "--gan-loss: %s", otg_last_error());
    if (otg_game_act_parse(o->act, &gp.act) != OTG_OK) cli_usage_error("game", "--act: %s", otg_last_error());
    otg_game *g = otg_game_new(gt, &gp);
    if (!g) cli_usage_error("game", "--game %s: %s", o->game, otg_last_error());
    return g;
}

/* gan2d: modes.png (mean modes covered against k per method) and, per method, the first seed's
 * last generator samples over the target (samples.png, or samples-<method>.png with several). */
static int write_gan_pictures(const game_opts *o, const method_log *lgs, int nm) {
    int64_t rows = n_rows(o), n = 1024;
    otg_series s[MAX_METHODS];
    double *buf = calloc((size_t)(2 * rows * nm), sizeof(double)), se;
    float *gen = calloc((size_t)(4 * n), sizeof(float)), *tgt = gen + 2 * n;
    char path[4200], title[256];
    for (int i = 0; i < nm; i++) {
        double *x = buf + 2 * rows * i, *y = x + rows;
        for (int64_t r = 0; r < rows; r++) x[r] = (double)row_step(o, r), stat_of(&lgs[i], 3, r, &y[r], &se);
        s[i] = (otg_series){lgs[i].label, x, y, rows};
    }
    snprintf(path, sizeof path, "%s/modes.png", o->out);
    snprintf(title, sizeof title, "gan2d, %s loss: mean of %lld seed(s)", o->gan_loss,
             (long long)o->repeat);
    otg_status st = otg_plot_lines(path, s, nm, title, "step k", "modes covered (of 8)", 0, 0, o->force);
    for (int i = 0; i < nm && st == OTG_OK; i++) {
        st = otg_game_samples(lgs[i].g, lgs[i].zlast, n, gen, tgt);
        if (nm == 1) snprintf(path, sizeof path, "%s/samples.png", o->out);
        else snprintf(path, sizeof path, "%s/samples-%s.png", o->out, lgs[i].label);
        for (char *c = path + strlen(o->out); *c; c++)
            if (*c == ' ' || *c == '=') *c = *c == ' ' ? '-' : '_';
        snprintf(title, sizeof title, "gan2d, %s, %s loss: step %lld, seed %lld", lgs[i].label,
                 o->gan_loss, (long long)o->steps, (long long)o->seed);
        if (st == OTG_OK)
            st = otg_plot_scatter(path, gen, n, "generated", tgt, n, "target", title, o->force);
    }
    free(buf), free(gen);
    if (st != OTG_OK) fprintf(stderr, "otgen game: gan2d pictures: %s\n", otg_last_error());
    return st == OTG_OK ? 0 : OTG_EXIT_FAIL;
}

static int write_outputs(const game_opts *o, method_log *lgs, int nm, const otg_game *g) {
    int rc = 0;
    char name[128];
    if (nm == 1) rc = write_csv(o->out, "metrics.csv", o, lgs, 1, 0, g);
    for (int i = 0; nm > 1 && i < nm && !rc; i++) {
        snprintf(name, sizeof name, "metrics-%s.csv", lgs[i].label);
        for (char *c = name; *c; c++)
            if (*c == ' ' || *c == '=') *c = *c == ' ' ? '-' : '_'; /* anchored-p_0.6 */
        rc = write_csv(o->out, name, o, &lgs[i], 1, 0, g);
    }
    if (!rc && nm > 1) rc = write_csv(o->out, "metrics.csv", o, lgs, nm, 1, g);
    if (!rc) rc = write_convergence(o->out, o, lgs, nm, otg_game_name(g));
    int planar = 1;
    for (int i = 0; i < nm; i++) planar = planar && otg_game_nx(lgs[i].g) + otg_game_ny(lgs[i].g) == 2;
    if (!rc && planar) rc = write_trajectory(o->out, o, lgs, nm, g);
    int onelayer = !strcmp(otg_game_name(g), "onelayer"), gan = !strcmp(otg_game_name(g), "gan2d");
    if (!rc && onelayer && n_rows(o) > 1) rc = write_cov_err(o->out, o, lgs, nm, g);
    if (!rc && gan) rc = write_gan_pictures(o, lgs, nm);
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
        const otg_game *gi = lgs[i].g;
        int ok = lgs[i].count[last] > 0, sad = game_has_saddle(gi);
        printf("game=%s method=%s steps=%lld repeat=%lld noise=%g grad_sq_0=%.6g grad_sq=%.6g "
               "dist_0=%.6g dist=%.6g slope=%.4f diverged_at=%lld",
               otg_game_name(gi), otg_minimax_type_name(lgs[i].type), (long long)o->steps,
               (long long)o->repeat, o->noise, g0, ok ? gm : (double)INFINITY,
               sad ? d0 : (double)NAN, !sad ? (double)NAN : ok ? dm : (double)INFINITY,
               fitted_slope(o, &lgs[i]), (long long)lgs[i].diverged_at);
        if (strchr(lgs[i].label, '=')) printf(" sweep=%s", strchr(lgs[i].label, ' ') + 1);
        if (otg_game_samples_per_call(gi) > 0)
            printf(" samples=%lld", (long long)samples_at(&lgs[i], o->steps));
        for (int c = 3; c < n_cols(g); c++) {
            double m0, mk, se;
            stat_of(&lgs[i], c, 0, &m0, &se);
            stat_of(&lgs[i], c, last, &mk, &se);
            printf(" %s_0=%.6g %s=%.6g", otg_game_metric_name(g, c - 3), m0,
                   otg_game_metric_name(g, c - 3), ok ? mk : (double)INFINITY);
        }
        printf(" out=%s\n", o->out);
    }
}

int cmd_game(int argc, char **argv) {
    game_opts o = {.game = strdup("dirac"), .method = strdup("simgd"), .out = NULL,
                   .act = strdup("relu"), .steps = 1000, .seed = 0, .repeat = 1, .every = 1,
                   .dim = 1, .refresh = 0, .batch = 64, .noise = 0.0, .lr = 0.1, .optimism = 0.1,
                   .p = 0.0, .q = 0.0, .gamma = 2.0, .scale = 1.0, .rho = 0.4, .cond = 10.0,
                   .init = 1.0, .lambda = 1.0, .sweep = strdup(""), .force = 0,
                   .gan_loss = strdup("standard"), .hidden = 32, .clip = 0.1,
                   .target_noise = 0.05};
    int seen[64] = {0};
    opts_parse_argv("game", USAGE, defs, n_defs, &o, argc, argv, seen);
    if (!o.out) cli_usage_error("game", "--out DIR is required");
    method_log lgs[MAX_METHODS] = {{0}};
    if (!seen[opts_find(defs, n_defs, "every")] && !strcmp(o.game, "gan2d"))
        o.every = o.steps >= 1000 ? o.steps / 500 : 1; /* a row evaluates G on 1024 + 1024 points */
    int nm = parse_methods(&o, lgs), p_given = seen[opts_find(defs, n_defs, "p")];
    nm = expand_sweep(&o, lgs, nm, p_given);
    for (int i = 0; i < nm; i++) { /* parameter errors before any work */
        otg_minimax_params mp = method_params(&lgs[i].o, lgs[i].type, lgs[i].p_given);
        otg_minimax *m = otg_minimax_new(lgs[i].type, 1, 1, &mp);
        if (!m) cli_usage_error("game", "--method %s: %s", lgs[i].label, otg_last_error());
        otg_minimax_free(m);
    }
    for (int i = 0; i < nm; i++) lgs[i].g = make_game(&lgs[i].o);
    otg_game *g = lgs[0].g;
    check_output(&o, "metrics.csv");
    check_output(&o, "convergence.png");
    if (mkdir_p(o.out)) cli_usage_error("game", "--out %s: cannot create the directory (%s)", o.out, strerror(errno));
    int64_t rows = n_rows(&o);
    for (int i = 0; i < nm; i++) {
        for (int c = 0; c < MAX_COLS; c++) lgs[i].sum[c] = calloc((size_t)rows, sizeof(double)), lgs[i].sq[c] = calloc((size_t)rows, sizeof(double));
        lgs[i].count = calloc((size_t)rows, sizeof(int64_t));
        lgs[i].tx = calloc((size_t)rows, sizeof(double)), lgs[i].ty = calloc((size_t)rows, sizeof(double));
    }
    int rc = 0;
    cli_progress pg;
    int64_t per = o.repeat * o.steps; /* steps of one series, over its repeats */
    cli_progress_start(&pg, nm * per, (nm * per + 19) / 20);
    for (int i = 0; i < nm && !rc; i++) rc = run_method(&lgs[i], &pg, i * per);
    cli_progress_end(&pg);
    if (!rc) rc = write_outputs(&o, lgs, nm, g);
    if (!rc) print_results(&o, lgs, nm, g);
    for (int i = 0; i < nm; i++) {
        for (int c = 0; c < MAX_COLS; c++) free(lgs[i].sum[c]), free(lgs[i].sq[c]);
        free(lgs[i].count), free(lgs[i].tx), free(lgs[i].ty), free(lgs[i].zlast);
        otg_game_free(lgs[i].g);
    }
    opts_free(defs, n_defs, &o);
    return rc;
}
