/* otgen train / sample / eval end to end: the validation SW of a short 2-D run falls tenfold; the
 * promises of docs/design.md section 5 — same seed gives bit-identical metrics and checkpoints,
 * for any thread count, a run killed with SIGKILL and resumed ends bit-identical, a corrupted or truncated
 * checkpoint is refused with its reason, a diverging run stops naming the step and keeps its last
 * good checkpoint, a run directory is not overwritten without --force; the CLI's errors; a
 * Fashion-MNIST smoke run (skipped when the data set is absent). */
// ctest-labels: cli converge
#define _POSIX_C_SOURCE 200809L
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "clirun.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static char dir[128];
static const char *SMALL = "--hidden 64,64 --batch 128 --projections 32 --val-n 512 --val-projections 64 --threads 2";


static char *slurp(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *p = malloc((size_t)n + 1);
    *len = fread(p, 1, (size_t)n, f);
    p[*len] = '\0';
    fclose(f);
    return p;
}

/* metrics.csv without its time_s column (wall time is the one field that cannot repeat). */
static char *metrics_without_time(const char *run_dir) {
    char path[512];
    snprintf(path, sizeof path, "%s/metrics.csv", run_dir);
    size_t len;
    char *t = slurp(path, &len), *o = malloc(len + 1), *w = o;
    assert_non_null(t);
    for (char *line = t, *nl; (nl = strchr(line, '\n')); line = nl + 1) {
        char *c1 = strchr(line, ','), *c2 = c1 ? strchr(c1 + 1, ',') : NULL;
        if (!c2 || c2 > nl) c2 = line;
        memcpy(w, line, (size_t)(c1 - line)), w += c1 - line;
        memcpy(w, c2, (size_t)(nl - c2 + 1)), w += nl - c2 + 1;
    }
    *w = '\0';
    free(t);
    return o;
}

/* Equal strings, or a failure naming the first line where they differ. */
static void assert_same_text(const char *a, const char *b) {
    int line = 1;
    const char *p = a, *q = b;
    for (; *p && *p == *q; p++, q++) line += *p == '\n';
    if (*p || *q) fail_msg("metrics differ from line %d: '%.60s' vs '%.60s'", line, p, q);
}

static void assert_same_file(const char *a, const char *b) {
    size_t la, lb;
    char *x = slurp(a, &la), *y = slurp(b, &lb);
    assert_non_null(x), assert_non_null(y);
    if (la != lb || memcmp(x, y, la)) fail_msg("%s and %s differ", a, b);
    free(x), free(y);
}

static double column(const char *csv_line, int col) {
    const char *p = csv_line;
    for (int i = 0; i < col && p; i++) p = strchr(p, ',') ? strchr(p, ',') + 1 : NULL;
    return p ? atof(p) : -1;
}

static int setup(void **state) {
    snprintf(dir, sizeof dir, "/tmp/otgen-train-XXXXXX");
    return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state) {
    char cmd[256];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd);
}

