/* The charts of `otgen game`, chosen by what the game type offers rather than by its name:
 * convergence.png (|G(z_k)|^2 per series, or |z_k - z*| for a field that jumps at the saddle,
 * log-log, mean +- se over the seeds), trajectory.png for
 * games of two coordinates, <metric>.png for each metric the type labels (against the target
 * samples drawn, log-log, or against k), and samples.png (samples-<label>.png with several
 * series) for types with planar samples. */
#include "game_charts.h"

#include "cli.h"
#include "otgen/plot.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Reports a failed chart; 0 or OTG_EXIT_FAIL. */
static int done(otg_status st, const char *what) {
    if (st != OTG_OK) fprintf(stderr, "otgen game: %s: %s\n", what, otg_last_error());
    return st == OTG_OK ? 0 : OTG_EXIT_FAIL;
}

static double *alloc_xy(int64_t len, int n) {
    double *buf = calloc((size_t)(2 * len * n), sizeof(double));
    if (!buf) fprintf(stderr, "otgen game: out of memory for a chart\n");
    return buf;
}

/* What the methods saw, for titles: "noise 0.1", or "minibatches of 32" for games that draw
 * samples (their oracle is stochastic whatever --noise is), with "+ noise s" when s > 0. */
static void oracle_text(const game_run *r, const game_series *s, char *buf, size_t size) {
    int64_t b = otg_game_samples_per_call(s[0].g);
    if (b <= 0)
        snprintf(buf, size, "noise %g", r->noise);
    else if (r->noise > 0.0)
        snprintf(buf, size, "minibatches of %lld + noise %g", (long long)b, r->noise);
    else
        snprintf(buf, size, "minibatches of %lld", (long long)b);
}

/* 1 when the series' convergence is read off |z_k - z*| (statistics column 1) rather than
 * |G(z_k)|^2 (column 0): a field that jumps at a known saddle. */
int game_rate_on_dist(otg_game *g) {
    double *zs = calloc((size_t)(otg_game_nx(g) + otg_game_ny(g)), sizeof(double));
    int known = zs && otg_game_saddle(g, zs);
    free(zs);
    return known && otg_game_type_of(g)->field_jumps;
}

/* mean |G|^2 (or |z - z*|, game_rate_on_dist) per series; with R > 1 also mean +- se, joined after
 * NaN breaks (same colour) */
static int convergence(const game_run *r, const game_series *s, int n) {
    int64_t rows = r->rows, len = r->repeat > 1 ? 3 * rows + 2 : rows;
    otg_series ser[GAME_MAX_SERIES];
    char path[4200], title[256], oracle[96];
    int col = game_rate_on_dist(s[0].g);
    double *buf = alloc_xy(len, n);
    if (!buf) return OTG_EXIT_FAIL;
    for (int i = 0; i < n; i++) {
        double *x = buf + 2 * len * i, *y = x + len;
        for (int64_t k = 0; k < rows; k++) {
            double mean, se, step = (double)r->step_at[k];
            otg_series_stats_get(s[i].res.stats, col, k, &mean, &se);
            x[k] = step, y[k] = mean;
            if (r->repeat == 1) continue;
            x[rows + 1 + k] = x[2 * rows + 2 + k] = step;
            y[rows + 1 + k] = mean + se, y[2 * rows + 2 + k] = mean - se;
        }
        if (r->repeat > 1) x[rows] = y[rows] = x[2 * rows + 1] = y[2 * rows + 1] = (double)NAN;
        ser[i] = (otg_series){s[i].label, x, y, len};
    }
    snprintf(path, sizeof path, "%s/convergence.png", r->out);
    oracle_text(r, s, oracle, sizeof oracle);
    if (r->repeat > 1)
        snprintf(title, sizeof title, "%s, %s: mean +- se over %lld seeds", r->game, oracle,
                 (long long)r->repeat);
    else
        snprintf(title, sizeof title, "%s, %s, seed %lld", r->game, oracle, (long long)r->seed);
    otg_status st =
        otg_plot_lines(path, ser, n, title, "step k",
                       col ? "|z_k - z*| (G jumps at z*)" : "|G(z_k)|^2", 1, 1, r->force);
    free(buf);
    return done(st, "convergence.png");
}

