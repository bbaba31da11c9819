/* optim: every optimiser (sgd, momentum, adam, npsgd) on every small problem (smooth quadratic,
 * nonsmooth l1 with a decaying step, SW_2^2 between Gaussian point clouds); npsgd's ball (whole
 * vector and per tensor) and noise; bitwise equalities between special cases and across thread
 * counts; Adam's checkpoint resume; the schedules; clear errors on bad input. Fixed seeds. */
// ctest-labels: unit converge
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
/* cmocka.h needs the three above first */
#include <cmocka.h>

#include "otgen/optim.h"
#include "otgen/ot.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define N 10 /* parameters of the small smooth and nonsmooth problems */
#define SEED 20230917

/* ---- problems and the run loop -------------------------------------------------------------- */

/* f(u) = 0.5 sum c_i (u_i - t_i)^2 (smooth) or sum |u_i - t_i| (nonsmooth, subgradient sign with
 * 0 at 0). t [N] uniform in (-2, 2), c [N] spread over [0.5, 2]. */
typedef struct {
    int smooth;
    float c[N], t[N];
} problem;

static problem make_problem(int smooth) {
    problem pb = {.smooth = smooth};
    otg_rng r = otg_rng_make(SEED, 0);
    for (int i = 0; i < N; i++) {
        pb.c[i] = (float)(0.5 + 1.5 * i / (N - 1));
        pb.t[i] = (float)(4.0 * otg_rng_uniform(&r) - 2.0);
    }
    return pb;
}

static void problem_grad(const problem *pb, const float *u, float *g) {
    for (int i = 0; i < N; i++) {
        float r = u[i] - pb->t[i];
        g[i] = pb->smooth ? pb->c[i] * r : (float)((r > 0.0f) - (r < 0.0f));
    }
}

static double max_abs_diff(const float *a, const float *b, int64_t n) {
    double m = 0.0;
    for (int64_t i = 0; i < n; i++)
        m = fmax(m, fabs((double)a[i] - (double)b[i]));
    return m;
}

static double norm2(const float *x, int64_t n) {
    double s = 0.0;
    for (int64_t i = 0; i < n; i++)
        s += (double)x[i] * (double)x[i];
    return sqrt(s);
}

/* An optimiser by name with its step size and parameters. */
typedef struct {
    const char *name;
    double lr;
    otg_optim_params p;
} config;

static config make_config(const char *name, double lr) {
    config c = {name, lr, otg_optim_params_default()};
    return c;
}

static otg_optim *new_optim(const config *c, int64_t n) {
    const otg_optim_type *t = otg_optim_type_by_name(c->name);
    assert_non_null(t);
    otg_optim *o = otg_optim_new(t, n, &c->p);
    assert_non_null(o);
    return o;
}

/* Runs `steps` steps from u = 0 with lr (decay: lr / (k + 1)^0.6); returns max |u - t|. */
static double run_problem(const config *c, const problem *pb, int steps, int decay) {
    otg_optim *o = new_optim(c, N);
    otg_rng rng = otg_rng_make(SEED, 1);
    float u[N] = {0}, g[N];
    for (int k = 0; k < steps; k++) {
        problem_grad(pb, u, g);
        double lr = decay ? c->lr / pow(k + 1.0, 0.6) : c->lr;
        assert_int_equal(otg_optim_step(o, u, g, lr, &rng), OTG_OK);
    }
    assert_int_equal(otg_optim_steps(o), steps);
    otg_optim_free(o);
    return max_abs_diff(u, pb->t, N);
}

/* ---- every optimiser on every problem ------------------------------------------------------- */

