/* Private helpers of the comm module: the collectives of otgen/comm.h with the received bytes
 * counted and the sizes checked, and the direction partition of the distributed SW kernel. */
#ifndef OTGEN_COMM_INTERNAL_H
#define OTGEN_COMM_INTERNAL_H

#include "internal.h"
#include "otgen/comm.h"

/* comm->allgatherv on blocks of rows: rank r holds rows [off[r], off[r+1]) of buf, each row_bytes
 * long. */
otg_status otgi_comm_gather_rows(otg_comm *c, void *buf, const int64_t *off, size_t row_bytes);
/* comm->alltoallv with the byte counts of the other ranks added to bytes_received. */
otg_status otgi_comm_alltoallv(otg_comm *c, const void *send, const int64_t *sbytes,
                               const int64_t *soff, void *recv, const int64_t *rbytes,
                               const int64_t *roff);
otg_status otgi_comm_sum(otg_comm *c, int64_t *v, int n);

/* The directions [0, L) over the ranks: off[0..size], boundaries near r L / size, each at a
 * multiple of OTG_COMM_ALIGN inside its 256-direction block (so a rank's part of a block starts at
 * a row tile of the projection GEMM). Ranks may get no direction. */
void otgi_comm_dirs(int64_t L, int size, int64_t block, int64_t *off);

/* Splits [0, n) items over size ranks as evenly as possible: off[0..size]. */
void otgi_comm_even(int64_t n, int size, int64_t *off);

#endif
