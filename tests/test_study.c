/* The study harness (otgen/study.h): per-row mean and standard error over repeats with
 * non-finite rows skipped, the 1/k-weighted log-log slope, and the CSV layout. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "otgen/study.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void test_stats(void **state) {
    assert_null(otg_series_stats_new(0, 1));
    assert_null(otg_series_stats_new(2, 65));
    otg_series_stats *s = otg_series_stats_new(2, 2);
    assert_non_null(s);
    double a[2] = {1, 10}, b[2] = {3, 30}, bad[2] = {5, (double)NAN}, m, se;
    otg_series_stats_add(s, 0, a), otg_series_stats_add(s, 0, b), otg_series_stats_add(s, 0, bad);
    otg_series_stats_add(s, 7, a); /* out of range: ignored */
    otg_series_stats_add(s, 1, a);
    assert_int_equal(otg_series_stats_count(s, 0), 2);
    otg_series_stats_get(s, 1, 0, &m, &se);
    assert_true(m == 20.0 && fabs(se - 10.0) < 1e-12); /* sd 14.14 / sqrt 2 */
    otg_series_stats_get(s, 0, 1, &m, &se);
    assert_true(m == 1.0 && isnan(se));
    otg_series_stats_free(s);
    otg_series_stats_free(NULL);
}

static void test_slope(void **state) {
    double k[200], y[200];
    for (int i = 0; i < 200; i++)
        k[i] = i, y[i] = 3.0 * pow(i + 0.0, -1.5);
    assert_true(fabs(otg_loglog_slope(k, y, 200, 2.0) + 1.5) < 1e-12); /* k = 0 skipped */
    assert_true(isnan(otg_loglog_slope(k, y, 3, 0.0)));                /* 2 usable entries */
}

static void test_csv(void **state) {
    otg_series_stats *s = otg_series_stats_new(2, 2), *t = otg_series_stats_new(2, 2);
    double v[2] = {0.5, 2};
    otg_series_stats_add(s, 0, v), otg_series_stats_add(s, 1, v), otg_series_stats_add(t, 1, v);
    const char *cols[2] = {"a", "b"}, *labels[2] = {"x", "y"};
    const int64_t steps[2] = {0, 10}, sam[2] = {0, 40}, *samples[2] = {sam, sam};
    unsigned char blank[2] = {0, 1};
    char path[128], buf[512];
    snprintf(path, sizeof path, "/tmp/otg_study_%d.csv", (int)getpid());
    assert_int_equal(otg_series_stats_write_csv(s, cols, steps, path, 1), OTG_OK);
    assert_int_equal(otg_series_stats_write_csv(s, cols, steps, path, 0), OTG_EIO);
    FILE *f = fopen(path, "r");
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    assert_string_equal(buf, "step,a,b,a_se,b_se\n0,0.5,2,,\n10,0.5,2,,\n");
    const otg_series_stats *both[2] = {s, t};
    otg_series_csv spec = {cols, steps, samples, labels, blank};
    assert_int_equal(otg_series_stats_write_csv_ex(both, 2, &spec, path, 1), OTG_OK);
    f = fopen(path, "r");
    n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = '\0';
    assert_string_equal(buf, "step,samples,a,b,a_se,b_se,method\n0,0,0.5,,,,x\n10,40,0.5,,,,x\n"
                             "0,0,nan,,,,y\n10,40,0.5,,,,y\n");
    unlink(path);
    otg_series_stats_free(s), otg_series_stats_free(t);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_stats),
        cmocka_unit_test(test_slope),
        cmocka_unit_test(test_csv),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
