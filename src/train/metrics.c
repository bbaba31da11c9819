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
#include <fcntl.h>
#include <math.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *const HEADER =
    "step,time_s,loss,loss_stderr,val_sw,grad_norm,lr,kinks,relu_kinks,sort_ties,val_fd";

struct otg_metrics {
    int csv, jsonl;           /* file descriptors, opened for appending */
    off_t csv_len, jsonl_len; /* the sizes after the last complete row */
    double time_offset;       /* time_s of the last row kept on resume */
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
    if (*line < '0' || *line > '9') return -1;
    char *end;
    errno = 0;
    long long v = strtoll(line, &end, 10);
    return errno || (*end != ',' && *end != '\n' && *end != '\0') ? -1 : v;
}

/* time_s of a CSV row: the number after the first comma of its own line; -1 when there is none
 * (a malformed row). */
static double line_time(const char *line, const char *nl) {
    const char *c = memchr(line, ',', (size_t)(nl - line));
    if (!c) return -1.0;
    char *end;
    double v = strtod(c + 1, &end);
    return end > c + 1 && end <= nl && isfinite(v) && v >= 0 ? v : -1.0;
}

/* Keeps the complete lines of path whose step is <= last (and the header). Sets *t_last to the
 * time_s of the last kept CSV row when asked. */
static otg_status truncate_after(const char *path, int64_t last, double *t_last) {
    size_t len = 0, k = 0;
    int missing;
    char *t = read_text(path, &len, &missing), *keep = t ? otgi_calloc(len + 1, 1) : NULL;
    if (!t) return missing ? OTG_OK : OTG_EIO;
    if (!keep) return free(t), OTG_ENOMEM;
    for (char *line = t, *nl; (nl = memchr(line, '\n', len - (size_t)(line - t))); line = nl + 1) {
        int64_t s = line_step(line);
        if (s > last) break;
        double tl = s >= 0 && t_last ? line_time(line, nl) : -1.0;
        if (tl >= 0) *t_last = tl;
        memcpy(keep + k, line, (size_t)(nl - line + 1));
        k += (size_t)(nl - line + 1);
    }
    otg_status st = otg_write_file_atomic(path, keep, k, 1);
    free(t), free(keep);
    return st;
}

/* The line of path for `step` with its val_sw emptied (CSV: the fifth cell; JSONL: null). */
static otg_status forget_val(const char *path, int64_t step, int jsonl) {
    size_t len = 0;
    int missing;
    char *t = read_text(path, &len, &missing), *out = t ? otgi_calloc(len + 8, 1) : NULL;
    if (!t) return missing ? OTG_OK : OTG_EIO;
    if (!out) return free(t), OTG_ENOMEM;
    size_t k = 0;
    for (char *line = t, *nl; line < t + len; line = nl + 1) {
        nl = memchr(line, '\n', len - (size_t)(line - t));
        if (!nl) nl = t + len - 1;
        size_t n = (size_t)(nl - line + 1);
        const char *cut = NULL, *resume = NULL;
        if (line_step(line) == step && !jsonl) {
            cut = line; /* after the fourth comma, up to the fifth */
            for (int c = 0; c < 4 && cut; c++)
                cut = memchr(cut, ',', (size_t)(nl - cut)), cut = cut ? cut + 1 : NULL;
            resume = cut ? memchr(cut, ',', (size_t)(nl - cut)) : NULL;
        } else if (line_step(line) == step) {
            char *v = strstr(line, "\"val_sw\":");
            cut = v && v < nl ? v + 9 : NULL;
            resume = cut ? memchr(cut, ',', (size_t)(nl - cut)) : NULL;
        }
        if (cut && resume) {
            memcpy(out + k, line, (size_t)(cut - line)), k += (size_t)(cut - line);
            if (jsonl) memcpy(out + k, "null", 4), k += 4;
            memcpy(out + k, resume, (size_t)(nl - resume + 1)), k += (size_t)(nl - resume + 1);
        } else {
            memcpy(out + k, line, n), k += n;
        }
    }
    otg_status st = otg_write_file_atomic(path, out, k, 1);
    free(t), free(out);
    return st;
}

