/* data: every synthetic law (dimension, finite values, same seed same bits, its statistics:
 * moons' two arcs, swiss-roll's spiral, gaussians8 near radius 2, rings, checkerboard squares, grid
 * points, gaussian and uniform moments), Fashion-MNIST (the Debian files when installed; corrupt
 * gzipped IDX files written here), CSV and NPY files, sampling of finite sets, and bad names. */
#define _POSIX_C_SOURCE 200809L
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "otgen/data.h"
#include "otgen/io.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

static char dir[256];

static int setup(void **state) {
    snprintf(dir, sizeof dir, "/tmp/otgen-test-data-XXXXXX");
    return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state) {
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd);
}

static const char *path_of(const char *name) {
    static char p[512];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    return p;
}

static otg_source *open_ok(const char *spec, const otg_source_opts *o) {
    otg_source *s = otg_source_open(spec, o);
    if (!s) fail_msg("%s: %s", spec, otg_last_error());
    return s;
}

static void expect_open_error(const char *spec, const otg_source_opts *o, const char *msg) {
    otg_clear_error();
    otg_source *s = otg_source_open(spec, o);
    if (s || !strstr(otg_last_error(), msg))
        fail_msg("%s: got %s '%s', want an error containing '%s'", spec, s ? "a source" : "NULL",
                 otg_last_error(), msg);
}

/* n points of s from stream (seed, 0); the caller frees. */
static float *draw(otg_source *s, uint64_t seed, int64_t n) {
    float *x = malloc((size_t)(n * otg_source_dim(s)) * sizeof *x);
    otg_rng r = otg_rng_make(seed, 0);
    assert_int_equal(otg_source_sample(s, &r, n, x), OTG_OK);
    return x;
}

static otg_source *open_law(const char *name, double noise) {
    otg_source_opts o = otg_source_opts_default();
    o.noise = noise;
    return open_ok(name, &o);
}

/* ---- laws ------------------------------------------------------------------------------------ */

static void test_laws_common(void **state) {
    const char *names[] = {"moons",        "swiss-roll", "gaussians8", "rings",
                           "checkerboard", "gaussian",   "uniform",    "grid"};
    const int64_t n = 3000;
    for (size_t k = 0; k < sizeof names / sizeof names[0]; k++) {
        otg_source *s = open_ok(names[k], NULL);
        assert_int_equal(otg_source_dim(s), 2);
        assert_int_equal(otg_source_size(s), 0);
        assert_null(otg_source_data(s));
        assert_null(otg_source_labels(s));
        assert_int_equal(otg_source_is_image(s, NULL, NULL), 0);
        assert_string_equal(otg_source_name(s), names[k]);
        float *a = draw(s, 42, n), *b = draw(s, 42, n), *c = draw(s, 43, n);
        assert_memory_equal(a, b, (size_t)(2 * n) * sizeof *a);
        int differ = 0;
        for (int64_t i = 0; i < 2 * n; i++) {
            if (!isfinite(a[i])) fail_msg("%s: non-finite value at %lld", names[k], (long long)i);
            differ += a[i] != c[i];
        }
        assert_true(differ > n / 2);
        free(a), free(b), free(c);
        otg_source_free(s);
    }
}

static void test_moons(void **state) {
    const int64_t n = 20000;
    const double cx = 1.0 / 3.0, cy = 1.0 / 6.0, rad = 2.0 / 3.0;
    otg_source *s = open_law("moons", 0.0);
    float *x = draw(s, 1, n);
    int64_t outer = 0;
    for (int64_t i = 0; i < n; i++) {
        const double px = x[2 * i], py = x[2 * i + 1];
        const double d1 = hypot(px + cx, py + cy), d2 = hypot(px - cx, py - cy);
        const int on1 = fabs(d1 - rad) < 1e-5 && py >= -cy - 1e-6;
        const int on2 = fabs(d2 - rad) < 1e-5 && py <= cy + 1e-6;
        if (!on1 && !on2) fail_msg("moons: (%g, %g) is on neither arc", px, py);
        outer += on1 && !on2;
    }
    assert_true(fabs((double)outer - (double)n / 2) < 5.0 * sqrt((double)n / 4));
    free(x);
    otg_source_free(s);
    s = open_law("moons", -1.0); /* default noise 0.05 */
    x = draw(s, 2, n);
    double mx = 0, my = 0;
    for (int64_t i = 0; i < n; i++) {
        const double px = x[2 * i], py = x[2 * i + 1];
        const double e1 = fabs(hypot(px + cx, py + cy) - rad),
                     e2 = fabs(hypot(px - cx, py - cy) - rad);
        assert_true(fmin(e1, e2) < 0.3);
        mx += px, my += py;
    }
    assert_true(fabs(mx / (double)n) < 0.03 && fabs(my / (double)n) < 0.03);
    free(x);
    otg_source_free(s);
}

