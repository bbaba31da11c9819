/* Nonsmooth autodiff (docs/algorithms.md section 3): selections at kinks lie in the Clarke set and
 * follow relu'(0) = s; the relu(x) - relu(-x) artefact gives 2s at 0; the conservative-field path
 * identity f(g(1)) - f(g(0)) = int <D_f(g(t)), g'(t)> dt holds along piecewise-linear curves
 * through a ReLU MLP, including curves through kinks, with error shrinking as the grid refines. */
// ctest-labels: unit grad
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h> /* after the three headers it needs */

#include "otgen/ad.h"
#include "otgen/nn.h"

#include <math.h>
#include <stdlib.h>

#define SHAPE(...)                                                                                 \
    (int)(sizeof((int64_t[]){__VA_ARGS__}) / sizeof(int64_t)), (int64_t[]) {                       \
        __VA_ARGS__                                                                                \
    }

/* d/dx of op(x) (unary) at the given x values, backprop with upstream 1, for relu'(0) = s. */
static void unary_grad(int which, float s, const float *x, float *dx, int n, int64_t *kinks) {
    otg_graph *g = otg_graph_new();
    assert_int_equal(otg_graph_set_relu_prime(g, s), OTG_OK);
    otg_node *in = otg_input(g, SHAPE(n), 1);
    otg_node *y = which == 0   ? otg_relu(g, in)
                  : which == 1 ? otg_leaky_relu(g, in, 0.1f)
                               : otg_abs(g, in);
    otg_node *loss = otg_sum(g, y);
    assert_non_null(loss);
    assert_int_equal(otg_graph_compile(g), OTG_OK);
    for (int i = 0; i < n; i++)
        otg_node_data(in)[i] = x[i];
    assert_int_equal(otg_graph_forward(g), OTG_OK);
    otg_graph_zero_grad(g);
    assert_int_equal(otg_graph_backward(g, loss), OTG_OK);
    for (int i = 0; i < n; i++)
        dx[i] = otg_node_grad(in)[i];
    *kinks = otg_graph_kink_count(g);
    otg_graph_free(g);
}

static void test_relu_family_selection_in_clarke_set(void **state) {
    const float x[5] = {-1.0f, 0.0f, 2.0f, 0.0f, -0.0f};
    const float svals[4] = {0.0f, 0.25f, 0.5f, 1.0f};
    float dx[5];
    int64_t kinks;
    for (int k = 0; k < 4; k++) {
        float s = svals[k];
        unary_grad(0, s, x, dx, 5, &kinks);
        assert_int_equal(kinks, 3); /* 0, 0 and -0 */
        assert_true(dx[0] == 0.0f && dx[2] == 1.0f);
        const int at_kink[3] = {1, 3, 4};
        for (int j = 0; j < 3; j++) {
            int i = at_kink[j];
            assert_true(dx[i] >= 0.0f && dx[i] <= 1.0f); /* Clarke set of relu at 0: [0, 1] */
            assert_true(dx[i] == s);                     /* the documented selection */
        }
        unary_grad(1, s, x, dx, 5, &kinks);
        assert_true(fabsf(dx[0] - 0.1f) < 1e-7f && dx[2] == 1.0f);
        assert_true(dx[1] >= 0.1f && dx[1] <= 1.0f); /* Clarke set [alpha, 1] */
        assert_true(fabsf(dx[1] - (0.1f + s * 0.9f)) < 1e-6f);
        unary_grad(2, s, x, dx, 5, &kinks);
        assert_true(dx[0] == -1.0f && dx[2] == 1.0f);
        assert_true(dx[1] == 0.0f && dx[3] == 0.0f); /* |x|'(0) = 0, in [-1, 1] */
    }
}

