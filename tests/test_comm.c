/* The comm module (otgen/comm.h) in one process: the row partition on 48-row boundaries and its
 * error, and the distributed code paths (otg_sw_comm, otg_trainer_new_comm, the ad ops' gathers)
 * on a one-rank table, which must give the bits of the one-process calls. Several ranks are
 * tested under mpirun by tests/mpi_test.sh (ctest mpi). */
// ctest-labels: unit
// clang-format off
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h> /* after the three headers it needs */
// clang-format on

#include "otgen/otgen.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A one-rank table: the own blocks are already in place; all-to-all copies the own block. */
static otg_status one_gather(void *ctx, void *buf, const int64_t *bytes, const int64_t *off) {
    return OTG_OK;
}
static otg_status one_alltoall(void *ctx, const void *send, const int64_t *sb, const int64_t *so,
                               void *recv, const int64_t *rb, const int64_t *ro) {
    assert_int_equal(sb[0], rb[0]);
    memmove((char *)recv + ro[0], (const char *)send + so[0], (size_t)sb[0]);
    return OTG_OK;
}
static otg_status one_sum(void *ctx, int64_t *v, int n) {
    return OTG_OK;
}
static otg_status one_barrier(void *ctx) {
    return OTG_OK;
}

static otg_comm one_rank(void) {
    return (otg_comm){0, 1, NULL, one_gather, one_alltoall, one_sum, one_barrier, 0};
}

static void test_rows(void **state) {
    int64_t off[5];
    assert_int_equal(otg_comm_rows(256, 2, off), OTG_OK);
    assert_int_equal(off[1], 144);
    assert_int_equal(off[2], 256);
    assert_int_equal(otg_comm_rows(256, 4, off), OTG_OK);
    int64_t want[5] = {0, 48, 144, 192, 256};
    assert_memory_equal(off, want, sizeof want);
    assert_int_equal(otg_comm_rows(192, 4, off), OTG_OK); /* 48 P always works */
    assert_int_equal(otg_comm_rows(64, 4, off), OTG_EINVAL);
    assert_non_null(strstr(otg_last_error(), "too small for 4 ranks"));
}

/* otg_sw_comm on one rank equals otg_sw: value, gradient and per-direction bits. */
static void sw_case(int64_t n, int64_t m, int weighted) {
    const int64_t d = 7, L = 600;
    otg_tensor *x = otg_tensor_new(2, (int64_t[]){n, d}), *y = otg_tensor_new(2, (int64_t[]){m, d});
    otg_tensor *th = otg_tensor_new(2, (int64_t[]){d, L});
    float *w = malloc((size_t)n * sizeof *w), *g1 = malloc((size_t)(n * d) * sizeof *g1);
    float *g2 = malloc((size_t)(n * d) * sizeof *g2);
    double *p1 = malloc((size_t)L * sizeof *p1), *p2 = malloc((size_t)L * sizeof *p2);
    otg_rng r = otg_rng_make(3, 0);
    otg_rng_fill_normal(&r, n * d, x->data), otg_rng_fill_normal(&r, m * d, y->data);
    otg_rng_fill_uniform(&r, n, w);
    assert_int_equal(otg_sw_directions(&r, OTG_DIR_GAUSSIAN, d, L, th->data), OTG_OK);
    otg_sw_workspace *ws = otg_sw_workspace_new();
    otg_comm c = one_rank();
    otg_sw_result a, b;
    const float *wa = weighted ? w : NULL;
    assert_int_equal(otg_sw(ws, x, wa, y, NULL, th, NULL, &a, g1, p1), OTG_OK);
    int64_t off[2] = {0, n};
    assert_int_equal(otg_sw_comm(ws, x, wa, y, NULL, th, NULL, &b, g2, off, p2, &c), OTG_OK);
    assert_memory_equal(&a.value, &b.value, sizeof a.value);
    assert_int_equal(a.ties, b.ties);
    assert_memory_equal(g1, g2, (size_t)(n * d) * sizeof *g1);
    assert_memory_equal(p1, p2, (size_t)L * sizeof *p1);
    assert_int_equal(otg_sw_comm(ws, x, wa, y, NULL, th, NULL, &b, g2, NULL, NULL, &c), OTG_OK);
    assert_memory_equal(g1, g2, (size_t)(n * d) * sizeof *g1);
    otg_sw_workspace_free(ws);
    otg_tensor_free(x), otg_tensor_free(y), otg_tensor_free(th);
    free(w), free(g1), free(g2), free(p1), free(p2);
}

static void test_sw_one_rank(void **state) {
    sw_case(300, 300, 0);
    sw_case(1100, 700, 1);
}

/* Three steps and a validation of a trainer on the one-rank table equal those of a plain one. */
static void test_trainer_one_rank(void **state) {
    otg_train_config cfg = otg_train_config_default();
    snprintf(cfg.hidden, sizeof cfg.hidden, "64,64");
    cfg.batch = 200, cfg.projections = 300, cfg.val_n = 200;
    otg_comm c = one_rank();
    otg_trainer *a = otg_trainer_new(&cfg), *b = otg_trainer_new_comm(&cfg, &c);
    assert_non_null(a), assert_non_null(b);
    assert_int_equal(otg_trainer_rank(b), 0);
    otg_train_row ra, rb;
    for (int s = 0; s < 3; s++) {
        assert_int_equal(otg_trainer_step(a, &ra), OTG_OK);
        assert_int_equal(otg_trainer_step(b, &rb), OTG_OK);
        assert_memory_equal(&ra, &rb, sizeof ra);
    }
    double va, vb;
    assert_int_equal(otg_trainer_validate(a, &va), OTG_OK);
    assert_int_equal(otg_trainer_validate(b, &vb), OTG_OK);
    assert_memory_equal(&va, &vb, sizeof va);
    int64_t n;
    const float *pa = otg_trainer_params(a, &n), *pb = otg_trainer_params(b, NULL);
    assert_memory_equal(pa, pb, (size_t)n * sizeof *pa);
    assert_true(c.bytes_received == 0);
    otg_trainer_free(a), otg_trainer_free(b);
}

static void test_trainer_refusals(void **state) {
    otg_train_config cfg = otg_train_config_default();
    otg_comm c = one_rank();
    snprintf(cfg.model, sizeof cfg.model, "deq");
    assert_null(otg_trainer_new_comm(&cfg, &c));
    assert_non_null(strstr(otg_last_error(), "supports mlp only"));
    cfg = otg_train_config_default();
    cfg.batch = 40;
    c.size = 2; /* rows only: no collective runs before the refusal */
    assert_null(otg_trainer_new_comm(&cfg, &c));
    assert_non_null(strstr(otg_last_error(), "--batch"));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_rows),
        cmocka_unit_test(test_sw_one_rank),
        cmocka_unit_test(test_trainer_one_rank),
        cmocka_unit_test(test_trainer_refusals),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