static void test_swiss_roll(void **state) {
    const int64_t n = 10000;
    const double pi = 3.14159265358979323846;
    otg_source *s = open_law("swiss-roll", 0.0);
    float *x = draw(s, 3, n);
    for (int64_t i = 0; i < n; i++) {
        const double px = x[2 * i], py = x[2 * i + 1], r = hypot(px, py), t = 4.5 * pi * r;
        assert_true(r > 1.0 / 3.0 - 1e-5 && r < 1.0 + 1e-5);
        assert_true(hypot(px - r * cos(t), py - r * sin(t)) < 1e-4); /* on the spiral */
    }
    free(x);
    otg_source_free(s);
    s = open_law("swiss-roll", -1.0);
    x = draw(s, 3, n);
    for (int64_t i = 0; i < n; i++) {
        const double r = hypot(x[2 * i], x[2 * i + 1]);
        assert_true(r > 1.0 / 3.0 - 0.15 && r < 1.15);
    }
    free(x);
    otg_source_free(s);
}

static void test_gaussians8(void **state) {
    const int64_t n = 20000;
    const double pi = 3.14159265358979323846;
    otg_source *s = open_law("gaussians8", -1.0);
    float *x = draw(s, 4, n);
    int64_t count[8] = {0};
    double spread = 0;
    for (int64_t i = 0; i < n; i++) {
        const double px = x[2 * i], py = x[2 * i + 1];
        assert_true(fabs(hypot(px, py) - 2.0) < 0.15);
        const long k = (lround(atan2(py, px) / (pi / 4)) + 8) % 8;
        const double dx = px - 2 * cos((double)k * pi / 4), dy = py - 2 * sin((double)k * pi / 4);
        spread += dx * dx + dy * dy;
        count[k]++;
    }
    for (int k = 0; k < 8; k++)
        assert_true(fabs((double)count[k] - (double)n / 8) < 5.0 * sqrt((double)n * 7 / 64));
    const double sd = sqrt(spread / (2.0 * (double)n)); /* default sd 0.02 */
    assert_true(fabs(sd - 0.02) < 0.001);
    free(x);
    otg_source_free(s);
}

static void test_rings(void **state) {
    const int64_t n = 9000;
    otg_source *s = open_law("rings", 0.0);
    float *x = draw(s, 5, n);
    int64_t count[3] = {0};
    for (int64_t i = 0; i < n; i++) {
        const double r = hypot(x[2 * i], x[2 * i + 1]);
        const long k = lround(3.0 * r) - 1;
        assert_true(k >= 0 && k <= 2 && fabs(r - (double)(k + 1) / 3.0) < 1e-5);
        count[k]++;
    }
    for (int k = 0; k < 3; k++)
        assert_true(fabs((double)count[k] - (double)n / 3) < 5.0 * sqrt((double)n * 2 / 9));
    free(x);
    otg_source_free(s);
    s = open_law("rings", -1.0);
    x = draw(s, 5, n);
    for (int64_t i = 0; i < n; i++) {
        const double r3 = 3.0 * hypot(x[2 * i], x[2 * i + 1]);
        assert_true(fabs(r3 - (double)lround(r3)) < 0.36 && r3 > 0.6); /* within 6 sd */
    }
    free(x);
    otg_source_free(s);
}

