/* The library's reliability pieces in-process (docs/reliability.md): run-directory locks
 * (re-entrant here, refused to another process with our pid named, even one that came before
 * the holder wrote its pid), a restore refusing another config's checkpoint, metrics rows whole
 * or not at all, and the checkpoints of the game study and the particle run resuming
 * bit-identically from a state taken mid-run. */
// ctest-labels: unit
#define _POSIX_C_SOURCE 200809L
// clang-format off
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h> /* after the three headers it needs */
// clang-format on

#include "otgen/otgen.h"
#include "otgen/particles.h"
#include "otgen/study.h"
#include "otgen/train.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static char dir[256];

static int setup(void **state) {
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/otgen-rel-XXXXXX");
    return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state) {
    (void)state;
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    return system(cmd) == 0 ? 0 : -1;
}

static void test_dir_lock(void **state) {
    (void)state;
    otg_dir_lock *a, *b;
    assert_int_equal(otg_dir_lock_acquire(dir, &a), OTG_OK);
    assert_int_equal(otg_dir_lock_acquire(dir, &b), OTG_OK); /* re-entrant */
    assert_ptr_equal(a, b);
    pid_t pid = fork();
    if (pid == 0) { /* another process: refused, our pid named */
        otg_dir_lock *c;
        char want[64];
        snprintf(want, sizeof want, "pid %ld", (long)getppid());
        _exit(otg_dir_lock_acquire(dir, &c) == OTG_EINVAL && strstr(otg_last_error(), want) ? 0
                                                                                            : 1);
    }
    int st;
    waitpid(pid, &st, 0);
    assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    otg_dir_lock_release(b);
    otg_dir_lock_release(a);
    pid = fork();
    if (pid == 0) { /* released: the other process gets it */
        otg_dir_lock *c;
        _exit(otg_dir_lock_acquire(dir, &c) == OTG_OK ? 0 : 1);
    }
    waitpid(pid, &st, 0);
    assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    otg_dir_lock_release(NULL);
}

/* A second writer that comes between the holder's flock and the holder writing its pid (the file
 * still empty or naming an earlier, ended holder) waits for the pid instead of naming none. */
static void test_dir_lock_pid_written_late(void **state) {
    (void)state;
    char path[300];
    snprintf(path, sizeof path, "%s/.otgen.lock", dir);
    int up[2], down[2];
    assert_int_equal(pipe(up), 0);
    assert_int_equal(pipe(down), 0);
    pid_t pid = fork();
    if (pid == 0) { /* the holder, slow to write its pid (ends when the test process does) */
        close(up[0]), close(down[1]);
        int fd = open(path, O_RDWR | O_CREAT, 0644);
        char c = 0;
        if (fd < 0 || flock(fd, LOCK_EX) != 0 || ftruncate(fd, 0) != 0) _exit(1);
        if (pwrite(fd, "2147483646\n", 11, 0) != 11 || write(up[1], &c, 1) != 1) _exit(1);
        struct timespec ts = {0, 30000000};
        nanosleep(&ts, NULL);
        char buf[32];
        int n = snprintf(buf, sizeof buf, "%ld\n", (long)getpid());
        if (ftruncate(fd, 0) != 0 || pwrite(fd, buf, (size_t)n, 0) != n) _exit(1);
        _exit(read(down[0], &c, 1) == 1 ? 0 : 1);
    }
    close(up[1]), close(down[0]);
    char c = 0, want[64];
    assert_int_equal(read(up[0], &c, 1), 1);
    otg_dir_lock *l = NULL;
    snprintf(want, sizeof want, "another otgen (pid %ld)", (long)pid);
    assert_int_equal(otg_dir_lock_acquire(dir, &l), OTG_EINVAL);
    assert_non_null(strstr(otg_last_error(), want));
    assert_int_equal(write(down[1], &c, 1), 1);
    int st;
    waitpid(pid, &st, 0);
    assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    close(up[0]), close(down[1]);
}