static void test_smooth_quadratic(void **state) {
    const problem pb = make_problem(1);
    config cs[4] = {make_config("sgd", 0.5), make_config("momentum", 0.05),
                    make_config("adam", 0.05), make_config("npsgd", 0.5)};
    const double tol[4] = {1e-4, 1e-4, 1e-3, 0.05}; /* npsgd: within its noise */
    for (int i = 0; i < 4; i++) {
        double err = run_problem(&cs[i], &pb, 1000, 0);
        print_message("quadratic %-8s max|u - t| = %.3g\n", cs[i].name, err);
        assert_true(err < tol[i]);
    }
}

static void test_nonsmooth_l1(void **state) {
    const problem pb = make_problem(0);
    config cs[4] = {make_config("sgd", 0.5), make_config("momentum", 0.05),
                    make_config("adam", 0.2), make_config("npsgd", 0.5)};
    for (int i = 0; i < 4; i++) {
        double err = run_problem(&cs[i], &pb, 3000, 1);
        print_message("l1        %-8s max|u - t| = %.3g\n", cs[i].name, err);
        assert_true(err < 0.05);
    }
}

/* SW_2^2 between the parameters X [64, 2] and a fixed Gaussian cloud Y [64, 2] (mean (3, -2),
 * standard deviations (0.5, 1.5)), 32 fresh directions per step; evaluated on 512 fixed ones. */
#define SW_N 64
#define SW_D 2
#define SW_L 32
#define SW_EVAL_L 512

typedef struct {
    float y[SW_N * SW_D], theta_eval[SW_D * SW_EVAL_L];
    otg_sw_workspace *ws;
} sw_problem;

static double sw_value(sw_problem *sp, float *x, float *theta, int64_t L, float *grad) {
    int64_t xs[2] = {SW_N, SW_D}, ts[2] = {SW_D, L};
    otg_tensor tx = otg_tensor_view(x, 2, xs), ty = otg_tensor_view(sp->y, 2, xs);
    otg_tensor tt = otg_tensor_view(theta, 2, ts);
    otg_sw_opts opts = otg_sw_opts_default();
    otg_sw_result res;
    assert_int_equal(otg_sw(sp->ws, &tx, NULL, &ty, NULL, &tt, &opts, &res, grad, NULL), OTG_OK);
    return res.value;
}

static void sw_setup(sw_problem *sp) {
    otg_rng r = otg_rng_make(SEED, 10);
    otg_rng_fill_normal(&r, SW_N * SW_D, sp->y);
    for (int i = 0; i < SW_N; i++) {
        sp->y[i * SW_D] = 3.0f + 0.5f * sp->y[i * SW_D];
        sp->y[i * SW_D + 1] = -2.0f + 1.5f * sp->y[i * SW_D + 1];
    }
    assert_int_equal(otg_sw_directions(&r, OTG_DIR_GAUSSIAN, SW_D, SW_EVAL_L, sp->theta_eval),
                     OTG_OK);
    sp->ws = otg_sw_workspace_new();
    assert_non_null(sp->ws);
}

/* Runs c on the SW problem; returns final / initial SW on the evaluation directions. */
static double sw_run(sw_problem *sp, const config *c, int steps) {
    float x[SW_N * SW_D], g[SW_N * SW_D], theta[SW_D * SW_L];
    otg_rng init = otg_rng_make(SEED, 11), dirs = otg_rng_make(SEED, 12);
    otg_rng noise = otg_rng_make(SEED, 13);
    otg_rng_fill_normal(&init, SW_N * SW_D, x);
    const double v0 = sw_value(sp, x, sp->theta_eval, SW_EVAL_L, NULL);
    otg_optim *o = new_optim(c, SW_N * SW_D);
    for (int k = 0; k < steps; k++) {
        assert_int_equal(otg_sw_directions(&dirs, OTG_DIR_GAUSSIAN, SW_D, SW_L, theta), OTG_OK);
        (void)sw_value(sp, x, theta, SW_L, g);
        assert_int_equal(otg_optim_step(o, x, g, c->lr, &noise), OTG_OK);
    }
    otg_optim_free(o);
    const double v1 = sw_value(sp, x, sp->theta_eval, SW_EVAL_L, NULL);
    print_message("SW        %-8s %.4g -> %.4g\n", c->name, v0, v1);
    return v1 / v0;
}