static void test_checkerboard(void **state) {
    const int64_t n = 8000;
    otg_source *s = open_ok("checkerboard", NULL);
    float *x = draw(s, 6, n);
    int64_t count[4][4] = {{0}};
    double mx = 0, my = 0;
    for (int64_t i = 0; i < n; i++) {
        const double px = x[2 * i], py = x[2 * i + 1];
        assert_true(px >= -1.0 && px <= 1.0 && py >= -1.0 && py <= 1.0);
        const int ci = (int)fmin(3.0, floor((px + 1.0) * 2.0));
        const int cj = (int)fmin(3.0, floor((py + 1.0) * 2.0));
        count[ci][cj]++;
        mx += px, my += py;
    }
    for (int i = 0; i < 4; i++)
        for (int j = 0; j < 4; j++) {
            if ((i + j) % 2)
                assert_int_equal(count[i][j], 0);
            else
                assert_true(fabs((double)count[i][j] - (double)n / 8) <
                            5.0 * sqrt((double)n * 7 / 64));
        }
    assert_true(fabs(mx / (double)n) < 0.04 && fabs(my / (double)n) < 0.04);
    free(x);
    otg_source_free(s);
}

/* Counts the distinct grid points of a k x k grid sample; every point must be a grid point. */
static int grid_distinct(int64_t k, int64_t n) {
    otg_source_opts o = otg_source_opts_default();
    o.grid_side = k;
    otg_source *s = open_ok("grid", &o);
    float *x = draw(s, 7, n);
    int *seen = calloc((size_t)(k * k), sizeof *seen), distinct = 0;
    const double step = k > 1 ? 2.0 / (double)(k - 1) : 1.0, start = k > 1 ? -1.0 : 0.0;
    for (int64_t i = 0; i < n; i++) {
        const long a = lround(((double)x[2 * i] - start) / step);
        const long b = lround(((double)x[2 * i + 1] - start) / step);
        assert_true(a >= 0 && a < k && b >= 0 && b < k);
        assert_true(x[2 * i] == (float)(start + step * (double)a));
        assert_true(x[2 * i + 1] == (float)(start + step * (double)b));
        distinct += !seen[a * k + b]++;
    }
    free(seen), free(x);
    otg_source_free(s);
    return distinct;
}

static void test_grid(void **state) {
    assert_int_equal(grid_distinct(5, 5000), 25); /* the default side */
    assert_int_equal(grid_distinct(3, 2000), 9);
    assert_int_equal(grid_distinct(1, 100), 1);
    otg_source_opts o = otg_source_opts_default();
    assert_int_equal(o.grid_side, 5);
}

static void test_gaussian_moments(void **state) {
    const int64_t n = 200000, d = 3;
    otg_source_opts o = otg_source_opts_default();
    o.dim = d;
    otg_source *s = open_ok("gaussian", &o);
    assert_int_equal(otg_source_dim(s), d);
    otg_threads_set(1);
    float *x = draw(s, 8, n);
    otg_threads_set(2);
    float *y = draw(s, 8, n);
    otg_threads_set(0);
    assert_memory_equal(x, y, (size_t)(n * d) * sizeof *x); /* thread count does not matter */
    double m[3] = {0}, c[3][3] = {{0}};
    for (int64_t i = 0; i < n; i++)
        for (int a = 0; a < d; a++) {
            m[a] += (double)x[i * d + a];
            for (int b = 0; b < d; b++)
                c[a][b] += (double)x[i * d + a] * (double)x[i * d + b];
        }
    const double se = 5.0 / sqrt((double)n);
    for (int a = 0; a < d; a++) {
        assert_true(fabs(m[a] / (double)n) < se);
        for (int b = 0; b < d; b++)
            assert_true(fabs(c[a][b] / (double)n - (a == b)) < se * (a == b ? sqrt(2.0) : 1.0));
    }
    free(x), free(y);
    otg_source_free(s);
}

