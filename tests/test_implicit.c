/* Implicit differentiation (implicit.h, otg_nn_deq): the lasso hypergradient d L_val / d lam and
 * the deep-equilibrium layer's gradients against central finite differences (away from kinks)
 * and against backprop through K unrolled iterations of T; singular, non-convergent and
 * non-finite cases return OTG_ENOCONV / OTG_ENONFINITE with a message; bad arguments are
 * refused at build; results are bit-identical across runs and for 1 and 2 threads; a generator
 * with a DEQ layer trains with an optimiser on the SW loss and keeps |W|_2 <= kappa. */
// ctest-labels: unit grad
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h> /* after the three headers it needs */

#include "otgen/implicit.h"
#include "otgen/nn.h"
#include "otgen/optim.h"
#include "otgen/ot.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SHAPE(...)                                                                                 \
    (int)(sizeof((int64_t[]){__VA_ARGS__}) / sizeof(int64_t)), (int64_t[]) {                       \
        __VA_ARGS__                                                                                \
    }
#define HAS(msg) assert_true(strstr(otg_last_error(), msg) != NULL)

/* ---- the lasso problem: train (A, b) [M, P], validation (V, c) [MV, P] ---------------------- */

enum { M = 40, P = 12, MV = 30 };

typedef struct {
    float a[M * P], b[M], v[MV * P], c[MV];
} lasso_data;

/* A sparse truth (4 nonzeros), Gaussian designs / sqrt(rows), 0.1 noise; dup: column 1 = column
 * 0 in A (a singular I - A once both are in the support). */
static void lasso_data_make(lasso_data *d, uint64_t seed, int dup) {
    otg_rng r = otg_rng_make(seed, 1);
    float xt[P] = {0};
    xt[0] = 1.5f, xt[3] = -1.0f, xt[5] = 0.8f, xt[8] = -0.6f;
    otg_rng_fill_normal(&r, M * P, d->a);
    otg_rng_fill_normal(&r, MV * P, d->v);
    for (int i = 0; i < M * P; i++)
        d->a[i] /= sqrtf((float)M);
    for (int i = 0; i < MV * P; i++)
        d->v[i] /= sqrtf((float)MV);
    if (dup)
        for (int i = 0; i < M; i++)
            d->a[i * P + 1] = d->a[i * P];
    for (int i = 0; i < M; i++) {
        double s = 0.1 * otg_rng_normal(&r);
        for (int j = 0; j < P; j++)
            s += (double)d->a[i * P + j] * (double)xt[j];
        d->b[i] = (float)s;
    }
    for (int i = 0; i < MV; i++) {
        double s = 0.1 * otg_rng_normal(&r);
        for (int j = 0; j < P; j++)
            s += (double)d->v[i * P + j] * (double)xt[j];
        d->c[i] = (float)s;
    }
}

typedef struct {
    otg_graph *g;
    otg_node *lam, *x, *loss;
} lasso_run;

/* L_val(x) = mean((V x - c)^2) / 2 on g, with V and c as constant inputs written later. */
static otg_node *val_loss(otg_graph *g, otg_node *x, otg_node **nv, otg_node **nc) {
    *nv = otg_input(g, SHAPE(MV, P), 0);
    *nc = otg_input(g, SHAPE(MV, 1), 0);
    return otg_scale(g, otg_mean(g, otg_square(g, otg_sub(g, otg_matmul(g, *nv, x), *nc))), 0.5f);
}

/* The implicit hypergradient setup: x*(lam) = otg_lasso_solve, then L_val. */
static lasso_run lasso_implicit(const lasso_data *d, const otg_fixed_point_opts *o) {
    lasso_run r;
    r.g = otg_graph_new();
    r.lam = otg_input(r.g, SHAPE(1), 1);
    otg_tensor a = otg_tensor_view((float *)d->a, SHAPE(M, P));
    r.x = otg_lasso_solve(r.g, r.lam, &a, d->b, 0.0f, o);
    otg_node *nv, *nc;
    r.loss = val_loss(r.g, r.x, &nv, &nc);
    assert_non_null(r.loss);
    assert_int_equal(otg_graph_compile(r.g), OTG_OK);
    memcpy(otg_node_data(nv), d->v, sizeof d->v);
    memcpy(otg_node_data(nc), d->c, sizeof d->c);
    return r;
}

