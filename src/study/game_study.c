/* The convergence study of one min-max method on one game over repeats: the loop of `otgen
 * game`. Repeat r draws z_0 from stream (seed + r, 1) and feeds the oracle from (seed + r, 2);
 * every `every` steps a row of |G|^2, |z - z*|, L and the game's metrics joins the statistics. */
#include "internal.h"
#include "otgen/study.h"
#include "study_internal.h"

#include <cjson/cJSON.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
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

/* Where a study is: repeat rep, steps done k, next row to log, the oracle's stream. */
typedef struct {
    int rep;
    int64_t k, row;
    otg_rng noise;
} study_pos;

/* ---- the state as JSON: doubles as the hex digits of their bits (exact, NaN and inf too) ---- */

static cJSON *hex_array(const double *v, int64_t n) {
    cJSON *a = cJSON_CreateArray();
    for (int64_t i = 0; a && i < n; i++) {
        uint64_t b;
        char t[20];
        memcpy(&b, &v[i], sizeof b);
        snprintf(t, sizeof t, "%016" PRIx64, b);
        cJSON *x = cJSON_CreateString(t);
        if (!x || !cJSON_AddItemToArray(a, x)) return cJSON_Delete(a), NULL;
    }
    return a;
}

static int hex_read(const cJSON *a, double *v, int64_t n) {
    if (!cJSON_IsArray(a) || cJSON_GetArraySize(a) != n) return 0;
    int64_t i = 0;
    for (const cJSON *x = a->child; x; x = x->next, i++) {
        char *end;
        if (!cJSON_IsString(x) || strlen(x->valuestring) != 16) return 0;
        uint64_t b = strtoull(x->valuestring, &end, 16);
        if (*end) return 0;
        memcpy(&v[i], &b, sizeof b);
    }
    return 1;
}

static int add_u64(cJSON *o, const char *k, uint64_t v) {
    char t[24];
    snprintf(t, sizeof t, "%" PRIu64, v);
    return cJSON_AddStringToObject(o, k, t) != NULL;
}

static int get_u64(const cJSON *o, const char *k, uint64_t *v) {
    const cJSON *x = cJSON_GetObjectItemCaseSensitive(o, k);
    if (!cJSON_IsString(x) || x->valuestring[0] < '0' || x->valuestring[0] > '9') return 0;
    char *end;
    *v = strtoull(x->valuestring, &end, 10);
    return *end == '\0';
}

/* The study's whole state (caller frees); NULL on out of memory. */
static char *state_json(const otg_game_study *s, const study_pos *p, int64_t n, const double *z,
                        const otg_minimax *m) {
    double *sum, *sq;
    int64_t *count, rows;
    int cols;
    otgi_series_stats_raw(s->stats, &sum, &sq, &count, &rows, &cols);
    double *cnt = otgi_calloc((size_t)rows, sizeof(double)), *ms = NULL;
    cJSON *h = cJSON_CreateObject(), *rng = NULL;
    int ok = cnt && h && cJSON_AddNumberToObject(h, "rep", p->rep) &&
             add_u64(h, "k", (uint64_t)p->k) && add_u64(h, "row", (uint64_t)p->row) &&
             cJSON_AddNumberToObject(h, "diverged_at", (double)s->diverged_at);
    for (int64_t r = 0; ok && r < rows; r++)
        cnt[r] = (double)count[r];
    ok = ok && cJSON_AddItemToObject(h, "sum", hex_array(sum, rows * cols)) &&
         cJSON_AddItemToObject(h, "sq", hex_array(sq, rows * cols)) &&
         cJSON_AddItemToObject(h, "count", hex_array(cnt, rows)) &&
         cJSON_AddItemToObject(h, "zlast", hex_array(s->zlast, n)) &&
         (!s->path || cJSON_AddItemToObject(h, "path", hex_array(s->path, 2 * rows)));
    if (ok && z) { /* inside a repeat */
        int64_t nm = otg_minimax_state_size(m);
        ok = (ms = otgi_calloc((size_t)nm, sizeof(double))) != NULL;
        if (ok) otg_minimax_state_get(m, ms);
        ok = ok && cJSON_AddItemToObject(h, "z", hex_array(z, n)) &&
             cJSON_AddItemToObject(h, "minimax", hex_array(ms, nm)) &&
             (rng = cJSON_AddObjectToObject(h, "noise")) && add_u64(rng, "seed", p->noise.seed) &&
             add_u64(rng, "stream", p->noise.stream) && add_u64(rng, "counter", p->noise.counter) &&
             cJSON_AddNumberToObject(rng, "buf_left", p->noise.buf_left) &&
             cJSON_AddItemToObject(rng, "buf",
                                   hex_array((double[]){p->noise.buf[0], p->noise.buf[1],
                                                        p->noise.buf[2], p->noise.buf[3]},
                                             4));
    }
    char *text = ok ? cJSON_PrintUnformatted(h) : NULL;
    cJSON_Delete(h);
    free(cnt), free(ms);
    if (!text) otgi_fail(OTG_ENOMEM, "study: out of memory writing a checkpoint");
    return text;
}