static void test_uniform_bounds(void **state) {
    const int64_t n = 100000, d = 4;
    otg_source_opts o = otg_source_opts_default();
    o.dim = d;
    otg_source *s = open_ok("uniform", &o);
    float *x = draw(s, 9, n);
    double m = 0, v = 0, lo = 1, hi = -1;
    for (int64_t i = 0; i < n * d; i++) {
        const double t = x[i];
        m += t, v += t * t, lo = fmin(lo, t), hi = fmax(hi, t);
    }
    assert_true(lo >= -1.0 && hi <= 1.0 && lo < -0.999 && hi > 0.999);
    const double nd = (double)(n * d);
    assert_true(fabs(m / nd) < 5.0 * sqrt(1.0 / 3.0 / nd));
    assert_true(fabs(v / nd - 1.0 / 3.0) < 5.0 * sqrt(4.0 / 45.0 / nd));
    free(x);
    otg_source_free(s);
}

static void test_bad_names_and_options(void **state) {
    expect_open_error("mooons", NULL, "unknown data source 'mooons'");
    expect_open_error("mooons", NULL, "swiss-roll");
    expect_open_error("mooons", NULL, "fashion-mnist");
    expect_open_error("data.txt", NULL, "unknown data source");
    expect_open_error("", NULL, "empty name");
    expect_open_error(NULL, NULL, "empty name");
    otg_source_opts o = otg_source_opts_default();
    o.dim = 0;
    expect_open_error("gaussian", &o, "dim must be >= 1");
    o = otg_source_opts_default();
    o.grid_side = 0;
    expect_open_error("grid", &o, "grid_side must be in 1..4096");
    o = otg_source_opts_default();
    o.noise = NAN;
    expect_open_error("moons", &o, "noise must be finite");
    otg_source *s = open_ok("moons", NULL);
    otg_rng r = otg_rng_make(1, 0);
    float x[4];
    assert_int_equal(otg_source_sample(NULL, &r, 2, x), OTG_EINVAL);
    assert_int_equal(otg_source_sample(s, NULL, 2, x), OTG_EINVAL);
    assert_int_equal(otg_source_sample(s, &r, -1, x), OTG_EINVAL);
    assert_int_equal(otg_source_sample(s, &r, 0, NULL), OTG_OK);
    otg_source_free(s);
    otg_source_free(NULL);
    assert_int_equal(otg_source_dim(NULL), 0);
}

/* ---- Fashion-MNIST --------------------------------------------------------------------------- */

static void check_fashion_split(const char *split, int64_t n) {
    otg_source_opts o = otg_source_opts_default();
    o.split = split;
    otg_source *s = open_ok("fashion-mnist", &o);
    int64_t h, w;
    assert_int_equal(otg_source_size(s), n);
    assert_int_equal(otg_source_dim(s), 784);
    assert_int_equal(otg_source_is_image(s, &h, &w), 1);
    assert_true(h == 28 && w == 28);
    char name[64];
    snprintf(name, sizeof name, "fashion-mnist[%s]", split);
    assert_string_equal(otg_source_name(s), name);
    const otg_tensor *t = otg_source_data(s);
    assert_true(t->ndim == 2 && t->shape[0] == n && t->shape[1] == 784);
    float lo = 1, hi = 0;
    for (int64_t i = 0; i < n * 784; i++)
        lo = fminf(lo, t->data[i]), hi = fmaxf(hi, t->data[i]);
    assert_true(lo == 0.0f && hi == 1.0f);
    int64_t count[10] = {0};
    const uint8_t *lab = otg_source_labels(s);
    for (int64_t i = 0; i < n; i++) {
        assert_true(lab[i] <= 9);
        count[lab[i]]++;
    }
    for (int c = 0; c < 10; c++)
        assert_int_equal(count[c], n / 10); /* balanced classes */
    otg_source_free(s);
}

