/* plot: PNG grids read back with libpng (size, separators, clamping, NaN as black), charts through
 * PLplot (a PNG of the requested size, not one flat colour, series colours present), log axes
 * with non-positive values skipped, overwrite refusal and --force, errors with messages, and no
 * temporary file left behind. */
// ctest-labels: unit
#define _POSIX_C_SOURCE 200809L
// cmocka.h needs these three first
// clang-format off
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
// clang-format on

#include "otgen/plot.h"

#include <dirent.h>
#include <math.h>
#include <png.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define CHART_W 900 /* the size plot.c draws charts at */
#define CHART_H 700
#define SEPARATOR 160 /* png.c's separator gray */

static char dir[256];

static int setup(void **state) {
    snprintf(dir, sizeof dir, "/tmp/otgen-test-plot-XXXXXX");
    return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state) {
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd);
}

static const char *path_of(const char *name) {
    static char p[4][512];
    static int k;
    k = (k + 1) % 4;
    snprintf(p[k], sizeof p[k], "%s/%s", dir, name);
    return p[k];
}

static int exists(const char *p) {
    return access(p, F_OK) == 0;
}

/* A decoded picture: width, height, channels (1 gray, 3 RGB), pixels [h, w, channels]. */
typedef struct {
    png_uint_32 w, h;
    int channels;
    png_uint_32 file_format; /* the format stored in the file */
    unsigned char *px;
} picture;

/* Reads p with libpng, converted to gray (channels 1) or RGB (channels 3). */
static picture read_png(const char *p, int channels) {
    picture pic = {0};
    png_image im;
    memset(&im, 0, sizeof im);
    im.version = PNG_IMAGE_VERSION;
    if (!png_image_begin_read_from_file(&im, p)) fail_msg("%s: not readable: %s", p, im.message);
    pic.file_format = im.format;
    im.format = channels == 1 ? PNG_FORMAT_GRAY : PNG_FORMAT_RGB;
    pic.px = malloc(PNG_IMAGE_SIZE(im));
    assert_non_null(pic.px);
    if (!png_image_finish_read(&im, NULL, pic.px, 0, NULL)) fail_msg("%s: %s", p, im.message);
    pic.w = im.width, pic.h = im.height, pic.channels = channels;
    return pic;
}

static unsigned char gray_at(const picture *pic, png_uint_32 x, png_uint_32 y) {
    return pic->px[(size_t)y * pic->w + x];
}

/* Number of distinct RGB colours, counted up to `cap`. */
static int distinct_colours(const picture *pic, int cap) {
    uint32_t seen[256];
    int n = 0;
    for (size_t i = 0; i < (size_t)pic->w * pic->h && n < cap && n < 256; i++) {
        const unsigned char *q = pic->px + 3 * i;
        uint32_t c = (uint32_t)q[0] << 16 | (uint32_t)q[1] << 8 | q[2];
        int k = 0;
        while (k < n && seen[k] != c)
            k++;
        if (k == n) seen[n++] = c;
    }
    return n;
}

/* Pixels of exactly colour (r, g, b). */
static size_t count_colour(const picture *pic, int r, int g, int b) {
    size_t k = 0;
    for (size_t i = 0; i < (size_t)pic->w * pic->h; i++) {
        const unsigned char *q = pic->px + 3 * i;
        k += q[0] == r && q[1] == g && q[2] == b;
    }
    return k;
}

static int has_colour(const picture *pic, int r, int g, int b) {
    return count_colour(pic, r, g, b) > 0;
}

static void expect_status(otg_status got, otg_status want, const char *msg) {
    if (got != want || !strstr(otg_last_error(), msg))
        fail_msg("got %s '%s', want %s containing '%s'", otg_status_name(got), otg_last_error(),
                 otg_status_name(want), msg);
}

/* A chart file: the PNG signature, the chart size, more than two colours. */
static picture check_chart(const char *p) {
    unsigned char sig[8] = {0};
    FILE *f = fopen(p, "rb");
    assert_non_null(f);
    assert_int_equal(fread(sig, 1, 8, f), 8);
    fclose(f);
    assert_memory_equal(sig, "\x89PNG\r\n\x1a\n", 8);
    picture pic = read_png(p, 3);
    assert_int_equal(pic.w, CHART_W);
    assert_int_equal(pic.h, CHART_H);
    assert_true(distinct_colours(&pic, 10) > 2);
    return pic;
}

