/* The SW loss as an ad op: forward runs the fused kernel (value and gradient together) with the
 * context's estimator (otg_sw_estimate; MC is otg_sw) and keeps the gradient; backward scales it
 * by the upstream gradient and adds it into x's gradient. */
#include "internal.h"
#include "ot_internal.h"
#include "otgen/ot.h"

#include <stdlib.h>
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
    const otg_sw_loss_ctx *ctx = vctx;
    return otgi_loss_backward(ctx->grad_x, &in[0], gout, gin);
}

static const otg_custom_op sw_op = {"sw_loss", sw_forward, sw_backward};

otg_node *otg_sw_loss(otg_graph *g, otg_node *x, otg_node *y, otg_sw_loss_ctx *ctx) {
    if (!x || !y || !ctx || !ctx->ws) return otgi_fail(OTG_EINVAL, "sw_loss: NULL argument"), NULL;
    return otgi_loss_node(g, x, y, &sw_op, ctx, &ctx->grad_x, 1);
}

void otg_sw_loss_release(otg_sw_loss_ctx *ctx) {
    if (!ctx) return;
    free(ctx->grad_x);
    ctx->grad_x = NULL;
}

/* The same against quantile data (otg_sw_to_quantiles): one input, x. */
static otg_status swq_forward(void *vctx, int n_in, const otg_tensor *in, otg_tensor *out) {
    otg_sw_quantile_loss_ctx *ctx = vctx;
    if (!ctx->theta || !ctx->q || !ctx->c)
        return otgi_fail(OTG_EINVAL, "sw_quantile_loss: set theta, q and c before the forward");
    otg_status st = otg_sw_to_quantiles(ctx->ws, &in[0], ctx->q, ctx->c, ctx->theta, &ctx->opts,
                                        &ctx->result, ctx->grad_x, NULL);
    if (st == OTG_OK) out->data[0] = (float)ctx->result.value;
    return st;
}

static otg_status swq_backward(void *vctx, int n_in, const otg_tensor *in, const otg_tensor *out,
                               const otg_tensor *gout, otg_tensor *gin) {
    const otg_sw_quantile_loss_ctx *ctx = vctx;
    return otgi_loss_backward(ctx->grad_x, &in[0], gout, gin);
}

static const otg_custom_op swq_op = {"sw_quantile_loss", swq_forward, swq_backward};

otg_node *otg_sw_quantile_loss(otg_graph *g, otg_node *x, otg_sw_quantile_loss_ctx *ctx) {
    if (!x || !ctx || !ctx->ws)
        return otgi_fail(OTG_EINVAL, "sw_quantile_loss: NULL argument"), NULL;
    if (otg_node_ndim(x) != 2)
        return otgi_fail(OTG_ESHAPE, "sw_quantile_loss: x must be [n, d]"), NULL;
    float *gx = realloc(ctx->grad_x, (size_t)otg_node_numel(x) * sizeof(float));
    if (!gx) return otgi_fail(OTG_ENOMEM, "sw_quantile_loss: out of memory"), NULL;
    ctx->grad_x = gx;
    return otg_custom(g, &swq_op, ctx, 1, (otg_node *[]){x}, 1, (int64_t[]){1});
}

void otg_sw_quantile_loss_release(otg_sw_quantile_loss_ctx *ctx) {
    if (!ctx) return;
    free(ctx->grad_x);
    ctx->grad_x = NULL;
}
