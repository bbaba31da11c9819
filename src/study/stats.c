/* Per-row statistics over repeats (running sums of v and v^2 per row and column, with a count
 * per row), the 1/k-weighted log-log slope of a convergence curve, and the CSV writer of one or
 * several series (one buffer, written atomically by the io module's writer). */
#include "internal.h"
#include "otgen/io.h"
#include "otgen/study.h"
#include "study_internal.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct otg_series_stats {
    int64_t rows;
    int cols;
    double *sum, *sq; /* [rows, cols] */
    int64_t *count;   /* [rows] */
};

otg_series_stats *otg_series_stats_new(int64_t rows, int cols) {
    if (rows < 1 || rows > (INT64_C(1) << 32) || cols < 1 || cols > 64) {
        otgi_fail(OTG_EINVAL, "study: need rows >= 1 and cols in [1, 64] (got %lld, %d)",
                  (long long)rows, cols);
        return NULL;
    }
    otg_series_stats *s = otgi_calloc(1, sizeof *s);
    if (!s) return NULL;
    s->rows = rows, s->cols = cols;
    s->sum = otgi_calloc((size_t)(rows * cols), sizeof(double));
    s->sq = otgi_calloc((size_t)(rows * cols), sizeof(double));
    s->count = otgi_calloc((size_t)rows, sizeof(int64_t));
    if (!s->sum || !s->sq || !s->count) {
        otg_series_stats_free(s);
        return NULL;
    }
    return s;
}

void otg_series_stats_free(otg_series_stats *s) {
    if (!s) return;
    free(s->sum), free(s->sq), free(s->count);
    free(s);
}

int64_t otg_series_stats_rows(const otg_series_stats *s) {
    return s ? s->rows : 0;
}

int otg_series_stats_cols(const otg_series_stats *s) {
    return s ? s->cols : 0;
}

void otg_series_stats_add(otg_series_stats *s, int64_t row, const double *v) {
    if (!s || !v || row < 0 || row >= s->rows) return;
    for (int c = 0; c < s->cols; c++)
        if (!isfinite(v[c])) return;
    double *sum = s->sum + row * s->cols, *sq = s->sq + row * s->cols;
    for (int c = 0; c < s->cols; c++)
        sum[c] += v[c], sq[c] += v[c] * v[c];
    s->count[row]++;
}

int64_t otg_series_stats_count(const otg_series_stats *s, int64_t row) {
    return s && row >= 0 && row < s->rows ? s->count[row] : 0;
}

void otg_series_stats_get(const otg_series_stats *s, int col, int64_t row, double *mean,
                          double *se) {
    int64_t cnt = otg_series_stats_count(s, row);
    if (col < 0 || col >= otg_series_stats_cols(s)) cnt = 0;
    double sum = cnt ? s->sum[row * s->cols + col] : 0.0, sq = cnt ? s->sq[row * s->cols + col] : 0;
    double m = cnt ? sum / (double)cnt : (double)NAN;
    double var = cnt > 1 ? (sq - cnt * m * m) / (double)(cnt - 1) : (double)NAN;
    if (mean) *mean = m;
    if (se) *se = cnt > 1 ? sqrt(fmax(var, 0.0) / (double)cnt) : (double)NAN;
}

double otg_loglog_slope(const double *k, const double *y, int64_t n, double k_min) {
    double sw = 0, sx = 0, sy = 0, sxx = 0, sxy = 0;
    int used = 0;
    for (int64_t i = 0; k && y && i < n; i++) {
        if (!(k[i] > 0.0) || k[i] < k_min || !(y[i] > 0.0) || !isfinite(y[i])) continue;
        double w = 1.0 / k[i], lx = log(k[i]), ly = log(y[i]);
        sw += w, sx += w * lx, sy += w * ly, sxx += w * lx * lx, sxy += w * lx * ly, used++;
    }
    if (used < 3) return NAN;
    return (sw * sxy - sx * sy) / (sw * sxx - sx * sx);
}

/* A growing text buffer; ok drops to 0 on out of memory (later appends are ignored). */
typedef struct {
    char *p;
    size_t len, cap;
    int ok;
} text;

static void put(text *t, const char *fmt, ...) {
    if (!t->ok) return;
    if (t->cap - t->len < 512) { /* every piece is shorter: labels and names are < 200 chars */
        char *q = realloc(t->p, t->cap * 2);
        if (!q) {
            t->ok = 0;
            return;
        }
        t->p = q, t->cap *= 2;
    }
    va_list ap;
    va_start(ap, fmt);
    int w = vsnprintf(t->p + t->len, t->cap - t->len, fmt, ap);
    va_end(ap);
    if (w < 0 || (size_t)w >= t->cap - t->len)
        t->ok = 0;
    else
        t->len += (size_t)w;
}

static void csv_header(text *t, int cols, const otg_series_csv *spec) {
    put(t, "%s", spec->samples ? "step,samples" : "step");
    for (int c = 0; c < cols; c++)
        put(t, ",%s", spec->cols[c]);
    for (int c = 0; c < cols; c++)
        put(t, ",%s_se", spec->cols[c]);
    put(t, "%s", spec->labels ? ",method\n" : "\n");
}

/* Series i's rows. */
static void csv_series(text *t, const otg_series_stats *s, int i, const otg_series_csv *spec) {
    for (int64_t r = 0; r < s->rows; r++) {
        put(t, "%lld", (long long)spec->steps[r]);
        if (spec->samples) put(t, ",%lld", (long long)spec->samples[i][r]);
        for (int pass = 0; pass < 2; pass++)
            for (int c = 0; c < s->cols; c++) {
                double mean, se;
                otg_series_stats_get(s, c, r, &mean, &se);
                double v = pass ? se : mean;
                if ((spec->blank && spec->blank[c]) || (pass && isnan(v)))
                    put(t, ",");
                else
                    put(t, ",%.10g", v);
            }
        if (spec->labels) put(t, ",%s", spec->labels[i]);
        put(t, "\n");
    }
}

otg_status otg_series_stats_write_csv_ex(const otg_series_stats *const *s, int n,
                                         const otg_series_csv *spec, const char *path,
                                         int overwrite) {
    if (!s || n < 1 || !spec || !spec->cols || !spec->steps || !path)
        return otgi_fail(OTG_EINVAL, "study: write_csv needs series, columns, steps and a path");
    for (int i = 0; i < n; i++)
        if (!s[i] || s[i]->rows != s[0]->rows || s[i]->cols != s[0]->cols)
            return otgi_fail(OTG_EINVAL, "study: write_csv: series of different shapes");
    text t = {malloc(1 << 16), 0, 1 << 16, 1};
    t.ok = t.p != NULL;
    csv_header(&t, s[0]->cols, spec);
    for (int i = 0; i < n; i++)
        csv_series(&t, s[i], i, spec);
    otg_status st = t.ok ? otg_write_file_atomic(path, t.p, t.len, overwrite)
                         : otgi_fail(OTG_ENOMEM, "study: out of memory writing %s", path);
    free(t.p);
    return st;
}

otg_status otg_series_stats_write_csv(const otg_series_stats *s, const char *const *cols,
                                      const int64_t *steps, const char *path, int overwrite) {
    otg_series_csv spec = {.cols = cols, .steps = steps};
    return otg_series_stats_write_csv_ex(&s, 1, &spec, path, overwrite);
}

void otgi_series_stats_raw(otg_series_stats *s, double **sum, double **sq, int64_t **count,
                           int64_t *rows, int *cols) {
    *sum = s->sum, *sq = s->sq, *count = s->count, *rows = s->rows, *cols = s->cols;
}