static void test_fashion_mnist(void **state) {
    if (access(OTG_FASHION_MNIST_DIR "/train-images-idx3-ubyte.gz", R_OK) != 0) {
        printf("SKIPPED: %s not installed (Debian package dataset-fashion-mnist)\n",
               OTG_FASHION_MNIST_DIR);
        skip();
    }
    check_fashion_split("train", 60000);
    check_fashion_split("test", 10000);
    const int classes[2] = {7, 0};
    otg_source_opts o = otg_source_opts_default();
    o.split = "test", o.classes = classes, o.n_classes = 2;
    otg_source *s = open_ok("fashion-mnist", &o);
    assert_int_equal(otg_source_size(s), 2000);
    const uint8_t *lab = otg_source_labels(s);
    for (int64_t i = 0; i < 2000; i++)
        assert_true(lab[i] == 0 || lab[i] == 7);
    float *x = draw(s, 10, 5); /* every drawn image is one of the set's rows */
    const otg_tensor *t = otg_source_data(s);
    for (int k = 0; k < 5; k++) {
        int found = 0;
        for (int64_t i = 0; i < 2000 && !found; i++)
            found = memcmp(x + k * 784, t->data + i * 784, 784 * sizeof(float)) == 0;
        assert_true(found);
    }
    free(x);
    otg_source_free(s);
    const int bad[2] = {3, 12};
    o.classes = bad;
    expect_open_error("fashion-mnist", &o, "class 12 outside 0..9");
    o.classes = classes, o.n_classes = 0;
    expect_open_error("fashion-mnist", &o, "classes filter is empty");
}

static void put_be32(gzFile f, uint32_t v) {
    const unsigned char b[4] = {(unsigned char)(v >> 24), (unsigned char)(v >> 16),
                                (unsigned char)(v >> 8), (unsigned char)v};
    gzwrite(f, b, 4);
}

/* <dir>/train-images-idx3-ubyte.gz: header (magic, n, rows, cols), then npix pixel bytes. */
static void write_images(uint32_t magic, uint32_t n, uint32_t rows, uint32_t cols, size_t npix) {
    gzFile f = gzopen(path_of("train-images-idx3-ubyte.gz"), "wb");
    put_be32(f, magic), put_be32(f, n), put_be32(f, rows), put_be32(f, cols);
    for (size_t i = 0; i < npix; i++)
        gzputc(f, (int)(i % 256));
    gzclose(f);
}

/* <dir>/train-labels-idx1-ubyte.gz: header (magic, n), then the labels. */
static void write_labels(uint32_t magic, uint32_t n, const unsigned char *lab, size_t nlab) {
    gzFile f = gzopen(path_of("train-labels-idx1-ubyte.gz"), "wb");
    put_be32(f, magic), put_be32(f, n);
    gzwrite(f, lab, (unsigned)nlab);
    gzclose(f);
}

static void expect_idx_error(const otg_source_opts *o, const char *file, const char *msg) {
    otg_clear_error();
    otg_source *s = otg_source_open("fashion-mnist", o);
    const char *e = otg_last_error();
    if (s || !strstr(e, msg) || !strstr(e, file))
        fail_msg("got '%s', want an error naming %s containing '%s'", e, file, msg);
}

