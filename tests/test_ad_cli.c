/* otgen ad-check and otgen ad-study end to end: the path-identity residual is small for the tape's
 * ReLU MLP and its custom-op copy and large for a deliberately wrong derivative; the study finds
 * no difference between relu'(0) = 0 and 1 without kink hits, finds it at step 1 when the latents
 * put ReLU inputs exactly at 0, agrees with its float64 reference path, writes its table and
 * charts, refuses to overwrite them, and repeats itself bit for bit; bad flags exit 2. */
// ctest-labels: cli grad
#define _POSIX_C_SOURCE 200809L
// clang-format off
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "clirun.h"
// clang-format on

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static char dir[128];


/* The value of key= in the last line of text (-1 if absent). */
static double last_value(const char *text, const char *key) {
    const char *end = text + strlen(text), *line = end - 1;
    while (line > text && line[-1] != '\n')
        line--;
    if (line == end - 1 && line > text) { /* text ends with '\n': step back one more line */
        line--;
        while (line > text && line[-1] != '\n')
            line--;
    }
    const char *p = strstr(line, key);
    return p ? atof(p + strlen(key)) : -1.0;
}

static const char *CHECK = "ad-check --curves 4 --points 1000 --seed 3";

static void test_ad_check_passes_on_relu_mlp(void **state) {
    static char out[16384], args[512];
    const char *acts[] = {"relu", "custom_relu", "leaky_relu", "tanh"};
    for (int i = 0; i < 4; i++) {
        snprintf(args, sizeof args, "%s --activation %s", CHECK, acts[i]);
        assert_int_equal(otgen_run(args, 0, out, sizeof out), 0);
        double r = last_value(out, " residual=");
        print_message("ad-check %s: residual %.3g, kink hits %g\n", acts[i], r,
                      last_value(out, " kink_hits="));
        assert_true(r >= 0.0 && r < 2e-3);
        assert_non_null(strstr(out, "verdict=pass"));
    }
    /* the tape's relu meets kinks on the curves through the origin (custom ops count their own) */
    snprintf(args, sizeof args, "%s --activation relu", CHECK);
    otgen_run(args, 0, out, sizeof out);
    assert_true(last_value(out, " kink_hits=") > 0);
    /* the same with relu'(0) = 1, through parameters only, and through the SW loss */
    snprintf(args, sizeof args, "%s --relu-prime 1 --wrt params --loss sw", CHECK);
    assert_int_equal(otgen_run(args, 0, out, sizeof out), 0);
    assert_true(last_value(out, " residual=") < 5e-3);
}

static void test_ad_check_catches_a_wrong_derivative(void **state) {
    static char out[16384], args[512];
    snprintf(args, sizeof args, "%s --activation broken_relu", CHECK);
    assert_int_equal(otgen_run(args, 0, out, sizeof out), 0);
    double r = last_value(out, " residual="), coarse = last_value(out, "residual_coarse=");
    print_message("ad-check broken_relu (derivative 1.1 above 0): residual %.3g (coarse %.3g)\n", r,
                  coarse);
    assert_true(r > 0.02);
    assert_non_null(strstr(out, "verdict=fail"));
    /* refining the grid does not make it go away, unlike a correct op's quadrature error */
    assert_true(r > 0.5 * coarse);
}

static void test_ad_check_reproducible(void **state) {
    static char a[16384], b[16384];
    assert_int_equal(otgen_run(CHECK, 0, a, sizeof a), 0);
    assert_int_equal(otgen_run(CHECK, 0, b, sizeof b), 0);
    assert_string_equal(a, b);
}

static const char *STUDY =
    "ad-study --widths 8,16 --depths 1,2 --seeds 2 --steps 30 --batch 32 --projections 8 "
    "--val-n 64 --ref-width 8 --ref-depth 1 --threads 1";