static void test_2d_run_learns_and_writes_its_files(void **state) {
    static char out[65536], args[1024];
    snprintf(args, sizeof args, "train --data moons --steps 600 --hidden 128,128 --threads 2 --out %s/moons", dir);
    assert_int_equal(otgen_run(args, 1, out, sizeof out), 0);
    const char *files[] = {"config.json", "metrics.csv", "metrics.jsonl", "checkpoint.otg", "samples.png", "loss.png"};
    for (int i = 0; i < 6; i++) {
        char p[512];
        snprintf(p, sizeof p, "%s/moons/%s", dir, files[i]);
        if (access(p, F_OK)) fail_msg("missing %s", p);
    }
    char p[512];
    snprintf(p, sizeof p, "%s/moons/metrics.csv", dir);
    size_t len;
    char *csv = slurp(p, &len);
    const char *header = "step,time_s,loss,loss_stderr,val_sw,grad_norm,lr,kinks,relu_kinks,sort_ties,val_fd\n";
    assert_true(!strncmp(csv, header, strlen(header)));
    char *row0 = strchr(csv, '\n') + 1, *last = csv + len - 2;
    while (last > csv && *last != '\n') last--;
    double v0 = column(row0, 4), v1 = column(last + 1, 4);
    print_message("moons: validation SW %.4f at step 0, %.4f at step 600\n", v0, v1);
    assert_true(v0 > 0 && v1 > 0 && v1 < v0 / 10);
    free(csv);
    /* sample and eval read the checkpoint */
    snprintf(args, sizeof args, "sample --checkpoint %s/moons/checkpoint.otg --n 300 --out %s/s.npy", dir, dir);
    assert_int_equal(otgen_run(args, 1, out, sizeof out), 0);
    snprintf(args, sizeof args, "eval --samples %s/s.npy --data moons --n 300 --projections 200", dir);
    assert_int_equal(otgen_run(args, 1, out, sizeof out), 0);
    assert_non_null(strstr(out, "energy="));
}

static void test_same_seed_same_bits(void **state) {
    static char out[65536], args[1024];
    for (int k = 0; k < 2; k++) {
        snprintf(args, sizeof args, "train --data swiss-roll --optimizer npsgd --lr 0.01 --radius 50 --steps 150 %s --seed 7 --out %s/rep%d", SMALL, dir, k);
        assert_int_equal(otgen_run(args, 1, out, sizeof out), 0);
    }
    char a[512], b[512];
    snprintf(a, sizeof a, "%s/rep0/checkpoint.otg", dir);
    snprintf(b, sizeof b, "%s/rep1/checkpoint.otg", dir);
    assert_same_file(a, b);
    snprintf(a, sizeof a, "%s/rep0", dir), snprintf(b, sizeof b, "%s/rep1", dir);
    char *ma = metrics_without_time(a), *mb = metrics_without_time(b);
    assert_same_text(ma, mb);
    free(ma), free(mb);
}

/* The same run on 1 and 2 threads ends with the same bits: every GEMM has the bits of one
 * single-threaded call (src/core/gemm.c). A 2-D run, and a Fashion-MNIST run when installed. */
static void test_thread_count_same_bits(void **state) {
    static char out[65536], args[1024];
    /* the third: a permuted fixed basis with the weight average; the fourth: hadamard directions
     * (fast transforms) and a blurred output; the fifth: make demo's class-conditional generator
     * with its median-filtered samples */
    const char *runs[5] = {"--data moons --steps 200 --val-every 50",
                           "--data fashion-mnist --steps 10 --val-every 5",
                           "--data fashion-mnist --steps 10 --val-every 5 --projections 784 "
                           "--directions-kind permuted --ema 0.9",
                           "--data fashion-mnist --steps 10 --val-every 5 --projections 784 "
                           "--directions-kind hadamard --output-blur 0.8",
                           "--data fashion-mnist --conditional --steps 10 --val-every 5 "
                           "--projections 784 --directions-kind hadamard --data-batch 1024 "
                           "--sample-median"};
    int nruns = access("/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz", R_OK) ? 1 : 5;
    for (int r = 0; r < nruns; r++) {
        char a[512], b[512];
        for (int t = 1; t <= 2; t++) {
            snprintf(args, sizeof args, "train %s --threads %d --out %s/thr%d_%d", runs[r], t, dir,
                     r, t);
            int rc = otgen_run(args, 1, out, sizeof out);
            if (rc) fail_msg("%s: exit %d: %s", args, rc, out);
        }
        snprintf(a, sizeof a, "%s/thr%d_1/checkpoint.otg", dir, r);
        snprintf(b, sizeof b, "%s/thr%d_2/checkpoint.otg", dir, r);
        assert_same_file(a, b);
        snprintf(a, sizeof a, "%s/thr%d_1", dir, r), snprintf(b, sizeof b, "%s/thr%d_2", dir, r);
        char *ma = metrics_without_time(a), *mb = metrics_without_time(b);
        assert_same_text(ma, mb);
        free(ma), free(mb);
    }
}

