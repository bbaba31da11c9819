/* The metrics files of a run directory: metrics.csv and metrics.jsonl, one row per step, flushed
 * as written. On resume the rows after the checkpoint's step are dropped first, so the resumed run
 * writes exactly the rows the uninterrupted one would. Also the loss chart, read back from the
 * CSV. */
#define _POSIX_C_SOURCE 200809L
#include "internal.h"
#include "otgen/io.h"
#include "otgen/plot.h"
#include "otgen/train.h"

#include <errno.h>
#include <math.h>
#include <string.h>
#include <unistd.h>

static const char *const HEADER =
    "step,time_s,loss,loss_stderr,val_sw,grad_norm,lr,kinks,relu_kinks,sort_ties";

struct otg_metrics {
    FILE *csv, *jsonl;
    double time_offset; /* time_s of the last row kept on resume */
};

/* A whole file as NUL-terminated text; NULL (*missing = 1) when absent, NULL with the error set
 * on a read failure. */
static char *read_text(const char *path, size_t *len, int *missing) {
    char *t = NULL;
    *missing = access(path, F_OK) != 0 && errno == ENOENT;
    if (!*missing && otg_file_read(path, 0, &t, len) != OTG_OK) t = NULL;
    return t;
}

/* Step number of a metrics line ("12,..." or "{\"step\":12,..."), -1 for a header or garbage. */
static int64_t line_step(const char *line) {
    if (!strncmp(line, "{\"step\":", 8)) line += 8;
    char *end;
    long long v = strtoll(line, &end, 10);
    return end == line ? -1 : v;
}

/* Keeps the complete lines of path whose step is <= last (and the header). Sets *t_last to the
 * time_s of the last kept CSV row when asked. */
static otg_status truncate_after(const char *path, int64_t last, double *t_last) {
    size_t len = 0, k = 0;
    int missing;
    char *t = read_text(path, &len, &missing), *keep = t ? otgi_calloc(len + 1, 1) : NULL;
    if (!t) return missing ? OTG_OK : OTG_EIO;
    if (!keep) return free(t), OTG_ENOMEM;
    for (char *line = t, *nl; (nl = strchr(line, '\n')); line = nl + 1) {
        int64_t s = line_step(line);
        if (s > last) break;
        if (s >= 0 && t_last && line[0] != '{' && strchr(line, ','))
            *t_last = atof(strchr(line, ',') + 1);
        memcpy(keep + k, line, (size_t)(nl - line + 1));
        k += (size_t)(nl - line + 1);
    }
    otg_status st = otg_write_file_atomic(path, keep, k, 1);
    free(t), free(keep);
    return st;
}

static otg_status open_files(otg_metrics *m, const char *csv, const char *jsonl, int resume) {
    m->csv = fopen(csv, resume ? "a" : "w");
    m->jsonl = fopen(jsonl, resume ? "a" : "w");
    if (!m->csv || !m->jsonl)
        return otgi_fail(OTG_EIO, "%s: cannot write metrics: %s", csv, strerror(errno));
    if (!resume || ftell(m->csv) == 0) fprintf(m->csv, "%s\n", HEADER);
    return fflush(m->csv) == 0 ? OTG_OK : otgi_fail(OTG_EIO, "%s: write failed", csv);
}

otg_status otg_metrics_open(const char *dir, int64_t resume_step, otg_metrics **out) {
    if (!out) return otgi_fail(OTG_EINVAL, "metrics: NULL output");
    *out = NULL;
    if (!dir) return otgi_fail(OTG_EINVAL, "metrics: NULL directory");
    size_t cap = strlen(dir) + 16;
    char *csv = otgi_calloc(cap, 1), *jsonl = otgi_calloc(cap, 1);
    otg_metrics *m = otgi_calloc(1, sizeof *m);
    otg_status st = csv && jsonl && m ? OTG_OK : OTG_ENOMEM;
    if (st == OTG_OK) {
        snprintf(csv, cap, "%s/metrics.csv", dir), snprintf(jsonl, cap, "%s/metrics.jsonl", dir);
        if (resume_step >= 0) st = truncate_after(csv, resume_step, &m->time_offset);
        if (st == OTG_OK && resume_step >= 0) st = truncate_after(jsonl, resume_step, NULL);
    }
    if (st == OTG_OK) st = open_files(m, csv, jsonl, resume_step >= 0);
    free(csv), free(jsonl);
    if (st != OTG_OK) {
        otg_metrics_close(m);
        return st;
    }
    *out = m;
    return OTG_OK;
}

void otg_metrics_close(otg_metrics *m) {
    if (!m) return;
    if (m->csv) fclose(m->csv);
    if (m->jsonl) fclose(m->jsonl);
    free(m);
}

double otg_metrics_time_offset(const otg_metrics *m) {
    return m ? m->time_offset : 0.0;
}

/* v with %.9g (%.6g when short), or "" when v is not finite (the CSV's empty cells). */
static const char *cell(char *buf, size_t cap, int short_form, double v) {
    buf[0] = '\0';
    if (isfinite(v)) snprintf(buf, cap, short_form ? "%.6g" : "%.9g", v);
    return buf;
}