static void test_sw_gaussians(void **state) {
    sw_problem sp;
    sw_setup(&sp);
    /* the gradient of the (1/n)-weighted SW is about (1/n) (x_i - y_sigma(i)): hence lr ~ n/2 */
    config cs[4] = {make_config("sgd", 20.0), make_config("momentum", 3.0),
                    make_config("adam", 0.05), make_config("npsgd", 20.0)};
    cs[3].p.radius = 100.0; /* |Y| ~ 30: the minimum is inside the ball */
    cs[3].p.noise = 1e-3;
    for (int i = 0; i < 4; i++)
        assert_true(sw_run(&sp, &cs[i], 300) < 0.1);
    otg_sw_workspace_free(sp.ws);
}

/* ---- npsgd: the ball, per-tensor projection, the noise -------------------------------------- */

/* Isotropic quadratic with its minimum t at distance 5 from 0 and a ball of radius 1: every
 * iterate stays in the ball and the run settles near t / 5, the constrained minimum. */
static void test_npsgd_stays_in_ball(void **state) {
    config c = make_config("npsgd", 0.1);
    c.p.radius = 1.0, c.p.noise = 0.1;
    problem pb = make_problem(1);
    for (int i = 0; i < N; i++)
        pb.c[i] = 1.0f;
    const double tn = norm2(pb.t, N);
    for (int i = 0; i < N; i++)
        pb.t[i] = (float)(5.0 * (double)pb.t[i] / tn);
    otg_optim *o = new_optim(&c, N);
    otg_rng rng = otg_rng_make(SEED, 2);
    float u[N] = {0}, g[N], target[N];
    for (int k = 0; k < 500; k++) {
        problem_grad(&pb, u, g);
        assert_int_equal(otg_optim_step(o, u, g, c.lr, &rng), OTG_OK);
        assert_true(norm2(u, N) <= c.p.radius * (1.0 + 1e-6));
    }
    for (int i = 0; i < N; i++)
        target[i] = pb.t[i] / 5.0f;
    assert_true(max_abs_diff(u, target, N) < 0.1);
    otg_optim_free(o);
}

static void test_npsgd_per_tensor(void **state) {
    const int64_t seg[2] = {4, 6};
    config c = make_config("npsgd", 1.0);
    c.p.radius = 1.0, c.p.noise = 0.0, c.p.per_tensor = 1;
    otg_optim *o = new_optim(&c, N);
    otg_rng rng = otg_rng_make(SEED, 3);
    float u[N] = {3, 4, 0, 0, 0.1f, 0.2f, 0, 0, 0, 0}, g[N] = {0};
    /* without segments, per_tensor is an error and u is untouched */
    assert_int_equal(otg_optim_step(o, u, g, 1.0, &rng), OTG_EINVAL);
    assert_non_null(strstr(otg_last_error(), "segments"));
    assert_true(u[0] == 3.0f);
    assert_int_equal(otg_optim_set_segments(o, 2, seg), OTG_OK);
    assert_int_equal(otg_optim_step(o, u, g, 1.0, &rng), OTG_OK);
    const float want[N] = {0.6f, 0.8f, 0, 0, 0.1f, 0.2f, 0, 0, 0, 0}; /* only segment 0 moves */
    assert_true(max_abs_diff(u, want, N) < 1e-6);
    /* with noise, on a problem outside both balls: each segment stays in its own ball while the
     * whole vector leaves the ball of radius r (the whole-vector projection would keep it in) */
    otg_optim_free(o);
    c.lr = 0.1, c.p.noise = 0.1;
    o = new_optim(&c, N);
    assert_int_equal(otg_optim_set_segments(o, 2, seg), OTG_OK);
    problem pb = make_problem(1);
    for (int i = 0; i < N; i++)
        pb.t[i] = 3.0f;
    for (int k = 0; k < 200; k++) {
        problem_grad(&pb, u, g);
        assert_int_equal(otg_optim_step(o, u, g, c.lr, &rng), OTG_OK);
        assert_true(norm2(u, 4) <= 1.0 + 1e-6 && norm2(u + 4, 6) <= 1.0 + 1e-6);
    }
    assert_true(norm2(u, N) > 1.3);
    otg_optim_free(o);
}