/* The same L_val through K ISTA steps from x = 0 unrolled on one tape (same gamma). */
static lasso_run lasso_unrolled(const lasso_data *d, int k) {
    lasso_run r;
    r.g = otg_graph_new();
    r.lam = otg_input(r.g, SHAPE(1), 1);
    otg_node *na = otg_input(r.g, SHAPE(M, P), 0), *nat = otg_input(r.g, SHAPE(P, M), 0);
    otg_node *nb = otg_input(r.g, SHAPE(M, 1), 0), *x = otg_input(r.g, SHAPE(P, 1), 0);
    const double s = otg_spectral_norm(d->a, M, P, 500);
    const float gamma = (float)(1.0 / (s * s)); /* otg_lasso_solve's default step */
    for (int i = 0; i < k; i++)
        x = otg_lasso_ista_step(r.g, x, r.lam, na, nat, nb, gamma);
    r.x = x;
    otg_node *nv, *nc;
    r.loss = val_loss(r.g, x, &nv, &nc);
    assert_non_null(r.loss);
    assert_int_equal(otg_graph_compile(r.g), OTG_OK);
    memcpy(otg_node_data(na), d->a, sizeof d->a);
    for (int i = 0; i < M; i++)
        for (int j = 0; j < P; j++)
            otg_node_data(nat)[j * M + i] = d->a[i * P + j];
    memcpy(otg_node_data(nb), d->b, sizeof d->b);
    memcpy(otg_node_data(nv), d->v, sizeof d->v);
    memcpy(otg_node_data(nc), d->c, sizeof d->c);
    return r;
}

/* L_val(lam) and (grad != NULL) d L_val / d lam by backprop. */
static double lasso_eval(lasso_run *r, float lam, double *grad) {
    otg_node_data(r->lam)[0] = lam;
    if (otg_graph_forward(r->g) != OTG_OK) return NAN;
    if (grad) {
        otg_graph_zero_grad(r->g);
        if (otg_graph_backward(r->g, r->loss) != OTG_OK) return NAN;
        *grad = otg_node_grad(r->lam)[0];
    }
    return otg_node_data(r->loss)[0];
}

static int support(lasso_run *r, unsigned char *s) {
    int k = 0;
    for (int j = 0; j < P; j++)
        k += (s[j] = otg_node_data(r->x)[j] != 0.0f);
    return k;
}

static const float LAMS[] = {0.02f, 0.05f, 0.1f};

static void test_lasso_hypergradient_fd(void **state) {
    lasso_data d;
    lasso_data_make(&d, 7, 0);
    otg_fixed_point_opts o = otg_fixed_point_opts_default();
    o.tol = 1e-7, o.adjoint_tol = 1e-7, o.max_iter = 5000;
    lasso_run r = lasso_implicit(&d, &o);
    for (size_t i = 0; i < sizeof LAMS / sizeof *LAMS; i++) {
        const float lam = LAMS[i], h = 1e-3f * lam;
        double gi = 0.0;
        lasso_eval(&r, lam, &gi);
        unsigned char s0[P], sp[P], sm[P];
        int k0 = support(&r, s0);
        double lp = lasso_eval(&r, lam + h, NULL);
        support(&r, sp);
        double lm = lasso_eval(&r, lam - h, NULL);
        support(&r, sm);
        /* away from breakpoints: the support is the same over [lam - h, lam + h] */
        assert_memory_equal(s0, sp, P);
        assert_memory_equal(s0, sm, P);
        double fd = (lp - lm) / ((double)(lam + h) - (double)(lam - h));
        double err = fabs(gi - fd) / fabs(fd);
        printf("lasso lam %.3f support %d: implicit %.6e fd %.6e rel err %.2e\n", (double)lam, k0,
               gi, fd, err);
        assert_true(k0 > 0 && fabs(fd) > 1e-4);
        assert_true(err < 2e-2);
    }
    otg_graph_free(r.g);
}

static void test_lasso_hypergradient_unrolled(void **state) {
    lasso_data d;
    lasso_data_make(&d, 7, 0);
    otg_fixed_point_opts o = otg_fixed_point_opts_default();
    o.tol = 1e-7, o.adjoint_tol = 1e-7, o.max_iter = 5000;
    lasso_run ri = lasso_implicit(&d, &o);
    const int ks[] = {20, 100, 400};
    double errs[3];
    for (int c = 0; c < 3; c++) {
        lasso_run ru = lasso_unrolled(&d, ks[c]);
        errs[c] = 0.0;
        for (size_t i = 0; i < sizeof LAMS / sizeof *LAMS; i++) {
            double gi = 0.0, gu = 0.0;
            lasso_eval(&ri, LAMS[i], &gi);
            lasso_eval(&ru, LAMS[i], &gu);
            errs[c] = fmax(errs[c], fabs(gi - gu) / fabs(gi));
        }
        printf("lasso unrolled K = %d: max rel diff to implicit %.2e\n", ks[c], errs[c]);
        otg_graph_free(ru.g);
    }
    otg_fixed_point_info info;
    assert_int_equal(otg_fixed_point_stats(ri.x, &info), OTG_OK);
    printf("lasso implicit: %d forward iterations, %d adjoint iterations (residual %.1e)\n",
           info.iters, info.adjoint_iters, info.adjoint_residual);
    assert_true(info.adjoint_iters > 0 && info.adjoint_residual <= 1e-7);
    assert_true(errs[2] < 1e-3);     /* many iterations: unrolled -> implicit */
    assert_true(errs[2] <= errs[0]); /* and it approaches it as K grows */
    otg_graph_free(ri.g);
}

