/* The otgen CLI: exit statuses (0 success, 2 bad usage), one-line errors naming the flag, the
 * demo's loss falling, and identical output for the same seed. */
// ctest-labels: cli
#define _POSIX_C_SOURCE 200809L
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h> /* after the three headers it needs */

#include "clirun.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "otgen/otgen.h"

static double value_of(const char *text, const char *key) {
    const char *p = strstr(text, key);
    return p ? atof(p + strlen(key)) : -1.0;
}

static void test_usage_errors_exit_2(void **state) {
    static char out[4096];
    assert_int_equal(otgen_run("", 1, out, sizeof out), 2);
    assert_int_equal(otgen_run("frobnicate", 1, out, sizeof out), 2);
    assert_non_null(strstr(out, "unknown command 'frobnicate'"));
    assert_int_equal(otgen_run("demo --lr abc", 1, out, sizeof out), 2);
    assert_non_null(strstr(out, "--lr: 'abc' is not a finite number"));
    assert_int_equal(otgen_run("demo --lr -1", 1, out, sizeof out), 2);
    assert_int_equal(otgen_run("demo --steps 0", 1, out, sizeof out), 2);
    assert_int_equal(otgen_run("demo --hidden 64,,3", 1, out, sizeof out), 2);
    assert_int_equal(otgen_run("demo --activation gelu", 1, out, sizeof out), 2);
    assert_non_null(strstr(out, "unknown activation 'gelu'"));
    assert_int_equal(otgen_run("demo --relu-prime 2", 1, out, sizeof out), 2);
    assert_int_equal(otgen_run("demo --bogus", 1, out, sizeof out), 2);
    assert_int_equal(otgen_run("demo extra", 1, out, sizeof out), 2);
    assert_int_equal(otgen_run("demo --help", 0, out, sizeof out), 0);
    assert_non_null(strstr(out, "--steps N                  SGD steps [3000]"));
    assert_non_null(strstr(out, "--hidden W,W               hidden widths [64,64]"));
    assert_int_equal(otgen_run("--version", 0, out, sizeof out), 0);
    assert_non_null(strstr(out, "otgen "));
    /* options that would be ignored are refused (USER-TRIAL item 13) */
    assert_int_equal(otgen_run("train --data moons --classes 3 --steps 1 --out /tmp/otgen-cli-x", 1,
                               out, sizeof out),
                     2);
    assert_non_null(strstr(out, "applies to fashion-mnist only"));
    assert_int_equal(
        otgen_run("train --data moons --epochs 2 --out /tmp/otgen-cli-x", 1, out, sizeof out), 2);
    assert_non_null(strstr(out, "--epochs needs a finite data set"));
    assert_int_equal(otgen_run("train --data moons --model cnn --output-init-scale 0.5 --steps 1 "
                               "--out /tmp/otgen-cli-x",
                               1, out, sizeof out),
                     2);
    assert_non_null(strstr(out, "--output-init-scale applies to --model mlp only"));
    assert_int_equal(otgen_run("train --output-init-scale 1.5 --steps 1 --out /tmp/otgen-cli-x", 1,
                               out, sizeof out),
                     2);
    assert_non_null(strstr(out, "--output-init-scale: 1.5 outside [0, 1]"));
    assert_int_equal(otgen_run("train --data moons --output-blur 0.8 --steps 1 "
                               "--out /tmp/otgen-cli-x",
                               1, out, sizeof out),
                     2);
    assert_non_null(strstr(out, "--output-blur applies to --model mlp on images only"));
    assert_int_equal(otgen_run("train --data moons --output-median --steps 1 "
                               "--out /tmp/otgen-cli-x",
                               1, out, sizeof out),
                     2);
    assert_non_null(strstr(out, "--output-median applies to --model mlp on images only"));
    assert_int_equal(otgen_run("train --data moons --conditional --steps 1 --out /tmp/otgen-cli-x",
                               1, out, sizeof out),
                     2);
    assert_non_null(strstr(out, "--conditional needs labelled data (fashion-mnist), not moons"));
    assert_int_equal(
        otgen_run("train --estimator cv --steps 1 --out /nonexistent/r", 1, out, sizeof out), 2);
    assert_non_null(strstr(out, "unknown SW estimator 'cv'"));
    assert_int_equal(otgen_run("train --directions-kind rqmc --steps 1 --out /nonexistent/r", 1,
                               out, sizeof out),
                     2);
    assert_non_null(strstr(out, "rqmc needs 3-D data"));
    /* bench sw: the hadamard path runs and says so; an unknown kind exits 2 */
    assert_int_equal(
        otgen_run("bench sw --n 64 --d 100 --L 50 --kind hadamard --reps 1 --threads 1", 0, out,
                  sizeof out),
        0);
    assert_non_null(strstr(out, "kind=hadamard"));
    assert_null(strstr(out, "value=nan"));
    assert_int_equal(otgen_run("bench sw --n 64 --d 100 --L 50 --kind sobol", 1, out, sizeof out),
                     2);
    assert_non_null(strstr(out, "--kind: 'gaussian' or 'hadamard'"));
}

