/* The SW loss as an ad op: forward runs the fused kernel (value and gradient together) with the
 * context's estimator (otg_sw_estimate; MC is otg_sw) and keeps the gradient; backward scales it
 * by the upstream gradient and adds it into x's gradient. */
#include "internal.h"
#include "otgen/ot.h"

#include <string.h>

static otg_status sw_forward(void *vctx, int n_in, const otg_tensor *in, otg_tensor *out) {
    otg_sw_loss_ctx *ctx = vctx;
    if (!ctx->theta) return otgi_fail(OTG_EINVAL, "sw_loss: set ctx->theta before the forward");
    otg_status st = otg_sw_estimate(ctx->ws, &in[0], NULL, &in[1], NULL, ctx->theta, &ctx->opts,
                                    &ctx->est, &ctx->result, NULL, ctx->grad_x, NULL);
    if (st == OTG_OK) out->data[0] = (float)ctx->result.value;
    return st;
}

static otg_status sw_backward(void *vctx, int n_in, const otg_tensor *in, const otg_tensor *out,
                              const otg_tensor *gout, otg_tensor *gin) {
    otg_sw_loss_ctx *ctx = vctx;
    if (!gin[0].data) return OTG_OK;
    const float up = gout->data[0];
    const int64_t k = otg_tensor_numel(&in[0]);
    for (int64_t i = 0; i < k; i++)
        gin[0].data[i] += up * ctx->grad_x[i];
    return OTG_OK;
}

static const otg_custom_op sw_op = {"sw_loss", sw_forward, sw_backward};

otg_node *otg_sw_loss(otg_graph *g, otg_node *x, otg_node *y, otg_sw_loss_ctx *ctx) {
    if (!x || !y || !ctx || !ctx->ws) return otgi_fail(OTG_EINVAL, "sw_loss: NULL argument"), NULL;
    if (otg_node_ndim(x) != 2 || otg_node_ndim(y) != 2 ||
        otg_node_shape(x)[1] != otg_node_shape(y)[1])
        return otgi_fail(OTG_ESHAPE, "sw_loss: x [n, d] and y [m, d] must share d"), NULL;
    const int64_t n = otg_node_numel(x);
    float *gx = realloc(ctx->grad_x, (size_t)n * sizeof(float));
    if (!gx) return otgi_fail(OTG_ENOMEM, "sw_loss: out of memory"), NULL;
    ctx->grad_x = gx;
    otg_node *in[2] = {x, y};
    return otg_custom(g, &sw_op, ctx, 2, in, 1, (int64_t[]){1});
}

void otg_sw_loss_release(otg_sw_loss_ctx *ctx) {
    if (!ctx) return;
    free(ctx->grad_x);
    ctx->grad_x = NULL;
}