/* One npsgd step with g = 0 and a ball that is never hit is u + lr a eps, eps the next N normals
 * of the stream. */
static void test_npsgd_noise(void **state) {
    config c = make_config("npsgd", 0.2);
    c.p.noise = 0.5, c.p.radius = 1e30;
    otg_optim *o = new_optim(&c, N);
    otg_rng rng = otg_rng_make(SEED, 4), copy = rng;
    float u[N], g[N] = {0}, eps[N], want[N];
    for (int i = 0; i < N; i++)
        u[i] = (float)i;
    otg_rng_fill_normal(&copy, N, eps);
    for (int i = 0; i < N; i++)
        want[i] = (float)((double)u[i] + 0.2 * 0.5 * (double)eps[i]);
    assert_int_equal(otg_optim_step(o, u, g, c.lr, &rng), OTG_OK);
    assert_true(max_abs_diff(u, want, N) < 1e-6);
    assert_true(rng.counter == copy.counter);
    otg_optim_free(o);
}

/* ---- bitwise equalities --------------------------------------------------------------------- */

/* Runs 200 steps of c on the quadratic from a fixed random start into u [N]. */
static void run_bits(const config *c, float *u) {
    const problem pb = make_problem(1);
    otg_rng init = otg_rng_make(SEED, 5), rng = otg_rng_make(SEED, 6);
    otg_rng_fill_normal(&init, N, u);
    otg_optim *o = new_optim(c, N);
    float g[N];
    for (int k = 0; k < 200; k++) {
        problem_grad(&pb, u, g);
        assert_int_equal(otg_optim_step(o, u, g, c->lr / (k + 1), &rng), OTG_OK);
    }
    otg_optim_free(o);
}

static void test_special_cases_equal_sgd(void **state) {
    float ref[N], u[N];
    config sgd = make_config("sgd", 0.3), np = make_config("npsgd", 0.3);
    config mom = make_config("momentum", 0.3);
    np.p.noise = 0.0, np.p.radius = 1e30;
    mom.p.momentum = 0.0;
    run_bits(&sgd, ref);
    run_bits(&np, u);
    assert_memory_equal(ref, u, sizeof ref);
    run_bits(&mom, u);
    assert_memory_equal(ref, u, sizeof ref);
}

/* Three steps of each optimiser on 200000 parameters (past the parallel threshold) with 1 and 4
 * threads give the same bits. */
static void test_same_bits_any_thread_count(void **state) {
    const int64_t n = 200000;
    const char *names[4] = {"sgd", "momentum", "adam", "npsgd"};
    float *u[2], *g = malloc((size_t)n * sizeof *g);
    u[0] = malloc((size_t)n * sizeof *u[0]), u[1] = malloc((size_t)n * sizeof *u[1]);
    assert_true(u[0] && u[1] && g);
    for (int t = 0; t < 4; t++) {
        config c = make_config(names[t], 0.01);
        c.p.radius = 100.0; /* the start has norm ~ 450: the ball is hit */
        for (int run = 0; run < 2; run++) {
            otg_threads_set(run ? 4 : 1);
            otg_rng init = otg_rng_make(SEED, 7), rng = otg_rng_make(SEED, 8);
            otg_rng_fill_normal(&init, n, u[run]);
            otg_rng_fill_normal(&init, n, g);
            otg_optim *o = new_optim(&c, n);
            for (int k = 0; k < 3; k++)
                assert_int_equal(otg_optim_step(o, u[run], g, c.lr, &rng), OTG_OK);
            otg_optim_free(o);
        }
        assert_memory_equal(u[0], u[1], (size_t)n * sizeof *u[0]);
    }
    otg_threads_set(0);
    free(u[0]), free(u[1]), free(g);
}