otg_status otg_metrics_forget_val(const char *dir, int64_t step) {
    if (!dir) return otgi_fail(OTG_EINVAL, "metrics: NULL directory");
    size_t cap = strlen(dir) + 16;
    char *p = otgi_calloc(cap, 1);
    if (!p) return OTG_ENOMEM;
    snprintf(p, cap, "%s/metrics.csv", dir);
    otg_status st = forget_val(p, step, 0);
    snprintf(p, cap, "%s/metrics.jsonl", dir);
    if (st == OTG_OK) st = forget_val(p, step, 1);
    free(p);
    return st;
}

/* Writes buf[n] at the end of fd, whole or not at all: a short or failed write is cut back to
 * *len (the size after the last complete row), so no half row stays. */
static int append(int fd, off_t *len, const char *buf, size_t n) {
    size_t done = 0;
    while (done < n) {
        ssize_t w = write(fd, buf + done, n - done);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) {
            int e = w < 0 ? errno : ENOSPC;
            if (ftruncate(fd, *len) != 0) { /* the half row stays: --resume drops it */
            }
            errno = e;
            return -1;
        }
        done += (size_t)w;
    }
    *len += (off_t)n;
    return 0;
}

static otg_status open_files(otg_metrics *m, const char *csv, const char *jsonl, int resume) {
    int flags = O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | (resume ? 0 : O_TRUNC);
    m->csv = open(csv, flags, 0644);
    m->jsonl = m->csv >= 0 ? open(jsonl, flags, 0644) : -1;
    if (m->csv < 0 || m->jsonl < 0)
        return otgi_fail(OTG_EIO, "%s: cannot write metrics: %s", m->csv < 0 ? csv : jsonl,
                         strerror(errno));
    m->csv_len = lseek(m->csv, 0, SEEK_END), m->jsonl_len = lseek(m->jsonl, 0, SEEK_END);
    if (m->csv_len < 0 || m->jsonl_len < 0)
        return otgi_fail(OTG_EIO, "%s: cannot write metrics: %s", csv, strerror(errno));
    char head[128];
    int n = snprintf(head, sizeof head, "%s\n", HEADER);
    if (m->csv_len == 0 && append(m->csv, &m->csv_len, head, (size_t)n))
        return otgi_fail(OTG_EIO, "%s: write failed: %s", csv, strerror(errno));
    return OTG_OK;
}

