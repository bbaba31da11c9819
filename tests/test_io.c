/* io: NPY round trip, float64 and v2 headers, and a clear error for each malformed file (bad
 * magic, truncated header or data, trailing bytes, unsupported dtype, Fortran order, 0-d or empty
 * arrays, non-finite values when refused); no overwrite without the flag; the whole-file reader. */
#define _POSIX_C_SOURCE 200809L
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h> /* after the three headers it needs */

#include "otgen/io.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char dir[256];

static int setup(void **state) {
    snprintf(dir, sizeof dir, "/tmp/otgen-test-io-XXXXXX");
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

/* Writes an NPY file by hand: version, header dict text, then `data_bytes` of data. */
static const char *write_raw(const char *name, int major, const char *dict, const void *data,
                             size_t data_bytes) {
    const char *p = path_of(name);
    FILE *f = fopen(p, "wb");
    size_t pre = major == 1 ? 10 : 12, len = strlen(dict) + 1;
    size_t pad = (64 - (pre + len) % 64) % 64, hl = len + pad;
    fwrite("\x93NUMPY", 1, 6, f);
    fputc(major, f), fputc(0, f);
    fputc((int)(hl & 0xff), f), fputc((int)(hl >> 8), f);
    if (major != 1) fputc(0, f), fputc(0, f);
    fputs(dict, f);
    for (size_t i = 0; i < pad; i++)
        fputc(' ', f);
    fputc('\n', f);
    fwrite(data, 1, data_bytes, f);
    fclose(f);
    return p;
}

static void expect_error(const char *p, otg_status want, const char *msg) {
    otg_tensor *t = (otg_tensor *)1;
    otg_status st = otg_npy_read(p, 1, &t);
    if (st != want || !strstr(otg_last_error(), msg))
        fail_msg("%s: got %s '%s', want %s containing '%s'", p, otg_status_name(st),
                 otg_last_error(), otg_status_name(want), msg);
    assert_null(t);
}

static void test_round_trip(void **state) {
    otg_tensor *t = otg_tensor_new(2, (int64_t[]){3, 5});
    for (int i = 0; i < 15; i++)
        t->data[i] = (float)i * 0.25f - 1.0f;
    const char *p = path_of("a.npy");
    assert_int_equal(otg_npy_write(p, t, 0), OTG_OK);
    otg_tensor *u;
    assert_int_equal(otg_npy_read(p, 1, &u), OTG_OK);
    assert_int_equal(u->ndim, 2);
    assert_true(u->shape[0] == 3 && u->shape[1] == 5);
    assert_memory_equal(u->data, t->data, 15 * sizeof(float));
    assert_int_equal(otg_npy_write(p, t, 0), OTG_EIO);
    assert_non_null(strstr(otg_last_error(), "exists (pass --force to overwrite)"));
    assert_int_equal(otg_npy_write(p, t, 1), OTG_OK);
    otg_tensor *v1 = otg_tensor_new(1, (int64_t[]){4});
    assert_int_equal(otg_npy_write(path_of("v.npy"), v1, 0), OTG_OK);
    otg_tensor *w;
    assert_int_equal(otg_npy_read(path_of("v.npy"), 1, &w), OTG_OK);
    assert_true(w->ndim == 1 && w->shape[0] == 4);
    otg_tensor_free(t), otg_tensor_free(u), otg_tensor_free(v1), otg_tensor_free(w);
}

static void test_float64_and_v2(void **state) {
    const double d[4] = {1.5, -2.0, 1e-3, 4.0};
    otg_tensor *t;
    assert_int_equal(
        otg_npy_read(write_raw("f8.npy", 2,
                               "{'descr': '<f8', 'fortran_order': False, 'shape': (2, 2), }", d,
                               sizeof d),
                     1, &t),
        OTG_OK);
    assert_true(t->data[0] == 1.5f && t->data[1] == -2.0f && t->data[2] == 1e-3f &&
                t->shape[1] == 2);
    otg_tensor_free(t);
    const float f[3] = {1, 2, 3};
    assert_int_equal(
        otg_npy_read(write_raw("v3.npy", 3,
                               "{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }", f,
                               sizeof f),
                     1, &t),
        OTG_OK);
    otg_tensor_free(t);
}

static void test_malformed_files(void **state) {
    const float f[6] = {1, 2, 3, 4, 5, 6};
    const char *ok = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }";
    expect_error(path_of("missing.npy"), OTG_EIO, "cannot open");
    FILE *g = fopen(path_of("text.npy"), "w");
    fputs("x,y\n1,2\n", g);
    fclose(g);
    expect_error(path_of("text.npy"), OTG_EFORMAT, "not an NPY file (bad magic)");
    expect_error(write_raw("trunc.npy", 1, ok, f, 20), OTG_EFORMAT, "truncated");
    float g7[7] = {0};
    expect_error(write_raw("trail.npy", 1, ok, g7, sizeof g7), OTG_EFORMAT,
                 "shape needs 24 data bytes, file has 28");
    expect_error(write_raw("i4.npy", 1,
                           "{'descr': '<i4', 'fortran_order': False, 'shape': (2, 3), }", f,
                           sizeof f),
                 OTG_EFORMAT, "dtype '<i4' unsupported");
    expect_error(write_raw("be.npy", 1,
                           "{'descr': '>f4', 'fortran_order': False, 'shape': (2, 3), }", f,
                           sizeof f),
                 OTG_EFORMAT, "unsupported");
    expect_error(write_raw("fo.npy", 1,
                           "{'descr': '<f4', 'fortran_order': True, 'shape': (2, 3), }", f,
                           sizeof f),
                 OTG_EFORMAT, "Fortran-order");
    expect_error(
        write_raw("0d.npy", 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (), }", f, 4),
        OTG_EFORMAT, "0-d array");
    expect_error(write_raw("empty.npy", 1,
                           "{'descr': '<f4', 'fortran_order': False, 'shape': (0, 3), }", f, 0),
                 OTG_EFORMAT, "empty array");
    expect_error(write_raw("5d.npy", 1,
                           "{'descr': '<f4', 'fortran_order': False, 'shape': (1, 1, 1, 1, 6), }",
                           f, sizeof f),
                 OTG_EFORMAT, "more than 4 dimensions");
    expect_error(
        write_raw("noshape.npy", 1, "{'descr': '<f4', 'fortran_order': False, }", f, sizeof f),
        OTG_EFORMAT, "lacks");
    expect_error(write_raw("badshape.npy", 1,
                           "{'descr': '<f4', 'fortran_order': False, 'shape': (2, x), }", f,
                           sizeof f),
                 OTG_EFORMAT, "malformed 'shape'");
    const float nanv[6] = {1, 2, NAN, 4, 5, 6};
    expect_error(write_raw("nan.npy", 1, ok, nanv, sizeof nanv), OTG_ENONFINITE,
                 "element [0, 2] is NaN");
    otg_tensor *t;
    assert_int_equal(otg_npy_read(path_of("nan.npy"), 0, &t),
                     OTG_OK); /* allowed when not refused */
    otg_tensor_free(t);
    FILE *h = fopen(path_of("short.npy"), "wb");
    fwrite("\x93NUMPY\x01\x00\xff", 1, 9, h);
    fclose(h);
    expect_error(path_of("short.npy"), OTG_EFORMAT, "truncated NPY header");
    h = fopen(path_of("v9.npy"), "wb");
    fwrite("\x93NUMPY\x09\x00\x10\x00", 1, 10, h);
    fclose(h);
    expect_error(path_of("v9.npy"), OTG_EFORMAT, "version 9 unsupported");
    assert_int_equal(otg_npy_read(NULL, 1, &t), OTG_EINVAL);
}

