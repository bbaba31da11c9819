/* The files of a run directory: metrics.csv and metrics.jsonl (one row per step, flushed as it is
 * written; on resume the rows after the checkpoint's step are dropped first, so the resumed run
 * writes exactly the rows the uninterrupted one would), and the final pictures. */
#define _POSIX_C_SOURCE 200809L
#include "cli.h"
#include "train_files.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

const char *const METRICS_HEADER = "step,time_s,loss,loss_stderr,val_sw,grad_norm,lr,kinks,relu_kinks,sort_ties";

/* Reads a whole text file (NULL if absent). */
static char *read_text(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    size_t cap = 1 << 16;
    char *t = malloc(cap);
    *len = 0;
    for (size_t k; t && (k = fread(t + *len, 1, cap - *len - 1, f)) > 0;) {
        *len += k;
        if (*len + 1 >= cap) t = realloc(t, cap *= 2);
    }
    fclose(f);
    if (t) t[*len] = '\0';
    return t;
}

/* Step number of a metrics line ("12,..." or "{\"step\":12,..."), -1 for a header or garbage. */
static int64_t line_step(const char *line) {
    if (!strncmp(line, "{\"step\":", 8)) line += 8;
    char *end;
    long long v = strtoll(line, &end, 10);
    return end == line ? -1 : v;
}

/* Keeps the lines of path whose step is <= last (and a header line); complete lines only.
 * Returns the time_s of the last kept CSV row through *t_last when asked. */
static otg_status truncate_after(const char *path, int64_t last, double *t_last) {
    size_t len;
    char *t = read_text(path, &len), *keep = t ? malloc(len + 1) : NULL;
    if (!t) return OTG_OK;
    size_t k = 0;
    for (char *line = t, *nl; (nl = strchr(line, '\n')); line = nl + 1) {
        int64_t s = line_step(line);
        if (s > last) break;
        if (s >= 0 && t_last && line[0] != '{') *t_last = atof(strchr(line, ',') + 1);
        memcpy(keep + k, line, (size_t)(nl - line + 1));
        k += (size_t)(nl - line + 1);
    }
    otg_status st = otg_write_file_atomic(path, keep, k, 1);
    free(t), free(keep);
    return st;
}

otg_status metrics_open(metrics_files *m, const char *dir, int64_t resume_step) {
    snprintf(m->csv_path, sizeof m->csv_path, "%s/metrics.csv", dir);
    snprintf(m->jsonl_path, sizeof m->jsonl_path, "%s/metrics.jsonl", dir);
    m->time_offset = 0.0;
    if (resume_step >= 0) {
        otg_status st = truncate_after(m->csv_path, resume_step, &m->time_offset);
        if (st == OTG_OK) st = truncate_after(m->jsonl_path, resume_step, NULL);
        if (st != OTG_OK) return st;
    }
    m->csv = fopen(m->csv_path, resume_step >= 0 ? "a" : "w");
    m->jsonl = fopen(m->jsonl_path, resume_step >= 0 ? "a" : "w");
    if (!m->csv || !m->jsonl) return OTG_EIO;
    if (resume_step < 0 || ftell(m->csv) == 0) fprintf(m->csv, "%s\n", METRICS_HEADER);
    fflush(m->csv);
    return OTG_OK;
}

void metrics_close(metrics_files *m) {
    if (m->csv) fclose(m->csv);
    if (m->jsonl) fclose(m->jsonl);
    m->csv = m->jsonl = NULL;
}

/* A JSON number or null. */
static void json_num(FILE *f, const char *key, double v, int last) {
    if (isfinite(v)) fprintf(f, "\"%s\":%.9g%s", key, v, last ? "" : ",");
    else fprintf(f, "\"%s\":null%s", key, last ? "" : ",");
}