/* Adam on 200003 parameters (past the parallel threshold, not a whole number of its blocks) for
 * 3 steps on 2 threads: the same bits as the formula written out per element in double. */
static void test_adam_matches_formula(void **state) {
    const int64_t n = 200003;
    const double b1 = 0.9, b2 = 0.999, eps = 1e-8, lr = 0.01;
    float *u = malloc((size_t)n * sizeof *u), *r = malloc((size_t)n * sizeof *r);
    float *g = malloc((size_t)n * sizeof *g), *m = calloc((size_t)n, sizeof *m);
    float *v = calloc((size_t)n, sizeof *v);
    assert_true(u && r && g && m && v);
    otg_rng init = otg_rng_make(SEED, 9);
    otg_rng_fill_normal(&init, n, u);
    memcpy(r, u, (size_t)n * sizeof *u);
    config c = make_config("adam", lr);
    otg_optim *o = new_optim(&c, n);
    otg_threads_set(2);
    for (int k = 0; k < 3; k++) {
        otg_rng_fill_normal(&init, n, g);
        assert_int_equal(otg_optim_step(o, u, g, lr, NULL), OTG_OK);
        const double bc1 = 1.0 - pow(b1, k + 1), bc2 = 1.0 - pow(b2, k + 1);
        for (int64_t i = 0; i < n; i++) {
            const double gi = (double)g[i];
            m[i] = (float)(b1 * (double)m[i] + (1.0 - b1) * gi);
            v[i] = (float)(b2 * (double)v[i] + (1.0 - b2) * gi * gi);
            const double d = ((double)m[i] / bc1) / (sqrt((double)v[i] / bc2) + eps);
            r[i] = (float)((double)r[i] - lr * d);
        }
        assert_memory_equal(u, r, (size_t)n * sizeof *u);
    }
    otg_threads_set(0);
    otg_optim_free(o);
    free(u), free(r), free(g), free(m), free(v);
}

/* Adam for 30 steps, then its state and step count copied into a fresh optimiser: both continue
 * for 30 steps bit-identically. Without the step count the bias correction differs. */
static void test_adam_resume(void **state) {
    const problem pb = make_problem(1);
    config c = make_config("adam", 0.05);
    otg_optim *a = new_optim(&c, N), *b = new_optim(&c, N), *nosteps = new_optim(&c, N);
    assert_int_equal(otg_optim_state_size(a), 2 * N);
    float ua[N] = {0}, ub[N], uc[N], g[N];
    for (int k = 0; k < 30; k++) {
        problem_grad(&pb, ua, g);
        assert_int_equal(otg_optim_step(a, ua, g, c.lr, NULL), OTG_OK);
    }
    size_t bytes = (size_t)otg_optim_state_size(a) * sizeof(float);
    memcpy(otg_optim_state(b), otg_optim_state(a), bytes);
    memcpy(otg_optim_state(nosteps), otg_optim_state(a), bytes);
    otg_optim_set_steps(b, otg_optim_steps(a));
    memcpy(ub, ua, sizeof ua);
    memcpy(uc, ua, sizeof ua);
    for (int k = 0; k < 30; k++) {
        problem_grad(&pb, ua, g);
        assert_int_equal(otg_optim_step(a, ua, g, c.lr, NULL), OTG_OK);
        problem_grad(&pb, ub, g);
        assert_int_equal(otg_optim_step(b, ub, g, c.lr, NULL), OTG_OK);
        problem_grad(&pb, uc, g);
        assert_int_equal(otg_optim_step(nosteps, uc, g, c.lr, NULL), OTG_OK);
    }
    assert_memory_equal(ua, ub, sizeof ua);
    assert_memory_equal(otg_optim_state(a), otg_optim_state(b), bytes);
    assert_int_equal(otg_optim_steps(b), 60);
    assert_true(memcmp(ua, uc, sizeof ua) != 0);
    otg_optim_free(a), otg_optim_free(b), otg_optim_free(nosteps);
}

