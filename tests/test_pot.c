/* Cross-check against POT (Debian's python3-pot, run with /usr/bin/python3): SW values,
 * per-direction values and weighted / unequal-size cases with the SAME directions. n_projections is
 * passed equal to the number of columns (POT 0.8.2 otherwise divides user projections by 50: its
 * bug #418). Skipped with a message when POT is not installed. */
// ctest-labels: cross
#define _POSIX_C_SOURCE 200809L
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h> /* after the three headers it needs */

#include "otgen/otgen.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char dir[128];

static int have_pot(void) {
    return system("/usr/bin/python3 -c 'import ot' >/dev/null 2>&1") == 0;
}

static void save(const char *name, otg_tensor *t) {
    char p[256];
    snprintf(p, sizeof p, "%s/%s.npy", dir, name);
    assert_int_equal(otg_npy_write(p, t, 1), OTG_OK);
}

/* Runs POT on the saved arrays; returns the distance and fills per[L] with its projected EMDs. */
static double pot_sw(double p, int weighted, int64_t L, double *per) {
    char cmd[2048];
    snprintf(
        cmd, sizeof cmd,
        "/usr/bin/python3 -c \""
        "import numpy as np, ot; d='%s'; ld=lambda k: np.load(d+'/'+k+'.npy').astype(np.float64);"
        "a=ld('a') if %d else None; b=ld('b') if %d else None;"
        "v,log=ot.sliced_wasserstein_distance(ld('x'),ld('y'),a,b,n_projections=%lld,p=%g,"
        "projections=ld('th'),log=True);"
        "print(repr(float(v)), ' '.join(repr(float(e)) for e in log['projected_emds']))\"",
        dir, weighted, weighted, (long long)L, p);
    FILE *f = popen(cmd, "r");
    assert_non_null(f);
    double v = NAN;
    if (fscanf(f, "%lf", &v) != 1) v = NAN;
    for (int64_t l = 0; l < L; l++)
        if (fscanf(f, "%lf", &per[l]) != 1) per[l] = NAN;
    assert_int_equal(pclose(f), 0);
    return v;
}

static void check_case(int64_t n, int64_t m, int64_t d, int64_t L, double p, int weighted,
                       uint64_t seed) {
    otg_tensor *x = otg_tensor_new(2, (int64_t[]){n, d}), *y = otg_tensor_new(2, (int64_t[]){m, d});
    otg_tensor *th = otg_tensor_new(2, (int64_t[]){d, L});
    otg_tensor *a = otg_tensor_new(1, (int64_t[]){n}), *b = otg_tensor_new(1, (int64_t[]){m});
    otg_rng r = otg_rng_make(seed, 0);
    otg_rng_fill_normal(&r, n * d, x->data);
    otg_rng_fill_uniform(&r, m * d, y->data);
    assert_int_equal(otg_sw_directions(&r, OTG_DIR_GAUSSIAN, d, L, th->data), OTG_OK);
    otg_rng_fill_uniform(&r, n, a->data);
    otg_rng_fill_uniform(&r, m, b->data);
    double sa = 0, sb = 0; /* POT expects weights summing to 1 */
    for (int64_t i = 0; i < n; i++)
        sa += (double)a->data[i];
    for (int64_t j = 0; j < m; j++)
        sb += (double)b->data[j];
    for (int64_t i = 0; i < n; i++)
        a->data[i] = (float)((double)a->data[i] / sa);
    for (int64_t j = 0; j < m; j++)
        b->data[j] = (float)((double)b->data[j] / sb);
    save("x", x), save("y", y), save("th", th), save("a", a), save("b", b);
    double *per = malloc((size_t)L * sizeof *per), *mine = malloc((size_t)L * sizeof *mine);
    double ref = pot_sw(p, weighted, L, per);
    otg_sw_workspace *ws = otg_sw_workspace_new();
    otg_sw_opts o = otg_sw_opts_default();
    o.p = p;
    otg_sw_result res;
    assert_int_equal(otg_sw(ws, x, weighted ? a->data : NULL, y, weighted ? b->data : NULL, th, &o,
                            &res, NULL, mine),
                     OTG_OK);
    print_message("n=%lld m=%lld d=%lld L=%lld p=%g %s: otgen %.9g, POT %.9g (rel %.2g)\n",
                  (long long)n, (long long)m, (long long)d, (long long)L, p,
                  weighted ? "weighted" : "uniform", res.distance, ref,
                  fabs(res.distance - ref) / ref);
    assert_true(fabs(res.distance - ref) < 1e-5 * ref);
    for (int64_t l = 0; l < L; l++)
        if (!(fabs(mine[l] - per[l]) < 1e-4 * (per[l] + 1e-6)))
            fail_msg("direction %lld: otgen %.9g vs POT %.9g", (long long)l, mine[l], per[l]);
    otg_sw_workspace_free(ws);
    free(per), free(mine);
    otg_tensor_free(x), otg_tensor_free(y), otg_tensor_free(th), otg_tensor_free(a),
        otg_tensor_free(b);
}

static void test_against_pot(void **state) {
    if (!have_pot()) {
        print_message("SKIPPED: /usr/bin/python3 cannot import ot (apt-get install python3-pot)\n");
        skip();
    }
    snprintf(dir, sizeof dir, "/tmp/otgen-pot-XXXXXX");
    assert_non_null(mkdtemp(dir));
    check_case(50, 50, 5, 20, 2.0, 0, 1);
    check_case(64, 64, 10, 33, 1.0, 0, 2);
    check_case(40, 40, 3, 16, 3.0, 0, 3);
    check_case(40, 30, 4, 12, 1.5, 1, 4); /* weights and n != m: the general path */
    check_case(25, 60, 2, 7, 2.0, 1, 5);
    char cmd[200];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
}

int main(void) {
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_against_pot)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
