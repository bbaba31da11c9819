/* CSV reader of the training data (otgen train --data FILE.csv). */
#include "common.h"
#include "data_internal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t n) {
    otg_tensor *t = NULL;
    if (otgi_data_read_csv(fuzz_file("x.csv", data, n), &t) == OTG_OK) otg_tensor_free(t);
    return 0;
}
