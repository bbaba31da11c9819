/* The ad ops in the distributed mode (otgen/comm.h): a graph whose batch rows are split over
 * ranks. A parameter's gradient sums over the whole batch in one GEMM (matmul) or one ordered
 * loop (bias) in one process; here the rows of the input and of the output gradient are
 * all-gathered and the same sums are done, so the bits are those of one process. The matmul's
 * parameter gradient is split by its rows over the ranks (at multiples of the GEMM row tile,
 * where a block of rows has the bits of the whole product) and all-gathered. */
#include "ad/ad_internal.h"
#include "comm/comm_internal.h"

#include <string.h>

otg_status otgi_comm_full_rows(const otg_node *n, const float *local, int64_t row_elems, int slot,
                               float **full, int64_t *rows_all) {
    const int64_t *off;
    otg_comm *c = otgi_graph_comm(n->graph, &off);
    *rows_all = off[c->size];
    *full = otgi_graph_comm_buf(n->graph, slot, (size_t)(*rows_all * row_elems + 1));
    if (!*full) return otgi_fail(OTG_ENOMEM, "%s: out of memory", otgi_ops[n->op]->name);
    const int64_t r0 = off[c->rank], r1 = off[c->rank + 1];
    memcpy(*full + r0 * row_elems, local, (size_t)((r1 - r0) * row_elems) * sizeof(float));
    return otgi_comm_gather_rows(c, *full, off, (size_t)row_elems * sizeof(float));
}

/* da [m, k] += g [m, n] b^T on the local rows; db [k, n] += a^T g over the whole batch. */
otg_status otgi_matmul_backward_comm(otg_node *n) {
    otg_node *a = n->in[0], *b = n->in[1];
    const int64_t m = a->shape[0], k = a->shape[1], c = b->shape[1];
    if (a->grad) otg_gemm(0, 1, m, k, c, 1.0f, n->grad, c, b->value, c, 1.0f, a->grad, k);
    const int64_t *off;
    otg_comm *cm = otgi_graph_comm(n->graph, &off);
    float *af = NULL, *gf = NULL;
    int64_t rows;
    int64_t *koff = malloc((size_t)(cm->size + 1) * sizeof *koff);
    otg_status st = koff ? OTG_OK : otgi_fail(OTG_ENOMEM, "matmul: out of memory");
    if (st == OTG_OK) st = otgi_comm_full_rows(n, a->value, k, 0, &af, &rows);
    if (st == OTG_OK) st = otgi_comm_full_rows(n, n->grad, c, 1, &gf, &rows);
    if (st == OTG_OK) {
        /* rows [k0, k1) of db: the GEMM rows of a^T g from a tile boundary */
        otgi_comm_dirs(k, cm->size, k, koff);
        const int64_t k0 = koff[cm->rank], k1 = koff[cm->rank + 1];
        if (k1 > k0)
            otg_gemm(1, 0, k1 - k0, c, rows, 1.0f, af + k0, k, gf, c, 1.0f, b->grad + k0 * c, c);
        st = otgi_comm_gather_rows(cm, b->grad, koff, (size_t)c * sizeof(float));
    }
    free(koff);
    return st;
}