/* At |v| = t the soft-threshold's backprop uses relu'(0) = s: dS/dv = s, dS/dt = -sign(v) s. */
static void test_soft_threshold_selection(void **state) {
    const float ss[] = {0.0f, 0.5f, 1.0f};
    for (int k = 0; k < 3; k++) {
        otg_graph *g = otg_graph_new();
        otg_node *v = otg_input(g, SHAPE(4, 1), 1), *t = otg_input(g, SHAPE(1), 1);
        otg_node *y = otg_sum(g, otg_soft_threshold(g, v, t));
        assert_int_equal(otg_graph_set_relu_prime(g, ss[k]), OTG_OK);
        assert_int_equal(otg_graph_compile(g), OTG_OK);
        const float vals[4] = {0.5f, -0.5f, 0.9f, 0.2f}; /* kink, kink, active, inactive */
        memcpy(otg_node_data(v), vals, sizeof vals);
        otg_node_data(t)[0] = 0.5f;
        assert_int_equal(otg_graph_forward(g), OTG_OK);
        otg_graph_zero_grad(g);
        assert_int_equal(otg_graph_backward(g, y), OTG_OK);
        const float *gv = otg_node_grad(v), *gt = otg_node_grad(t);
        assert_float_equal(gv[0], ss[k], 0.0f);
        assert_float_equal(gv[1], ss[k], 0.0f);
        assert_float_equal(gv[2], 1.0f, 0.0f);
        assert_float_equal(gv[3], 0.0f, 0.0f);
        assert_float_equal(gt[0], -ss[k] + ss[k] - 1.0f, 0.0f); /* -s (v = t), +s (v = -t), -1 */
        assert_float_equal(otg_node_data(y)[0], 0.4f, 1e-7f);
        otg_graph_free(g);
    }
}

/* ---- the deep-equilibrium layer ----------------------------------------------------------------
 */

enum { DN = 5, DIN = 3, DW = 8 };

typedef struct {
    otg_graph *g;
    otg_node *x, *z, *loss;
    float wts[DN * DW];
} deq_run;

/* loss = sum_k wts_k z*_k with fixed random weights, on z* = otg_nn_deq(x). */
static deq_run deq_make(uint64_t seed, const otg_deq_spec *spec) {
    deq_run r;
    r.g = otg_graph_new();
    r.x = otg_input(r.g, SHAPE(DN, DIN), 1);
    otg_rng init = otg_rng_make(seed, 0);
    r.z = otg_nn_deq(r.g, r.x, DW, spec, &init);
    assert_non_null(r.z);
    otg_node *wn = otg_input(r.g, SHAPE(DN, DW), 0);
    r.loss = otg_sum(r.g, otg_mul(r.g, r.z, wn));
    assert_int_equal(otg_graph_compile(r.g), OTG_OK);
    otg_rng dr = otg_rng_make(seed, 5);
    otg_rng_fill_normal(&dr, DN * DIN, otg_node_data(r.x));
    otg_rng_fill_normal(&dr, DN * DW, r.wts);
    memcpy(otg_node_data(wn), r.wts, sizeof r.wts);
    float *u = otg_graph_params(r.g, NULL); /* b = 0.1 so preactivations are spread */
    for (int j = 0; j < DW; j++)
        u[DW * DW + DIN * DW + j] = 0.3f * (float)(j % 3) - 0.2f;
    return r;
}

static double deq_loss(deq_run *r) {
    return otg_graph_forward(r->g) == OTG_OK ? (double)otg_node_data(r->loss)[0] : (double)NAN;
}

/* All gradients of the loss: the flat parameter gradient then d/dx, into out[np + DN * DIN]. */
static int64_t deq_grads(deq_run *r, double *out) {
    int64_t np;
    assert_true(deq_loss(r) == deq_loss(r)); /* finite */
    otg_graph_zero_grad(r->g);
    assert_int_equal(otg_graph_backward(r->g, r->loss), OTG_OK);
    const float *gp = otg_graph_grads(r->g, &np), *gx = otg_node_grad(r->x);
    for (int64_t i = 0; i < np; i++)
        out[i] = gp[i];
    for (int64_t i = 0; i < DN * DIN; i++)
        out[np + i] = gx[i];
    return np + DN * DIN;
}

