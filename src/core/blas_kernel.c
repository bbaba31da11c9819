/* Which BLAS kernel runs the GEMMs: OpenBLAS's core name ("Haswell", "SkylakeX", ...), chosen at
 * start-up from the CPU or OPENBLAS_CORETYPE. Results are bit-identical for any thread count on one
 * kernel but differ between kernels, so whatever is cached from a computation (the FD classifier)
 * is keyed on it. A weak reference: with a CBLAS that is not OpenBLAS the name is "unknown". */
#include "internal.h"

char *openblas_get_corename(void) __attribute__((weak));

const char *otgi_blas_kernel(void) {
    const char *name = openblas_get_corename ? openblas_get_corename() : NULL;
    return name && name[0] ? name : "unknown";
}
