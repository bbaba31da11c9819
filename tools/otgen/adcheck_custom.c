/* The example custom ops of `otgen ad-check`: a ReLU written as an otg_custom op (the template to
 * copy when adding an op of your own: a forward, a backward that ADDS into the input gradient,
 * and a documented value at the kink) and the same op with a deliberate 10% error in its
 * derivative, which the path-integral check must catch. */
#include "adcheck.h"

/* y = max(x, 0) elementwise; in[0] is x, out has its shape. */
static otg_status relu_fwd(void *ctx, int n_in, const otg_tensor *in, otg_tensor *out) {
    (void)ctx, (void)n_in;
    const int64_t n = otg_tensor_numel(&in[0]);
    for (int64_t i = 0; i < n; i++)
        out->data[i] = in[0].data[i] > 0.0f ? in[0].data[i] : 0.0f;
    return OTG_OK;
}

/* dx += dy * relu'(x): 1 above 0, 0 below, s (ctx->relu_prime) at 0; times ctx->slope_error
 * above 0 (1 for the correct op). */
static otg_status relu_bwd(void *vctx, int n_in, const otg_tensor *in, const otg_tensor *out,
                           const otg_tensor *gout, otg_tensor *gin) {
    (void)n_in, (void)out;
    const adcheck_act_ctx *ctx = vctx;
    if (!gin[0].data) return OTG_OK;
    const int64_t n = otg_tensor_numel(&in[0]);
    for (int64_t i = 0; i < n; i++) {
        float x = in[0].data[i];
        float d = x > 0.0f ? ctx->slope_error : x == 0.0f ? ctx->relu_prime : 0.0f;
        gin[0].data[i] += gout->data[i] * d;
    }
    return OTG_OK;
}

static const otg_custom_op custom_relu_op = {"custom_relu", relu_fwd, relu_bwd};

otg_node *adcheck_custom_relu(otg_graph *g, otg_node *x, adcheck_act_ctx *ctx) {
    return otg_custom(g, &custom_relu_op, ctx, 1, &x, otg_node_ndim(x), otg_node_shape(x));
}