/* min |z W + x U + b| over the preactivations at z* (distance to relu's kink). */
static double deq_margin(deq_run *r) {
    const float *u = otg_graph_params(r->g, NULL), *z = otg_node_data(r->z),
                *x = otg_node_data(r->x);
    const float *w = u, *uu = u + DW * DW, *b = u + DW * DW + DIN * DW;
    double m = INFINITY;
    for (int i = 0; i < DN; i++)
        for (int j = 0; j < DW; j++) {
            double s = (double)b[j];
            for (int k = 0; k < DW; k++)
                s += (double)z[i * DW + k] * (double)w[k * DW + j];
            for (int k = 0; k < DIN; k++)
                s += (double)x[i * DIN + k] * (double)uu[k * DW + j];
            m = fmin(m, fabs(s));
        }
    return m;
}

static void test_deq_gradient_fd(void **state) {
    otg_deq_spec spec = otg_deq_spec_default();
    spec.solver.tol = 1e-7, spec.solver.adjoint_tol = 1e-7;
    deq_run r = deq_make(11, &spec);
    double ad[DW * DW + DIN * DW + DW + DN * DIN];
    const int64_t n = deq_grads(&r, ad);
    const float h = 1e-3f;
    const double margin = deq_margin(&r);
    assert_true(margin > 20.0 * (double)h); /* relu's kinks are out of the FD stencil's reach */
    int64_t np;
    float *u = otg_graph_params(r.g, &np), *x = otg_node_data(r.x);
    double maxfd = 0.0, maxerr = 0.0;
    for (int64_t i = 0; i < n; i++) {
        float *p = i < np ? u + i : x + (i - np), v = *p;
        *p = v + h;
        double lp = deq_loss(&r);
        *p = v - h;
        double lm = deq_loss(&r);
        *p = v;
        double fd = (lp - lm) / ((double)(v + h) - (double)(v - h));
        maxfd = fmax(maxfd, fabs(fd));
        maxerr = fmax(maxerr, fabs(fd - ad[i]) / (1e-2 * fabs(fd) + 2e-3 * 1.0));
    }
    printf("deq: %lld gradients vs central FD: worst err/tol %.3f (max |fd| %.3f, margin %.3f)\n",
           (long long)n, maxerr, maxfd, margin);
    assert_true(maxfd > 0.1);
    assert_true(maxerr <= 1.0);
    otg_graph_free(r.g);
}

/* The same loss on K unrolled steps z <- relu(z W + x U + b) from z = 0, with r's parameters. */
static void deq_unrolled_grads(deq_run *r, int k, double *out) {
    otg_graph *g = otg_graph_new();
    otg_node *w = otg_param(g, SHAPE(DW, DW)), *u = otg_param(g, SHAPE(DIN, DW));
    otg_node *b = otg_param(g, SHAPE(DW)), *x = otg_input(g, SHAPE(DN, DIN), 1);
    otg_node *z = otg_input(g, SHAPE(DN, DW), 0), *xu = otg_matmul(g, x, u);
    for (int i = 0; i < k; i++)
        z = otg_relu(g, otg_bias(g, otg_add(g, otg_matmul(g, z, w), xu), b));
    otg_node *wn = otg_input(g, SHAPE(DN, DW), 0), *loss = otg_sum(g, otg_mul(g, z, wn));
    assert_non_null(loss);
    assert_int_equal(otg_graph_compile(g), OTG_OK);
    int64_t np;
    const float *src = otg_graph_params(r->g, &np);
    memcpy(otg_graph_params(g, NULL), src, (size_t)np * sizeof *src);
    memcpy(otg_node_data(x), otg_node_data(r->x), DN * DIN * sizeof(float));
    memcpy(otg_node_data(wn), r->wts, sizeof r->wts);
    assert_int_equal(otg_graph_forward(g), OTG_OK);
    otg_graph_zero_grad(g);
    assert_int_equal(otg_graph_backward(g, loss), OTG_OK);
    const float *gp = otg_graph_grads(g, NULL);
    for (int64_t i = 0; i < np; i++)
        out[i] = gp[i];
    for (int64_t i = 0; i < DN * DIN; i++)
        out[np + i] = otg_node_grad(x)[i];
    otg_graph_free(g);
}

static void test_deq_gradient_unrolled(void **state) {
    otg_deq_spec spec = otg_deq_spec_default();
    spec.solver.tol = 1e-7, spec.solver.adjoint_tol = 1e-7;
    deq_run r = deq_make(11, &spec);
    enum { NG = DW * DW + DIN * DW + DW + DN * DIN };
    double gi[NG], gu[NG];
    const int64_t n = deq_grads(&r, gi);
    const int ks[] = {5, 20, 80};
    double err[3];
    for (int c = 0; c < 3; c++) {
        deq_unrolled_grads(&r, ks[c], gu);
        double num = 0.0, den = 0.0;
        for (int64_t i = 0; i < n; i++)
            num += (gi[i] - gu[i]) * (gi[i] - gu[i]), den += gi[i] * gi[i];
        err[c] = sqrt(num / den);
        printf("deq unrolled K = %d: |g_unrolled - g_implicit| / |g_implicit| = %.2e\n", ks[c],
               err[c]);
    }
    assert_true(err[2] < 1e-4);
    assert_true(err[0] > err[2]);
    otg_graph_free(r.g);
}