/* The OpenMP wait policy libgomp sees (OMP_DISPLAY_ENV) when otgen starts with `env_args`. */
static void wait_policy_seen(const char *env_args, char *out, size_t cap) {
    char cmd[4096];
    snprintf(
        cmd, sizeof cmd,
        "env -u OMP_WAIT_POLICY -u GOMP_SPINCOUNT OMP_DISPLAY_ENV=verbose %s %s --version 2>&1",
        env_args, otgen_bin());
    FILE *f = popen(cmd, "r");
    assert_non_null(f);
    size_t n = fread(out, 1, cap - 1, f);
    out[n] = '\0';
    assert_int_equal(pclose(f), 0);
}

/* otgen sets passive waiting before libgomp starts, unless the user chose a policy or a spin
 * count (then libgomp's own parsing of them stands). */
static void test_default_wait_policy_is_passive(void **state) {
    static char out[8192];
    wait_policy_seen("", out, sizeof out); /* passive: no spinning */
    assert_non_null(strstr(out, "GOMP_SPINCOUNT = '0'"));
    assert_non_null(strstr(out, "otgen "));
    wait_policy_seen("OMP_WAIT_POLICY=active", out, sizeof out);
    assert_non_null(strstr(out, "OMP_WAIT_POLICY = 'ACTIVE'"));
    wait_policy_seen("GOMP_SPINCOUNT=12345", out, sizeof out);
    assert_non_null(strstr(out, "GOMP_SPINCOUNT = '12345'"));
}

static void test_demo_loss_falls_and_is_reproducible(void **state) {
    static char a[8192], b[8192];
    const char *args = "demo --steps 400 --log-every 100 --seed 3 --threads 1";
    assert_int_equal(otgen_run(args, 0, a, sizeof a), 0);
    double v0 = value_of(a, "initial_val_mse="), v1 = value_of(a, "final_val_mse=");
    assert_true(v0 > 0 && v1 > 0);
    assert_true(v1 < 0.2 * v0);
    assert_int_equal(otgen_run(args, 0, b, sizeof b), 0);
    /* identical apart from the timing field */
    char *ta = strstr(a, "seconds="), *tb = strstr(b, "seconds=");
    assert_non_null(ta), assert_non_null(tb);
    *ta = *tb = '\0';
    assert_string_equal(a, b);
}

static char tmpdir[128];

/* Writes rows x cols values f(i) to tmpdir/name.npy; returns the path. */
static const char *npy(const char *name, int64_t rows, int64_t cols, const float *v) {
    static char paths[16][256];
    static int k;
    char *p = paths[k++ % 16];
    snprintf(p, 256, "%s/%s.npy", tmpdir, name);
    otg_tensor t = otg_tensor_view((float *)v, cols ? 2 : 1,
                                   cols ? (int64_t[]){rows, cols} : (int64_t[]){rows});
    assert_int_equal(otg_npy_write(p, &t, 1), OTG_OK);
    return p;
}

