/* otgen sw --pairwise: the K x K matrix equals the separate `otgen sw` calls (every printed digit),
 * from K files or one [K, n, d] array, as NPY and CSV; bad input (K = 1, mismatched d, NaN, an
 * existing output) exits 2 with one line. And float64 exactness of otgen sw / energy: data at
 * 1e6 + 0.1 N(0, 1) give the values of the same data shifted to the origin. */
// ctest-labels: cli
#define _POSIX_C_SOURCE 200809L
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h> /* after the three headers it needs */

#include "clirun.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "otgen/otgen.h"

static char tmpdir[64];

static double value_of(const char *text, const char *key) {
    const char *p = strstr(text, key);
    return p ? atof(p + strlen(key)) : -1.0;
}

/* tmpdir/name.npy holding t (float32). */
static const char *save(const char *name, const otg_tensor *t) {
    static char paths[16][256];
    static int k;
    char *p = paths[k++ % 16];
    snprintf(p, 256, "%s/%s.npy", tmpdir, name);
    assert_int_equal(otg_npy_write(p, t, 1), OTG_OK);
    return p;
}

/* A float64 NPY file of v [rows, cols] (the header written by hand: otgen writes float32). */
static const char *save_f64(const char *name, int64_t rows, int64_t cols, const double *v) {
    static char paths[4][256];
    static int k;
    char *p = paths[k++ % 4];
    snprintf(p, 256, "%s/%s.npy", tmpdir, name);
    assert_int_equal(otg_npy_write_f64(p, v, 2, (int64_t[]){rows, cols}, 1), OTG_OK);
    return p;
}

static otg_tensor *normal(int64_t n, int64_t d, double shift, uint64_t seed) {
    otg_tensor *t = otg_tensor_new(2, (int64_t[]){n, d});
    otg_rng r = otg_rng_make(seed, 9);
    for (int64_t i = 0; i < n * d; i++)
        t->data[i] = (float)(otg_rng_normal(&r) + shift);
    return t;
}

static void make_tmpdir(void) {
    snprintf(tmpdir, sizeof tmpdir, "/tmp/otgen-pairwise-XXXXXX");
    assert_non_null(mkdtemp(tmpdir));
}

/* Entry (i, j) of the matrix file (CSV or float64 NPY) printed as %.9g against `otgen sw`'s
 * sw=%.9g for the pair: the same string. */
static void test_pairwise_equals_separate_commands(void **state) {
    (void)state;
    static char out[8192], cmd[4096], want[64], got[64];
    enum { K = 4 };
    make_tmpdir();
    const int64_t sizes[K] = {30, 30, 17, 600};
    const char *paths[K];
    for (int k = 0; k < K; k++) {
        otg_tensor *t = normal(sizes[k], 3, 0.3 * k, 1 + (uint64_t)k);
        char name[16];
        snprintf(name, sizeof name, "c%d", k);
        paths[k] = save(name, t);
        otg_tensor_free(t);
    }
    char csv[300], npyout[300];
    snprintf(csv, sizeof csv, "%s/D.csv", tmpdir),
        snprintf(npyout, sizeof npyout, "%s/D.npy", tmpdir);
    const char *opts = "--projections 300 --seed 7 --p 1.5";
    snprintf(cmd, sizeof cmd, "sw --pairwise %s %s %s %s %s --out %s", paths[0], paths[1], paths[2],
             paths[3], opts, csv);
    assert_int_equal(otgen_run(cmd, 0, out, sizeof out), 0);
    assert_non_null(strstr(out, "clouds=4"));
    assert_int_equal(otgen_run(cmd, 1, out, sizeof out), 2); /* exists */
    assert_non_null(strstr(out, "exists (pass --force to overwrite)"));
    snprintf(cmd + strlen(cmd), sizeof cmd - strlen(cmd), " --force --threads 1");
    assert_int_equal(otgen_run(cmd, 0, out, sizeof out), 0);
    snprintf(cmd, sizeof cmd, "sw --pairwise %s %s %s %s %s --out %s --threads 2 --chunk 512",
             paths[0], paths[1], paths[2], paths[3], opts, npyout);
    assert_int_equal(otgen_run(cmd, 0, out, sizeof out), 0);
    char *text;
    size_t len;
    assert_int_equal(otg_file_read(csv, 0, &text, &len), OTG_OK);
    otg_tensor *m;
    assert_int_equal(otg_npy_read(npyout, 1, &m), OTG_OK); /* float64, read back as float32 */
    assert_true(m->shape[0] == K && m->shape[1] == K);
    double d[K][K];
    char *p = text;
    for (int i = 0; i < K; i++)
        for (int j = 0; j < K; j++) {
            d[i][j] = strtod(p, &p);
            p++; /* ',' or '\n' */
            assert_true((float)d[i][j] == m->data[i * K + j]);
        }
    for (int i = 0; i < K; i++) {
        assert_true(d[i][i] == 0.0);
        for (int j = i + 1; j < K; j++) {
            assert_true(d[i][j] == d[j][i] && d[i][j] > 0.0);
            snprintf(cmd, sizeof cmd, "sw %s %s %s", paths[i], paths[j], opts);
            assert_int_equal(otgen_run(cmd, 0, out, sizeof out), 0);
            assert_true(sscanf(out, "sw=%63s", want) == 1);
            snprintf(got, sizeof got, "%.9g", d[i][j]);
            if (strcmp(got, want)) fail_msg("(%d, %d): pairwise %s, otgen sw %s", i, j, got, want);
        }
    }
    free(text);
    otg_tensor_free(m);
}

