/* Fashion-MNIST's gzipped IDX reader. The input is split at its first "\n--\n" into the labels
 * file and the images file; byte 0 picks whether they are gzipped here (the IDX layout is
 * explored) or written as given (the gzip layer is). */
#include "common.h"
#include "data_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

static void write_part(const char *name, const uint8_t *d, size_t n, int raw) {
    char path[512];
    snprintf(path, sizeof path, "%s/%s", fuzz_dir(), name);
    if (raw) {
        fuzz_file(name, d, n);
        return;
    }
    gzFile f = gzopen(path, "wb1");
    if (!f) return;
    if (n) gzwrite(f, d, (unsigned)n);
    gzclose(f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t n) {
    if (n < 1) return 0;
    int raw = data[0] & 1;
    data++, n--;
    const uint8_t *sep = NULL;
    for (size_t i = 0; i + 4 <= n && !sep; i++)
        if (!memcmp(data + i, "\n--\n", 4)) sep = data + i;
    size_t nl = sep ? (size_t)(sep - data) : n, off = sep ? nl + 4 : n;
    write_part("train-labels-idx1-ubyte.gz", data, nl, raw);
    write_part("train-images-idx3-ubyte.gz", data + off, n - off, raw);
    otg_tensor *img = NULL;
    uint8_t *lab = NULL;
    int classes[2] = {0, 7};
    if (otgi_data_read_fashion_mnist(fuzz_dir(), "train", n & 2 ? classes : NULL, n & 2 ? 2 : 0,
                                     &img, &lab) == OTG_OK) {
        otg_tensor_free(img);
        free(lab);
    }
    return 0;
}
