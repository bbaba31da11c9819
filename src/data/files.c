/* Finite data sets from files, as [n, d] float32 tensors. NPY through core's reader (finite values
 * required; 1-D arrays become [n, 1], [n, h, w] and [n, 1, h, w] become [n, h*w] images, other
 * trailing dimensions are flattened). CSV: comma-separated numbers, the same count on every row;
 * a first line with no number in it is a header and skipped; blank lines only at the end. */
#define _POSIX_C_SOURCE 200809L
#include "data/data_internal.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <string.h>

/* ---- NPY ------------------------------------------------------------------------------------- */

otg_status otgi_data_read_npy(const char *path, otg_tensor **out, int64_t *img_h, int64_t *img_w) {
    otg_tensor *t = NULL;
    otg_status st = otgi_npy_read(path, 1, &t);
    *out = NULL, *img_h = 0, *img_w = 0;
    if (st) return st;
    if (t->ndim == 3 || (t->ndim == 4 && t->shape[1] == 1))
        *img_h = t->shape[t->ndim - 2], *img_w = t->shape[t->ndim - 1];
    int64_t d = 1; /* no overflow: the reader checked the element count */
    for (int i = 1; i < t->ndim; i++)
        d *= t->shape[i];
    t->shape[1] = d, t->shape[2] = 0, t->shape[3] = 0;
    t->ndim = 2;
    *out = t;
    return OTG_OK;
}

/* ---- CSV ------------------------------------------------------------------------------------- */

typedef struct {
    const char *path;
    float *vals; /* [rows, cols] so far */
    int64_t nvals, cap;
    int64_t cols, rows; /* cols = 0 before the first row */
    int64_t col_line;   /* the line that fixed cols */
} csv_reader;

static otg_status csv_push(csv_reader *c, float v) {
    if (c->nvals == c->cap) {
        const int64_t cap = c->cap ? 2 * c->cap : 1024;
        float *p = realloc(c->vals, (size_t)cap * sizeof *p);
        if (!p) return otgi_fail(OTG_ENOMEM, "%s: out of memory", c->path);
        c->vals = p, c->cap = cap;
    }
    c->vals[c->nvals++] = v;
    return OTG_OK;
}

/* The cell at s (up to ',' or the end), quoted for messages, at most 40 characters. */
static const char *cell_text(const char *s) {
    static _Thread_local char buf[48];
    size_t n = strcspn(s, ",");
    if (n > 40) n = 40;
    memcpy(buf, s, n);
    buf[n] = '\0';
    return buf;
}

/* Parses one number cell at *s, leaving *s on the ',' or the end. */
static otg_status csv_cell(csv_reader *c, const char **s, int64_t line, int64_t col) {
    const char *p = *s;
    while (*p == ' ' || *p == '\t')
        p++;
    if (*p == ',' || *p == '\0')
        return otgi_fail(OTG_EFORMAT, "%s: line %lld, column %lld: empty cell", c->path,
                         (long long)line, (long long)col);
    char *end;
    errno = 0;
    const double v = strtod(p, &end);
    const char *q = end;
    while (*q == ' ' || *q == '\t')
        q++;
    if (end == p || (*q != ',' && *q != '\0'))
        return otgi_fail(OTG_EFORMAT, "%s: line %lld, column %lld: not a number ('%s')", c->path,
                         (long long)line, (long long)col, cell_text(p));
    const float f = (float)v;
    if (!isfinite(f))
        return otgi_fail(OTG_ENONFINITE, "%s: line %lld, column %lld: non-finite value '%s'",
                         c->path, (long long)line, (long long)col, cell_text(p));
    *s = q;
    return csv_push(c, f);
}

/* Parses a data line and checks its column count against the first row's. */
static otg_status csv_row(csv_reader *c, const char *s, int64_t line) {
    int64_t col = 0;
    for (;;) {
        otg_status st = csv_cell(c, &s, line, ++col);
        if (st) return st;
        if (*s == '\0') break;
        s++; /* the ',' */
    }
    if (c->cols == 0)
        c->cols = col, c->col_line = line;
    else if (col != c->cols)
        return otgi_fail(
            OTG_EFORMAT, "%s: line %lld: %lld columns, expected %lld (as on line %lld)", c->path,
            (long long)line, (long long)col, (long long)c->cols, (long long)c->col_line);
    c->rows++;
    return OTG_OK;
}

/* A header has no cell that starts like a number. */
static int csv_is_header(const char *s) {
    for (;;) {
        char *end;
        while (*s == ' ' || *s == '\t')
            s++;
        (void)strtod(s, &end);
        if (end != s) return 0;
        s = strchr(s, ',');
        if (!s) return 1;
        s++;
    }
}

/* Strips the line end and trailing blanks in place; returns 1 if nothing is left. */
static int csv_trim(char *s) {
    size_t n = strlen(s);
    while (n > 0 && isspace((unsigned char)s[n - 1]))
        s[--n] = '\0';
    for (size_t i = 0; i < n; i++)
        if (!isspace((unsigned char)s[i])) return 0;
    return 1;
}

static otg_status csv_lines(csv_reader *c, FILE *f) {
    char *buf = NULL;
    size_t bufcap = 0;
    int64_t line = 0, blank = 0; /* blank: the first blank line after the data began */
    int first = 1;               /* the next non-blank line is the first: maybe a header */
    otg_status st = OTG_OK;
    while (getline(&buf, &bufcap, f) >= 0) {
        line++;
        if (csv_trim(buf)) {
            if (!blank && c->rows > 0) blank = line;
            continue;
        }
        if (blank) {
            st = otgi_fail(OTG_EFORMAT, "%s: line %lld: blank line inside the data", c->path,
                           (long long)blank);
            break;
        }
        if (first) {
            first = 0;
            if (csv_is_header(buf)) continue;
        }
        if ((st = csv_row(c, buf, line))) break;
    }
    if (!st && ferror(f)) st = otgi_fail(OTG_EIO, "%s: read error: %s", c->path, strerror(errno));
    free(buf);
    return st;
}

otg_status otgi_data_read_csv(const char *path, otg_tensor **out) {
    *out = NULL;
    errno = 0;
    FILE *f = fopen(path, "r");
    if (!f) return otgi_fail(OTG_EIO, "%s: cannot open (%s)", path, strerror(errno));
    csv_reader c = {path, NULL, 0, 0, 0, 0, 0};
    otg_status st = csv_lines(&c, f);
    fclose(f);
    if (!st && c.rows == 0) st = otgi_fail(OTG_EFORMAT, "%s: no data rows", path);
    if (!st) {
        const int64_t shape[2] = {c.rows, c.cols};
        *out = otg_tensor_new(2, shape);
        if (*out)
            memcpy((*out)->data, c.vals, (size_t)c.nvals * sizeof *c.vals);
        else
            st = OTG_ENOMEM;
    }
    free(c.vals);
    return st;
}
