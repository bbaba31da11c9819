/* The sliced energy distance as an ad op (a training loss): forward computes the value and the
 * gradient with respect to x together (otg_sliced_energy_grad) and keeps the gradient; backward
 * scales it by the upstream gradient into x's gradient. y is data: no gradient. */
#include "internal.h"
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
    otg_sliced_energy_loss_ctx *ctx = vctx;
    if (!gin[0].data) return OTG_OK;
    const float up = gout->data[0];
    const int64_t k = otg_tensor_numel(&in[0]);
    for (int64_t i = 0; i < k; i++)
        gin[0].data[i] += up * ctx->grad_x[i];
    return OTG_OK;
}

static const otg_custom_op energy_op = {"sliced_energy_loss", energy_forward, energy_backward};

otg_node *otg_sliced_energy_loss(otg_graph *g, otg_node *x, otg_node *y,
                                 otg_sliced_energy_loss_ctx *ctx) {
    if (!x || !y || !ctx) return otgi_fail(OTG_EINVAL, "sliced_energy_loss: NULL argument"), NULL;
    if (otg_node_ndim(x) != 2 || otg_node_ndim(y) != 2 ||
        otg_node_shape(x)[1] != otg_node_shape(y)[1])
        return otgi_fail(OTG_ESHAPE, "sliced_energy_loss: x [n, d] and y [m, d] must share d"),
               NULL;
    if (otg_node_shape(x)[0] < 2 || otg_node_shape(y)[0] < 2)
        return otgi_fail(OTG_EINVAL, "sliced_energy_loss: needs at least 2 points per cloud"), NULL;
    const int64_t n = otg_node_numel(x);
    float *gx = realloc(ctx->grad_x, (size_t)n * sizeof(float));
    if (!gx) return otgi_fail(OTG_ENOMEM, "sliced_energy_loss: out of memory"), NULL;
    ctx->grad_x = gx;
    otg_node *in[2] = {x, y};
    return otg_custom(g, &energy_op, ctx, 2, in, 1, (int64_t[]){1});
}

void otg_sliced_energy_loss_release(otg_sliced_energy_loss_ctx *ctx) {
    if (!ctx) return;
    free(ctx->grad_x);
    ctx->grad_x = NULL;
}
