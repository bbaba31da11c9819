/* otgen comm: the collective operations of a distributed run, as a table of functions, so that
 * libotgen itself needs no MPI. otgen/mpi.h (libotgen_mpi, built when MPI is found) gives the MPI
 * table; the trainer (otg_trainer_new_comm) and the SW estimator (otg_sw_comm) take one. Another
 * transport implements the four calls. The row and direction partitions the library uses are
 * here too, so a caller can place its data. docs/mpi.md describes what is exchanged. */
#ifndef OTGEN_COMM_H
#define OTGEN_COMM_H

#include "otgen/core.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Every call is collective: all ranks call it in the same order with consistent sizes. Sizes
 * and offsets are in bytes, indexed by rank [size]. A failure returns a status other than OTG_OK
 * (an MPI implementation may also abort the job, which is the default for MPI errors). */
typedef struct otg_comm {
    int rank, size;
    void *ctx; /* the implementation's state */
    /* buf holds bytes[r] bytes at buf + off[r] for every r; the caller's own block (r = rank) is
     * filled, the others are received. */
    otg_status (*allgatherv)(void *ctx, void *buf, const int64_t *bytes, const int64_t *off);
    /* Sends sbytes[r] bytes at send + soff[r] to rank r, receives rbytes[r] bytes from rank r
     * at recv + roff[r]. */
    otg_status (*alltoallv)(void *ctx, const void *send, const int64_t *sbytes, const int64_t *soff,
                            void *recv, const int64_t *rbytes, const int64_t *roff);
    /* v[n] <- the sum over the ranks of v[n] (integers: exact). */
    otg_status (*sum_i64)(void *ctx, int64_t *v, int n);
    otg_status (*barrier)(void *ctx);
    int64_t bytes_received; /* counted by the library's calls: bytes this rank received */
} otg_comm;

/* Row (or direction) alignment of the partitions: OpenBLAS's SGEMM kernels compute a block of
 * rows with the same bits as the same rows of a larger product only when the block starts at a
 * multiple of their row tile (24 on Haswell, 16 on SkylakeX); 48 covers both. */
enum { OTG_COMM_ALIGN = 48 };

/* The rows of a batch of n over comm's ranks: off[0..size] (off[0] = 0, off[size] = n), rank r
 * owns [off[r], off[r+1]), boundaries near r n / size at multiples of OTG_COMM_ALIGN. OTG_EINVAL
 * when some rank would get no row (n < OTG_COMM_ALIGN (size - 1) + 1, roughly). */
OTG_NODISCARD otg_status otg_comm_rows(int64_t n, int size, int64_t *off);

#ifdef __cplusplus
}
#endif
#endif