/* ---- schedules ------------------------------------------------------------------------------ */

static void test_schedules(void **state) {
    otg_sched_kind k;
    assert_int_equal(otg_sched_parse("constant", &k), OTG_OK);
    assert_int_equal(k, OTG_SCHED_CONSTANT);
    assert_int_equal(otg_sched_parse("step", &k), OTG_OK);
    assert_int_equal(k, OTG_SCHED_STEP);
    assert_int_equal(otg_sched_parse("plateau", &k), OTG_OK);
    assert_int_equal(k, OTG_SCHED_PLATEAU);
    assert_int_equal(otg_sched_parse("cosine", &k), OTG_OK);
    assert_int_equal(k, OTG_SCHED_COSINE);
    assert_int_equal(otg_sched_parse("linear", &k), OTG_EINVAL);
    assert_non_null(strstr(otg_last_error(), "plateau"));
    /* cosine: lr0 at 0, (lr0 + min) / 2 at every / 2, min from `every` on */
    otg_schedule cs = otg_schedule_make(OTG_SCHED_COSINE, 0.1);
    cs.every = 100, cs.min_lr = 0.02;
    assert_true(fabs(otg_schedule_lr(&cs, 0, NAN) - 0.1) < 1e-15);
    assert_true(fabs(otg_schedule_lr(&cs, 50, NAN) - 0.06) < 1e-15);
    assert_true(fabs(otg_schedule_lr(&cs, 25, NAN) - (0.02 + 0.08 * 0.5 * (1 + sqrt(0.5)))) <
                1e-15);
    assert_true(fabs(otg_schedule_lr(&cs, 100, NAN) - 0.02) < 1e-15);
    assert_true(fabs(otg_schedule_lr(&cs, 1000, NAN) - 0.02) < 1e-15);
    /* wsd: lr0 until start, then the cosine above shifted by start */
    assert_int_equal(otg_sched_parse("wsd", &k), OTG_OK);
    assert_int_equal(k, OTG_SCHED_WSD);
    otg_schedule ws = otg_schedule_make(OTG_SCHED_WSD, 0.1);
    ws.every = 100, ws.min_lr = 0.02, ws.start = 400;
    assert_true(otg_schedule_lr(&ws, 0, NAN) == 0.1 && otg_schedule_lr(&ws, 399, NAN) == 0.1);
    assert_true(fabs(otg_schedule_lr(&ws, 400, NAN) - 0.1) < 1e-15);
    assert_true(fabs(otg_schedule_lr(&ws, 450, NAN) - 0.06) < 1e-15);
    assert_true(fabs(otg_schedule_lr(&ws, 500, NAN) - 0.02) < 1e-15);
    assert_true(fabs(otg_schedule_lr(&ws, 9000, NAN) - 0.02) < 1e-15);

    otg_schedule s = otg_schedule_make(OTG_SCHED_CONSTANT, 0.1);
    assert_true(s.gamma == 0.5 && s.min_lr == 0.0 && s.every == 1000 && s.patience == 5);
    assert_true(s.lr == 0.1 && isinf(s.best) && s.best > 0 && s.bad == 0);
    for (int64_t step = 0; step < 5000; step += 777)
        assert_true(otg_schedule_lr(&s, step, NAN) == 0.1);

    s = otg_schedule_make(OTG_SCHED_STEP, 1.0);
    s.every = 10;
    assert_true(otg_schedule_lr(&s, 0, NAN) == 1.0 && otg_schedule_lr(&s, 9, NAN) == 1.0);
    assert_true(otg_schedule_lr(&s, 10, NAN) == 0.5 && otg_schedule_lr(&s, 19, NAN) == 0.5);
    assert_true(otg_schedule_lr(&s, 20, NAN) == 0.25 && otg_schedule_lr(&s, 35, NAN) == 0.125);
    s.min_lr = 0.3;
    assert_true(otg_schedule_lr(&s, 20, NAN) == 0.3 && otg_schedule_lr(&s, 10, NAN) == 0.5);
}