/* One [K, n, d] array gives the matrix of its K clouds. */
static void test_pairwise_from_one_array(void **state) {
    (void)state;
    static char out[8192], cmd[4096];
    make_tmpdir();
    otg_tensor *all = normal(3 * 20, 2, 0.0, 5);
    otg_tensor a3 = otg_tensor_view(all->data, 3, (int64_t[]){3, 20, 2});
    const char *pa = save("all", &a3);
    otg_tensor c1 = otg_tensor_view(all->data + 20 * 2, 2, (int64_t[]){20, 2});
    otg_tensor c2 = otg_tensor_view(all->data + 40 * 2, 2, (int64_t[]){20, 2});
    const char *p1 = save("c1", &c1), *p2 = save("c2", &c2);
    char csv[300];
    snprintf(csv, sizeof csv, "%s/D.csv", tmpdir);
    snprintf(cmd, sizeof cmd, "sw --pairwise %s --out %s --projections 40", pa, csv);
    assert_int_equal(otgen_run(cmd, 0, out, sizeof out), 0);
    char *text;
    size_t len;
    assert_int_equal(otg_file_read(csv, 0, &text, &len), OTG_OK);
    char *line2 = strchr(text, '\n') + 1; /* row 1: d10, d11, d12 */
    strtod(line2, &line2), strtod(line2 + 1, &line2);
    const double d12 = strtod(line2 + 1, NULL);
    snprintf(cmd, sizeof cmd, "sw %s %s --projections 40", p1, p2);
    assert_int_equal(otgen_run(cmd, 0, out, sizeof out), 0);
    char got[64], want[64];
    snprintf(got, sizeof got, "%.9g", d12);
    assert_true(sscanf(out, "sw=%63s", want) == 1);
    assert_string_equal(got, want);
    free(text);
    otg_tensor_free(all);
}

static void test_pairwise_bad_input_exits_2(void **state) {
    (void)state;
    static char out[8192], cmd[4096];
    make_tmpdir();
    otg_tensor *a = normal(10, 3, 0.0, 1), *b = normal(10, 2, 0.0, 2), *n = normal(10, 3, 0.0, 3);
    n->data[7] = nanf("");
    otg_tensor one = otg_tensor_view(a->data, 3, (int64_t[]){1, 10, 3});
    const char *pa = save("a", a), *pb = save("b", b), *pn = save("n", n), *p1 = save("one", &one);
    char outp[300];
    snprintf(outp, sizeof outp, "%s/D.npy", tmpdir);
    struct {
        const char *files, *msg;
    } bad[4];
    char f[4][700];
    snprintf(f[0], sizeof f[0], "%s", pa);
    snprintf(f[1], sizeof f[1], "%s", p1);
    snprintf(f[2], sizeof f[2], "%s %s", pa, pb);
    snprintf(f[3], sizeof f[3], "%s %s", pa, pn);
    bad[0].files = f[0], bad[0].msg = "is not a [K, n, d] array";
    bad[1].files = f[1], bad[1].msg = "K = 1 cloud, need 2 or more";
    bad[2].files = f[2], bad[2].msg = "has dimension 2";
    bad[3].files = f[3], bad[3].msg = "is NaN";
    for (int i = 0; i < 4; i++) {
        snprintf(cmd, sizeof cmd, "sw --pairwise %s --out %s", bad[i].files, outp);
        int rc = otgen_run(cmd, 1, out, sizeof out);
        if (rc != 2 || !strstr(out, bad[i].msg))
            fail_msg("'%s': exit %d, output '%s'", cmd, rc, out);
        assert_true(strchr(out, '\n') == out + strlen(out) - 1); /* one line */
    }
    snprintf(cmd, sizeof cmd, "sw --pairwise %s %s", pa, pa);
    assert_int_equal(otgen_run(cmd, 1, out, sizeof out), 2);
    assert_non_null(strstr(out, "needs --out"));
    snprintf(cmd, sizeof cmd, "sw --pairwise %s %s --kind rqmc --out %s", pb, pb, outp);
    assert_int_equal(otgen_run(cmd, 1, out, sizeof out), 2); /* b is 2-D */
    assert_non_null(strstr(out, "rqmc needs 3-D points"));
    assert_true(access(outp, F_OK) != 0); /* nothing written */
    otg_tensor_free(a), otg_tensor_free(b), otg_tensor_free(n);
}

