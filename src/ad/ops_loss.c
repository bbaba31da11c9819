/* Loss ops: the softmax cross-entropy of logits against target distributions (a classifier's
 * training loss). Forward keeps the row-wise log-softmax in the node's aux bytes for backward.
 * Sums run in double in row order, so the value does not depend on the thread count. */
#include "ad/ad_internal.h"

#include <math.h>

/* z [n, k] and t [n, k] -> [1]. */
static otg_status xent_shape(otg_node *n) {
    const otg_node *z = n->in[0], *t = n->in[1];
    if (z->ndim != 2 || t->ndim != 2 || z->shape[0] != t->shape[0] || z->shape[1] != t->shape[1])
        return otgi_fail(OTG_ESHAPE, "softmax_xent: logits and targets must both be [n, k]");
    n->ndim = 1;
    n->shape[0] = 1;
    return OTG_OK;
}

static size_t xent_aux_bytes(const otg_node *n) {
    return (size_t)n->in[0]->numel * sizeof(float);
}

/* logp[k] = z - max z - ln sum exp(z - max z), in double; returns -sum_j t_j logp_j. */
static double row_log_softmax(int64_t k, const float *z, const float *t, float *logp) {
    double m = z[0], s = 0.0, loss = 0.0;
    for (int64_t j = 1; j < k; j++)
        m = (double)z[j] > m ? (double)z[j] : m;
    for (int64_t j = 0; j < k; j++)
        s += exp((double)z[j] - m);
    const double lse = m + log(s);
    for (int64_t j = 0; j < k; j++) {
        const double lp = (double)z[j] - lse;
        logp[j] = (float)lp;
        loss -= (double)t[j] * lp;
    }
    return loss;
}

static otg_status xent_forward(otg_node *n) {
    const int64_t rows = n->in[0]->shape[0], k = n->in[0]->shape[1];
    const float *z = n->in[0]->value, *t = n->in[1]->value;
    float *logp = n->aux;
    double loss = 0.0;
    for (int64_t i = 0; i < rows; i++)
        loss += row_log_softmax(k, z + i * k, t + i * k, logp + i * k);
    n->value[0] = (float)(loss / (double)rows);
    return OTG_OK;
}

/* dz_ij += g/n (p_ij sum_l t_il - t_ij);  dt_ij += -g/n logp_ij. */
static otg_status xent_backward(otg_node *n) {
    const int64_t rows = n->in[0]->shape[0], k = n->in[0]->shape[1];
    const float *t = n->in[1]->value, *logp = n->aux;
    float *gz = n->in[0]->grad, *gt = n->in[1]->grad;
    const double g = (double)n->grad[0] / (double)rows;
    for (int64_t i = 0; i < rows; i++) {
        const float *ti = t + i * k, *li = logp + i * k;
        double mass = 0.0;
        for (int64_t j = 0; j < k; j++)
            mass += (double)ti[j];
        for (int64_t j = 0; j < k; j++) {
            if (gz) gz[i * k + j] += (float)(g * (exp((double)li[j]) * mass - (double)ti[j]));
            if (gt) gt[i * k + j] += (float)(-g * (double)li[j]);
        }
    }
    return OTG_OK;
}

const otgi_op_def otgi_op_softmax_xent = {"softmax_xent", xent_shape, xent_forward, xent_backward,
                                          xent_aux_bytes};

otg_node *otg_softmax_xent(otg_graph *g, otg_node *logits, otg_node *targets) {
    otg_node *in[2] = {logits, targets};
    return otgi_node_new(g, OTG_OP_SOFTMAX_XENT, 2, in, NULL, NULL);
}
