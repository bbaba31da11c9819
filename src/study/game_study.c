/* The convergence study of one min-max method on one game over repeats: the loop of `otgen
 * game`. Repeat r draws z_0 from stream (seed + r, 1) and feeds the oracle from (seed + r, 2);
 * every `every` steps a row of |G|^2, |z - z*|, L and the game's metrics joins the statistics. */
#include "internal.h"
#include "otgen/study.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Logs grad_sq, dist (0 without a saddle), loss and the metrics at z into row `row`; work
 * [2 n]. The first repeat's iterate also goes to the path of 2-D games. */
static void log_row(otg_game *g, otg_game_study *s, int64_t row, int rep, const double *z,
                    double *work) {
    int64_t n = otg_game_nx(g) + otg_game_ny(g);
    double *gz = work, *zs = work + n, v[64] = {0, 0, otg_game_loss(g, z)};
    int has_saddle = otg_game_saddle(g, zs), nc = 3 + otg_game_n_metrics(g);
    otg_game_operator(g, z, gz);
    for (int64_t i = 0; i < n; i++)
        v[0] += gz[i] * gz[i], v[1] += has_saddle ? (z[i] - zs[i]) * (z[i] - zs[i]) : 0.0;
    v[1] = sqrt(v[1]);
    if (nc > 3 && otg_game_metrics(g, z, v + 3) != OTG_OK) v[3] = (double)NAN;
    if (rep == 0 && s->path) s->path[2 * row] = z[0], s->path[2 * row + 1] = z[1];
    otg_series_stats_add(s->stats, row, v);
}

/* One repeat; z [3 n] (the iterate and log_row's work). */
static otg_status run_repeat(otg_game *g, otg_minimax *m, const otg_game_study_opts *o, int rep,
                             double *z, otg_game_study *s) {
    int64_t n = otg_game_nx(g) + otg_game_ny(g);
    uint64_t seed = o->seed + (uint64_t)rep;
    otg_rng noise = otg_rng_make(seed, 2), init = otg_rng_make(seed, 1);
    otg_minimax_reset(m);
    otg_game_initial_point(g, o->init, &init, z);
    log_row(g, s, 0, rep, z, z + n);
    for (int64_t k = 1, row = 1; k <= o->steps; k++) {
        otg_status st = otg_minimax_step(m, z, otg_game_oracle, g, &noise);
        if (st == OTG_OK) otg_game_project(g, z);
        if (st == OTG_ENONFINITE) {
            if (rep == 0) s->diverged_at = k;
            if (o->on_diverge) o->on_diverge(o->user, rep, k, seed);
            return OTG_OK;
        }
        if (st != OTG_OK) return st;
        if (row < s->rows && k == s->steps[row]) log_row(g, s, row++, rep, z, z + n);
        if (rep == 0) memcpy(s->zlast, z, (size_t)n * sizeof(double));
        if (o->on_step) o->on_step(o->user, rep, k);
    }
    return OTG_OK;
}

/* The rows, their steps and samples, the statistics and the first repeat's buffers. */
static otg_status study_alloc(otg_game *g, const otg_minimax_type *t, const otg_game_study_opts *o,
                              otg_game_study *s) {
    int64_t n = otg_game_nx(g) + otg_game_ny(g);
    s->rows = o->steps / o->every + 1 + (o->steps % o->every != 0), s->diverged_at = -1;
    s->steps = otgi_calloc((size_t)s->rows, sizeof(int64_t));
    s->samples = otgi_calloc((size_t)s->rows, sizeof(int64_t));
    s->zlast = otgi_calloc((size_t)n, sizeof(double));
    if (n == 2) s->path = otgi_calloc((size_t)(2 * s->rows), sizeof(double));
    s->stats = otg_series_stats_new(s->rows, 3 + otg_game_n_metrics(g));
    if (!s->steps || !s->samples || !s->zlast || (n == 2 && !s->path) || !s->stats)
        return OTG_ENOMEM;
    int64_t per_step = otg_minimax_oracle_calls(t) * otg_game_samples_per_call(g);
    for (int64_t r = 0; r < s->rows; r++) {
        s->steps[r] = r * o->every > o->steps ? o->steps : r * o->every;
        s->samples[r] = s->steps[r] * per_step;
    }
    return OTG_OK;
}

otg_status otg_game_study_run(otg_game *g, const otg_minimax_type *t, const otg_minimax_params *mp,
                              const otg_game_study_opts *o, otg_game_study *out) {
    if (!out) return otgi_fail(OTG_EINVAL, "study: need an output");
    memset(out, 0, sizeof *out);
    if (!g || !t || !mp || !o || o->steps < 1 || o->every < 1 || o->repeat < 1 || !(o->init > 0.0))
        return otgi_fail(OTG_EINVAL, "study: need a game, a method, parameters and steps, "
                                     "every, repeat >= 1, init > 0");
    otg_status st = study_alloc(g, t, o, out);
    if (st != OTG_OK) return st;
    int64_t n = otg_game_nx(g) + otg_game_ny(g);
    otg_minimax *m = otg_minimax_new(t, otg_game_nx(g), otg_game_ny(g), mp);
    double *z = otgi_calloc((size_t)(3 * n), sizeof(double));
    st = m && z ? OTG_OK : m ? OTG_ENOMEM : OTG_EINVAL;
    for (int rep = 0; rep < o->repeat && st == OTG_OK; rep++)
        st = run_repeat(g, m, o, rep, z, out);
    free(z);
    otg_minimax_free(m);
    return st;
}

void otg_game_study_free(otg_game_study *s) {
    if (!s) return;
    free(s->steps), free(s->samples), free(s->path), free(s->zlast);
    otg_series_stats_free(s->stats);
    memset(s, 0, sizeof *s);
}
