/* Thread settings. otgen links the OpenMP variant of OpenBLAS (libopenblas-openmp-dev), so
 * otgen's own parallel loops and OpenBLAS's GEMMs share one OpenMP pool: setting the count here
 * sets both, and a GEMM called inside an otgen parallel region runs single-threaded instead of
 * oversubscribing the cores. */
#include "internal.h"

#include <cblas.h>
#include <omp.h>

static int thread_count; /* 0 until set: OpenMP's default */

otg_status otg_threads_set(int n) {
    if (n > 1024) return otgi_fail(OTG_EINVAL, "threads: %d is more than 1024", n);
    if (n <= 0) n = omp_get_num_procs();
    thread_count = n;
    omp_set_num_threads(n);
    openblas_set_num_threads(n);
    return OTG_OK;
}

int otg_threads_get(void) { return thread_count > 0 ? thread_count : omp_get_max_threads(); }
