/* libotgen_mpi: the otg_comm table of otgen/comm.h over MPI. Byte counts go to MPI as ints (each
 * block under 2 GiB; a larger one is refused with OTG_EINVAL). */
#include "otgen/mpi.h"

#include <limits.h>
#include <stdlib.h>

typedef struct {
    MPI_Comm comm;
    int *counts; /* [4 size]: the int forms of the byte counts and offsets */
} mpi_ctx;

/* Copies n byte counts into int, OTG_EINVAL when one does not fit. */
static otg_status to_int(const int64_t *v, int n, int *out) {
    for (int i = 0; i < n; i++) {
        if (v[i] < 0 || v[i] > INT_MAX)
            return otg_set_error(OTG_EINVAL, "mpi: a block of %lld bytes (limit 2 GiB)",
                                 (long long)v[i]);
        out[i] = (int)v[i];
    }
    return OTG_OK;
}

static otg_status status_of(int rc) {
    return rc == MPI_SUCCESS ? OTG_OK : otg_set_error(OTG_EIO, "mpi: call failed (%d)", rc);
}

static otg_status mpi_allgatherv(void *vctx, void *buf, const int64_t *bytes, const int64_t *off) {
    mpi_ctx *c = vctx;
    int size;
    MPI_Comm_size(c->comm, &size);
    otg_status st = to_int(bytes, size, c->counts);
    if (st == OTG_OK) st = to_int(off, size, c->counts + size);
    if (st != OTG_OK) return st;
    return status_of(MPI_Allgatherv(MPI_IN_PLACE, 0, MPI_BYTE, buf, c->counts, c->counts + size,
                                    MPI_BYTE, c->comm));
}

static otg_status mpi_alltoallv(void *vctx, const void *send, const int64_t *sbytes,
                                const int64_t *soff, void *recv, const int64_t *rbytes,
                                const int64_t *roff) {
    mpi_ctx *c = vctx;
    int size;
    MPI_Comm_size(c->comm, &size);
    int *k = c->counts;
    otg_status st = to_int(sbytes, size, k);
    if (st == OTG_OK) st = to_int(soff, size, k + size);
    if (st == OTG_OK) st = to_int(rbytes, size, k + 2 * size);
    if (st == OTG_OK) st = to_int(roff, size, k + 3 * size);
    if (st != OTG_OK) return st;
    return status_of(MPI_Alltoallv(send, k, k + size, MPI_BYTE, recv, k + 2 * size, k + 3 * size,
                                   MPI_BYTE, c->comm));
}

static otg_status mpi_sum(void *vctx, int64_t *v, int n) {
    mpi_ctx *c = vctx;
    return status_of(MPI_Allreduce(MPI_IN_PLACE, v, n, MPI_INT64_T, MPI_SUM, c->comm));
}

static otg_status mpi_barrier(void *vctx) {
    mpi_ctx *c = vctx;
    return status_of(MPI_Barrier(c->comm));
}

otg_comm *otg_comm_mpi_new(MPI_Comm comm) {
    int init = 0;
    MPI_Initialized(&init);
    if (!init) return otg_set_error(OTG_EINVAL, "mpi: MPI is not initialised"), NULL;
    otg_comm *t = calloc(1, sizeof *t);
    mpi_ctx *c = calloc(1, sizeof *c);
    if (!t || !c || MPI_Comm_dup(comm, &c->comm) != MPI_SUCCESS) {
        free(t), free(c);
        return otg_set_error(OTG_ENOMEM, "mpi: cannot set up the communicator"), NULL;
    }
    MPI_Comm_set_errhandler(c->comm, MPI_ERRORS_ARE_FATAL);
    MPI_Comm_rank(c->comm, &t->rank);
    MPI_Comm_size(c->comm, &t->size);
    c->counts = malloc(4 * (size_t)t->size * sizeof *c->counts);
    if (!c->counts) {
        MPI_Comm_free(&c->comm);
        free(t), free(c);
        return otg_set_error(OTG_ENOMEM, "mpi: out of memory"), NULL;
    }
    *t = (otg_comm){t->rank, t->size, c, mpi_allgatherv, mpi_alltoallv, mpi_sum, mpi_barrier, 0};
    return t;
}

void otg_comm_mpi_free(otg_comm *t) {
    if (!t) return;
    mpi_ctx *c = t->ctx;
    MPI_Comm_free(&c->comm);
    free(c->counts), free(c), free(t);
}

static void release(otg_comm *c) {
    otg_comm_mpi_free(c);
}

otg_trainer *otg_trainer_new_mpi(const otg_train_config *c, MPI_Comm comm) {
    otg_comm *k = otg_comm_mpi_new(comm);
    if (!k) return NULL;
    otg_trainer *t = otg_trainer_new_comm(c, k);
    if (!t) {
        otg_comm_mpi_free(k);
        return NULL;
    }
    otg_trainer_adopt_comm(t, release);
    return t;
}
