/* The custom op: a kernel computed outside the tape (the fused SW loss, a user's own op) that
 * takes part in backprop through two callbacks (otg_custom_op in ad.h). */
#include "ad/ad_internal.h"

/* The output shape was copied into iattr by otg_custom, zero-padded. */
static otg_status custom_shape(otg_node *n) {
    n->ndim = 0;
    while (n->ndim < OTG_MAX_DIMS && n->iattr[n->ndim] != 0) n->ndim++;
    for (int i = 0; i < n->ndim; i++) n->shape[i] = n->iattr[i];
    return n->ndim ? OTG_OK : otgi_fail(OTG_ESHAPE, "custom: empty output shape");
}

/* Views of the inputs' values (grads = 0) or grads (grads = 1) into t[n_in]. */
static void custom_views(const otg_node *n, int grads, otg_tensor *t) {
    for (int i = 0; i < n->n_in; i++) {
        const otg_node *x = n->in[i];
        t[i] = (otg_tensor){grads ? x->grad : x->value, {0, 0, 0, 0}, x->ndim, 0};
        for (int d = 0; d < x->ndim; d++) t[i].shape[d] = x->shape[d];
    }
}

static otg_tensor custom_out(const otg_node *n, float *data) {
    otg_tensor t = {data, {0, 0, 0, 0}, n->ndim, 0};
    for (int d = 0; d < n->ndim; d++) t.shape[d] = n->shape[d];
    return t;
}

/* n_in is at most 8 (checked at build), so the views live on the stack. */
static otg_status custom_forward(otg_node *n) {
    otg_tensor in[8], out = custom_out(n, n->value);
    custom_views(n, 0, in);
    otg_clear_error();
    otg_status st = n->custom->forward(n->custom_ctx, n->n_in, in, &out);
    if (st != OTG_OK && otg_last_error()[0] == '\0')
        otgi_fail(st, "custom op %s: forward failed", n->custom->name);
    return st;
}

static otg_status custom_backward(otg_node *n) {
    otg_tensor in[8], gin[8], out = custom_out(n, n->value), gout = custom_out(n, n->grad);
    custom_views(n, 0, in);
    custom_views(n, 1, gin);
    otg_clear_error();
    otg_status st = n->custom->backward(n->custom_ctx, n->n_in, in, &out, &gout, gin);
    if (st != OTG_OK && otg_last_error()[0] == '\0')
        otgi_fail(st, "custom op %s: backward failed", n->custom->name);
    return st;
}

const otgi_op_def otgi_op_custom = {"custom", custom_shape, custom_forward, custom_backward, NULL};

otg_node *otg_custom(otg_graph *g, const otg_custom_op *op, void *ctx, int n_in,
                     otg_node *const *in, int ndim, const int64_t *shape) {
    if (!op || !op->forward || !op->backward)
        return otgi_fail(OTG_EINVAL, "custom: op needs forward and backward"), NULL;
    if (n_in < 1 || n_in > 8)
        return otgi_fail(OTG_EINVAL, "custom: %d inputs (1..8 supported)", n_in), NULL;
    if (!shape || ndim < 1 || ndim > OTG_MAX_DIMS)
        return otgi_fail(OTG_ESHAPE, "custom: ndim %d outside 1..%d", ndim, OTG_MAX_DIMS), NULL;
    int64_t ia[4] = {0, 0, 0, 0};
    for (int i = 0; i < ndim; i++) {
        if (shape[i] <= 0)
            return otgi_fail(OTG_ESHAPE, "custom: dimension %d is %lld", i, (long long)shape[i]),
                   NULL;
        ia[i] = shape[i];
    }
    otg_node *n = otgi_node_new(g, OTG_OP_CUSTOM, n_in, in, NULL, ia);
    if (n) {
        n->custom = op;
        n->custom_ctx = ctx;
    }
    return n;
}

void otgi_custom_adopt(otg_node *n, void (*release)(void *ctx)) {
    OTG_ASSERT(n && n->op == OTG_OP_CUSTOM);
    n->custom_release = release;
}