/* Start a run, SIGKILL it after a while, resume; compare with an uninterrupted run. */
static void test_killed_and_resumed_run_ends_identical(void **state) {
    static char out[65536], args[1024];
    /* under the sanitizers (10x slower) a shorter run: the same protocol, CI's time bounded */
    const char *san = getenv("OTGEN_SANITIZED");
    const char *common = san && *san
                             ? "train --data moons --steps 600 --checkpoint-every 50 --val-every 100 --seed 3"
                             : "train --data moons --steps 3000 --checkpoint-every 250 --val-every 100 --seed 3";
    snprintf(args, sizeof args, "%s %s --out %s/whole", common, SMALL, dir);
    assert_int_equal(otgen_run(args, 1, out, sizeof out), 0);
    char cmd[2048];
    snprintf(cmd, sizeof cmd, "exec %s %s %s --out %s/killed >/dev/null 2>&1", otgen_bin(), common, SMALL, dir);
    pid_t pid = fork();
    if (pid == 0) {
        execl("/bin/sh", "sh", "-c", cmd, (char *)NULL);
        _exit(127);
    }
    /* once the first checkpoint exists, wait a little more and kill mid-run */
    char first[512];
    snprintf(first, sizeof first, "%s/killed/checkpoint.otg", dir);
    struct timespec tick = {0, 20 * 1000 * 1000}, ts = {0, 400 * 1000 * 1000};
    for (int i = 0; i < 500 && access(first, F_OK); i++) nanosleep(&tick, NULL);
    nanosleep(&ts, NULL);
    kill(pid, SIGKILL);
    int st;
    waitpid(pid, &st, 0);
    print_message("killed run: %s\n", WIFSIGNALED(st) ? "killed by SIGKILL" : "finished before the kill");
    snprintf(args, sizeof args, "train --resume %s/killed", dir);
    int rc = otgen_run(args, 1, out, sizeof out);
    if (rc) fail_msg("resume failed (%d): %s", rc, out);
    char a[512], b[512];
    snprintf(a, sizeof a, "%s/whole/checkpoint.otg", dir);
    snprintf(b, sizeof b, "%s/killed/checkpoint.otg", dir);
    assert_same_file(a, b);
    snprintf(a, sizeof a, "%s/whole", dir), snprintf(b, sizeof b, "%s/killed", dir);
    char *ma = metrics_without_time(a), *mb = metrics_without_time(b);
    assert_same_text(ma, mb);
    free(ma), free(mb);
}

/* The metrics' kink columns and --relu-prime: grid latents contain (0, 0), where every ReLU
 * input of the zero-bias generator (--init he-normal) is exactly 0 at step 1, and equal latents give equal outputs,
 * hence ties in the SW sorts. relu'(0) = 0 and 1 then agree on step 1's loss and part after it. */
/* --ema: a run stopped at step 60 and resumed to 120 ends with the checkpoint (parameters,
 * optimiser state, then the average) and metrics of the uninterrupted run; the validation uses
 * the average, so val_sw differs from the same run without it while the loss column (the raw
 * weights) is the same. */