static void test_plateau(void **state) {
    otg_schedule s = otg_schedule_make(OTG_SCHED_PLATEAU, 1.0);
    s.patience = 3;
    assert_true(otg_schedule_lr(&s, 0, 1.0) == 1.0 && s.best == 1.0 && s.bad == 0);
    assert_true(otg_schedule_lr(&s, 1, NAN) == 1.0 && s.bad == 0);     /* no validation */
    assert_true(otg_schedule_lr(&s, 2, 0.99995) == 1.0 && s.bad == 1); /* below 1e-4 rel. */
    assert_true(otg_schedule_lr(&s, 3, 1.0) == 1.0 && s.bad == 2);
    assert_true(otg_schedule_lr(&s, 4, 2.0) == 0.5 && s.bad == 0); /* patience reached */
    assert_true(otg_schedule_lr(&s, 5, 0.5) == 0.5 && s.best == 0.5 && s.bad == 0);
    s.min_lr = 0.4;
    for (int i = 0; i < 2; i++)
        assert_true(otg_schedule_lr(&s, 6 + i, 0.6) == 0.5);
    assert_true(otg_schedule_lr(&s, 8, 0.6) == 0.4); /* max(0.25, min_lr) */
    for (int i = 0; i < 3; i++)
        assert_true(otg_schedule_lr(&s, 9 + i, 0.6) == 0.4);
}

/* ---- names and bad inputs ------------------------------------------------------------------- */

static void test_names(void **state) {
    const otg_optim_type *ts[4] = {otg_optim_sgd, otg_optim_momentum, otg_optim_adam,
                                   otg_optim_npsgd};
    const char *names[4] = {"sgd", "momentum", "adam", "npsgd"};
    for (int i = 0; i < 4; i++) {
        assert_string_equal(otg_optim_type_name(ts[i]), names[i]);
        assert_ptr_equal(otg_optim_type_by_name(names[i]), ts[i]);
    }
    assert_null(otg_optim_type_by_name("rmsprop"));
    const char *msg = otg_last_error();
    assert_non_null(strstr(msg, "rmsprop"));
    for (int i = 0; i < 4; i++)
        assert_non_null(strstr(msg, names[i]));
    assert_null(otg_optim_type_by_name(NULL));
    /* the registry: every entry found by its name, a miss names them all */
    assert_int_equal(otg_optim_type_count(), 4);
    assert_null(otg_optim_type_at(otg_optim_type_count()));
    assert_null(otg_optim_type_at(-1));
    for (int i = 0; i < otg_optim_type_count(); i++) {
        const otg_optim_type *t = otg_optim_type_at(i);
        assert_ptr_equal(otg_optim_type_by_name(otg_optim_type_name(t)), t);
        assert_true(strlen(otg_optim_type_summary(t)) > 0);
    }
    assert_null(otg_optim_type_by_name("rmsprop"));
    for (int i = 0; i < otg_optim_type_count(); i++)
        assert_non_null(strstr(otg_last_error(), otg_optim_type_name(otg_optim_type_at(i))));
}

/* otg_optim_new(t, n, p) fails with a message containing `word`. */
static void expect_new_fails(const otg_optim_type *t, int64_t n, const otg_optim_params *p,
                             const char *word) {
    otg_clear_error();
    assert_null(otg_optim_new(t, n, p));
    assert_non_null(strstr(otg_last_error(), word));
}