static void test_max_min_ties_in_clarke_set(void **state) {
    for (int is_max = 0; is_max <= 1; is_max++) {
        otg_graph *g = otg_graph_new();
        otg_node *a = otg_input(g, SHAPE(3), 1), *b = otg_input(g, SHAPE(3), 1);
        otg_node *y = is_max ? otg_max(g, a, b) : otg_min(g, a, b);
        otg_node *loss = otg_sum(g, otg_scale(g, y, 3.0f));
        assert_int_equal(otg_graph_compile(g), OTG_OK);
        const float av[3] = {1.0f, 2.0f, -1.0f}, bv[3] = {1.0f, 0.0f, 5.0f};
        for (int i = 0; i < 3; i++)
            otg_node_data(a)[i] = av[i], otg_node_data(b)[i] = bv[i];
        assert_int_equal(otg_graph_forward(g), OTG_OK);
        assert_int_equal(otg_graph_kink_count(g), 1);
        otg_graph_zero_grad(g);
        assert_int_equal(otg_graph_backward(g, loss), OTG_OK);
        const float *ga = otg_node_grad(a), *gb = otg_node_grad(b);
        /* tie at i = 0: Clarke set {(3 l, 3 (1 - l)), l in [0, 1]}; selection: the first argument
         */
        assert_true(ga[0] + gb[0] == 3.0f && ga[0] >= 0.0f && gb[0] >= 0.0f);
        assert_true(ga[0] == 3.0f);
        assert_true(ga[1] == (is_max ? 3.0f : 0.0f) && gb[1] == (is_max ? 0.0f : 3.0f));
        otg_graph_free(g);
    }
}

/* f(x) = relu(x) - relu(-x) = x, yet backprop at 0 gives 2s (Bolte & Pauwels' artefact). */
static void test_relu_artefact_gives_2s(void **state) {
    const float svals[3] = {0.0f, 0.5f, 1.0f};
    for (int k = 0; k < 3; k++) {
        otg_graph *g = otg_graph_new();
        assert_int_equal(otg_graph_set_relu_prime(g, svals[k]), OTG_OK);
        otg_node *x = otg_input(g, SHAPE(2), 1);
        otg_node *f = otg_sub(g, otg_relu(g, x), otg_relu(g, otg_scale(g, x, -1.0f)));
        otg_node *loss = otg_sum(g, f);
        assert_int_equal(otg_graph_compile(g), OTG_OK);
        otg_node_data(x)[0] = 0.0f;
        otg_node_data(x)[1] = 0.3f;
        assert_int_equal(otg_graph_forward(g), OTG_OK);
        assert_true(otg_node_data(f)[0] == 0.0f && fabsf(otg_node_data(f)[1] - 0.3f) < 1e-7f);
        otg_graph_zero_grad(g);
        assert_int_equal(otg_graph_backward(g, loss), OTG_OK);
        assert_true(otg_node_grad(x)[0] == 2.0f * svals[k]);
        assert_true(otg_node_grad(x)[1] == 1.0f); /* away from the kink: the true derivative */
        otg_graph_free(g);
    }
}

/* ---- the path identity --------------------------------------------------------------------- */

enum { DIM = 3, VERTS = 4 };

typedef struct {
    otg_graph *g;
    otg_node *x, *f, *loss;
    int64_t rows;
} mlp_eval;

/* A ReLU MLP 3 -> 16 -> 16 -> 1 with zero biases, evaluated on `rows` points at once: with zero
 * biases every preactivation is exactly 0 at x = 0, so a curve through 0 crosses kinks. */
static mlp_eval mlp_make(int64_t rows, float s, uint64_t seed) {
    mlp_eval m = {otg_graph_new(), NULL, NULL, NULL, rows};
    assert_int_equal(otg_graph_set_relu_prime(m.g, s), OTG_OK);
    m.x = otg_input(m.g, SHAPE(rows, DIM), 1);
    otg_mlp_spec spec = otg_mlp_spec_default();
    spec.widths = (const int64_t[]){DIM, 16, 16, 1};
    spec.n_widths = 4;
    otg_rng rng = otg_rng_make(seed, 7);
    m.f = otg_mlp_build(m.g, m.x, &spec, &rng);
    m.loss = otg_sum(m.g, m.f);
    assert_non_null(m.loss);
    assert_int_equal(otg_graph_compile(m.g), OTG_OK);
    return m;
}

/* Trapezoid quadrature of <backprop f(g(t)), g'(t)> over a piecewise-linear curve with M
 * intervals per segment, minus (f(end) - f(start)); relative to the curve's total variation. */