static otg_train_config small_config(int64_t seed) {
    otg_train_config c = otg_train_config_default();
    snprintf(c.hidden, sizeof c.hidden, "8");
    c.batch = 32, c.val_n = 64, c.val_projections = 16, c.projections = 16, c.steps = 5;
    c.seed = seed;
    return c;
}

static void test_restore_refuses_another_config(void **state) {
    (void)state;
    otg_train_config c1 = small_config(1), c2 = small_config(2), c3 = small_config(1);
    c3.steps = 50; /* the run's length may differ */
    otg_trainer *a = otg_trainer_new(&c1), *b = otg_trainer_new(&c2), *c = otg_trainer_new(&c3);
    assert_true(a && b && c);
    char path[300];
    snprintf(path, sizeof path, "%s/a.otg", dir);
    assert_int_equal(otg_trainer_save(a, path), OTG_OK);
    assert_int_equal(otg_trainer_restore(b, path), OTG_EINVAL);
    assert_non_null(strstr(otg_last_error(), "belongs to another run"));
    assert_non_null(strstr(otg_last_error(), "--seed 1 (this run: 2)"));
    assert_int_equal(otg_trainer_restore(c, path), OTG_OK);
    int threads;
    assert_int_equal(otg_train_checkpoint_threads(path, &threads), OTG_OK);
    assert_int_equal(threads, 0); /* not recorded: results do not depend on it */
    otg_trainer_free(a), otg_trainer_free(b), otg_trainer_free(c);
}

static void test_metrics_rows_whole(void **state) {
    (void)state;
    char d[300], p[400];
    snprintf(d, sizeof d, "%s/m", dir);
    assert_int_equal(otg_mkdir_p(d), OTG_OK);
    snprintf(p, sizeof p, "%s/metrics.jsonl", d);
    assert_int_equal(symlink("/dev/full", p), 0);
    otg_metrics *m;
    assert_int_equal(otg_metrics_open(d, -1, &m), OTG_OK);
    otg_train_row row = {.step = 1, .loss = 1.0, .val_sw = 0.5, .lr = 0.1};
    assert_int_equal(otg_metrics_write(m, &row), OTG_EIO); /* jsonl fails: the csv row goes too */
    otg_metrics_close(m);
    snprintf(p, sizeof p, "%s/metrics.csv", d);
    FILE *f = fopen(p, "r");
    char buf[512] = {0};
    assert_non_null(f);
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    assert_true(n > 0 && strchr(buf, '\n') == buf + n - 1); /* the header only */
}

/* ---- the game study: states taken by on_checkpoint resume bit-identically ---- */

typedef struct {
    char *state; /* the state at step `at` of repeat 1 */
    int64_t at;
    int rep, calls;
} capture;

static otg_status keep_state(void *user, const char *json) {
    capture *c = user;
    c->calls++;
    if (!c->state && strstr(json, "\"rep\":1,") && strstr(json, "\"z\":")) {
        char want[64];
        snprintf(want, sizeof want, "\"k\":\"%lld\"", (long long)c->at);
        if (strstr(json, want)) c->state = strdup(json);
    }
    return OTG_OK;
}

static void assert_same_study(const otg_game_study *a, const otg_game_study *b, int64_t n) {
    assert_int_equal(a->rows, b->rows);
    for (int64_t r = 0; r < a->rows; r++)
        for (int c = 0; c < 3; c++) {
            double ma, sa, mb, sb;
            otg_series_stats_get(a->stats, c, r, &ma, &sa);
            otg_series_stats_get(b->stats, c, r, &mb, &sb);
            assert_memory_equal(&ma, &mb, sizeof ma);
            assert_memory_equal(&sa, &sb, sizeof sa);
        }
    assert_memory_equal(a->zlast, b->zlast, (size_t)n * sizeof(double));
    assert_int_equal(a->diverged_at, b->diverged_at);
}

