/* The library's checkers on a user's own op: otg_ad_check_fd passes a correct custom op (cube)
 * and fails one whose derivative is 10% off; otg_ad_check_path passes a ReLU MLP through its
 * kinks and fails the same MLP with the wrong custom op; both restore the moved variables and
 * refuse bad arguments. */
// ctest-labels: unit grad
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h> /* after the three headers it needs */

#include "otgen/ad.h"
#include "otgen/nn.h"

#include <math.h>
#include <string.h>

/* y = x^3 elementwise; the derivative 3 x^2 times *(float *)ctx (1: correct, 1.1: wrong). */
static otg_status cube_fwd(void *ctx, int n_in, const otg_tensor *in, otg_tensor *out) {
    for (int64_t i = 0; i < otg_tensor_numel(&in[0]); i++)
        out->data[i] = in[0].data[i] * in[0].data[i] * in[0].data[i];
    return OTG_OK;
}

static otg_status cube_bwd(void *ctx, int n_in, const otg_tensor *in, const otg_tensor *out,
                           const otg_tensor *gout, otg_tensor *gin) {
    if (!gin[0].data) return OTG_OK;
    for (int64_t i = 0; i < otg_tensor_numel(&in[0]); i++)
        gin[0].data[i] += gout->data[i] * 3.0f * in[0].data[i] * in[0].data[i] * *(float *)ctx;
    return OTG_OK;
}

static const otg_custom_op cube = {"cube", cube_fwd, cube_bwd};

/* f = sum(c * op(dense(x))) for x [4, 3], with op the cube (factor) or a ReLU (factor 0). */
static otg_graph *build(float *factor, otg_node **x, otg_node **out, otg_node **f) {
    otg_graph *g = otg_graph_new();
    otg_rng r = otg_rng_make(3, 0);
    *x = otg_input(g, 2, (int64_t[]){4, 3}, 1);
    otg_node *h = otg_nn_dense(g, *x, 5, OTG_INIT_HE, &r);
    h = *factor ? otg_custom(g, &cube, factor, 1, &h, 2, otg_node_shape(h)) : otg_relu(g, h);
    otg_node *c = otg_input(g, 2, (int64_t[]){4, 5}, 0);
    *out = h, *f = otg_sum(g, otg_mul(g, h, c));
    assert_non_null(*f);
    assert_int_equal(otg_graph_compile(g), OTG_OK);
    otg_rng_fill_normal(&r, 12, otg_node_data(*x));
    otg_rng_fill_normal(&r, 20, otg_node_data(c));
    return g;
}

static void test_fd(void **state) {
    for (int wrong = 0; wrong < 2; wrong++) {
        float factor = wrong ? 1.1f : 1.0f;
        otg_node *x, *out, *f;
        otg_graph *g = build(&factor, &x, &out, &f);
        float keep = otg_node_data(x)[5];
        otg_ad_fd_report r;
        assert_int_equal(otg_ad_check_fd(g, out, &x, 1, NULL, &r), OTG_OK);
        assert_int_equal(r.checked, 12);
        assert_int_equal(r.pass, !wrong);
        assert_true(wrong ? r.max_err > 1.0 : r.max_err <= 1.0 && r.wrong2_err > 1.0);
        assert_true(r.worst >= 0 && r.worst < 12 && r.max_rel_err >= 0.0);
        assert_true(otg_node_data(x)[5] == keep);
        /* wrt NULL: the whole parameter buffer (the dense layer's 3 x 5 + 5) */
        assert_int_equal(otg_ad_check_fd(g, f, NULL, 0, NULL, &r), OTG_OK);
        assert_int_equal(r.checked, 20);
        assert_int_equal(r.pass, !wrong);
        otg_graph_free(g);
    }
}

static void test_path(void **state) {
    for (int k = 0; k < 2; k++) {
        float factor = k ? 1.1f : 0.0f; /* the ReLU MLP, then the wrong cube */
        otg_node *x, *out, *f;
        otg_graph *g = build(&factor, &x, &out, &f);
        float keep = otg_node_data(x)[0];
        otg_ad_wrt wrt = {.params = 1, .inputs = &x, .n_inputs = 1};
        otg_ad_path_opts o = otg_ad_path_opts_default();
        o.curves = 4, o.points = 400;
        otg_ad_path_report r;
        assert_int_equal(otg_ad_check_path(g, f, &wrt, &o, &r), OTG_OK);
        print_message("path check %s: residual %.3g, kink hits %lld\n", k ? "wrong cube" : "relu",
                      r.residual, (long long)r.kink_hits);
        assert_int_equal(r.variables, 20 + 12);
        assert_int_equal(r.curves, 4);
        assert_int_equal(r.pass, !k);
        if (!k) assert_true(r.kink_hits > 0 && r.residual < 1e-2);
        assert_true(otg_node_data(x)[0] == keep);
        assert_int_equal(otg_ad_check_path(g, out, &wrt, &o, &r), OTG_EINVAL); /* not scalar */
        otg_ad_wrt none = {0};
        assert_int_equal(otg_ad_check_path(g, f, &none, &o, &r), OTG_EINVAL);
        otg_graph_free(g);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fd),
        cmocka_unit_test(test_path),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
