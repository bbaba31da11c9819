/* otg_gemm, the one place libotgen calls SGEMM: thread-count invariant. Every product has the bits
 * of one single-threaded cblas_sgemm call, for any thread count. OpenBLAS's own threading splits
 * the work by thread count, and so changes bits; otgen never lets it thread. A large product is
 * cut into row blocks fixed by its shape alone and the blocks run in an OpenMP loop, each a
 * single-threaded SGEMM (OpenBLAS runs single-threaded inside an active parallel region). */
#include "internal.h"

#include <cblas.h>
#include <omp.h>

/* Blocks start at multiples of 48 = lcm(16, 24): an SGEMM on a block of rows starting there gives
 * the bits of those rows of the full product with OpenBLAS's Cooperlake/SkylakeX (16) and Haswell
 * (24) kernels. OTG_COMM_ALIGN (comm.h) is the same number for the same reason. */
#define GEMM_ALIGN 48
/* Every block does at least this many multiply-adds: above 28 * 512^2 (OpenBLAS 0.3.21's
 * sgemm_direct limit, used on AVX-512 CPUs) and 100^3 (its small-matrix kernels), so the full
 * product and every block go through the same blocked kernel. Smaller blocks may not. */
#define GEMM_BLOCK_WORK ((int64_t)1 << 23)
/* Target rows per block (about 2 blocks for a batch of 256). Each block packs op(B) again, so
 * fewer blocks cost less; more blocks balance better. Tuned in docs/performance.md. */
#define GEMM_BLOCK_ROWS 128
/* Up to this many multiply-adds OpenBLAS runs single-threaded by itself (65536 x its
 * GEMM_MULTITHREAD_THRESHOLD 4). */
#define GEMM_BLAS_SERIAL ((int64_t)1 << 18)

static void sgemm(int trans_a, int trans_b, int64_t m, int64_t n, int64_t k, float alpha,
                  const float *a, int64_t lda, const float *b, int64_t ldb, float beta, float *c,
                  int64_t ldc) {
    cblas_sgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans,
                trans_b ? CblasTrans : CblasNoTrans, (blasint)m, (blasint)n, (blasint)k, alpha, a,
                (blasint)lda, b, (blasint)ldb, beta, c, (blasint)ldc);
}

/* First row of block i of nb over m rows: the multiple of GEMM_ALIGN nearest i m / nb. */
static int64_t block_start(int64_t i, int64_t nb, int64_t m) {
    if (i >= nb) return m;
    return GEMM_ALIGN * ((2 * i * m + nb * GEMM_ALIGN) / (2 * nb * GEMM_ALIGN));
}

/* Row blocks of an [m, k] x [k, n] product, from the shape alone: an even count near
 * m / GEMM_BLOCK_ROWS, lowered until every block does GEMM_BLOCK_WORK; 1 = no split. */
static int64_t gemm_blocks(int64_t m, int64_t n, int64_t k) {
    int64_t nk = n * k; /* n, k < 2^31 */
    if (nk <= 0 || m < 2 * GEMM_ALIGN) return 1;
    int64_t hmin = nk >= GEMM_BLOCK_WORK ? 1 : (GEMM_BLOCK_WORK + nk - 1) / nk;
    for (int64_t nb = 2 * ((m + GEMM_BLOCK_ROWS) / (2 * GEMM_BLOCK_ROWS)); nb > 1; nb--) {
        int ok = 1;
        for (int64_t i = 0; i < nb && ok; i++)
            ok = block_start(i + 1, nb, m) - block_start(i, nb, m) >= hmin;
        if (ok) return nb;
    }
    return 1;
}

void otg_gemm(int trans_a, int trans_b, int64_t m, int64_t n, int64_t k, float alpha,
              const float *a, int64_t lda, const float *b, int64_t ldb, float beta, float *c,
              int64_t ldc) {
    /* Inside an active parallel region, or with one thread, OpenBLAS is single-threaded. */
    int threads = omp_in_parallel() ? 1 : omp_get_max_threads();
    int64_t nb = threads > 1 ? gemm_blocks(m, n, k) : 1;
    if (threads == 1 || (nb == 1 && (double)m * (double)n * (double)k <= GEMM_BLAS_SERIAL)) {
        sgemm(trans_a, trans_b, m, n, k, alpha, a, lda, b, ldb, beta, c, ldc);
        return;
    }
    /* One block: still a team of 2 (one idles) so that OpenBLAS sees an active region. */
    int team = nb < threads ? (nb < 2 ? 2 : (int)nb) : threads;
#pragma omp parallel for schedule(dynamic, 1) num_threads(team)
    for (int64_t i = 0; i < nb; i++) {
        int64_t r0 = block_start(i, nb, m), r1 = block_start(i + 1, nb, m);
        /* op(A) rows r0..: rows of A, or columns of A when it is transposed */
        const float *ai = trans_a ? a + r0 : a + r0 * lda;
        sgemm(trans_a, trans_b, r1 - r0, n, k, alpha, ai, lda, b, ldb, beta, c + r0 * ldc, ldc);
    }
}