static double path_residual(mlp_eval *m, const float (*v)[DIM], int64_t M, int64_t *kinks) {
    double integral = 0.0;
    *kinks = 0;
    for (int seg = 0; seg + 1 < VERTS; seg++) {
        float *x = otg_node_data(m->x);
        for (int64_t j = 0; j <= M; j++) {
            double t = (double)j / (double)M;
            for (int d = 0; d < DIM; d++)
                x[j * DIM + d] = (float)((1.0 - t) * (double)v[seg][d] + t * (double)v[seg + 1][d]);
            /* the vertices are hit exactly, so kinks at a vertex are evaluated */
        }
        assert_int_equal(otg_graph_forward(m->g), OTG_OK);
        *kinks += otg_graph_kink_count(m->g);
        otg_graph_zero_grad(m->g);
        assert_int_equal(otg_graph_backward(m->g, m->loss), OTG_OK);
        const float *gx = otg_node_grad(m->x);
        for (int64_t j = 0; j <= M; j++) {
            double dot = 0.0;
            for (int d = 0; d < DIM; d++)
                dot += (double)gx[j * DIM + d] * ((double)v[seg + 1][d] - (double)v[seg][d]);
            integral += (j == 0 || j == M ? 0.5 : 1.0) * dot / (double)M;
        }
    }
    float *x = otg_node_data(m->x);
    for (int d = 0; d < DIM; d++)
        x[d] = v[0][d], x[DIM + d] = v[VERTS - 1][d];
    assert_int_equal(otg_graph_forward(m->g), OTG_OK);
    const float *f = otg_node_data(m->f);
    return integral - ((double)f[1] - (double)f[0]);
}

static void test_path_identity_through_kinks(void **state) {
    const int64_t grids[3] = {8, 64, 4096};
    const float svals[3] = {0.0f, 0.5f, 1.0f};
    for (int k = 0; k < 3; k++) {
        double err[3] = {0, 0, 0}, scale = 0.0;
        int64_t kink_hits = 0;
        for (int curve = 0; curve < 12; curve++) {
            otg_rng rng = otg_rng_make(100 + (uint64_t)curve, 1);
            float v[VERTS][DIM];
            for (int p = 0; p < VERTS; p++)
                for (int d = 0; d < DIM; d++)
                    v[p][d] = (float)(4.0 * otg_rng_uniform(&rng) - 2.0);
            if (curve % 2 == 0)
                for (int d = 0; d < DIM; d++)
                    v[1][d] = 0.0f; /* through the kink at 0 */
            for (int gi = 0; gi < 3; gi++) {
                mlp_eval m = mlp_make(grids[gi] + 1, svals[k], 42);
                int64_t hits;
                double r = path_residual(&m, (const float(*)[DIM])v, grids[gi], &hits);
                err[gi] += fabs(r);
                kink_hits += hits;
                if (gi == 0) {
                    const float *f = otg_node_data(m.f);
                    scale += fabs((double)f[1] - (double)f[0]) + 1e-3;
                }
                otg_graph_free(m.g);
            }
        }
        print_message("s=%.1f: kink hits %lld; mean |residual| at M=8,64,4096: %.3g %.3g %.3g "
                      "(mean |f(end)-f(start)| %.3g)\n",
                      (double)svals[k], (long long)kink_hits, err[0] / 12, err[1] / 12, err[2] / 12,
                      scale / 12);
        assert_true(kink_hits > 0);
        assert_true(err[2] < 2e-3 * scale); /* the identity holds */
        assert_true(err[2] < 0.1 * err[0]); /* and the error shrinks as the grid refines */
        assert_true(err[1] < err[0]);
    }
}

/* ---- kink statistics ------------------------------------------------------------------------ */