/* ---- grids ----------------------------------------------------------------------------------- */

/* 5 images of 3x2 (all ones, all zeros, then ramps with out-of-range values and a NaN), 3 a row,
 * zoom 2: 2 rows, width 3 * 4 + 2 = 14, height 2 * 6 + 1 = 13. */
static void test_grid_layout(void **state) {
    enum { N = 5, H = 3, W = 2 };
    float img[N * H * W];
    for (int i = 0; i < H * W; i++)
        img[i] = 1.0f, img[H * W + i] = 0.0f;
    for (int i = 2 * H * W; i < N * H * W; i++)
        img[i] = 0.5f;
    img[2 * H * W] = 7.0f, img[2 * H * W + 1] = -3.0f, img[2 * H * W + 2] = NAN;
    const char *p = path_of("grid.png");
    assert_int_equal(otg_png_write_grid(p, img, N, H, W, 3, 2, 0), OTG_OK);
    picture pic = read_png(p, 1);
    assert_int_equal(pic.file_format, PNG_FORMAT_GRAY); /* 8-bit grayscale on disk */
    assert_int_equal(pic.w, 3 * W * 2 + 2);
    assert_int_equal(pic.h, 2 * H * 2 + 1);
    for (png_uint_32 y = 0; y < 6; y++)
        for (png_uint_32 x = 0; x < 4; x++) {
            assert_int_equal(gray_at(&pic, x, y), 255);   /* image 0: ones -> white */
            assert_int_equal(gray_at(&pic, 5 + x, y), 0); /* image 1: zeros -> black */
            assert_int_equal(gray_at(&pic, 4, y), SEPARATOR);
            assert_int_equal(gray_at(&pic, x + 5 * 2, 6), SEPARATOR);  /* row separator */
            assert_int_equal(gray_at(&pic, 10 + x, 7 + y), SEPARATOR); /* empty 6th cell */
        }
    /* image 2 at (10, 0): 7 clamps to white, -3 to black, NaN is black, 0.5 is mid gray */
    assert_int_equal(gray_at(&pic, 10, 0), 255);
    assert_int_equal(gray_at(&pic, 11, 1), 255); /* zoom replicates the pixel 2x2 */
    assert_int_equal(gray_at(&pic, 12, 0), 0);
    assert_int_equal(gray_at(&pic, 10, 2), 0);
    assert_int_equal(gray_at(&pic, 12, 2), 128);
    free(pic.px);
}

/* Fewer images than cols: no empty columns. One image: no separator at all. */
static void test_grid_few_images(void **state) {
    float img[2 * 4] = {0, 0.25f, 0.5f, 1, 1, 1, 1, 1};
    const char *p = path_of("few.png");
    assert_int_equal(otg_png_write_grid(p, img, 2, 2, 2, 8, 1, 0), OTG_OK);
    picture pic = read_png(p, 1);
    assert_int_equal(pic.w, 2 * 2 + 1);
    assert_int_equal(pic.h, 2);
    free(pic.px);
    p = path_of("one.png");
    assert_int_equal(otg_png_write_grid(p, img, 1, 2, 2, 1, 3, 0), OTG_OK);
    pic = read_png(p, 1);
    assert_int_equal(pic.w, 6);
    assert_int_equal(pic.h, 6);
    assert_int_equal(gray_at(&pic, 5, 5), 255);
    assert_int_equal(gray_at(&pic, 3, 0), 64);
    free(pic.px);
}

static void test_grid_overwrite(void **state) {
    float black[4] = {0}, white[4] = {1, 1, 1, 1};
    const char *p = path_of("over.png");
    assert_int_equal(otg_png_write_grid(p, black, 1, 2, 2, 1, 1, 0), OTG_OK);
    expect_status(otg_png_write_grid(p, white, 1, 2, 2, 1, 1, 0), OTG_EIO,
                  "exists (pass --force to overwrite)");
    assert_non_null(strstr(otg_last_error(), p));
    picture pic = read_png(p, 1);
    assert_int_equal(gray_at(&pic, 0, 0), 0); /* untouched */
    free(pic.px);
    assert_int_equal(otg_png_write_grid(p, white, 1, 2, 2, 1, 1, 1), OTG_OK);
    pic = read_png(p, 1);
    assert_int_equal(gray_at(&pic, 0, 0), 255); /* replaced */
    free(pic.px);
}