/* ---- failures: singular I - A, divergence, non-convergence, non-finite, bad arguments ---------
 */

/* T(x, th) = c x + (th - th), x [3]: x = 0 is a fixed point for every c; A = c I. */
static otg_node *scaled_identity(otg_graph *g, otg_node *th, float c, otg_adjoint_solver solver) {
    otg_graph *t = otg_graph_new();
    otg_node *x = otg_input(t, SHAPE(3), 1), *tth = otg_input(t, SHAPE(3), 1);
    otg_node *out = otg_add(t, otg_scale(t, x, c), otg_sub(t, tth, tth));
    otg_fixed_point_opts o = otg_fixed_point_opts_default();
    o.adjoint_solver = solver;
    return otg_fixed_point(g, t, x, out, 1, &tth, &th, &o);
}

static otg_status backward_of(float c, otg_adjoint_solver solver) {
    otg_graph *g = otg_graph_new();
    otg_node *th = otg_input(g, SHAPE(3), 1);
    otg_node *x = scaled_identity(g, th, c, solver), *loss = otg_sum(g, x);
    assert_non_null(loss);
    assert_int_equal(otg_graph_forward(g), OTG_OK);
    otg_status st = otg_graph_backward(g, loss);
    otg_fixed_point_info info;
    assert_int_equal(otg_fixed_point_stats(x, &info), OTG_OK);
    printf("T = %g x, %s: backward %s after %d adjoint iterations: %s\n", (double)c,
           solver == OTG_ADJOINT_GMRES ? "GMRES" : "iterate", otg_status_name(st),
           info.adjoint_iters, otg_last_error());
    otg_graph_free(g);
    return st;
}

static void test_singular_and_divergent_adjoint(void **state) {
    assert_int_equal(backward_of(1.0f, OTG_ADJOINT_ITERATE), OTG_ENOCONV); /* I - A = 0 */
    HAS("stagnated");
    HAS("I - A is singular");
    assert_int_equal(backward_of(2.0f, OTG_ADJOINT_ITERATE), OTG_ENOCONV); /* rho(A) = 2 */
    HAS("diverged");
    HAS("modulus > 1");
    assert_int_equal(backward_of(0.5f, OTG_ADJOINT_ITERATE), OTG_OK); /* a contraction: fine */
    assert_int_equal(backward_of(1.0f, OTG_ADJOINT_GMRES), OTG_ENOCONV);
    HAS("zero pivot");
    HAS("singular");
    assert_int_equal(backward_of(2.0f, OTG_ADJOINT_GMRES), OTG_OK); /* invertible: GMRES solves */
}

/* T(x, th) = 2 x + th - 1 at th = 1: x* = 1 - th = 0 is reached from x = 0 at once, A = 2 I is not
 * a contraction but I - A = -I is invertible, dx* / dth = -1. The iteration diverges; GMRES solves.
 */
static otg_status expanding(otg_adjoint_solver solver, float *grad) {
    otg_graph *g = otg_graph_new(), *t = otg_graph_new();
    otg_node *th = otg_input(g, SHAPE(3), 1);
    otg_node *x = otg_input(t, SHAPE(3), 1), *tth = otg_input(t, SHAPE(3), 1);
    otg_node *one = otg_input(t, SHAPE(3), 0);
    otg_node *out = otg_add(t, otg_scale(t, x, 2.0f), otg_sub(t, tth, one));
    assert_int_equal(otg_graph_compile(t), OTG_OK);
    for (int i = 0; i < 3; i++)
        otg_node_data(one)[i] = 1.0f;
    otg_fixed_point_opts o = otg_fixed_point_opts_default();
    o.adjoint_solver = solver;
    otg_node *xs = otg_fixed_point(g, t, x, out, 1, &tth, &th, &o), *loss = otg_sum(g, xs);
    assert_int_equal(otg_graph_compile(g), OTG_OK);
    for (int i = 0; i < 3; i++)
        otg_node_data(th)[i] = 1.0f;
    assert_int_equal(otg_graph_forward(g), OTG_OK);
    otg_graph_zero_grad(g);
    otg_status st = otg_graph_backward(g, loss);
    *grad = otg_node_grad(th)[0];
    otg_graph_free(g);
    return st;
}