static void test_bad_params(void **state) {
    otg_optim_params p = otg_optim_params_default();
    const double bad_radius[4] = {0.0, -1.0, NAN, INFINITY};
    for (int i = 0; i < 4; i++) {
        p.radius = bad_radius[i];
        expect_new_fails(otg_optim_npsgd, N, &p, "radius");
    }
    p = otg_optim_params_default(), p.noise = -0.1;
    expect_new_fails(otg_optim_npsgd, N, &p, "noise");
    p = otg_optim_params_default(), p.momentum = 1.0;
    expect_new_fails(otg_optim_momentum, N, &p, "momentum");
    p = otg_optim_params_default(), p.beta1 = 1.0;
    expect_new_fails(otg_optim_adam, N, &p, "beta1");
    p = otg_optim_params_default(), p.beta2 = NAN;
    expect_new_fails(otg_optim_adam, N, &p, "beta2");
    p = otg_optim_params_default(), p.eps = 0.0;
    expect_new_fails(otg_optim_adam, N, &p, "eps");
    expect_new_fails(otg_optim_sgd, 0, NULL, "n >= 1");
    expect_new_fails(NULL, N, NULL, "type");
    otg_optim_free(NULL);
}

static void test_bad_steps(void **state) {
    otg_optim *o = otg_optim_new(otg_optim_npsgd, N, NULL);
    assert_non_null(o);
    otg_rng rng = otg_rng_make(SEED, 9);
    float u[N] = {1, 2, 3}, g[N] = {1, 1, 1}, u0[N];
    memcpy(u0, u, sizeof u);
    const double bad_lr[4] = {0.0, -1.0, NAN, INFINITY};
    for (int i = 0; i < 4; i++) {
        assert_int_equal(otg_optim_step(o, u, g, bad_lr[i], &rng), OTG_EINVAL);
        assert_non_null(strstr(otg_last_error(), "lr"));
    }
    assert_int_equal(otg_optim_step(o, u, g, 0.1, NULL), OTG_EINVAL);
    assert_non_null(strstr(otg_last_error(), "rng"));
    assert_int_equal(otg_optim_step(o, NULL, g, 0.1, &rng), OTG_EINVAL);
    assert_int_equal(otg_optim_step(NULL, u, g, 0.1, &rng), OTG_EINVAL);
    assert_memory_equal(u, u0, sizeof u);
    assert_int_equal(otg_optim_steps(o), 0);
    const int64_t sum_wrong[2] = {4, 5}, zero[2] = {0, 10}, negative[2] = {-1, 11};
    assert_int_equal(otg_optim_set_segments(o, 2, sum_wrong), OTG_EINVAL);
    assert_non_null(strstr(otg_last_error(), "sum"));
    assert_int_equal(otg_optim_set_segments(o, 2, zero), OTG_EINVAL);
    assert_int_equal(otg_optim_set_segments(o, 2, negative), OTG_EINVAL);
    assert_int_equal(otg_optim_set_segments(o, 0, zero), OTG_EINVAL);
    assert_int_equal(otg_optim_set_segments(o, 1, NULL), OTG_EINVAL);
    assert_int_equal(otg_optim_state_size(o), 0);
    otg_optim_free(o);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_smooth_quadratic),
        cmocka_unit_test(test_nonsmooth_l1),
        cmocka_unit_test(test_sw_gaussians),
        cmocka_unit_test(test_npsgd_stays_in_ball),
        cmocka_unit_test(test_npsgd_per_tensor),
        cmocka_unit_test(test_npsgd_noise),
        cmocka_unit_test(test_special_cases_equal_sgd),
        cmocka_unit_test(test_same_bits_any_thread_count),
        cmocka_unit_test(test_adam_matches_formula),
        cmocka_unit_test(test_adam_resume),
        cmocka_unit_test(test_schedules),
        cmocka_unit_test(test_plateau),
        cmocka_unit_test(test_names),
        cmocka_unit_test(test_bad_params),
        cmocka_unit_test(test_bad_steps),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
