/* NPY reader: otg_npy_read (finite values required or not) and the training data's NPY path
 * (images recognised by their shape). */
#include "common.h"
#include "data_internal.h"
#include "otgen/io.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t n) {
    const char *p = fuzz_file("x.npy", data, n);
    otg_tensor *t = NULL;
    if (otg_npy_read(p, n & 1, &t) == OTG_OK) otg_tensor_free(t);
    int64_t h, w;
    t = NULL;
    if (otgi_data_read_npy(p, &t, &h, &w) == OTG_OK) otg_tensor_free(t);
    return 0;
}