static void test_idx_files(void **state) {
    const unsigned char lab[3] = {0, 5, 9}, lab_bad[3] = {0, 10, 9};
    otg_source_opts o = otg_source_opts_default();
    o.root = dir;
    write_images(0x803, 3, 28, 28, 3 * 784);
    write_labels(0x801, 3, lab, 3);
    otg_source *s = open_ok("fashion-mnist", &o);
    assert_int_equal(otg_source_size(s), 3);
    const float *px = otg_source_data(s)->data;
    for (int i = 0; i < 3 * 784; i++)
        assert_true(px[i] == (float)(i % 256) / 255.0f);
    otg_source_free(s);
    const int five = 5, three = 3;
    o.classes = &five, o.n_classes = 1;
    s = open_ok("fashion-mnist", &o);
    assert_int_equal(otg_source_size(s), 1);
    assert_int_equal(otg_source_labels(s)[0], 5);
    assert_true(otg_source_data(s)->data[0] == (float)(784 % 256) / 255.0f);
    otg_source_free(s);
    o.classes = &three;
    expect_idx_error(&o, "train-images", "no image of the requested classes");
    o.classes = NULL, o.n_classes = 0;
    o.split = "val";
    expect_open_error("fashion-mnist", &o, "split 'val' unknown");
    o.split = "test";
    expect_idx_error(&o, "t10k-images-idx3-ubyte.gz", "cannot open");
    o.split = "train";
    write_labels(0x801, 2, lab, 2);
    expect_idx_error(&o, "train-labels", "label count 2 != image count 3");
    write_labels(0x801, 3, lab_bad, 3);
    expect_idx_error(&o, "train-labels", "label 10 at index 1 outside 0..9");
    write_labels(0x803, 3, lab, 3);
    expect_idx_error(&o, "train-labels", "bad magic 0x00000803 (not an IDX label file)");
    write_labels(0x801, 3, lab, 2);
    expect_idx_error(&o, "train-labels", "truncated: expected 3 label bytes, got 2");
    write_labels(0x801, 3, lab, 3);
    write_images(0x801, 3, 28, 28, 3 * 784);
    expect_idx_error(&o, "train-images", "bad magic 0x00000801 (not an IDX image file)");
    write_images(0x803, 3, 28, 28, 2 * 784);
    expect_idx_error(&o, "train-images", "truncated: expected 2352 pixel bytes, got 1568");
    write_images(0x803, 3, 27, 28, 3 * 784);
    expect_idx_error(&o, "train-images", "images are 27 x 28, expected 28 x 28");
    write_images(0x803, 3, 28, 28, 3 * 784 + 1);
    expect_idx_error(&o, "train-images", "trailing data");
    gzFile f = gzopen(path_of("train-images-idx3-ubyte.gz"), "wb");
    put_be32(f, 0x803);
    gzclose(f);
    expect_idx_error(&o, "train-images", "truncated: IDX header has 4 of 16 bytes");
    /* a gzip stream cut in the middle */
    write_images(0x803, 3, 28, 28, 3 * 784);
    assert_int_equal(truncate(path_of("train-images-idx3-ubyte.gz"), 40), 0);
    expect_idx_error(&o, "train-images", "truncated");
}

/* ---- CSV and NPY files ----------------------------------------------------------------------- */

static const char *write_text(const char *name, const char *text) {
    const char *p = path_of(name);
    FILE *f = fopen(p, "w");
    fputs(text, f);
    fclose(f);
    return p;
}

static void test_csv_good(void **state) {
    otg_source *s = open_ok(write_text("good.csv", "x, y\r\n1,2\r\n3.5, -4e1 \r\n\r\n\n"), NULL);
    assert_string_equal(otg_source_name(s), "good.csv");
    assert_int_equal(otg_source_size(s), 2);
    assert_int_equal(otg_source_dim(s), 2);
    assert_null(otg_source_labels(s));
    assert_int_equal(otg_source_is_image(s, NULL, NULL), 0);
    const float want[4] = {1, 2, 3.5f, -40};
    assert_memory_equal(otg_source_data(s)->data, want, sizeof want);
    otg_source_free(s);
    s = open_ok(write_text("col.csv", "1\n2\n3"), NULL); /* no header, no final newline */
    assert_int_equal(otg_source_size(s), 3);
    assert_int_equal(otg_source_dim(s), 1);
    otg_source_free(s);
}

static void test_csv_bad(void **state) {
    expect_open_error(write_text("ragged.csv", "1,2\n3,4\n5\n"), NULL,
                      "ragged.csv: line 3: 1 columns, expected 2");
    expect_open_error(write_text("word.csv", "a,b\n1,2\n3,abc\n"), NULL,
                      "word.csv: line 3, column 2: not a number ('abc')");
    expect_open_error(write_text("nan.csv", "1,2\n3,nan\n"), NULL,
                      "nan.csv: line 2, column 2: non-finite value 'nan'");
    expect_open_error(write_text("big.csv", "1e999\n"), NULL, "line 1, column 1: non-finite");
    expect_open_error(write_text("empty_cell.csv", "1,,2\n"), NULL, "line 1, column 2: empty cell");
    expect_open_error(write_text("gap.csv", "1,2\n\n3,4\n"), NULL, "line 2: blank line inside");
    expect_open_error(write_text("header.csv", "x,y\n"), NULL, "header.csv: no data rows");
    expect_open_error(path_of("missing.csv"), NULL, "missing.csv: cannot open");
}