/* "key":v, or "key":null when v is not finite. */
static void json_num(FILE *f, const char *key, double v) {
    if (isfinite(v))
        fprintf(f, "\"%s\":%.9g,", key, v);
    else
        fprintf(f, "\"%s\":null,", key);
}

otg_status otg_metrics_write(otg_metrics *m, const otg_train_row *v) {
    if (!m || !v) return otgi_fail(OTG_EINVAL, "metrics: NULL argument");
    char val[32], se[32], loss[32], gn[32], lr[32];
    /* empty cells: no validation at this step, or the initial row (step 0: validation only) */
    fprintf(m->csv, "%lld,%.3f,%s,%s,%s,%s,%s,%lld,%lld,%lld\n", (long long)v->step, v->time_s,
            cell(loss, 32, 0, v->loss), cell(se, 32, 1, v->loss_stderr),
            cell(val, 32, 0, v->val_sw), cell(gn, 32, 0, v->grad_norm), cell(lr, 32, 0, v->lr),
            (long long)v->kinks, (long long)v->relu_kinks, (long long)v->sort_ties);
    fprintf(m->jsonl, "{\"step\":%lld,", (long long)v->step);
    json_num(m->jsonl, "time_s", v->time_s), json_num(m->jsonl, "loss", v->loss);
    json_num(m->jsonl, "loss_stderr", v->loss_stderr), json_num(m->jsonl, "val_sw", v->val_sw);
    json_num(m->jsonl, "grad_norm", v->grad_norm), json_num(m->jsonl, "lr", v->lr);
    fprintf(m->jsonl, "\"kinks\":%lld,\"relu_kinks\":%lld,\"sort_ties\":%lld}\n",
            (long long)v->kinks, (long long)v->relu_kinks, (long long)v->sort_ties);
    if (fflush(m->csv) || fflush(m->jsonl) || ferror(m->csv) || ferror(m->jsonl))
        return otgi_fail(OTG_EIO, "metrics: write failed: %s", strerror(errno));
    return OTG_OK;
}

/* (step, loss) of every row and (step, val_sw) of the validated ones, from CSV text. */
typedef struct {
    double *s, *l, *vs, *vv;
    int64_t n, nv;
} series;

static otg_status read_series(char *text, size_t len, series *r) {
    int64_t cap = (int64_t)len / 8 + 2; /* a row is longer than 8 bytes */
    r->s = otgi_calloc((size_t)cap, sizeof(double)),
    r->l = otgi_calloc((size_t)cap, sizeof(double));
    r->vs = otgi_calloc((size_t)cap, sizeof(double)),
    r->vv = otgi_calloc((size_t)cap, sizeof(double));
    if (!r->s || !r->l || !r->vs || !r->vv) return OTG_ENOMEM;
    for (char *line = text, *nl; (nl = strchr(line, '\n')) && r->n < cap; line = nl + 1) {
        *nl = '\0';
        double f[5];
        char *p = line, *end;
        for (int k = 0; k < 5; k++, p = end + (*end == ',')) {
            f[k] = strtod(p, &end);
            if (end == p) f[k] = (double)NAN;
            while (*end && *end != ',')
                end++;
        }
        if (line_step(line) < 0) continue;
        r->s[r->n] = f[0], r->l[r->n++] = f[2];
        if (isfinite(f[4])) r->vs[r->nv] = f[0], r->vv[r->nv++] = f[4];
    }
    return OTG_OK;
}

otg_status otg_metrics_plot(const char *dir, double p) {
    if (!dir) return otgi_fail(OTG_EINVAL, "metrics: NULL directory");
    size_t cap = strlen(dir) + 16, len = 0;
    char *csv = otgi_calloc(cap, 1), *png = otgi_calloc(cap, 1), *text = NULL, ylab[64];
    series r = {0};
    int missing = 0;
    otg_status st = csv && png ? OTG_OK : OTG_ENOMEM;
    if (st == OTG_OK) {
        snprintf(csv, cap, "%s/metrics.csv", dir), snprintf(png, cap, "%s/loss.png", dir);
        text = read_text(csv, &len, &missing);
        st = text ? read_series(text, len, &r)
                  : otgi_fail(missing               ? OTG_EIO
                              : otg_last_error()[0] ? OTG_EIO
                                                    : OTG_ENOMEM,
                              "%s: cannot read", csv);
    }
    if (st == OTG_OK) {
        /* one quantity on the axis: the batch loss SW_p^p is drawn as SW_p, like val_sw */
        for (int64_t i = 0; i < r.n; i++)
            r.l[i] = r.l[i] >= 0.0 ? pow(r.l[i], 1.0 / p) : (double)NAN;
        snprintf(ylab, sizeof ylab, "SW_p (p = %g)", p);
        otg_series ser[2] = {{"training batch (loss^(1/p))", r.s, r.l, r.n},
                             {"validation (val_sw)", r.vs, r.vv, r.nv}};
        st = otg_plot_lines(png, ser, r.nv > 0 ? 2 : 1, "Training and validation SW_p", "step",
                            ylab, 0, 1, 1);
    }
    free(r.s), free(r.l), free(r.vs), free(r.vv), free(text), free(csv), free(png);
    return st;
}