static otg_status checkpoint(const otg_game_study_opts *o, const otg_game_study *s,
                             const study_pos *p, int64_t n, const double *z, const otg_minimax *m) {
    char *text = state_json(s, p, n, z, m);
    if (!text) return OTG_ENOMEM;
    otg_status st = o->on_checkpoint(o->user, text);
    free(text);
    return st;
}

static int rng_read(const cJSON *o, otg_rng *r) {
    const cJSON *bl = cJSON_GetObjectItemCaseSensitive(o, "buf_left");
    double b[4];
    if (!get_u64(o, "seed", &r->seed) || !get_u64(o, "stream", &r->stream) ||
        !get_u64(o, "counter", &r->counter) || !cJSON_IsNumber(bl) || !(bl->valuedouble >= 0) ||
        !(bl->valuedouble <= 4) || bl->valuedouble != floor(bl->valuedouble) ||
        !hex_read(cJSON_GetObjectItemCaseSensitive(o, "buf"), b, 4))
        return 0;
    r->buf_left = (int)bl->valuedouble;
    for (int i = 0; i < 4; i++) {
        if (!(b[i] >= 0 && b[i] <= 4294967295.0 && b[i] == floor(b[i]))) return 0;
        r->buf[i] = (uint32_t)b[i];
    }
    return 1;
}

/* Restores a state written by state_json into s, p, z and m (inside a repeat). */
static otg_status restore(const char *text, const otg_game_study_opts *o, otg_game_study *s,
                          study_pos *p, int64_t n, double *z, otg_minimax *m) {
    double *sum, *sq;
    int64_t *count, rows;
    int cols;
    otgi_series_stats_raw(s->stats, &sum, &sq, &count, &rows, &cols);
    cJSON *h = cJSON_Parse(text);
    const cJSON *rep = cJSON_GetObjectItemCaseSensitive(h, "rep");
    const cJSON *dv = cJSON_GetObjectItemCaseSensitive(h, "diverged_at");
    double *cnt = otgi_calloc((size_t)rows, sizeof(double));
    int64_t nm = otg_minimax_state_size(m);
    double *ms = otgi_calloc((size_t)nm, sizeof(double));
    uint64_t k = 0, row = 0;
    int ok = cnt && ms && cJSON_IsNumber(rep) && rep->valuedouble >= 0 &&
             rep->valuedouble <= (double)o->repeat && rep->valuedouble == floor(rep->valuedouble) &&
             get_u64(h, "k", &k) && k <= (uint64_t)o->steps && get_u64(h, "row", &row) &&
             row <= (uint64_t)rows && cJSON_IsNumber(dv) && dv->valuedouble >= -1 &&
             dv->valuedouble <= (double)o->steps && dv->valuedouble == floor(dv->valuedouble) &&
             hex_read(cJSON_GetObjectItemCaseSensitive(h, "sum"), sum, rows * cols) &&
             hex_read(cJSON_GetObjectItemCaseSensitive(h, "sq"), sq, rows * cols) &&
             hex_read(cJSON_GetObjectItemCaseSensitive(h, "count"), cnt, rows) &&
             hex_read(cJSON_GetObjectItemCaseSensitive(h, "zlast"), s->zlast, n) &&
             (!s->path || hex_read(cJSON_GetObjectItemCaseSensitive(h, "path"), s->path, 2 * rows));
    for (int64_t r = 0; ok && r < rows; r++) {
        ok = cnt[r] >= 0 && cnt[r] <= (double)o->repeat && cnt[r] == floor(cnt[r]);
        count[r] = ok ? (int64_t)cnt[r] : 0;
    }
    if (ok) {
        p->rep = (int)rep->valuedouble, p->k = (int64_t)k, p->row = (int64_t)row;
        s->diverged_at = (int64_t)dv->valuedouble;
    }
    if (ok && p->rep < o->repeat)
        ok = hex_read(cJSON_GetObjectItemCaseSensitive(h, "z"), z, n) &&
             hex_read(cJSON_GetObjectItemCaseSensitive(h, "minimax"), ms, nm) &&
             otg_minimax_state_set(m, ms, nm) == OTG_OK &&
             rng_read(cJSON_GetObjectItemCaseSensitive(h, "noise"), &p->noise);
    cJSON_Delete(h);
    free(cnt), free(ms);
    return ok ? OTG_OK
              : otgi_fail(OTG_EFORMAT, "study: the checkpoint state does not fit this study "
                                       "(another game, method or size, or malformed)");
}