static void test_ema_resumes_identical(void **state) {
    static char out[65536], args[1024];
    /* --schedule constant: the run is extended from 60 to 120 steps, which is bit-identical only
     * for a schedule that does not depend on --steps (the default wsd does) */
    const char *o = "--data moons --ema 0.99 --val-every 30 --checkpoint-every 30 --schedule constant";
    snprintf(args, sizeof args, "train %s --steps 120 %s --out %s/ema_full", o, SMALL, dir);
    assert_int_equal(otgen_run(args, 1, out, sizeof out), 0);
    snprintf(args, sizeof args, "train %s --steps 60 %s --out %s/ema_part", o, SMALL, dir);
    assert_int_equal(otgen_run(args, 1, out, sizeof out), 0);
    snprintf(args, sizeof args, "train --resume %s/ema_part --steps 120", dir);
    assert_int_equal(otgen_run(args, 1, out, sizeof out), 0);
    char a[512], b[512];
    snprintf(a, sizeof a, "%s/ema_full/checkpoint.otg", dir);
    snprintf(b, sizeof b, "%s/ema_part/checkpoint.otg", dir);
    assert_same_file(a, b);
    snprintf(a, sizeof a, "%s/ema_full", dir), snprintf(b, sizeof b, "%s/ema_part", dir);
    char *ma = metrics_without_time(a), *mb = metrics_without_time(b);
    assert_same_text(ma, mb);
    snprintf(args, sizeof args,
             "train --data moons --val-every 30 --steps 120 --schedule constant %s --out %s/no_ema",
             SMALL, dir);
    assert_int_equal(otgen_run(args, 1, out, sizeof out), 0);
    snprintf(a, sizeof a, "%s/no_ema", dir);
    char *mc = metrics_without_time(a);
    const char *la = strstr(ma, "\n120,"), *lc = strstr(mc, "\n120,");
    assert_non_null(la), assert_non_null(lc);
    double va = column(la + 1, 3), vc = column(lc + 1, 3); /* val_sw (time_s dropped) */
    assert_true(column(la + 1, 1) == column(lc + 1, 1));   /* the same loss */
    assert_true(va > 0 && vc > 0 && va != vc);
    free(ma), free(mb), free(mc);
}

static void test_kink_columns_and_relu_prime(void **state) {
    static char out[65536], args[1024];
    char *rows[2][3], *csvs[2];
    for (int k = 0; k < 2; k++) {
        snprintf(args, sizeof args, "train --data moons --source grid --steps 3 --hidden 32,32 --batch 64 --val-n 64 "
                 "--threads 1 --seed 1 --init he-normal --relu-prime %d --out %s/kinks%d", k, dir, k);
        assert_int_equal(otgen_run(args, 1, out, sizeof out), 0);
        char p[512];
        snprintf(p, sizeof p, "%s/kinks%d/metrics.csv", dir, k);
        size_t len;
        char *csv = csvs[k] = slurp(p, &len);
        assert_non_null(csv);
        char *line = strchr(csv, '\n') + 1; /* row 0 */
        for (int r = 0; r < 3; r++) {
            line = strchr(line, '\n') + 1;
            rows[k][r] = line;
        }
        double kinks = column(rows[k][0], 7), relu = column(rows[k][0], 8), ties = column(rows[k][0], 9);
        print_message("relu'(0)=%d step 1: kinks %g = relu %g + sort ties %g\n", k, kinks, relu, ties);
        assert_true(relu > 0 && ties > 0 && kinks == relu + ties);
        assert_true(column(rows[k][1], 8) == 0); /* the biases have moved off 0 */
        snprintf(p, sizeof p, "%s/kinks%d/config.json", dir, k);
        char *cfg = slurp(p, &len);
        assert_non_null(strstr(cfg, k ? "\"relu-prime\":\t1" : "\"relu-prime\":\t0"));
        free(cfg);
    }
    assert_true(column(rows[0][0], 2) == column(rows[1][0], 2)); /* step 1: the same forward */
    assert_true(column(rows[0][0], 5) != column(rows[1][0], 5)); /* but another gradient */
    assert_true(column(rows[0][1], 2) != column(rows[1][1], 2)); /* and so another step 2 */
    free(csvs[0]), free(csvs[1]);
    assert_int_equal(otgen_run("train --relu-prime 2", 1, out, sizeof out), 2);
    assert_non_null(strstr(out, "--relu-prime: 2 outside [0, 1]"));
}

