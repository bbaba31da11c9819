/* What the two loss ops (sw_op.c, sliced_energy_op.c) share: building the node of a loss of two
 * clouds x [n, d] and y [m, d] with its gradient buffer, and the backward that scales the kept
 * gradient by the upstream one. */
#include "internal.h"
#include "ot_internal.h"

#include <stdlib.h>

otg_node *otgi_loss_node(otg_graph *g, otg_node *x, otg_node *y, const otg_custom_op *op, void *ctx,
                         float **grad_x, int64_t min_rows) {
    const char *name = op->name;
    if (otg_node_ndim(x) != 2 || otg_node_ndim(y) != 2 ||
        otg_node_shape(x)[1] != otg_node_shape(y)[1])
        return otgi_fail(OTG_ESHAPE, "%s: x [n, d] and y [m, d] must share d", name), NULL;
    if (otg_node_shape(x)[0] < min_rows || otg_node_shape(y)[0] < min_rows)
        return otgi_fail(OTG_EINVAL, "%s: needs at least %lld points per cloud", name,
                         (long long)min_rows),
               NULL;
    const int64_t n = otg_node_numel(x);
    float *gx = realloc(*grad_x, (size_t)n * sizeof(float));
    if (!gx) return otgi_fail(OTG_ENOMEM, "%s: out of memory", name), NULL;
    *grad_x = gx;
    otg_node *in[2] = {x, y};
    return otg_custom(g, op, ctx, 2, in, 1, (int64_t[]){1});
}

otg_status otgi_loss_backward(const float *grad_x, const otg_tensor *x, const otg_tensor *gout,
                              otg_tensor *gin) {
    if (!gin[0].data) return OTG_OK;
    const float up = gout->data[0];
    const int64_t k = otg_tensor_numel(x);
    for (int64_t i = 0; i < k; i++)
        gin[0].data[i] += up * grad_x[i];
    return OTG_OK;
}