/* Constructed inputs: each op counts its own inputs at a kink, and the total is their sum. */
static void test_kink_count_per_op(void **state) {
    otg_graph *g = otg_graph_new();
    otg_node *a = otg_input(g, SHAPE(6), 1), *b = otg_input(g, SHAPE(6), 1);
    otg_node *r = otg_relu(g, a), *l = otg_leaky_relu(g, b, 0.1f), *ab = otg_abs(g, b);
    otg_node *mx = otg_max(g, a, b), *mn = otg_min(g, r, l);
    otg_node *loss = otg_sum(g, otg_add(g, otg_add(g, mx, mn), ab));
    assert_int_equal(otg_graph_compile(g), OTG_OK);
    const float av[6] = {0.0f, -0.0f, 1.0f, -2.0f, 3.0f, 0.5f};
    const float bv[6] = {0.0f, 1.0f, 0.0f, -2.0f, -3.0f, 0.25f};
    for (int i = 0; i < 6; i++)
        otg_node_data(a)[i] = av[i], otg_node_data(b)[i] = bv[i];
    assert_int_equal(otg_graph_forward(g), OTG_OK);
    assert_int_equal(otg_graph_kink_count_op(g, OTG_OP_RELU), 2);       /* 0 and -0 */
    assert_int_equal(otg_graph_kink_count_op(g, OTG_OP_LEAKY_RELU), 2); /* b = 0 twice */
    assert_int_equal(otg_graph_kink_count_op(g, OTG_OP_ABS), 2);
    assert_int_equal(otg_graph_kink_count_op(g, OTG_OP_MAX), 2); /* a = b at 0 and at -2 */
    /* min(relu(a), leaky(b)): relu = [0, 0, 1, 0, 3, .5], leaky = [0, 1, 0, -.2, -.3, .25] */
    assert_int_equal(otg_graph_kink_count_op(g, OTG_OP_MIN), 1);
    assert_int_equal(otg_graph_kink_count_op(g, OTG_OP_MATMUL), 0);
    assert_int_equal(otg_graph_kink_count_op(g, OTG_OP_COUNT), 0);
    assert_int_equal(otg_graph_kink_count_op(NULL, OTG_OP_RELU), 0);
    assert_int_equal(otg_graph_kink_count(g), 9);
    /* the counts are those of the last forward, not accumulated */
    for (int i = 0; i < 6; i++)
        otg_node_data(a)[i] = 1.0f + (float)i, otg_node_data(b)[i] = -1.0f;
    assert_int_equal(otg_graph_forward(g), OTG_OK);
    assert_int_equal(otg_graph_kink_count(g), 0);
    otg_graph_zero_grad(g);
    assert_int_equal(otg_graph_backward(g, loss), OTG_OK);
    otg_graph_free(g);
}

/* A ReLU MLP with zero biases: an input row of zeros puts every preactivation of every layer
 * exactly at 0 (widths 8 + 8 kink hits per zero row); random rows hit none. */
static void test_mlp_zero_rows_hit_every_unit(void **state) {
    otg_graph *g = otg_graph_new();
    otg_node *x = otg_input(g, SHAPE(5, 3), 0);
    otg_mlp_spec spec = otg_mlp_spec_default();
    spec.widths = (const int64_t[]){3, 8, 8, 2};
    spec.n_widths = 4;
    otg_rng rng = otg_rng_make(5, 7);
    assert_non_null(otg_mlp_build(g, x, &spec, &rng));
    assert_int_equal(otg_graph_compile(g), OTG_OK);
    otg_rng_fill_normal(&rng, 15, otg_node_data(x));
    for (int d = 0; d < 3; d++)
        otg_node_data(x)[1 * 3 + d] = 0.0f, otg_node_data(x)[4 * 3 + d] = 0.0f;
    assert_int_equal(otg_graph_forward(g), OTG_OK);
    assert_int_equal(otg_graph_kink_count_op(g, OTG_OP_RELU), 2 * (8 + 8));
    otg_graph_free(g);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_relu_family_selection_in_clarke_set),
        cmocka_unit_test(test_max_min_ties_in_clarke_set),
        cmocka_unit_test(test_relu_artefact_gives_2s),
        cmocka_unit_test(test_path_identity_through_kinks),
        cmocka_unit_test(test_kink_count_per_op),
        cmocka_unit_test(test_mlp_zero_rows_hit_every_unit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