static void test_grid_bad_arguments(void **state) {
    float img[4] = {0};
    const char *p = path_of("bad.png");
    expect_status(otg_png_write_grid(NULL, img, 1, 2, 2, 1, 1, 0), OTG_EINVAL, "NULL");
    expect_status(otg_png_write_grid(p, NULL, 1, 2, 2, 1, 1, 0), OTG_EINVAL, "NULL");
    expect_status(otg_png_write_grid(p, img, 0, 2, 2, 1, 1, 0), OTG_EINVAL, "n=0");
    expect_status(otg_png_write_grid(p, img, 1, 0, 2, 1, 1, 0), OTG_EINVAL, "h=0");
    expect_status(otg_png_write_grid(p, img, 1, 2, -2, 1, 1, 0), OTG_EINVAL, "w=-2");
    expect_status(otg_png_write_grid(p, img, 1, 2, 2, 0, 1, 0), OTG_EINVAL, "cols=0");
    expect_status(otg_png_write_grid(p, img, 1, 2, 2, 1, 0, 0), OTG_EINVAL, "zoom=0");
    expect_status(otg_png_write_grid(p, img, 1, 2, 2, 1, 1 << 20, 0), OTG_EINVAL, "exceeds");
    expect_status(otg_png_write_grid(p, img, 1, 2, 2000000, 1, 1, 0), OTG_EINVAL, "exceeds");
    assert_false(exists(p));
    expect_status(otg_png_write_grid(path_of("no/such/dir.png"), img, 1, 2, 2, 1, 1, 0), OTG_EIO,
                  "cannot create");
}

/* ---- charts ---------------------------------------------------------------------------------- */

/* Generated points: a Gaussian blob; target: a ring (plus a NaN point, which is skipped). */
static void make_clouds(float *a, int na, float *b, int nb) {
    otg_rng r = otg_rng_make(7, 0);
    for (int i = 0; i < na; i++) {
        a[2 * i] = (float)otg_rng_normal(&r);
        a[2 * i + 1] = (float)otg_rng_normal(&r);
    }
    for (int i = 0; i < nb; i++) {
        double t = 6.283185307179586 * otg_rng_uniform(&r);
        b[2 * i] = (float)(2.0 * cos(t)), b[2 * i + 1] = (float)(2.0 * sin(t));
    }
    b[0] = NAN;
}

static void test_scatter(void **state) {
    float a[2 * 300], b[2 * 600];
    make_clouds(a, 300, b, 600);
    const char *p = path_of("scatter.png");
    assert_int_equal(otg_plot_scatter(p, a, 300, "generated", b, 600, "target", "Step 10", 0),
                     OTG_OK);
    picture pic = check_chart(p);
    assert_true(has_colour(&pic, 214, 39, 40)); /* generated points */
    /* 600 target points: a grey density (8 shades, 232 to 120), no light-blue points; its
     * darkest shade fills the fullest bins (each about 10 x 10 pixels) */
    assert_false(has_colour(&pic, 160, 190, 225));
    const size_t dark = count_colour(&pic, 120, 120, 120);
    assert_true(dark >= 200);
    assert_true(count_colour(&pic, 232, 232, 232) >= 200); /* the sparse edges, lightest */
    free(pic.px);
    expect_status(otg_plot_scatter(p, a, 300, "g", b, 600, "t", "again", 0), OTG_EIO,
                  "exists (pass --force to overwrite)");
    assert_int_equal(otg_plot_scatter(p, a, 300, NULL, NULL, 0, NULL, NULL, 1), OTG_OK);
    pic = check_chart(p);
    assert_true(count_colour(&pic, 120, 120, 120) < dark / 4); /* no target: no density */
    free(pic.px);
    /* a target of fewer than 200 points stays light-blue points */
    assert_int_equal(otg_plot_scatter(p, a, 300, NULL, b, 150, NULL, NULL, 1), OTG_OK);
    pic = check_chart(p);
    assert_true(has_colour(&pic, 160, 190, 225));
    free(pic.px);
}

