/* The study harness (otgen/study.h): per-row mean and standard error over repeats with
 * non-finite rows skipped, the 1/k-weighted log-log slope, and the CSV layout; the ad-study's
 * float64 reference path against finite differences of its own loss, and a tiny study run
 * in-process through its hooks. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "otgen/study.h"
#include "study/study_internal.h"

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

/* The float64 reference path's gradient equals central differences of its loss at a random point
 * away from kinks (2 -> 5 -> 5 -> 2, batch 7, 3 directions). */
static void test_ad_ref_fd(void **state) {
    (void)state;
    const int64_t widths[4] = {2, 5, 5, 2}, n = 7, L = 3;
    assert_null(otgi_adref_new(widths, 1, n, L, 0.0));
    otgi_adref *r = otgi_adref_new(widths, 4, n, L, 0.0);
    assert_non_null(r);
    assert_int_equal(r->n_params, 2 * 5 + 5 + 5 * 5 + 5 + 5 * 2 + 2);
    otg_rng rng = otg_rng_make(3, 0);
    float z[14], y[14], theta[6];
    for (int i = 0; i < 14; i++)
        z[i] = (float)otg_rng_normal(&rng), y[i] = (float)otg_rng_normal(&rng);
    for (int i = 0; i < 6; i++)
        theta[i] = (float)otg_rng_normal(&rng);
    for (int64_t i = 0; i < r->n_params; i++)
        r->u[i] = 0.7 * otg_rng_normal(&rng);
    double *g = malloc((size_t)r->n_params * sizeof *g);
    assert_non_null(g);
    double v = otgi_adref_loss_grad(r, z, y, theta);
    assert_true(isfinite(v) && v > 0.0);
    assert_int_equal(r->kinks, 0);
    memcpy(g, r->g, (size_t)r->n_params * sizeof *g);
    double worst = 0.0, gmax = 0.0;
    for (int64_t i = 0; i < r->n_params; i++) {
        const double h = 1e-6, u0 = r->u[i];
        r->u[i] = u0 + h;
        double vp = otgi_adref_loss_grad(r, z, y, theta);
        r->u[i] = u0 - h;
        double vm = otgi_adref_loss_grad(r, z, y, theta);
        r->u[i] = u0;
        worst = fmax(worst, fabs((vp - vm) / (2 * h) - g[i]));
        gmax = fmax(gmax, fabs(g[i]));
    }
    assert_true(gmax > 1e-3);
    if (worst > 1e-6 * fmax(1.0, gmax)) fail_msg("ref gradient vs FD: max error %g", worst);
    free(g);
    otgi_adref_free(r);
}

typedef struct {
    int rows[3], cells;
    int64_t kinks, affected, first_diff_not_1;
    int nonfinite, unequal_losses;
} ad_seen;

static void seen_row(void *user, const otg_ad_study_row *r) {
    ad_seen *a = user;
    int p = !strcmp(r->path, "f32") ? 0 : !strcmp(r->path, "f32-ref") ? 1 : 2;
    assert_true(p < 2 || !strcmp(r->path, "f64"));
    a->rows[p]++;
    a->nonfinite += !isfinite(r->loss0) || !isfinite(r->loss1) || !isfinite(r->val0) ||
                    !isfinite(r->val1) || !isfinite(r->drift) || !isfinite(r->grad_rel);
    if (p == 0) a->kinks += r->kinks, a->affected += r->first_diff != 0;
    a->first_diff_not_1 += r->first_diff != 1;
    a->unequal_losses += r->loss0 != r->loss1 || r->val0 != r->val1;
    if (p == 2) assert_true(r->grad_rel < 1e-5 && r->drift < 1e-5);
    assert_true(r->kinks_to_diff <= r->kinks && r->steps == 5 && r->diverged == 0);
}

static void seen_cell(void *user, const otg_ad_study_cell *c) {
    ad_seen *a = user;
    a->cells++;
    assert_int_equal(c->runs, 2);
    assert_true(c->fraction == (double)c->affected / 2.0);
}

/* A tiny study in-process: one row per run, one cell per width and depth; Gaussian latents never
 * hit a kink (the pair is bitwise identical), grid latents with (0, 0) hit them at step 1. */
static void test_ad_study_run(void **state) {
    (void)state;
    otg_ad_study_config c = otg_ad_study_config_default();
    c.widths[0] = 4, c.widths[1] = 8, c.n_widths = 2, c.depths[0] = 1, c.n_depths = 1;
    c.seeds = 2, c.steps = 5, c.batch = 64, c.projections = 4, c.ref_width = 4, c.ref_depth = 1;
    c.val_n = 32;
    otg_ad_study *s = NULL;
    otg_ad_study_totals t;
    for (int grid = 0; grid < 2; grid++) {
        snprintf(c.source, sizeof c.source, "%s", grid ? "grid" : "gaussian");
        assert_int_equal(otg_ad_study_new(&c, &s), OTG_OK);
        ad_seen a;
        memset(&a, 0, sizeof a);
        assert_int_equal(otg_ad_study_run(s, &(otg_ad_study_hooks){seen_row, seen_cell, &a}, &t),
                         OTG_OK);
        otg_ad_study_free(s);
        assert_true(a.rows[0] == 4 && a.rows[1] == 2 && a.rows[2] == 2 && a.cells == 2);
        assert_int_equal(a.nonfinite, 0);
        assert_true(t.runs == 4 && t.f64_runs == 2 && t.kinks == a.kinks);
        assert_true(t.affected == a.affected && t.f64_grad_rel < 1e-5);
        if (grid) { /* every run affected at step 1 by the kinks of the origin */
            assert_true(t.affected == 4 && t.f64_affected == 2 && t.kinks > 0);
            assert_int_equal(a.first_diff_not_1, 0);
        } else {
            assert_true(t.affected == 0 && t.kinks == 0 && t.f64_kinks == 0);
            assert_int_equal(a.unequal_losses, 0);
        }
    }
    /* the same config again without hooks gives the same totals */
    otg_ad_study_totals t2;
    assert_int_equal(otg_ad_study_new(&c, &s), OTG_OK);
    assert_int_equal(otg_ad_study_run(s, NULL, &t2), OTG_OK);
    otg_ad_study_free(s);
    assert_true(t2.kinks == t.kinks && t2.f32_drift == t.f32_drift);
}

static void test_ad_study_bad_config(void **state) {
    (void)state;
    otg_ad_study *s = (otg_ad_study *)&s;
    otg_ad_study_config c = otg_ad_study_config_default();
    c.depths[0] = 9;
    assert_int_equal(otg_ad_study_new(&c, &s), OTG_EINVAL);
    assert_null(s);
    assert_non_null(strstr(otg_last_error(), "depths: 9"));
    c = otg_ad_study_config_default();
    snprintf(c.data, sizeof c.data, "nosuch");
    assert_int_equal(otg_ad_study_new(&c, &s), OTG_EINVAL);
    assert_non_null(strstr(otg_last_error(), "ad-study: data: "));
    c = otg_ad_study_config_default();
    snprintf(c.source, sizeof c.source, "fashion-mnist");
    assert_int_equal(otg_ad_study_new(&c, &s), OTG_EINVAL);
    c = otg_ad_study_config_default();
    c.lr = 0.0;
    assert_int_equal(otg_ad_study_new(&c, &s), OTG_EINVAL);
    otg_ad_study_free(NULL);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_stats),        cmocka_unit_test(test_slope),
        cmocka_unit_test(test_csv),          cmocka_unit_test(test_ad_ref_fd),
        cmocka_unit_test(test_ad_study_run), cmocka_unit_test(test_ad_study_bad_config),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