static void test_bad_checkpoints_are_refused(void **state) {
    static char out[65536], args[1024];
    char good[512], bad[512];
    snprintf(good, sizeof good, "%s/moons/checkpoint.otg", dir);
    size_t len;
    char *c = slurp(good, &len);
    assert_non_null(c);
    snprintf(bad, sizeof bad, "%s/flipped.otg", dir);
    c[len / 2] ^= 0x10;
    FILE *f = fopen(bad, "wb");
    fwrite(c, 1, len, f), fclose(f);
    snprintf(args, sizeof args, "sample --checkpoint %s --n 10 --out %s/x.npy", bad, dir);
    assert_int_equal(otgen_run(args, 1, out, sizeof out), 2);
    assert_non_null(strstr(out, "corrupted checkpoint (CRC-32"));
    c[len / 2] ^= 0x10;
    f = fopen(bad, "wb");
    fwrite(c, 1, len - 100, f), fclose(f);
    assert_int_equal(otgen_run(args, 1, out, sizeof out), 2);
    assert_non_null(strstr(out, "truncated"));
    free(c);
}

static void test_divergence_stops_and_keeps_a_checkpoint(void **state) {
    static char out[65536], args[1024];
    snprintf(args, sizeof args, "train --data gaussians8 --optimizer sgd --lr 1e5 --steps 200 %s --out %s/div", SMALL, dir);
    assert_int_equal(otgen_run(args, 1, out, sizeof out), 1);
    assert_non_null(strstr(out, "diverged at step"));
    assert_non_null(strstr(out, "last good checkpoint"));
    snprintf(args, sizeof args, "sample --checkpoint %s/div/checkpoint.otg --n 5 --out %s/div.npy", dir, dir);
    assert_int_equal(otgen_run(args, 1, out, sizeof out), 0); /* the kept checkpoint is valid */
}