static void test_sw_command(void **state) {
    static char out[8192], cmd[2048];
    snprintf(tmpdir, sizeof tmpdir, "/tmp/otgen-cli-XXXXXX");
    assert_non_null(mkdtemp(tmpdir));
    float a[12], b[12];
    for (int i = 0; i < 12; i++)
        a[i] = (float)(i % 5) - 1.5f, b[i] = (float)(i * i % 7) * 0.5f;
    const char *pa = npy("a", 4, 3, a), *pb = npy("b", 4, 3, b);
    /* SW(A, A) = 0 */
    snprintf(cmd, sizeof cmd, "sw %s %s", pa, pa);
    assert_int_equal(otgen_run(cmd, 0, out, sizeof out), 0);
    assert_true(value_of(out, "sw=") == 0.0);
    assert_non_null(strstr(out, "quantity=SW_p p=2 projections=256 directions=gaussian"));
    /* one point each, one full orthonormal block: SW_2^2 = |x - y|^2 / d (Parseval) */
    const float x1[3] = {1, 2, 3}, y1[3] = {0, -1, 5};
    snprintf(cmd, sizeof cmd, "sw %s %s --kind orthogonal --projections 3 --squared --seed 9",
             npy("x1", 1, 3, x1), npy("y1", 1, 3, y1));
    assert_int_equal(otgen_run(cmd, 0, out, sizeof out), 0);
    assert_true(fabs(value_of(out, "sw=") - 14.0 / 3.0) < 1e-5);
    /* outputs: gradient and per-direction values; no overwrite without --force */
    char grad[256], per[256];
    snprintf(grad, sizeof grad, "%s/g.npy", tmpdir);
    snprintf(per, sizeof per, "%s/w.npy", tmpdir);
    snprintf(cmd, sizeof cmd, "sw %s %s --grad %s --per-direction %s --projections 10", pa, pb,
             grad, per);
    assert_int_equal(otgen_run(cmd, 0, out, sizeof out), 0);
    otg_tensor *g, *w;
    assert_int_equal(otg_npy_read(grad, 1, &g), OTG_OK);
    assert_int_equal(otg_npy_read(per, 1, &w), OTG_OK);
    assert_true(g->shape[0] == 4 && g->shape[1] == 3 && w->shape[0] == 10);
    otg_tensor_free(g), otg_tensor_free(w);
    assert_int_equal(otgen_run(cmd, 1, out, sizeof out), 2);
    assert_non_null(strstr(out, "exists (pass --force to overwrite)"));
    strcat(cmd, " --force");
    assert_int_equal(otgen_run(cmd, 0, out, sizeof out), 0);
    snprintf(cmd, sizeof cmd, "sw %s %s --max ascent --ascent-iters 20", pa, pb);
    assert_int_equal(otgen_run(cmd, 0, out, sizeof out), 0);
    assert_true(value_of(out, "sw=") >= value_of(out, "sampled_value="));
    /* the estimators: the same directions' plain mean is mc_sw, which is what mc prints */
    snprintf(cmd, sizeof cmd, "sw %s %s --projections 64 --seed 2", pa, pb);
    assert_int_equal(otgen_run(cmd, 0, out, sizeof out), 0);
    const double mc = value_of(out, "sw=");
    const char *ests[3] = {"lcv", "ucv", "ebsw"};
    for (int k = 0; k < 3; k++) {
        snprintf(cmd, sizeof cmd, "sw %s %s --projections 64 --seed 2 --estimator %s", pa, pb,
                 ests[k]);
        assert_int_equal(otgen_run(cmd, 0, out, sizeof out), 0);
        char key[32];
        snprintf(key, sizeof key, "estimator=%s", ests[k]);
        assert_non_null(strstr(out, key));
        assert_true(fabs(value_of(out, "mc_sw=") - mc) <= 1e-8 * mc);
        assert_true(value_of(out, "sw=") > 0.0 && value_of(out, "stderr=") > 0.0);
    }
    /* --direction-weights: sum_l w_l W_l / sum w (w from --per-direction of the same directions)
     * with --squared; uniform weights print the plain line's value */
    {
        float dwt[10], two[10];
        for (int l = 0; l < 10; l++)
            dwt[l] = (float)(l % 4), two[l] = 2.0f;
        snprintf(cmd, sizeof cmd, "sw %s %s --projections 10 --squared --per-direction %s --force",
                 pa, pb, per);
        assert_int_equal(otgen_run(cmd, 0, out, sizeof out), 0);
        const double plain = value_of(out, "sw=");
        assert_int_equal(otg_npy_read(per, 1, &w), OTG_OK);
        double sw = 0.0, sv = 0.0;
        for (int l = 0; l < 10; l++)
            sw += (double)dwt[l], sv += (double)dwt[l] * (double)w->data[l];
        otg_tensor_free(w);
        snprintf(cmd, sizeof cmd, "sw %s %s --projections 10 --squared --direction-weights %s", pa,
                 pb, npy("dw", 10, 0, dwt));
        assert_int_equal(otgen_run(cmd, 0, out, sizeof out), 0);
        assert_non_null(strstr(out, "direction_weights=given"));
        assert_true(fabs(value_of(out, "sw=") - sv / sw) <= 1e-6 * (sv / sw));
        snprintf(cmd, sizeof cmd, "sw %s %s --projections 10 --squared --direction-weights %s", pa,
                 pb, npy("dw2", 10, 0, two));
        assert_int_equal(otgen_run(cmd, 0, out, sizeof out), 0);
        assert_true(value_of(out, "sw=") == plain);
    }
    /* rqmc on 3-D points */
    snprintf(cmd, sizeof cmd, "sw %s %s --directions-kind rqmc --projections 100", pa, pb);
    assert_int_equal(otgen_run(cmd, 0, out, sizeof out), 0);
    assert_non_null(strstr(out, "directions=rqmc"));
}