/* Trajectories: each path in its own palette colour; the truth's crosses in black. */
static void test_paths(void **state) {
    (void)state;
    enum { SNAP = 20, PATHS = 3 };
    float xy[SNAP * PATHS * 2], truth[2 * 2] = {1.0f, 1.0f, -1.0f, 0.5f};
    for (int t = 0; t < SNAP; t++)
        for (int j = 0; j < PATHS; j++) {
            xy[(t * PATHS + j) * 2] = 0.1f * (float)t * (float)(j + 1);
            xy[(t * PATHS + j) * 2 + 1] =
                (j == 1 && t == 7) ? NAN : 0.05f * (float)(t * t) - (float)j;
        }
    const char *p = path_of("paths.png");
    assert_int_equal(otg_plot_paths(p, xy, SNAP, PATHS, truth, 2, "teacher", "paths", 0), OTG_OK);
    picture pic = check_chart(p);
    assert_true(has_colour(&pic, 31, 119, 180)); /* path 0: Tableau blue */
    assert_true(has_colour(&pic, 255, 127, 14)); /* path 1: orange */
    assert_true(has_colour(&pic, 44, 160, 44));  /* path 2: green */
    assert_false(has_colour(&pic, 214, 39, 40)); /* no fourth path */
    free(pic.px);
    expect_status(otg_plot_paths(p, xy, SNAP, PATHS, truth, 2, NULL, NULL, 0), OTG_EIO,
                  "exists (pass --force to overwrite)");
    assert_int_equal(otg_plot_paths(p, xy, SNAP, PATHS, NULL, 0, NULL, NULL, 1), OTG_OK);
    expect_status(otg_plot_paths(p, NULL, SNAP, PATHS, truth, 2, NULL, NULL, 1), OTG_EINVAL,
                  "NULL");
    expect_status(otg_plot_paths(p, xy, -1, PATHS, truth, 2, NULL, NULL, 1), OTG_EINVAL,
                  "out of range");
    expect_status(otg_plot_paths(p, xy, 0, 0, NULL, 0, NULL, NULL, 1), OTG_EINVAL,
                  "no finite points");
}

static void test_lines(void **state) {
    enum { N = 200 };
    double x[N], y1[N], y2[N];
    for (int i = 0; i < N; i++)
        x[i] = i, y1[i] = 3.0 - 0.01 * i, y2[i] = sin(0.05 * i);
    y2[50] = NAN, y2[51] = INFINITY;
    otg_series s[2] = {{"descent", x, y1, N}, {"oscillation", x, y2, N}};
    const char *p = path_of("lines.png");
    assert_int_equal(otg_plot_lines(p, s, 2, "Two series", "step", "value", 0, 0, 0), OTG_OK);
    picture pic = check_chart(p);
    assert_true(has_colour(&pic, 31, 119, 180)); /* series 1, Tableau blue */
    assert_true(has_colour(&pic, 255, 127, 14)); /* series 2, Tableau orange */
    free(pic.px);
    expect_status(otg_plot_lines(p, s, 2, "t", "x", "y", 0, 0, 0), OTG_EIO, "exists");
    assert_int_equal(otg_plot_lines(p, s, 1, NULL, NULL, NULL, 0, 0, 1), OTG_OK);
    pic = check_chart(p);
    assert_false(has_colour(&pic, 255, 127, 14)); /* replaced by the one-series chart */
    free(pic.px);
}

/* Log axes: zeros, negatives and NaN are skipped, the rest is drawn. */
static void test_lines_log(void **state) {
    enum { N = 100 };
    double x[N], y[N];
    for (int i = 0; i < N; i++)
        x[i] = i, y[i] = i % 10 == 3 ? -1.0 : 1.0 / (1.0 + i * i);
    y[20] = 0.0, y[40] = NAN;
    otg_series s = {"loss", x, y, N}; /* x[0] = 0 is skipped on the log x axis */
    const char *p = path_of("log.png");
    assert_int_equal(otg_plot_lines(p, &s, 1, "Loss", "iteration", "loss", 1, 1, 0), OTG_OK);
    picture pic = check_chart(p);
    assert_true(has_colour(&pic, 31, 119, 180));
    free(pic.px);
    p = path_of("logy.png"); /* log y only */
    assert_int_equal(otg_plot_lines(p, &s, 1, "Loss", "iteration", "loss", 0, 1, 0), OTG_OK);
    free(check_chart(p).px);
}