static void test_cli_errors(void **state) {
    static char out[65536], args[1024];
    struct { const char *args, *msg; } bad[] = {
        {"train --lr abc", "--lr: 'abc' is not a finite number"},
        {"train --data nowhere", "unknown"},
        {"train --data /nonexistent.npy", "/nonexistent.npy"},
        {"train --optimizer foo", "foo"},
        {"train --model transformer", "unknown model 'transformer'"},
        {"train --resume /nonexistent-run", "cannot open"},
        {"train --batch 1", "--batch: 1 outside"},
        {"train --loss mmd", "--loss: 'mmd'"},
        {"train --config /nonexistent.json", "cannot open"},
        {"train extra", "unexpected argument"},
        {"sample --n 5", "give --out and exactly one of --checkpoint and --data"},
        {"sample --data nowhere --out x.npy", "--data: unknown data source 'nowhere'"},
        {"sample --data moons --n 10 --out x.png --split test --checkpoint c.otg", "exactly one"},
        {"eval --samples x.npy", "--samples needs --data"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int rc = otgen_run(bad[i].args, 1, out, sizeof out);
        if (rc != 2 || !strstr(out, bad[i].msg)) fail_msg("'%s': exit %d, output: %s", bad[i].args, rc, out);
    }
    /* a config file with an unknown key, then a good one whose values the flags override */
    char cfg[512];
    snprintf(cfg, sizeof cfg, "%s/c.json", dir);
    FILE *f = fopen(cfg, "w");
    fputs("{\"data\": \"rings\", \"stepz\": 3}", f), fclose(f);
    snprintf(args, sizeof args, "train --config %s --out %s/cfg", cfg, dir);
    assert_int_equal(otgen_run(args, 1, out, sizeof out), 2);
    assert_non_null(strstr(out, "unknown option \"stepz\""));
    f = fopen(cfg, "w");
    fputs("{\"data\": \"rings\", \"steps\": 1000, \"hidden\": \"32\"}", f), fclose(f);
    snprintf(args, sizeof args, "train --config %s --steps 20 --out %s/cfg", cfg, dir);
    assert_int_equal(otgen_run(args, 1, out, sizeof out), 0);
    assert_non_null(strstr(out, "steps=20"));
    /* the run directory is not overwritten without --force */
    assert_int_equal(otgen_run(args, 1, out, sizeof out), 2);
    assert_non_null(strstr(out, "pass --force"));
    strcat(args, " --force");
    assert_int_equal(otgen_run(args, 1, out, sizeof out), 0);
}

static void test_fashion_mnist_smoke(void **state) {
    if (access("/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz", R_OK)) {
        print_message("SKIPPED: Fashion-MNIST absent (apt-get install dataset-fashion-mnist)\n");
        skip();
    }
    static char out[65536], args[1024];
    snprintf(args, sizeof args, "train --data fashion-mnist --classes 1,7 --steps 30 --batch 64 --hidden 64 --val-n 64 --out %s/fm", dir);
    int rc = otgen_run(args, 1, out, sizeof out);
    if (rc) fail_msg("exit %d: %s", rc, out);
    snprintf(args, sizeof args, "sample --checkpoint %s/fm/checkpoint.otg --n 16 --out %s/fm.png", dir, dir);
    assert_int_equal(otgen_run(args, 1, out, sizeof out), 0);
    snprintf(args, sizeof args, "sample --checkpoint %s/fm/checkpoint.otg --n 4 --class 1 --out %s/fm1.npy", dir, dir);
    assert_int_equal(otgen_run(args, 1, out, sizeof out), 2);
    assert_non_null(strstr(out, "the generator is not conditional"));
    /* --conditional: a class's samples on request, a class not trained on refused */
    snprintf(args, sizeof args, "train --data fashion-mnist --classes 1,7 --conditional --steps 30 --batch 64 --hidden 64 --val-n 64 --out %s/fmc", dir);
    if ((rc = otgen_run(args, 1, out, sizeof out))) fail_msg("exit %d: %s", rc, out);
    snprintf(args, sizeof args, "sample --checkpoint %s/fmc/checkpoint.otg --n 16 --class 7 --out %s/fmc.png", dir, dir);
    assert_int_equal(otgen_run(args, 1, out, sizeof out), 0);
    snprintf(args, sizeof args, "sample --checkpoint %s/fmc/checkpoint.otg --n 4 --class 3 --out %s/fmc3.npy", dir, dir);
    assert_int_equal(otgen_run(args, 1, out, sizeof out), 2);
    assert_non_null(strstr(out, "class 3 is not among the generator's"));
    /* the convolutional generators build, train and sample */
    const char *models[2] = {"cnn", "rescnn"};
    for (int k = 0; k < 2; k++) {
        snprintf(args, sizeof args, "train --data fashion-mnist --model %s --channels 8 --steps 5 --batch 32 --val-n 32 --out %s/%s",
                 models[k], dir, models[k]);
        rc = otgen_run(args, 1, out, sizeof out);
        if (rc) fail_msg("%s: exit %d: %s", models[k], rc, out);
        snprintf(args, sizeof args, "sample --checkpoint %s/%s/checkpoint.otg --n 4 --out %s/%s.npy", dir, models[k], dir, models[k]);
        assert_int_equal(otgen_run(args, 1, out, sizeof out), 0);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_2d_run_learns_and_writes_its_files),
        cmocka_unit_test(test_same_seed_same_bits),
        cmocka_unit_test(test_thread_count_same_bits),
        cmocka_unit_test(test_killed_and_resumed_run_ends_identical),
        cmocka_unit_test(test_kink_columns_and_relu_prime),
        cmocka_unit_test(test_bad_checkpoints_are_refused),
        cmocka_unit_test(test_divergence_stops_and_keeps_a_checkpoint),
        cmocka_unit_test(test_cli_errors),
        cmocka_unit_test(test_ema_resumes_identical),
        cmocka_unit_test(test_fashion_mnist_smoke),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