static void test_game_study_resume(void **state) {
    (void)state;
    void *knobs = calloc(1, otg_game_bilinear->params_size);
    assert_int_equal(otg_game_type_defaults(otg_game_bilinear, knobs), OTG_OK);
    otg_game *g = otg_game_new(otg_game_bilinear, knobs, 5, 0.1);
    free(knobs);
    assert_non_null(g);
    int64_t n = otg_game_nx(g) + otg_game_ny(g);
    const otg_minimax_type *methods[] = {otg_minimax_optimistic, otg_minimax_anchored};
    for (int i = 0; i < 2; i++) {
        otg_minimax_params mp = otg_minimax_params_default();
        capture cap = {.at = 140};
        otg_game_study_opts o = {.steps = 300,
                                 .every = 9,
                                 .repeat = 3,
                                 .seed = 4,
                                 .init = 1.0,
                                 .user = &cap,
                                 .checkpoint_every = 20,
                                 .on_checkpoint = keep_state};
        otg_game_study whole, resumed;
        assert_int_equal(otg_game_study_run(g, methods[i], &mp, &o, &whole), OTG_OK);
        assert_non_null(cap.state);
        assert_int_equal(cap.calls, 3 * 14 + 1); /* 20, 40, ..., 280 per repeat, and the end */
        o.resume = cap.state, o.on_checkpoint = NULL;
        assert_int_equal(otg_game_study_run(g, methods[i], &mp, &o, &resumed), OTG_OK);
        assert_same_study(&whole, &resumed, n);
        otg_game_study_free(&resumed);
        o.resume = "{\"rep\": 1}"; /* malformed */
        assert_int_equal(otg_game_study_run(g, methods[i], &mp, &o, &resumed), OTG_EFORMAT);
        otg_game_study_free(&resumed), otg_game_study_free(&whole);
        free(cap.state);
    }
    otg_game_free(g);
}

/* ---- the particle run: particles and stream saved at a checkpoint resume bit-identically ---- */

typedef struct {
    float *u;
    otg_rng r;
    int64_t at, m;
} psave;

static otg_status save_particles(void *user, otg_particles *s, int64_t done) {
    psave *p = user;
    if (done == p->at) {
        memcpy(p->u, otg_particles_data(s), (size_t)(p->m * otg_particles_dim(s)) * sizeof(float));
        p->r = *otg_particles_stream(s);
    }
    return OTG_OK;
}

static void test_particles_resume(void **state) {
    (void)state;
    otg_particles_params p = otg_particles_params_default();
    const int64_t m = 8;
    otg_particles *a = otg_particles_new(&otg_particles_relu2, &p, m);
    otg_particles *b = otg_particles_new(&otg_particles_relu2, &p, m);
    assert_true(a && b);
    int64_t dim = otg_particles_dim(a);
    psave sv = {.u = calloc((size_t)(m * dim), sizeof(float)), .at = 30, .m = m};
    otg_particles_run_opts o = otg_particles_run_opts_default(&otg_particles_relu2);
    o.steps = 100, o.log_every = 7, o.checkpoint_every = 10;
    otg_particles_hooks h = {.user = &sv, .on_checkpoint = save_particles};
    otg_particles_result ra, rb;
    assert_int_equal(otg_particles_run(a, &o, &h, &ra), OTG_OK);
    memcpy(otg_particles_data(b), sv.u, (size_t)(m * dim) * sizeof(float));
    *otg_particles_stream(b) = sv.r;
    o.start = 30;
    assert_int_equal(otg_particles_run(b, &o, NULL, &rb), OTG_OK);
    assert_memory_equal(otg_particles_data(a), otg_particles_data(b),
                        (size_t)(m * dim) * sizeof(float));
    assert_memory_equal(&ra.objective, &rb.objective, sizeof(double));
    assert_int_equal(rb.steps_done, 100);
    o.start = 101;
    assert_int_equal(otg_particles_run(b, &o, NULL, NULL), OTG_EINVAL);
    free(sv.u);
    otg_particles_free(a), otg_particles_free(b);
}

int main(void) {
    otg_threads_set(1);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dir_lock),
        cmocka_unit_test(test_dir_lock_pid_written_late),
        cmocka_unit_test(test_restore_refuses_another_config),
        cmocka_unit_test(test_metrics_rows_whole),
        cmocka_unit_test(test_game_study_resume),
        cmocka_unit_test(test_particles_resume),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