otg_status otg_metrics_open(const char *dir, int64_t resume_step, otg_metrics **out) {
    if (!out) return otgi_fail(OTG_EINVAL, "metrics: NULL output");
    *out = NULL;
    if (!dir) return otgi_fail(OTG_EINVAL, "metrics: NULL directory");
    size_t cap = strlen(dir) + 16;
    char *csv = otgi_calloc(cap, 1), *jsonl = otgi_calloc(cap, 1);
    otg_metrics *m = otgi_calloc(1, sizeof *m);
    otg_status st = csv && jsonl && m ? OTG_OK : OTG_ENOMEM;
    if (m) m->csv = m->jsonl = -1;
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
    if (m->csv >= 0) close(m->csv);
    if (m->jsonl >= 0) close(m->jsonl);
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

/* "key":v, or "key":null when v is not finite, at b + k; returns the new length. */
static size_t json_num(char *b, size_t k, size_t cap, const char *key, double v) {
    if (k >= cap) return k;
    int n = isfinite(v) ? snprintf(b + k, cap - k, "\"%s\":%.9g,", key, v)
                        : snprintf(b + k, cap - k, "\"%s\":null,", key);
    return k + (size_t)(n > 0 ? n : 0);
}

/* A file still linked into its directory (a deleted metrics file would swallow the rows). */
static int unlinked(int fd) {
    struct stat sb;
    return fstat(fd, &sb) == 0 && sb.st_nlink == 0;
}

otg_status otg_metrics_write(otg_metrics *m, const otg_train_row *v) {
    if (!m || !v) return otgi_fail(OTG_EINVAL, "metrics: NULL argument");
    char val[32], se[32], loss[32], gn[32], lr[32], fd[32], row[512], js[512];
    /* empty cells: no validation at this step, or the initial row (step 0: validation only) */
    int nr =
        snprintf(row, sizeof row, "%lld,%.3f,%s,%s,%s,%s,%s,%lld,%lld,%lld,%s\n",
                 (long long)v->step, v->time_s, cell(loss, 32, 0, v->loss),
                 cell(se, 32, 1, v->loss_stderr), cell(val, 32, 0, v->val_sw),
                 cell(gn, 32, 0, v->grad_norm), cell(lr, 32, 0, v->lr), (long long)v->kinks,
                 (long long)v->relu_kinks, (long long)v->sort_ties, cell(fd, 32, 0, v->val_fd));
    size_t k = (size_t)snprintf(js, sizeof js, "{\"step\":%lld,", (long long)v->step);
    k = json_num(js, k, sizeof js, "time_s", v->time_s);
    k = json_num(js, k, sizeof js, "loss", v->loss);
    k = json_num(js, k, sizeof js, "loss_stderr", v->loss_stderr);
    k = json_num(js, k, sizeof js, "val_sw", v->val_sw);
    k = json_num(js, k, sizeof js, "grad_norm", v->grad_norm);
    k = json_num(js, k, sizeof js, "lr", v->lr);
    k = json_num(js, k, sizeof js, "val_fd", v->val_fd);
    if (k < sizeof js)
        k += (size_t)snprintf(
            js + k, sizeof js - k, "\"kinks\":%lld,\"relu_kinks\":%lld,\"sort_ties\":%lld}\n",
            (long long)v->kinks, (long long)v->relu_kinks, (long long)v->sort_ties);
    if (nr <= 0 || (size_t)nr >= sizeof row || k >= sizeof js)
        return otgi_fail(OTG_EINVAL, "metrics: row of step %lld too long", (long long)v->step);
    if (unlinked(m->csv) || unlinked(m->jsonl))
        return otgi_fail(OTG_EIO, "metrics: metrics.csv or metrics.jsonl was deleted during the "
                                  "run (its rows would be lost)");
    off_t csv_before = m->csv_len;
    if (append(m->csv, &m->csv_len, row, (size_t)nr))
        return otgi_fail(OTG_EIO, "metrics.csv: write failed: %s", strerror(errno));
    if (append(m->jsonl, &m->jsonl_len, js, k)) {
        int e = errno;
        if (ftruncate(m->csv, csv_before) == 0) m->csv_len = csv_before;
        return otgi_fail(OTG_EIO, "metrics.jsonl: write failed: %s", strerror(e));
    }
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
    return otg_metrics_plot_loss(dir, p, "sw");
}

otg_status otg_metrics_plot_loss(const char *dir, double p, const char *loss) {
    if (!dir || !loss) return otgi_fail(OTG_EINVAL, "metrics: NULL directory");
    const int energy = !strcmp(loss, "energy");
    if (!energy && strcmp(loss, "sw"))
        return otgi_fail(OTG_EINVAL, "metrics: loss '%s' (sw or energy)", loss);
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
        otg_series ser[2] = {{"batch, loss^(1/p)", r.s, r.l, r.n}, {"val_sw", r.vs, r.vv, r.nv}};
        /* the sliced energy loss is another quantity: the validation SW_p alone */
        st = energy ? otg_plot_lines(png, ser + 1, 1,
                                     "Validation SW_p (loss: sliced energy, in metrics.csv)",
                                     "step", ylab, 0, 1, 1)
                    : otg_plot_lines(png, ser, r.nv > 0 ? 2 : 1, "Training and validation SW_p",
                                     "step", ylab, 0, 1, 1);
    }
    free(r.s), free(r.l), free(r.vs), free(r.vv), free(text), free(csv), free(png);
    return st;
}