static void test_gmres_adjoint(void **state) {
    float gr = 0.0f;
    assert_int_equal(expanding(OTG_ADJOINT_ITERATE, &gr), OTG_ENOCONV);
    HAS("diverged");
    assert_int_equal(expanding(OTG_ADJOINT_GMRES, &gr), OTG_OK);
    assert_float_equal(gr, -1.0f, 1e-6f);
    /* the lasso: the same hypergradient with fewer passes of T's tape */
    lasso_data d;
    lasso_data_make(&d, 7, 0);
    otg_fixed_point_opts o = otg_fixed_point_opts_default();
    o.tol = 1e-7, o.max_iter = 5000;
    lasso_run ri = lasso_implicit(&d, &o);
    o.adjoint_solver = OTG_ADJOINT_GMRES;
    lasso_run rg = lasso_implicit(&d, &o);
    for (size_t i = 0; i < sizeof LAMS / sizeof *LAMS; i++) {
        double a = 0.0, b = 0.0;
        otg_fixed_point_info ia, ib;
        lasso_eval(&ri, LAMS[i], &a);
        lasso_eval(&rg, LAMS[i], &b);
        assert_int_equal(otg_fixed_point_stats(ri.x, &ia), OTG_OK);
        assert_int_equal(otg_fixed_point_stats(rg.x, &ib), OTG_OK);
        printf("lasso lam %.3f: iterate %.7e (%d passes), GMRES %.7e (%d passes), rel diff %.1e\n",
               (double)LAMS[i], a, ia.adjoint_iters, b, ib.adjoint_iters, fabs(a - b) / fabs(a));
        assert_true(fabs(a - b) <= 1e-4 * fabs(a));
        assert_true(ib.adjoint_iters <= ia.adjoint_iters);
    }
    otg_graph_free(ri.g);
    otg_graph_free(rg.g);
    /* singular: the duplicated column, and T = x */
    lasso_data_make(&d, 7, 1);
    lasso_run rs = lasso_implicit(&d, &o);
    otg_node_data(rs.lam)[0] = 0.02f;
    assert_int_equal(otg_graph_forward(rs.g), OTG_OK);
    otg_graph_zero_grad(rs.g);
    assert_int_equal(otg_graph_backward(rs.g, rs.loss), OTG_ENOCONV);
    printf("GMRES, lasso with a duplicated column: %s\n", otg_last_error());
    HAS("singular");
    otg_graph_free(rs.g);
}

static void test_lasso_duplicate_columns_singular(void **state) {
    lasso_data d;
    lasso_data_make(&d, 7, 1);
    lasso_run r = lasso_implicit(&d, NULL);
    otg_node_data(r.lam)[0] = 0.02f;
    assert_int_equal(otg_graph_forward(r.g), OTG_OK);
    const float *x = otg_node_data(r.x);
    assert_true(x[0] != 0.0f && x[0] == x[1]); /* both copies in the support */
    otg_graph_zero_grad(r.g);
    assert_int_equal(otg_graph_backward(r.g, r.loss), OTG_ENOCONV);
    printf("lasso with a duplicated column: %s\n", otg_last_error());
    HAS("I - A is singular");
    otg_graph_free(r.g);
}

static void test_forward_failures(void **state) {
    otg_graph *g = otg_graph_new();
    otg_node *th = otg_input(g, SHAPE(3), 1);
    /* T(x) = -x + th - th + 1-ish: oscillates, never converges */
    otg_graph *t = otg_graph_new();
    otg_node *x = otg_input(t, SHAPE(3), 1), *tth = otg_input(t, SHAPE(3), 1);
    otg_node *out = otg_add(t, otg_scale(t, x, -1.0f), tth);
    otg_fixed_point_opts o = otg_fixed_point_opts_default();
    o.max_iter = 50;
    otg_node *fp = otg_fixed_point(g, t, x, out, 1, &tth, &th, &o);
    assert_int_equal(otg_graph_compile(g), OTG_OK);
    for (int i = 0; i < 3; i++)
        otg_node_data(th)[i] = 1.0f;
    assert_int_equal(otg_graph_forward(g), OTG_ENOCONV);
    HAS("did not converge in 50 iterations");
    printf("oscillating T: %s\n", otg_last_error());
    otg_graph_free(g);
    /* T(x) = 2 x + th: grows to Inf */
    g = otg_graph_new();
    th = otg_input(g, SHAPE(3), 1);
    t = otg_graph_new();
    x = otg_input(t, SHAPE(3), 1), tth = otg_input(t, SHAPE(3), 1);
    out = otg_add(t, otg_scale(t, x, 2.0f), tth);
    fp = otg_fixed_point(g, t, x, out, 1, &tth, &th, NULL);
    assert_non_null(fp);
    assert_int_equal(otg_graph_compile(g), OTG_OK);
    for (int i = 0; i < 3; i++)
        otg_node_data(th)[i] = 1.0f;
    assert_int_equal(otg_graph_forward(g), OTG_ENONFINITE);
    HAS("not finite");
    printf("T = 2 x + 1: %s\n", otg_last_error());
    otg_graph_free(g);
}

