/* Sources: a law sampled afresh (laws.c) or a finite data set (fashion_mnist.c, files.c) whose
 * rows are drawn uniformly with replacement. otg_source_open dispatches by name, or by the path
 * suffix .npy / .csv; every draw consumes the caller's rng only. */
#include "data/data_internal.h"

#include <math.h>
#include <string.h>

struct otg_source {
    char name[256];
    int law;                  /* index in laws.c's table, or -1 for a finite set */
    otg_source_opts law_opts; /* a law's resolved dim, grid_side, noise (no borrowed pointers) */
    int64_t dim;
    otg_tensor *data;     /* finite: [size, dim] */
    uint8_t *labels;      /* fashion-mnist: [size] */
    int64_t img_h, img_w; /* > 0 when the points are images */
    int has_test;         /* a train split whose data set has a test split */
};

otg_source_opts otg_source_opts_default(void) {
    otg_source_opts o = {.dim = 2,
                         .split = "train",
                         .classes = NULL,
                         .n_classes = 0,
                         .grid_side = 5,
                         .noise = -1.0,
                         .root = OTG_FASHION_MNIST_DIR,
                         .holdout = 0.0};
    return o;
}

static int has_suffix(const char *s, const char *suffix) {
    const size_t n = strlen(s), k = strlen(suffix);
    return n > k && strcmp(s + n - k, suffix) == 0;
}

static otg_status unknown_source(const char *spec) {
    char names[256] = "";
    for (int i = 0; otgi_data_law_name(i); i++) {
        strncat(names, otgi_data_law_name(i), sizeof names - strlen(names) - 1);
        strncat(names, ", ", sizeof names - strlen(names) - 1);
    }
    return otgi_fail(OTG_EINVAL,
                     "unknown data source '%s': expected %sfashion-mnist, or a path "
                     "ending in .npy or .csv",
                     spec, names);
}

static otg_status open_law(otg_source *s, const char *spec, const otg_source_opts *opts) {
    const int law = otgi_data_law_find(spec);
    if (law < 0) return unknown_source(spec);
    otg_source_opts o = *opts;
    o.split = NULL, o.classes = NULL, o.n_classes = 0, o.root = NULL;
    otg_status st = otgi_data_law_resolve(law, &o);
    if (st) return st;
    s->law = law, s->law_opts = o, s->dim = o.dim;
    snprintf(s->name, sizeof s->name, "%s", spec);
    return OTG_OK;
}

/* Common checks once a finite set is loaded: rows drawable with a 32-bit index. */
static otg_status finish_finite(otg_source *s) {
    if (s->data->shape[0] > (int64_t)UINT32_MAX)
        return otgi_fail(OTG_EINVAL, "%s: %lld rows, more than can be sampled (2^32 - 1)", s->name,
                         (long long)s->data->shape[0]);
    s->dim = s->data->shape[1];
    return OTG_OK;
}

static otg_status open_fashion_mnist(otg_source *s, const otg_source_opts *o) {
    const char *split = o->split ? o->split : "train";
    const char *root = o->root ? o->root : OTG_FASHION_MNIST_DIR;
    otg_status st =
        otgi_data_read_fashion_mnist(root, split, o->classes, o->n_classes, &s->data, &s->labels);
    if (st) return st;
    snprintf(s->name, sizeof s->name, "fashion-mnist[%s]", split);
    s->img_h = 28, s->img_w = 28;
    s->has_test = strcmp(split, "test") != 0;
    return finish_finite(s);
}

/* Keeps the rows of s's split when o holds out the last ceil(holdout n) rows (docs: data.h). */
static otg_status split_rows(otg_source *s, const otg_source_opts *o) {
    if (!(o->holdout >= 0.0 && o->holdout < 1.0))
        return otgi_fail(OTG_EINVAL, "%s: held-out fraction %g outside [0, 1)", s->name,
                         o->holdout);
    if (o->holdout == 0.0) return OTG_OK;
    otg_tensor *t = s->data;
    const int64_t n = t->shape[0], d = otg_tensor_numel(t) / n;
    const int64_t k = (int64_t)ceil(o->holdout * (double)n);
    if (k < 1 || n - k < 1)
        return otgi_fail(OTG_EINVAL,
                         "%s: %lld rows cannot be split into training and held-out "
                         "rows (fraction %g)",
                         s->name, (long long)n, o->holdout);
    const int test = o->split && !strcmp(o->split, "test");
    if (test) memmove(t->data, t->data + (n - k) * d, (size_t)(k * d) * sizeof *t->data);
    t->shape[0] = test ? k : n - k; /* the buffer keeps its size; the tensor owns it */
    s->has_test = !test;
    const size_t len = strlen(s->name);
    snprintf(s->name + len, sizeof s->name - len, "[%s]", test ? "test" : "train");
    return OTG_OK;
}

