/* The comm module: row and direction partitions on tile boundaries, and the checked, counted
 * forms of the collectives of an otg_comm table (the table itself is the caller's: otgen/mpi.h
 * for MPI). */
#include "comm/comm_internal.h"

#include <stdlib.h>

/* The multiple of `align` nearest to t. */
static int64_t snap(int64_t t, int64_t align) {
    return (t + align / 2) / align * align;
}

otg_status otg_comm_rows(int64_t n, int size, int64_t *off) {
    if (size < 1 || n < 1 || !off) return otgi_fail(OTG_EINVAL, "comm: bad partition request");
    off[0] = 0, off[size] = n;
    for (int r = 1; r < size; r++) {
        int64_t b = snap(n * r / size, OTG_COMM_ALIGN);
        off[r] = b > off[r - 1] ? b : off[r - 1] + OTG_COMM_ALIGN;
    }
    for (int r = 0; r < size; r++)
        if (off[r + 1] <= off[r])
            return otgi_fail(OTG_EINVAL,
                             "batch %lld is too small for %d ranks: each rank needs whole blocks "
                             "of %d rows (a batch of %d x %d = %lld or more works)",
                             (long long)n, size, OTG_COMM_ALIGN, OTG_COMM_ALIGN, size,
                             (long long)OTG_COMM_ALIGN * size);
    return OTG_OK;
}

void otgi_comm_dirs(int64_t L, int size, int64_t block, int64_t *off) {
    off[0] = 0, off[size] = L;
    for (int r = 1; r < size; r++) {
        int64_t t = L * r / size, b0 = t / block * block, b = b0 + snap(t - b0, OTG_COMM_ALIGN);
        if (b > b0 + block) b = b0 + block;
        if (b > L) b = L;
        off[r] = b > off[r - 1] ? b : off[r - 1];
    }
}

void otgi_comm_even(int64_t n, int size, int64_t *off) {
    for (int r = 0; r <= size; r++)
        off[r] = n * r / size;
}

otg_status otgi_comm_gather_rows(otg_comm *c, void *buf, const int64_t *off, size_t row_bytes) {
    int64_t *bytes = malloc(2 * (size_t)c->size * sizeof *bytes);
    if (!bytes) return otgi_fail(OTG_ENOMEM, "comm: out of memory");
    int64_t *boff = bytes + c->size;
    for (int r = 0; r < c->size; r++) {
        bytes[r] = (off[r + 1] - off[r]) * (int64_t)row_bytes;
        boff[r] = off[r] * (int64_t)row_bytes;
        if (r != c->rank) c->bytes_received += bytes[r];
    }
    otg_status st = c->allgatherv(c->ctx, buf, bytes, boff);
    free(bytes);
    return st == OTG_OK ? st : otgi_fail(st, "comm: all-gather failed");
}

otg_status otgi_comm_alltoallv(otg_comm *c, const void *send, const int64_t *sbytes,
                               const int64_t *soff, void *recv, const int64_t *rbytes,
                               const int64_t *roff) {
    for (int r = 0; r < c->size; r++)
        if (r != c->rank) c->bytes_received += rbytes[r];
    otg_status st = c->alltoallv(c->ctx, send, sbytes, soff, recv, rbytes, roff);
    return st == OTG_OK ? st : otgi_fail(st, "comm: all-to-all failed");
}

otg_status otgi_comm_sum(otg_comm *c, int64_t *v, int n) {
    c->bytes_received += (int64_t)n * 8 * (c->size - 1);
    otg_status st = c->sum_i64(c->ctx, v, n);
    return st == OTG_OK ? st : otgi_fail(st, "comm: sum failed");
}