/* the first seed's (x_k, y_k) per series, cut where |z_k - z*| > 5 |z_0 - z*|, and the saddle */
static int trajectory(const game_run *r, const game_series *s, int n) {
    int64_t rows = r->rows;
    otg_series ser[GAME_MAX_SERIES + 1];
    double *buf = alloc_xy(rows, n), zs[2] = {0, 0};
    if (!buf) return OTG_EXIT_FAIL;
    int known = otg_game_saddle(s[0].g, zs);
    double lim = 5.0 * r->init;
    for (int i = 0; i < n; i++) {
        double *x = buf + 2 * rows * i, *y = x + rows;
        int out = 0;
        for (int64_t k = 0; k < rows; k++) {
            double px = s[i].res.path[2 * k], py = s[i].res.path[2 * k + 1];
            double dx = px - zs[0], dy = py - zs[1];
            out = out || !(sqrt(dx * dx + dy * dy) <= lim);
            x[k] = out ? (double)NAN : px, y[k] = out ? (double)NAN : py;
        }
        ser[i] = (otg_series){s[i].label, x, y, rows};
    }
    ser[n] = (otg_series){"saddle z*", &zs[0], &zs[1], 1};
    char path[4200], title[256];
    snprintf(path, sizeof path, "%s/trajectory.png", r->out);
    snprintf(title, sizeof title, "%s: (x_k, y_k), seed %lld, cut at 5|z_0 - z*|", r->game,
             (long long)r->seed);
    otg_status st = otg_plot_lines(path, ser, n + known, title, "x", "y", 0, 0, r->force);
    free(buf);
    return done(st, "trajectory.png");
}

/* <name>.png: the mean of metric m per series, against the samples drawn (row 0, with none,
 * left out of the log axis) or against k */
static int metric_chart(const game_run *r, const game_series *s, int n, int m,
                        const otg_game_metric *info) {
    int vs = info->against_samples, first = vs ? 1 : 0;
    int64_t rows = r->rows - first;
    if (rows < 1) return 0;
    otg_series ser[GAME_MAX_SERIES];
    double *buf = alloc_xy(rows, n), se;
    if (!buf) return OTG_EXIT_FAIL;
    for (int i = 0; i < n; i++) {
        double *x = buf + 2 * rows * i, *y = x + rows;
        for (int64_t k = 0; k < rows; k++) {
            x[k] = vs ? (double)s[i].res.samples[k + first] : (double)r->step_at[k];
            otg_series_stats_get(s[i].res.stats, 3 + m, k + first, &y[k], &se);
        }
        ser[i] = (otg_series){s[i].label, x, y, rows};
    }
    char path[4200], title[256];
    snprintf(path, sizeof path, "%s/%s.png", r->out, info->name);
    snprintf(title, sizeof title, "%s%s: mean over %lld seed(s)", r->game, r->knobs,
             (long long)r->repeat);
    otg_status st = otg_plot_lines(path, ser, n, title, vs ? "target samples" : "step k",
                                   info->label, vs, vs, r->force);
    free(buf);
    return done(st, info->name);
}

/* Per series, the first seed's last generator samples over the target. */
static int samples_pictures(const game_run *r, const game_series *s, int n) {
    const int64_t m = 1024;
    float *gen = calloc((size_t)(4 * m), sizeof(float)), *tgt = gen + 2 * m;
    if (!gen) return done(OTG_ENOMEM, "samples");
    char path[4200], title[256];
    otg_status st = OTG_OK;
    for (int i = 0; i < n && st == OTG_OK; i++) {
        st = otg_game_samples(s[i].g, s[i].res.zlast, m, gen, tgt);
        if (n == 1)
            snprintf(path, sizeof path, "%s/samples.png", r->out);
        else
            snprintf(path, sizeof path, "%s/samples-%s.png", r->out, s[i].label);
        for (char *c = path + strlen(r->out); *c; c++)
            if (*c == ' ' || *c == '=') *c = *c == ' ' ? '-' : '_';
        snprintf(title, sizeof title, "%s, %s%s: step %lld, seed %lld", r->game, s[i].label,
                 r->knobs, (long long)r->steps, (long long)r->seed);
        if (st == OTG_OK)
            st = otg_plot_scatter(path, gen, m, "generated", tgt, m, "target", title, r->force);
    }
    free(gen);
    return done(st, "samples pictures");
}

int game_charts_write(const game_run *r, game_series *s, int n) {
    int rc = convergence(r, s, n), planar = 1;
    for (int i = 0; i < n; i++)
        planar = planar && s[i].res.path;
    if (!rc && planar) rc = trajectory(r, s, n);
    const otg_game_type *t = otg_game_type_of(s[0].g);
    for (int m = 0; !rc && m < otg_game_n_metrics(s[0].g); m++)
        if (t->metric_info[m].label) rc = metric_chart(r, s, n, m, &t->metric_info[m]);
    if (!rc && otg_game_has_samples(s[0].g)) rc = samples_pictures(r, s, n);
    return rc;
}