/* A fixed y window: a constant series at 0 is drawn on [0, 1] (not zoomed into); bad windows
 * are refused without a file. */
static void test_lines_ylim(void **state) {
    double x[3] = {16, 64, 256}, y[3] = {0, 0, 0};
    otg_series s = {"depth 1", x, y, 3};
    const char *p = path_of("ylim.png");
    assert_int_equal(otg_plot_lines_ylim(p, &s, 1, "Fraction", "width", "fraction", 1, 0.0, 1.0, 0),
                     OTG_OK);
    picture pic = check_chart(p);
    assert_true(has_colour(&pic, 31, 119, 180));
    free(pic.px);
    const char *q = path_of("ylim_bad.png");
    expect_status(otg_plot_lines_ylim(q, &s, 1, "t", "x", "y", 0, 1.0, 1.0, 0), OTG_EINVAL,
                  "y window");
    expect_status(otg_plot_lines_ylim(q, &s, 1, "t", "x", "y", 0, 0.0, INFINITY, 0), OTG_EINVAL,
                  "y window");
    assert_false(exists(q));
}

static void test_chart_bad_arguments(void **state) {
    float a[4] = {NAN, 0, 1, NAN};
    double x[2] = {0, 1}, y[2] = {-1, 0};
    otg_series good = {"s", x, x, 2}, nonpos = {"s", x, y, 2}, nulls = {"s", NULL, y, 2};
    const char *p = path_of("bad_chart.png");
    expect_status(otg_plot_scatter(NULL, a, 2, "a", a, 2, "b", "t", 0), OTG_EINVAL, "NULL");
    expect_status(otg_plot_scatter(p, NULL, 2, "a", a, 2, "b", "t", 0), OTG_EINVAL, "NULL");
    expect_status(otg_plot_scatter(p, a, -1, "a", a, 2, "b", "t", 0), OTG_EINVAL, "out of range");
    expect_status(otg_plot_scatter(p, a, 2, "a", NULL, 0, "b", "t", 0), OTG_EINVAL,
                  "no finite points");
    expect_status(otg_plot_lines(NULL, &good, 1, "t", "x", "y", 0, 0, 0), OTG_EINVAL, "NULL");
    expect_status(otg_plot_lines(p, NULL, 1, "t", "x", "y", 0, 0, 0), OTG_EINVAL, "NULL");
    expect_status(otg_plot_lines(p, &good, 0, "t", "x", "y", 0, 0, 0), OTG_EINVAL, "no series");
    expect_status(otg_plot_lines(p, &nulls, 1, "t", "x", "y", 0, 0, 0), OTG_EINVAL, "NULL x or y");
    expect_status(otg_plot_lines(p, &nonpos, 1, "t", "x", "y", 0, 1, 0), OTG_EINVAL,
                  "non-positive on a log axis");
    assert_false(exists(p));
    expect_status(otg_plot_lines(path_of("no/such/dir.png"), &good, 1, "t", "x", "y", 0, 0, 0),
                  OTG_EIO, "cannot create");
}

/* Runs last: every writer above renamed or removed its "<path>.tmp.<pid>". */
static void test_no_temp_files(void **state) {
    DIR *d = opendir(dir);
    assert_non_null(d);
    int files = 0;
    for (struct dirent *e; (e = readdir(d));) {
        if (e->d_name[0] == '.') continue;
        files++;
        if (strstr(e->d_name, ".tmp.")) fail_msg("temporary file left: %s", e->d_name);
    }
    closedir(d);
    assert_true(files >= 8);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_grid_layout),    cmocka_unit_test(test_grid_few_images),
        cmocka_unit_test(test_grid_overwrite), cmocka_unit_test(test_grid_bad_arguments),
        cmocka_unit_test(test_scatter),        cmocka_unit_test(test_paths),
        cmocka_unit_test(test_lines),          cmocka_unit_test(test_lines_log),
        cmocka_unit_test(test_lines_ylim),     cmocka_unit_test(test_chart_bad_arguments),
        cmocka_unit_test(test_no_temp_files),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
