/* The otgen CLI: exit statuses (0 success, 2 bad usage), one-line errors naming the flag, the
 * demo's loss falling, and identical output for the same seed. */
// ctest-labels: cli
#define _POSIX_C_SOURCE 200809L
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

/* Runs `otgen <args>` capturing stdout (and stderr when merge is set); returns the exit status. */
static int run(const char *args, int merge, char *out, size_t cap) {
    const char *bin = getenv("OTGEN_BINARY");
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "%s %s %s", bin ? bin : "./otgen", args,
             merge ? "2>&1" : "2>/dev/null");
    FILE *f = popen(cmd, "r");
    assert_non_null(f);
    size_t n = fread(out, 1, cap - 1, f);
    out[n] = '\0';
    int st = pclose(f);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static double value_of(const char *text, const char *key) {
    const char *p = strstr(text, key);
    return p ? atof(p + strlen(key)) : -1.0;
}

static void test_usage_errors_exit_2(void **state) {
    static char out[4096];
    assert_int_equal(run("", 1, out, sizeof out), 2);
    assert_int_equal(run("frobnicate", 1, out, sizeof out), 2);
    assert_non_null(strstr(out, "unknown command 'frobnicate'"));
    assert_int_equal(run("demo --lr abc", 1, out, sizeof out), 2);
    assert_non_null(strstr(out, "--lr: 'abc' is not a finite number"));
    assert_int_equal(run("demo --lr -1", 1, out, sizeof out), 2);
    assert_int_equal(run("demo --steps 0", 1, out, sizeof out), 2);
    assert_int_equal(run("demo --hidden 64,,3", 1, out, sizeof out), 2);
    assert_int_equal(run("demo --activation gelu", 1, out, sizeof out), 2);
    assert_non_null(strstr(out, "unknown activation 'gelu'"));
    assert_int_equal(run("demo --relu-prime 2", 1, out, sizeof out), 2);
    assert_int_equal(run("demo --bogus", 1, out, sizeof out), 2);
    assert_int_equal(run("demo extra", 1, out, sizeof out), 2);
    assert_int_equal(run("demo --help", 0, out, sizeof out), 0);
    assert_non_null(strstr(out, "--steps N         SGD steps [3000]"));
    assert_int_equal(run("--version", 0, out, sizeof out), 0);
    assert_non_null(strstr(out, "otgen "));
}

static void test_demo_loss_falls_and_is_reproducible(void **state) {
    static char a[8192], b[8192];
    const char *args = "demo --steps 400 --log-every 100 --seed 3 --threads 1";
    assert_int_equal(run(args, 0, a, sizeof a), 0);
    double v0 = value_of(a, "initial_val_mse="), v1 = value_of(a, "final_val_mse=");
    assert_true(v0 > 0 && v1 > 0);
    assert_true(v1 < 0.2 * v0);
    assert_int_equal(run(args, 0, b, sizeof b), 0);
    /* identical apart from the timing field */
    char *ta = strstr(a, "seconds="), *tb = strstr(b, "seconds=");
    assert_non_null(ta), assert_non_null(tb);
    *ta = *tb = '\0';
    assert_string_equal(a, b);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_usage_errors_exit_2),
        cmocka_unit_test(test_demo_loss_falls_and_is_reproducible),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