void metrics_row(metrics_files *m, const metrics_values *v) {
    char val[32] = "", se[32] = "", loss[32] = "", gn[32] = "", lr[32] = "";
    if (isfinite(v->val_sw)) snprintf(val, sizeof val, "%.9g", v->val_sw);
    if (isfinite(v->loss_stderr)) snprintf(se, sizeof se, "%.6g", v->loss_stderr);
    if (isfinite(v->loss)) snprintf(loss, sizeof loss, "%.9g", v->loss);
    if (isfinite(v->grad_norm)) snprintf(gn, sizeof gn, "%.9g", v->grad_norm);
    if (isfinite(v->lr)) snprintf(lr, sizeof lr, "%.9g", v->lr);
    /* empty cells: no validation at this step, or the initial row (step 0: validation only) */
    fprintf(m->csv, "%lld,%.3f,%s,%s,%s,%s,%s,%lld,%lld,%lld\n", (long long)v->step, v->time_s, loss, se, val, gn,
            lr, (long long)v->kinks, (long long)v->relu_kinks, (long long)v->sort_ties);
    fflush(m->csv);
    fprintf(m->jsonl, "{\"step\":%lld,", (long long)v->step);
    json_num(m->jsonl, "time_s", v->time_s, 0), json_num(m->jsonl, "loss", v->loss, 0);
    json_num(m->jsonl, "loss_stderr", v->loss_stderr, 0), json_num(m->jsonl, "val_sw", v->val_sw, 0);
    json_num(m->jsonl, "grad_norm", v->grad_norm, 0), json_num(m->jsonl, "lr", v->lr, 0);
    fprintf(m->jsonl, "\"kinks\":%lld,\"relu_kinks\":%lld,\"sort_ties\":%lld}\n", (long long)v->kinks,
            (long long)v->relu_kinks, (long long)v->sort_ties);
    fflush(m->jsonl);
}

/* Reads (step, loss) and (step, val_sw) back from metrics.csv for the loss chart. */
static int64_t read_series(const char *csv, double **s, double **l, double **vs, double **vv, int64_t *nv) {
    size_t len;
    char *t = read_text(csv, &len);
    int64_t n = 0, cap = 1024;
    *s = malloc((size_t)cap * sizeof **s), *l = malloc((size_t)cap * sizeof **l);
    *vs = malloc((size_t)cap * sizeof **vs), *vv = malloc((size_t)cap * sizeof **vv);
    *nv = 0;
    for (char *line = t, *nl; t && (nl = strchr(line, '\n')); line = nl + 1) {
        *nl = '\0';
        double f[5];
        char *p = line, *end;
        int k = 0;
        for (; k < 5; k++, p = end + (*end == ',')) {
            f[k] = strtod(p, &end);
            if (end == p) f[k] = NAN;
            while (*end && *end != ',') end++;
        }
        if (line_step(line) < 0) continue;
        if (n == cap) {
            cap *= 2;
            *s = realloc(*s, (size_t)cap * sizeof **s), *l = realloc(*l, (size_t)cap * sizeof **l);
            *vs = realloc(*vs, (size_t)cap * sizeof **vs), *vv = realloc(*vv, (size_t)cap * sizeof **vv);
        }
        (*s)[n] = f[0], (*l)[n++] = f[2];
        if (isfinite(f[4])) (*vs)[*nv] = f[0], (*vv)[(*nv)++] = f[4];
    }
    free(t);
    return n;
}

otg_status draw_loss_chart(const char *dir, double p) {
    char csv[4200], png[4200], ylab[64];
    snprintf(csv, sizeof csv, "%s/metrics.csv", dir);
    snprintf(png, sizeof png, "%s/loss.png", dir);
    double *s, *l, *vs, *vv;
    int64_t nv, n = read_series(csv, &s, &l, &vs, &vv, &nv);
    snprintf(ylab, sizeof ylab, "SW (p = %g)", p);
    otg_series ser[2] = {{"train SW_p^p", s, l, n}, {"val SW_p", vs, vv, nv}};
    otg_status st = otg_plot_lines(png, ser, nv > 0 ? 2 : 1, "Training and validation SW", "step", ylab, 0, 1, 1);
    free(s), free(l), free(vs), free(vv);
    return st;
}