/* warm_start: a second forward at the same theta starts at x* and stops after one step. */
static void test_warm_start(void **state) {
    lasso_data d;
    lasso_data_make(&d, 7, 0);
    otg_fixed_point_opts o = otg_fixed_point_opts_default();
    o.warm_start = 1;
    lasso_run r = lasso_implicit(&d, &o);
    otg_fixed_point_info a, b;
    const double l1 = lasso_eval(&r, 0.05f, NULL);
    assert_int_equal(otg_fixed_point_stats(r.x, &a), OTG_OK);
    const double l2 = lasso_eval(&r, 0.05f, NULL);
    assert_int_equal(otg_fixed_point_stats(r.x, &b), OTG_OK);
    printf("warm start: %d then %d iterations, L %.9f then %.9f; %lld kinks in T at x*\n", a.iters,
           b.iters, l1, l2, (long long)b.kinks);
    assert_true(a.iters > 5 && b.iters <= 2);
    assert_true(fabs(l1 - l2) <= 1e-5 * fabs(l1));
    otg_graph_free(r.g);
}

static void test_bad_arguments(void **state) {
    otg_graph *g = otg_graph_new();
    otg_node *th = otg_input(g, SHAPE(3), 1), *th2 = otg_input(g, SHAPE(2), 1);
    otg_graph *t = otg_graph_new();
    otg_node *x = otg_input(t, SHAPE(3), 1), *tth = otg_input(t, SHAPE(3), 1);
    assert_null(otg_fixed_point(g, t, x, otg_sum(t, x), 1, &tth, &th, NULL)); /* consumes t */
    HAS("T(x) has 1 elements");
    t = otg_graph_new();
    x = otg_input(t, SHAPE(3), 1), tth = otg_input(t, SHAPE(3), 1);
    assert_null(otg_fixed_point(g, t, x, otg_add(t, x, tth), 1, &tth, &th2, NULL));
    HAS("theta 0 has 2 elements");
    t = otg_graph_new();
    x = otg_input(t, SHAPE(3), 1), tth = otg_input(t, SHAPE(3), 0);
    assert_null(otg_fixed_point(g, t, x, otg_add(t, x, tth), 1, &tth, &th, NULL));
    HAS("requires_grad = 1");
    t = otg_graph_new();
    x = otg_input(t, SHAPE(3), 1);
    otg_node *pw = otg_param(t, SHAPE(3));
    assert_null(otg_fixed_point(g, t, x, otg_mul(t, x, pw), 1, &pw, &th, NULL));
    HAS("parameters");
    t = otg_graph_new();
    x = otg_input(t, SHAPE(3), 0), tth = otg_input(t, SHAPE(3), 1);
    assert_null(otg_fixed_point(g, t, x, otg_add(t, x, tth), 1, &tth, &th, NULL));
    HAS("requires_grad");
    assert_null(otg_fixed_point(g, NULL, NULL, NULL, 1, NULL, NULL, NULL));
    otg_fixed_point_info info;
    assert_int_equal(otg_fixed_point_stats(th, &info), OTG_EINVAL);
    otg_rng rng = otg_rng_make(1, 1);
    otg_deq_spec spec = otg_deq_spec_default();
    spec.max_norm = 1.0f;
    assert_null(otg_nn_deq(g, otg_input(g, SHAPE(4, 2), 0), 8, &spec, &rng));
    HAS("max_norm");
    assert_null(otg_soft_threshold(g, th, th));
    assert_null(otg_lasso_ista_step(g, th, th, th, th, th, -1.0f));
    otg_graph_free(g);
}

/* ---- reproducibility --------------------------------------------------------------------------
 */

static void run_all_grads(double *lasso_g, double *deq_g) {
    lasso_data d;
    lasso_data_make(&d, 7, 0);
    otg_fixed_point_opts o = otg_fixed_point_opts_default();
    for (int k = 0; k < 2; k++) { /* the iteration, then GMRES */
        o.adjoint_solver = k ? OTG_ADJOINT_GMRES : OTG_ADJOINT_ITERATE;
        lasso_run r = lasso_implicit(&d, &o);
        lasso_eval(&r, 0.05f, &lasso_g[k]);
        otg_graph_free(r.g);
    }
    deq_run q = deq_make(11, NULL);
    deq_grads(&q, deq_g);
    otg_graph_free(q.g);
}