static void test_ad_study_gaussian_and_grid(void **state) {
    static char out[16384], args[1024], again[16384];
    snprintf(args, sizeof args, "%s --out %s/g", STUDY, dir);
    assert_int_equal(otgen_run(args, 0, out, sizeof out), 0);
    print_message("%s", out);
    /* the float64 path reproduces the tape's gradient and stays near the float32 trajectory */
    assert_true(last_value(out, "f64_grad_rel=") < 1e-5);
    assert_true(last_value(out, "f32_drift=") < 1e-3);
    assert_true(last_value(out, "f64_affected=") == 0 && last_value(out, "f64_kink_hits=") == 0);
    /* without kink hits relu'(0) cannot matter */
    if (last_value(out, " kink_hits=") == 0) assert_true(last_value(out, " affected=") == 0);
    const char *files[] = {"study.csv", "affected.png", "kinks.png"};
    for (int i = 0; i < 2; i++) {
        char p[512];
        snprintf(p, sizeof p, "%s/g/%s", dir, files[i]);
        if (access(p, F_OK)) fail_msg("missing %s", p);
    }
    /* same command, same stdout (timings go to stderr); no overwrite without --force */
    assert_int_equal(otgen_run(args, 1, again, sizeof again), 2);
    assert_non_null(strstr(again, "exists (pass --force to overwrite)"));
    strcat(args, " --force");
    assert_int_equal(otgen_run(args, 0, again, sizeof again), 0);
    assert_string_equal(out, again);
    /* grid latents contain (0, 0): with zero biases every ReLU input is 0 at step 1, so s = 0 and
     * s = 1 part at step 1 in float32 and in float64 alike */
    snprintf(args, sizeof args, "%s --batch 128 --source grid --out %s/grid", STUDY, dir);
    assert_int_equal(otgen_run(args, 0, out, sizeof out), 0);
    assert_true(last_value(out, "fraction=") == 1.0);
    assert_true(last_value(out, "f64_affected=") == 2.0);
    char p[512];
    snprintf(p, sizeof p, "%s/grid/study.csv", dir);
    FILE *f = fopen(p, "r");
    assert_non_null(f);
    char line[512];
    int rows = 0;
    while (fgets(line, sizeof line, f))
        if (strncmp(line, "path,", 5)) {
            /* path,width,depth,seed,steps,first_diff,... */
            const char *c = line;
            for (int k = 0; k < 5; k++)
                c = strchr(c, ',') + 1;
            assert_int_equal(atoi(c), 1);
            rows++;
        }
    fclose(f);
    assert_int_equal(rows, 4 * 2 + 2 + 2); /* the sweep, f32-ref and f64 rows */
}

static void test_ad_bad_flags_exit_2(void **state) {
    static char out[4096];
    struct {
        const char *args, *msg;
    } bad[] = {
        {"ad-check --bogus", "unknown or incomplete option '--bogus'"},
        {"ad-check --wrt weights", "--wrt: 'weights' (params, input or both)"},
        {"ad-check --loss l2", "--loss: 'l2' (sum or sw)"},
        {"ad-check --model transformer", "--model: unknown model 'transformer'"},
        {"ad-check --activation gelu", "--activation: unknown activation 'gelu'"},
        {"ad-check --model cnn --activation broken_relu", "only with --model mlp"},
        {"ad-check --curves 0", "--curves: 0 outside"},
        {"ad-check --relu-prime 1.5", "--relu-prime: 1.5 outside"},
        {"ad-check --points x", "--points: 'x' is not an integer"},
        {"ad-check extra", "unexpected argument 'extra'"},
        {"ad-study --widths 0", "--widths"},
        {"ad-study --depths 9", "--depths: 9 outside [1, 8]"},
        {"ad-study --data nosuch", "--data"},
        {"ad-study --source swiss-rol", "--source"},
        {"ad-study --steps 0", "--steps: 0 outside"},
        {"ad-study --lr -1", "--lr: -1 outside"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int rc = otgen_run(bad[i].args, 1, out, sizeof out);
        if (rc != 2 || !strstr(out, bad[i].msg))
            fail_msg("'%s': exit %d, output '%s'", bad[i].args, rc, out);
        assert_true(strchr(out, '\n') == out + strlen(out) - 1); /* one line */
    }
    assert_int_equal(otgen_run("ad-check --help", 0, out, sizeof out), 0);
    assert_non_null(strstr(out, "--points M"));
    assert_non_null(strstr(out, "[2000]"));
    assert_int_equal(otgen_run("ad-study --help", 0, out, sizeof out), 0);
    assert_non_null(strstr(out, "[16,32,64,128,256]"));
}

static int setup(void **state) {
    snprintf(dir, sizeof dir, "/tmp/otgen-adcli-XXXXXX");
    return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state) {
    char cmd[256];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ad_check_passes_on_relu_mlp),
        cmocka_unit_test(test_ad_check_catches_a_wrong_derivative),
        cmocka_unit_test(test_ad_check_reproducible),
        cmocka_unit_test(test_ad_study_gaussian_and_grid),
        cmocka_unit_test(test_ad_bad_flags_exit_2),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
