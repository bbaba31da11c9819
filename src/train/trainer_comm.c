/* The trainer's distributed mode (otg_trainer_new_comm): rank r generates rows [row_off[r],
 * row_off[r+1]) of every batch (every rank draws the whole batch's latents, data and directions
 * from the same streams and keeps its rows, so the union is the one-process batch); the SW loss
 * node all-gathers the generated rows and runs otg_sw_comm, which returns this rank's gradient
 * rows; the graph's parameter gradients sum over the whole batch (src/ad/ops_comm.c). Every rank
 * ends a step with the same parameters, bit for bit those of one process. */
#include "ad/ad_internal.h"
#include "comm/comm_internal.h"
#include "train_internal.h"

#include <string.h>

otg_status otgi_trainer_comm_setup(otg_trainer *t) {
    const otg_train_config *c = &t->c;
    if (t->spec.kind != OTG_MODEL_MLP)
        return otgi_fail(OTG_EINVAL, "train: --model %s: the distributed mode supports mlp only",
                         c->model);
    if (!t->comm->allgatherv || !t->comm->alltoallv || !t->comm->sum_i64 || t->comm->size < 1)
        return otgi_fail(OTG_EINVAL, "train: incomplete communicator");
    const int P = t->comm->size;
    t->row_off = otgi_calloc((size_t)P + 1, sizeof *t->row_off);
    if (!t->row_off) return OTG_ENOMEM;
    if (otg_comm_rows(c->batch, P, t->row_off) != OTG_OK)
        return otgi_fail(OTG_EINVAL, "train: --batch: %s", otg_last_error());
    t->r0 = t->row_off[t->comm->rank];
    t->rows = t->row_off[t->comm->rank + 1] - t->r0;
    t->z_full = malloc((size_t)(c->batch * t->zdim) * sizeof(float));
    t->x_full = malloc((size_t)(c->batch * t->dim) * sizeof(float));
    t->sw.grad_x = malloc((size_t)(t->rows * t->dim) * sizeof(float));
    if (!t->z_full || !t->x_full || !t->sw.grad_x)
        return otgi_fail(OTG_ENOMEM, "train: out of memory");
    return OTG_OK;
}

/* Forward: all-gather x's rows, SW over the ranks, this rank's gradient rows kept. */
static otg_status comm_sw_forward(void *vctx, int n_in, const otg_tensor *in, otg_tensor *out) {
    otg_trainer *t = vctx;
    otg_sw_loss_ctx *ctx = &t->sw;
    memcpy(t->x_full + t->r0 * t->dim, in[0].data, (size_t)(t->rows * t->dim) * sizeof(float));
    otg_status st = otgi_comm_gather_rows(t->comm, t->x_full, t->row_off, (size_t)t->dim * 4);
    otg_tensor x = {.ndim = 2, .shape = {t->c.batch, t->dim}, .data = t->x_full};
    if (st == OTG_OK)
        st = otg_sw_comm(ctx->ws, &x, NULL, &in[1], NULL, ctx->theta, &ctx->opts, &ctx->result,
                         ctx->grad_x, t->row_off, NULL, t->comm);
    if (st == OTG_OK) out->data[0] = (float)ctx->result.value;
    return st;
}

/* Backward: as the one-process SW op (sw_op.c), on this rank's rows. */
static otg_status comm_sw_backward(void *vctx, int n_in, const otg_tensor *in,
                                   const otg_tensor *out, const otg_tensor *gout, otg_tensor *gin) {
    const otg_trainer *t = vctx;
    if (!gin[0].data) return OTG_OK;
    const float up = gout->data[0];
    const int64_t k = otg_tensor_numel(&in[0]);
    for (int64_t i = 0; i < k; i++)
        gin[0].data[i] += up * t->sw.grad_x[i];
    return OTG_OK;
}

static const otg_custom_op comm_sw_op = {"sw_loss", comm_sw_forward, comm_sw_backward};

otg_node *otgi_trainer_comm_loss(otg_trainer *t) {
    otgi_graph_set_comm(t->g, t->comm, t->row_off);
    otg_node *in[2] = {t->out, t->y};
    return otg_custom(t->g, &comm_sw_op, t, 2, in, 1, (int64_t[]){1});
}

otg_status otgi_trainer_comm_kinks(otg_trainer *t, otg_train_row *row) {
    const int64_t ties = t->sw.result.ties;
    int64_t k[2] = {row->kinks - ties, row->relu_kinks};
    otg_status st = otgi_comm_sum(t->comm, k, 2);
    row->kinks = k[0] + ties, row->relu_kinks = k[1];
    return st;
}

otg_status otgi_trainer_comm_gather_val(otg_trainer *t, int64_t i0) {
    return otgi_comm_gather_rows(t->comm, t->val_x->data + i0 * t->dim, t->row_off,
                                 (size_t)t->dim * sizeof(float));
}

void otgi_trainer_comm_free(otg_trainer *t) {
    if (!t->comm) return;
    free(t->row_off), free(t->z_full), free(t->x_full);
    t->row_off = NULL, t->z_full = t->x_full = NULL;
    if (t->comm_release) t->comm_release(t->comm);
    t->comm = NULL;
}

void otg_trainer_adopt_comm(otg_trainer *t, void (*release)(otg_comm *c)) {
    if (t) t->comm_release = release;
}