static void test_bit_identical(void **state) {
    enum { NG = DW * DW + DIN * DW + DW + DN * DIN };
    double l1[2], l2[2], l3[2], d1[NG], d2[NG], d3[NG];
    const int threads = otg_threads_get();
    otg_threads_set(1);
    run_all_grads(l1, d1);
    run_all_grads(l2, d2);
    otg_threads_set(2);
    run_all_grads(l3, d3);
    otg_threads_set(threads);
    assert_memory_equal(l1, l2, sizeof l1);
    assert_memory_equal(l1, l3, sizeof l1);
    assert_memory_equal(d1, d2, sizeof d1);
    assert_memory_equal(d1, d3, sizeof d1);
}

/* ---- a generator with a DEQ layer, trained on SW ------------------------------------------------
 */

static void test_deq_generator_trains(void **state) {
    enum { N = 64, LAT = 2, D = 2, L = 16, STEPS = 60 };
    otg_graph *g = otg_graph_new();
    otg_node *z = otg_input(g, SHAPE(N, LAT), 0), *y = otg_input(g, SHAPE(N, D), 0);
    otg_rng init = otg_rng_make(3, 0);
    otg_model_spec ms = {0};
    ms.kind = OTG_MODEL_DEQ, ms.latent = LAT, ms.out_dim = D, ms.hidden[0] = 16, ms.n_hidden = 1;
    otg_node *out = otg_model_build(g, z, &ms, &init); /* deq(16) -> dense(2) */
    otg_sw_loss_ctx sw = {0};
    sw.ws = otg_sw_workspace_new();
    sw.opts = otg_sw_opts_default();
    otg_tensor *theta = otg_tensor_new(SHAPE(D, L));
    sw.theta = theta;
    otg_node *loss = otg_sw_loss(g, out, y, &sw);
    assert_non_null(loss);
    assert_int_equal(otg_graph_compile(g), OTG_OK);
    otg_rng dr = otg_rng_make(3, 1);
    otg_rng_fill_normal(&dr, N * LAT, otg_node_data(z));
    float *yd = otg_node_data(y);
    for (int i = 0; i < N; i++)
        yd[2 * i] = 2.0f + 0.3f * (float)otg_rng_normal(&dr), yd[2 * i + 1] = -1.0f;
    int64_t np;
    float *u = otg_graph_params(g, &np), *gr = otg_graph_grads(g, NULL);
    otg_optim *opt = otg_optim_new(otg_optim_adam, np, NULL);
    otg_rng dirs = otg_rng_make(3, 2);
    double first = 0.0, last = 0.0;
    for (int k = 0; k < STEPS; k++) {
        assert_int_equal(otg_sw_directions(&dirs, OTG_DIR_GAUSSIAN, D, L, theta->data), OTG_OK);
        assert_int_equal(otg_graph_forward(g), OTG_OK);
        otg_graph_zero_grad(g);
        assert_int_equal(otg_graph_backward(g, loss), OTG_OK);
        double v = otg_node_data(loss)[0];
        if (k == 0) first = v;
        last = v;
        assert_int_equal(otg_optim_step(opt, u, gr, 0.05, NULL), OTG_OK);
    }
    /* the projection acts at the start of a forward: run one after the last step. W of the DEQ
     * is the first parameter */
    assert_int_equal(otg_graph_forward(g), OTG_OK);
    const double wn = otg_spectral_norm(u, 16, 16, 500);
    printf("deq generator: SW loss %.4f -> %.4f in %d Adam steps, |W|_2 = %.4f\n", first, last,
           STEPS, wn);
    assert_true(last < 0.2 * first);
    assert_true(wn <= 0.9 * 1.001);
    otg_optim_free(opt);
    otg_graph_free(g);
    otg_sw_loss_release(&sw);
    otg_sw_workspace_free(sw.ws);
    otg_tensor_free(theta);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lasso_hypergradient_fd),
        cmocka_unit_test(test_lasso_hypergradient_unrolled),
        cmocka_unit_test(test_soft_threshold_selection),
        cmocka_unit_test(test_deq_gradient_fd),
        cmocka_unit_test(test_deq_gradient_unrolled),
        cmocka_unit_test(test_singular_and_divergent_adjoint),
        cmocka_unit_test(test_lasso_duplicate_columns_singular),
        cmocka_unit_test(test_gmres_adjoint),
        cmocka_unit_test(test_forward_failures),
        cmocka_unit_test(test_warm_start),
        cmocka_unit_test(test_bad_arguments),
        cmocka_unit_test(test_bit_identical),
        cmocka_unit_test(test_deq_generator_trains),
    };
    if (getenv("OTGEN_TEST_FILTER")) cmocka_set_test_filter(getenv("OTGEN_TEST_FILTER"));
    return cmocka_run_group_tests(tests, NULL, NULL);
}