/* The whole-file reader: exact bytes (NUL-terminated), a size limit, a missing file, a device. */
static void test_file_read(void **state) {
    const char *p = path_of("text.txt");
    FILE *f = fopen(p, "wb");
    assert_non_null(f);
    for (int i = 0; i < 10000; i++)
        fputc('a' + i % 26, f);
    fclose(f);
    char *t = NULL;
    size_t len = 0;
    assert_int_equal(otg_file_read(p, 0, &t, &len), OTG_OK);
    assert_int_equal(len, 10000);
    assert_true(t[0] == 'a' && t[9999] == 'a' + 9999 % 26 && t[10000] == '\0');
    free(t);
    assert_int_equal(otg_file_read(p, 10000, &t, &len), OTG_OK);
    free(t);
    assert_int_equal(otg_file_read(p, 9999, &t, &len), OTG_EFORMAT);
    assert_null(t);
    assert_non_null(strstr(otg_last_error(), "larger than 9999 bytes"));
    assert_int_equal(otg_file_read(path_of("absent.txt"), 0, &t, &len), OTG_EIO);
    assert_non_null(strstr(otg_last_error(), "cannot open"));
    assert_int_equal(otg_file_read("/dev/zero", 1 << 16, &t, &len), OTG_EFORMAT); /* no size */
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_round_trip),
        cmocka_unit_test(test_float64_and_v2),
        cmocka_unit_test(test_malformed_files),
        cmocka_unit_test(test_file_read),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