/* otgen energy: 1-D clouds (one direction, exact: c_1 = 1) equal --exact; bad input exits 2. */
static void test_energy_command(void **state) {
    static char out[8192], cmd[2048];
    snprintf(tmpdir, sizeof tmpdir, "/tmp/otgen-cli-XXXXXX");
    assert_non_null(mkdtemp(tmpdir));
    const float a[5] = {0, 1, 3, 4, 9}, b[4] = {12, 12.5f, 17, 11};
    const char *pa = npy("ea", 5, 1, a), *pb = npy("eb", 4, 1, b);
    snprintf(cmd, sizeof cmd, "energy %s %s --projections 3 --exact", pa, pb);
    assert_int_equal(otgen_run(cmd, 0, out, sizeof out), 0);
    double e = value_of(out, "energy="), x = value_of(out, "exact=");
    assert_true(fabs(e - x) < 1e-6 * fabs(x) && x > 0.0);
    const float one[3] = {1, 2, 3};
    snprintf(cmd, sizeof cmd, "energy %s %s", npy("e1", 1, 3, one), pa);
    assert_int_equal(otgen_run(cmd, 1, out, sizeof out), 2);
    assert_non_null(strstr(out, "needs at least 2 points"));
    const float ab[6] = {0, 1, 2, 3, 4, 5};
    snprintf(cmd, sizeof cmd, "energy %s %s", npy("e2", 3, 2, ab), pa);
    assert_int_equal(otgen_run(cmd, 1, out, sizeof out), 2);
    assert_non_null(strstr(out, "has dimension 2"));
}

