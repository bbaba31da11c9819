/* The sliced energy distance as an ad op (a training loss): forward computes the value and the
 * gradient with respect to x together (otg_sliced_energy_grad) and keeps the gradient; backward
 * scales it by the upstream gradient into x's gradient. y is data: no gradient. */
#include "internal.h"
#include "ot_internal.h"
#include "otgen/ot.h"

#include <stdlib.h>

static otg_status energy_forward(void *vctx, int n_in, const otg_tensor *in, otg_tensor *out) {
    (void)n_in;
    otg_sliced_energy_loss_ctx *ctx = vctx;
    if (!ctx->theta)
        return otgi_fail(OTG_EINVAL, "sliced_energy_loss: set ctx->theta before the forward");
    otg_status st =
        otg_sliced_energy_grad(&in[0], &in[1], ctx->theta, &ctx->result, NULL, ctx->grad_x);
    if (st == OTG_OK) out->data[0] = (float)ctx->result.value;
    return st;
}

static otg_status energy_backward(void *vctx, int n_in, const otg_tensor *in, const otg_tensor *out,
                                  const otg_tensor *gout, otg_tensor *gin) {
    (void)n_in, (void)out;
    const otg_sliced_energy_loss_ctx *ctx = vctx;
    return otgi_loss_backward(ctx->grad_x, &in[0], gout, gin);
}

static const otg_custom_op energy_op = {"sliced_energy_loss", energy_forward, energy_backward};

otg_node *otg_sliced_energy_loss(otg_graph *g, otg_node *x, otg_node *y,
                                 otg_sliced_energy_loss_ctx *ctx) {
    if (!x || !y || !ctx) return otgi_fail(OTG_EINVAL, "sliced_energy_loss: NULL argument"), NULL;
    return otgi_loss_node(g, x, y, &energy_op, ctx, &ctx->grad_x, 2);
}

void otg_sliced_energy_loss_release(otg_sliced_energy_loss_ctx *ctx) {
    if (!ctx) return;
    free(ctx->grad_x);
    ctx->grad_x = NULL;
}