/* float64 files at 1e6 + 0.1 N(0, 1): sw= and energy= of the offset files equal those of the same
 * data at the origin to 1e-4 (without the common shift float32 keeps steps of 0.06 and sw is
 * 2x off), and eval's sw= and energy_sliced= with a float64 --data file too. */
static void test_float64_offset_exactness(void **state) {
    (void)state;
    static char out[8192], cmd[4096];
    make_tmpdir();
    enum { N = 400, D = 3 };
    double *x = malloc(N * D * sizeof *x), *y = malloc(N * D * sizeof *y);
    double *x0 = malloc(N * D * sizeof *x0), *y0 = malloc(N * D * sizeof *y0);
    otg_rng r = otg_rng_make(11, 4);
    for (int i = 0; i < N * D; i++) {
        x0[i] = 0.1 * otg_rng_normal(&r), y0[i] = 0.1 * otg_rng_normal(&r) + 0.02;
        x[i] = 1e6 + x0[i], y[i] = 1e6 + y0[i];
    }
    const char *px = save_f64("x", N, D, x), *py = save_f64("y", N, D, y);
    const char *px0 = save_f64("x0", N, D, x0), *py0 = save_f64("y0", N, D, y0);
    const char *kinds[2] = {"sw", "energy"}, *keys[2] = {"sw=", "energy="};
    for (int k = 0; k < 2; k++) {
        snprintf(cmd, sizeof cmd, "%s %s %s --projections 64", kinds[k], px, py);
        assert_int_equal(otgen_run(cmd, 0, out, sizeof out), 0);
        const double v = value_of(out, keys[k]);
        snprintf(cmd, sizeof cmd, "%s %s %s --projections 64", kinds[k], px0, py0);
        assert_int_equal(otgen_run(cmd, 0, out, sizeof out), 0);
        const double v0 = value_of(out, keys[k]);
        if (!(fabs(v - v0) < 1e-4 * fabs(v0)) || !(v0 > 0.0))
            fail_msg("%s: offset %.9g, at the origin %.9g", kinds[k], v, v0);
    }
    snprintf(cmd, sizeof cmd, "eval --samples %s --data %s --n %d --projections 64", px, py, N);
    assert_int_equal(otgen_run(cmd, 0, out, sizeof out), 0);
    const double e = value_of(out, "sw="), es = value_of(out, "energy_sliced=");
    snprintf(cmd, sizeof cmd, "eval --samples %s --data %s --n %d --projections 64", px0, py0, N);
    assert_int_equal(otgen_run(cmd, 0, out, sizeof out), 0);
    const double e0 = value_of(out, "sw="), es0 = value_of(out, "energy_sliced=");
    assert_true(fabs(e - e0) < 1e-4 * e0 && e0 > 0.0);
    assert_true(fabs(es - es0) < 1e-4 * fabs(es0));
    free(x), free(y), free(x0), free(y0);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_pairwise_equals_separate_commands),
        cmocka_unit_test(test_pairwise_from_one_array),
        cmocka_unit_test(test_pairwise_bad_input_exits_2),
        cmocka_unit_test(test_float64_offset_exactness),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