static void test_npy(void **state) {
    float v[24];
    for (int i = 0; i < 24; i++)
        v[i] = (float)i * 0.5f;
    const int64_t s2[2] = {4, 3}, s1[1] = {5}, s3[3] = {2, 3, 4};
    otg_tensor t2 = otg_tensor_view(v, 2, s2), t1 = otg_tensor_view(v, 1, s1);
    otg_tensor t3 = otg_tensor_view(v, 3, s3);
    assert_int_equal(otg_npy_write(path_of("a.npy"), &t2, 1), OTG_OK);
    assert_int_equal(otg_npy_write(path_of("b.npy"), &t1, 1), OTG_OK);
    assert_int_equal(otg_npy_write(path_of("c.npy"), &t3, 1), OTG_OK);
    otg_source *s = open_ok(path_of("a.npy"), NULL);
    assert_true(otg_source_size(s) == 4 && otg_source_dim(s) == 3);
    assert_memory_equal(otg_source_data(s)->data, v, 12 * sizeof(float));
    otg_source_free(s);
    s = open_ok(path_of("b.npy"), NULL);
    assert_true(otg_source_size(s) == 5 && otg_source_dim(s) == 1);
    otg_source_free(s);
    s = open_ok(path_of("c.npy"), NULL);
    int64_t h, w;
    assert_true(otg_source_size(s) == 2 && otg_source_dim(s) == 12);
    assert_true(otg_source_is_image(s, &h, &w) && h == 3 && w == 4);
    otg_source_free(s);
    v[7] = NAN;
    assert_int_equal(otg_npy_write(path_of("nan.npy"), &t2, 1), OTG_OK);
    expect_open_error(path_of("nan.npy"), NULL, "NaN");
    expect_open_error(path_of("missing.npy"), NULL, "missing.npy");
}

/* Rows (i, 10 i), i = 0..9: every draw is one of them, each about equally often. */
static void test_sample_finite(void **state) {
    FILE *f = fopen(path_of("rows.csv"), "w");
    for (int i = 0; i < 10; i++)
        fprintf(f, "%d,%d\n", i, 10 * i);
    fclose(f);
    otg_source *s = open_ok(path_of("rows.csv"), NULL);
    const int64_t n = 5000;
    float *x = draw(s, 11, n), *y = draw(s, 11, n);
    assert_memory_equal(x, y, (size_t)(2 * n) * sizeof *x);
    int64_t count[10] = {0};
    for (int64_t i = 0; i < n; i++) {
        const float a = x[2 * i], b = x[2 * i + 1];
        assert_true(a >= 0 && a <= 9 && a == floorf(a) && b == 10 * a);
        count[(int)a]++;
    }
    for (int k = 0; k < 10; k++)
        assert_true(fabs((double)count[k] - (double)n / 10) < 5.0 * sqrt((double)n * 0.09));
    free(x), free(y);
    otg_source_free(s);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_laws_common),
        cmocka_unit_test(test_moons),
        cmocka_unit_test(test_swiss_roll),
        cmocka_unit_test(test_gaussians8),
        cmocka_unit_test(test_rings),
        cmocka_unit_test(test_checkerboard),
        cmocka_unit_test(test_grid),
        cmocka_unit_test(test_gaussian_moments),
        cmocka_unit_test(test_uniform_bounds),
        cmocka_unit_test(test_bad_names_and_options),
        cmocka_unit_test(test_fashion_mnist),
        cmocka_unit_test(test_idx_files),
        cmocka_unit_test(test_csv_good),
        cmocka_unit_test(test_csv_bad),
        cmocka_unit_test(test_npy),
        cmocka_unit_test(test_sample_finite),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