static void test_sw_bad_input_exits_2(void **state) {
    static char out[8192], cmd[2048];
    float a[12] = {0}, nanv[6] = {1, 2, 3, 4, 5, 0};
    nanv[5] = nanf("");
    const char *pa = npy("a", 4, 3, a), *p2 = npy("two", 3, 2, a), *pn = npy("nan", 3, 2, nanv);
    const char *w3 = npy("w3", 3, 0, a), *th = npy("th", 2, 5, a);
    const float negw[3] = {1, -1, 1};
    char with_w[512], with_th[512], with_dw[512], with_dwn[512], with_dwe[512];
    snprintf(with_w, sizeof with_w, "--weights-a %s", w3);
    snprintf(with_th, sizeof with_th, "--directions %s", th);
    snprintf(with_dw, sizeof with_dw, "--projections 4 --direction-weights %s", w3);
    snprintf(with_dwn, sizeof with_dwn, "--projections 3 --direction-weights %s",
             npy("negw", 3, 0, negw));
    snprintf(with_dwe, sizeof with_dwe, "--estimator lcv --direction-weights %s", w3);
    struct {
        const char *a, *b, *extra, *msg;
    } bad[] = {
        {pa, "", "", "needs two NPY files"},
        {pa, "/nonexistent.npy", "", "cannot open"},
        {pa, "/etc/passwd", "", "not an NPY file"},
        {pa, p2, "", "has dimension 3"},
        {pa, pa, "--projections 0", "--projections: 0 outside"},
        {pa, pa, "--p 0.5", "--p: 0.5 outside"},
        {pa, pa, "--kind sobol", "unknown direction kind 'sobol'"},
        {pa, pa, "--max best", "--max: 'best'"},
        {pa, pa, with_w, "--weights-a"},
        {pa, pa, with_th, "directions must be [d, L] = [3, L]"},
        {pa, pa, "--estimator cv", "--estimator: unknown SW estimator 'cv'"},
        {pa, pa, "--estimator ebsw --ebsw-energy poly", "unknown EBSW energy 'poly'"},
        {pa, pa, "--estimator ebsw --temperature 0", "--temperature: 0 outside"},
        {pa, pa, "--estimator lcv --max sampled", "not with --max"},
        {p2, p2, "--kind rqmc", "rqmc needs 3"},
        {pa, pa, with_dw, "3 weights for 4 directions"},
        {pa, pa, with_dwn, "weight 1 is -1"},
        {pa, pa, with_dwe, "with the mc estimator only"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        snprintf(cmd, sizeof cmd, "sw %s %s %s", bad[i].a, bad[i].b, bad[i].extra);
        int rc = otgen_run(cmd, 1, out, sizeof out);
        if (rc != 2 || !strstr(out, bad[i].msg))
            fail_msg("'%s': exit %d, output '%s'", cmd, rc, out);
        assert_true(strchr(out, '\n') == out + strlen(out) - 1); /* one line */
    }
    snprintf(cmd, sizeof cmd, "sw %s %s", pn, p2);
    assert_int_equal(otgen_run(cmd, 1, out, sizeof out), 2);
    assert_non_null(strstr(out, "element [2, 1] is NaN"));
    snprintf(cmd, sizeof cmd, "eval --samples %s --data moons --classes 1", p2);
    assert_int_equal(otgen_run(cmd, 1, out, sizeof out), 2);
    assert_non_null(strstr(out, "applies to fashion-mnist only"));
    snprintf(cmd, sizeof cmd, "eval --samples %s --data fashion-mnist --classes 11", p2);
    assert_int_equal(otgen_run(cmd, 1, out, sizeof out), 2);
    assert_non_null(strstr(out, "'11' is not a comma-separated list of integers in [0, 9]"));
    snprintf(cmd, sizeof cmd, "eval --samples %s --data moons --split foo", p2); /* a law */
    assert_int_equal(otgen_run(cmd, 1, out, sizeof out), 2);
    assert_non_null(strstr(out, "moons: split 'foo' unknown (train or test)"));
}

/* Runs `OTGEN_SORT=<engine> otgen <args>` (stderr merged); returns the exit status. */
static int run_with_sort(const char *engine, const char *args, char *out, size_t cap) {
    setenv("OTGEN_SORT", engine, 1);
    int st = otgen_run(args, 1, out, cap);
    unsetenv("OTGEN_SORT");
    return st;
}

/* OTGEN_SORT picks the SW sorts' engine: c, vq and auto (measured) give the same value and
 * gradient bits on clouds large enough for either engine; any other value exits 2. */
static void test_sort_engine_env(void **state) {
    static char out[3][8192], cmd[2048], grads[3][256];
    static float a[1500 * 3], b[1500 * 3];
    for (int i = 0; i < 1500 * 3; i++)
        a[i] = (float)((i * 37) % 101) * 0.01f - 0.5f;
    for (int i = 0; i < 1500 * 3; i++)
        b[i] = (float)((i * 53) % 97) * 0.02f;
    const char *pa = npy("sa", 1500, 3, a), *pb = npy("sb", 1500, 3, b);
    const char *engines[3] = {"c", "vq", "auto"};
    for (int e = 0; e < 3; e++) {
        snprintf(grads[e], sizeof grads[e], "%s/g_%s.npy", tmpdir, engines[e]);
        snprintf(cmd, sizeof cmd, "sw %s %s --projections 50 --grad %s --force", pa, pb, grads[e]);
        assert_int_equal(run_with_sort(engines[e], cmd, out[e], sizeof out[e]), 0);
        char *t = strstr(out[e], "seconds=");
        if (t) *t = '\0';
    }
    otg_tensor *g[3];
    for (int e = 0; e < 3; e++)
        assert_int_equal(otg_npy_read(grads[e], 1, &g[e]), OTG_OK);
    for (int e = 1; e < 3; e++) {
        assert_string_equal(out[e], out[0]);
        assert_memory_equal(g[e]->data, g[0]->data, 1500 * 3 * sizeof(float));
    }
    for (int e = 0; e < 3; e++)
        otg_tensor_free(g[e]);
    assert_int_equal(run_with_sort("radix", "sw --help", out[0], sizeof out[0]), 2);
    assert_non_null(strstr(out[0], "OTGEN_SORT must be c, vq or auto, not 'radix'"));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_usage_errors_exit_2),
        cmocka_unit_test(test_default_wait_policy_is_passive),
        cmocka_unit_test(test_demo_loss_falls_and_is_reproducible),
        cmocka_unit_test(test_sw_command),
        cmocka_unit_test(test_energy_command),
        cmocka_unit_test(test_sw_bad_input_exits_2),
        cmocka_unit_test(test_sort_engine_env),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