static otg_status open_file(otg_source *s, const char *path, const otg_source_opts *o) {
    const char *base = strrchr(path, '/');
    snprintf(s->name, sizeof s->name, "%s", base ? base + 1 : path);
    otg_status st = has_suffix(path, ".npy")
                        ? otgi_data_read_npy(path, &s->data, &s->img_h, &s->img_w)
                        : otgi_data_read_csv(path, &s->data);
    if (st == OTG_OK) st = split_rows(s, o);
    return st ? st : finish_finite(s);
}

otg_source *otg_source_open(const char *spec, const otg_source_opts *opts) {
    if (!spec || !*spec) {
        otgi_fail(OTG_EINVAL, "data source: empty name");
        return NULL;
    }
    const otg_source_opts o = opts ? *opts : otg_source_opts_default();
    otg_source *s = otgi_calloc(1, sizeof *s);
    if (!s) return NULL;
    s->law = -1;
    otg_status st;
    if (o.split && strcmp(o.split, "train") != 0 && strcmp(o.split, "test") != 0)
        st = otgi_fail(OTG_EINVAL, "%s: split '%s' unknown (train or test)", spec,
                       o.split); /* every source, the laws (which have no split) included */
    else if (o.classes && strcmp(spec, "fashion-mnist") != 0)
        st = otgi_fail(OTG_EINVAL, "%s: a classes filter (--classes) applies to fashion-mnist only",
                       spec);
    else if (has_suffix(spec, ".npy") || has_suffix(spec, ".csv"))
        st = open_file(s, spec, &o);
    else if (strcmp(spec, "fashion-mnist") == 0)
        st = open_fashion_mnist(s, &o);
    else
        st = open_law(s, spec, &o);
    if (st) {
        otg_source_free(s);
        return NULL;
    }
    return s;
}

void otg_source_free(otg_source *s) {
    if (!s) return;
    otg_tensor_free(s->data);
    free(s->labels);
    free(s);
}

int64_t otg_source_dim(const otg_source *s) {
    return s ? s->dim : 0;
}

int64_t otg_source_size(const otg_source *s) {
    return s && s->data ? s->data->shape[0] : 0;
}

const otg_tensor *otg_source_data(const otg_source *s) {
    return s ? s->data : NULL;
}

const uint8_t *otg_source_labels(const otg_source *s) {
    return s ? s->labels : NULL;
}

int otg_source_is_image(const otg_source *s, int64_t *h, int64_t *w) {
    const int image = s && s->img_h > 0;
    if (h) *h = image ? s->img_h : 0;
    if (w) *w = image ? s->img_w : 0;
    return image;
}

int otg_source_has_test_split(const otg_source *s) {
    return s ? s->has_test : 0;
}

const char *otg_source_name(const otg_source *s) {
    return s ? s->name : "";
}

/* out[n, dim]: rows drawn uniformly with replacement (one unbiased 32-bit index per row). */
static void sample_rows(const otg_source *s, otg_rng *rng, int64_t n, float *out) {
    const uint32_t size = (uint32_t)s->data->shape[0];
    const int64_t d = s->dim;
    for (int64_t i = 0; i < n; i++) {
        const uint32_t r = otgi_data_draw_below(rng, size);
        memcpy(out + i * d, s->data->data + (int64_t)r * d, (size_t)d * sizeof *out);
    }
}

otg_status otg_source_sample_index(otg_source *s, otg_rng *rng, int64_t n, int64_t *rows) {
    if (!s || !rng || (n > 0 && !rows))
        return otgi_fail(OTG_EINVAL, "source_sample_index: NULL argument");
    if (s->law >= 0 || n < 0)
        return otgi_fail(OTG_EINVAL, "source_sample_index: %s has no rows (or n < 0)", s->name);
    const uint32_t size = (uint32_t)s->data->shape[0];
    for (int64_t i = 0; i < n; i++) /* the draws of sample_rows */
        rows[i] = (int64_t)otgi_data_draw_below(rng, size);
    return OTG_OK;
}

otg_status otg_source_sample(otg_source *s, otg_rng *rng, int64_t n, float *out) {
    if (!s || !rng || (n > 0 && !out)) return otgi_fail(OTG_EINVAL, "source_sample: NULL argument");
    if (n < 0) return otgi_fail(OTG_EINVAL, "source_sample: n = %lld < 0", (long long)n);
    if (n == 0) return OTG_OK;
    if (s->law >= 0) return otgi_data_law_sample(s->law, &s->law_opts, rng, n, out);
    int64_t count;
    if (otgi_mul_i64(n, s->dim, &count))
        return otgi_fail(OTG_EINVAL, "%s: sample of %lld points overflows", s->name, (long long)n);
    sample_rows(s, rng, n, out);
    return OTG_OK;
}