/* Steps p->k + 1 .. steps of repeat p->rep from z; z [3 n] (the iterate and log_row's work). */
static otg_status steps_from(otg_game *g, otg_minimax *m, const otg_game_study_opts *o,
                             study_pos *p, double *z, otg_game_study *s) {
    int64_t n = otg_game_nx(g) + otg_game_ny(g);
    uint64_t seed = o->seed + (uint64_t)p->rep;
    for (int64_t k = p->k + 1; k <= o->steps; k++) {
        otg_status st = otg_minimax_step(m, z, otg_game_oracle, g, &p->noise);
        if (st == OTG_OK) otg_game_project(g, z);
        if (st == OTG_ENONFINITE) {
            if (p->rep == 0) s->diverged_at = k;
            if (o->on_diverge) o->on_diverge(o->user, p->rep, k, seed);
            return OTG_OK;
        }
        if (st != OTG_OK) return st;
        if (p->row < s->rows && k == s->steps[p->row]) log_row(g, s, p->row++, p->rep, z, z + n);
        if (p->rep == 0) memcpy(s->zlast, z, (size_t)n * sizeof(double));
        if (o->on_step) o->on_step(o->user, p->rep, k);
        p->k = k;
        int stop = k < o->steps && o->should_stop && o->should_stop(o->user);
        int due = o->checkpoint_every > 0 && k % o->checkpoint_every == 0 && k < o->steps;
        if (o->on_checkpoint && (due || stop) && (st = checkpoint(o, s, p, n, z, m)) != OTG_OK)
            return st;
        if (stop)
            return otgi_fail(OTG_CONTINUE, "study: stopped at step %lld of repeat %d", (long long)k,
                             p->rep);
    }
    return OTG_OK;
}

/* One repeat from its start. */
static otg_status run_repeat(otg_game *g, otg_minimax *m, const otg_game_study_opts *o, int rep,
                             double *z, otg_game_study *s) {
    int64_t n = otg_game_nx(g) + otg_game_ny(g);
    uint64_t seed = o->seed + (uint64_t)rep;
    study_pos p = {.rep = rep, .k = 0, .row = 1, .noise = otg_rng_make(seed, 2)};
    otg_rng init = otg_rng_make(seed, 1);
    otg_minimax_reset(m);
    otg_game_initial_point(g, o->init, &init, z);
    log_row(g, s, 0, rep, z, z + n);
    return steps_from(g, m, o, &p, z, s);
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
    study_pos p = {.rep = 0};
    if (st == OTG_OK && o->resume) {
        st = restore(o->resume, o, out, &p, n, z, m);
        if (st == OTG_OK && p.rep < o->repeat) st = steps_from(g, m, o, &p, z, out);
        p.rep++;
    }
    for (int rep = p.rep; rep < o->repeat && st == OTG_OK; rep++)
        st = run_repeat(g, m, o, rep, z, out);
    if (st == OTG_OK && o->on_checkpoint) {
        p.rep = (int)o->repeat, p.k = o->steps, p.row = out->rows;
        st = checkpoint(o, out, &p, n, NULL, m);
    }
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
