/* Fashion-MNIST from Debian's dataset-fashion-mnist: gzipped IDX files read with zlib.
 * IDX: big-endian uint32 magic (0x00000803 images, 0x00000801 labels), count, then for images rows
 * and cols (28, 28), then one unsigned byte per pixel / label. Everything is checked (magic, sizes,
 * matching counts, truncation, trailing bytes, labels in 0..9) and nothing is half-loaded. Pixels
 * become float32 in [0, 1] (p / 255), rows [n, 784]. */
#include "data/data_internal.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>
#include <zlib.h>

#define FM_SIDE 28
#define FM_PIXELS (FM_SIDE * FM_SIDE)
#define FM_CLASSES 10
#define IDX_IMAGES 0x00000803u
#define IDX_LABELS 0x00000801u
/* The pixel buffer grows as bytes arrive, never to a header's bare claim. */
#define READ_CHUNK (1 << 24)

/* keep[label] from the filter: all when classes is NULL. */
static otg_status class_mask(const int *classes, int n_classes, bool keep[FM_CLASSES]) {
    for (int c = 0; c < FM_CLASSES; c++)
        keep[c] = classes == NULL;
    if (!classes) return OTG_OK;
    if (n_classes <= 0) return otgi_fail(OTG_EINVAL, "fashion-mnist: the classes filter is empty");
    for (int i = 0; i < n_classes; i++) {
        if (classes[i] < 0 || classes[i] >= FM_CLASSES)
            return otgi_fail(OTG_EINVAL, "fashion-mnist: class %d outside 0..9", classes[i]);
        keep[classes[i]] = true;
    }
    return OTG_OK;
}

/* Reads nwords big-endian uint32 words of an IDX header. */
static otg_status read_words(gzFile f, const char *path, uint32_t *words, int nwords) {
    unsigned char b[16];
    const int want = 4 * nwords, got = gzread(f, b, (unsigned)want);
    if (got != want)
        return otgi_fail(OTG_EFORMAT, "%s: truncated: IDX header has %d of %d bytes", path,
                         got < 0 ? 0 : got, want);
    for (int i = 0; i < nwords; i++)
        words[i] = (uint32_t)b[4 * i] << 24 | (uint32_t)b[4 * i + 1] << 16 |
                   (uint32_t)b[4 * i + 2] << 8 | (uint32_t)b[4 * i + 3];
    return OTG_OK;
}

/* Opens an IDX file and checks its header: magic, count > 0, and 28 x 28 for images. */
static otg_status open_idx(const char *path, uint32_t magic, gzFile *f, uint32_t *count) {
    const char *kind = magic == IDX_IMAGES ? "image" : "label";
    errno = 0;
    *f = gzopen(path, "rb");
    if (!*f)
        return otgi_fail(OTG_EIO,
                         "%s: cannot open (%s); install Debian's dataset-fashion-mnist "
                         "or set the root directory",
                         path, errno ? strerror(errno) : "gzopen failed");
    uint32_t w[4];
    const int nwords = magic == IDX_IMAGES ? 4 : 2;
    otg_status st = read_words(*f, path, w, nwords);
    if (st) return st;
    if (w[0] != magic)
        return otgi_fail(OTG_EFORMAT, "%s: bad magic 0x%08x (not an IDX %s file)", path,
                         (unsigned)w[0], kind);
    if (w[1] == 0) return otgi_fail(OTG_EFORMAT, "%s: empty (0 %ss)", path, kind);
    if (magic == IDX_IMAGES && (w[2] != FM_SIDE || w[3] != FM_SIDE))
        return otgi_fail(OTG_EFORMAT, "%s: images are %u x %u, expected 28 x 28", path,
                         (unsigned)w[2], (unsigned)w[3]);
    *count = w[1];
    return OTG_OK;
}

/* After the expected bytes: the stream must end, cleanly. */
static otg_status check_end(gzFile f, const char *path, int64_t expected) {
    unsigned char b;
    const int r = gzread(f, &b, 1);
    int err = 0;
    if (r > 0)
        return otgi_fail(OTG_EFORMAT, "%s: trailing data after the %lld expected bytes", path,
                         (long long)expected);
    if (r < 0) return otgi_fail(OTG_EFORMAT, "%s: gzip error: %s", path, gzerror(f, &err));
    return OTG_OK;
}

/* Reads into buf[0, want) growing *buf as bytes arrive; *got is what the file held. A gzip error
 * other than a cut-off stream is OTG_EFORMAT; a short read is left to the caller. */
static otg_status read_growing(gzFile f, const char *path, int64_t want, uint8_t **buf,
                               int64_t *got) {
    int64_t cap = 0;
    *got = 0;
    while (*got < want) {
        if (*got == cap) {
            cap = cap == 0 ? READ_CHUNK : 2 * cap;
            if (cap > want) cap = want;
            uint8_t *p = realloc(*buf, (size_t)cap);
            if (!p)
                return otgi_fail(OTG_ENOMEM, "%s: out of memory (%lld bytes)", path,
                                 (long long)cap);
            *buf = p;
        }
        const int64_t room = cap - *got;
        const int r = gzread(f, *buf + *got, (unsigned)(room > (1 << 30) ? (1 << 30) : room));
        int err = 0;
        const char *msg = r < 0 ? gzerror(f, &err) : NULL;
        if (r < 0 && err != Z_BUF_ERROR)
            return otgi_fail(OTG_EFORMAT, "%s: gzip error: %s", path, msg);
        if (r <= 0) break; /* end of data, or a cut-off gzip stream: truncated */
        *got += r;
    }
    return OTG_OK;
}

/* Exactly `want` bytes of data (what: "pixel" or "label") into a new *buf. */
static otg_status read_exact(gzFile f, const char *path, int64_t want, const char *what,
                             uint8_t **buf) {
    int64_t got;
    otg_status st = read_growing(f, path, want, buf, &got);
    if (st) return st;
    if (got < want)
        return otgi_fail(OTG_EFORMAT, "%s: truncated: expected %lld %s bytes, got %lld", path,
                         (long long)want, what, (long long)got);
    return check_end(f, path, want);
}

static otg_status check_labels(const char *path, const uint8_t *lab, int64_t n) {
    for (int64_t i = 0; i < n; i++)
        if (lab[i] >= FM_CLASSES)
            return otgi_fail(OTG_EFORMAT, "%s: label %u at index %lld outside 0..9", path,
                             (unsigned)lab[i], (long long)i);
    return OTG_OK;
}

/* The kept rows as floats in [0, 1]: *images [m, 784], *labels [m]. */
static otg_status keep_rows(const char *path, const uint8_t *pix, const uint8_t *lab, int64_t n,
                            const bool keep[FM_CLASSES], otg_tensor **images, uint8_t **labels) {
    int64_t m = 0;
    for (int64_t i = 0; i < n; i++)
        m += keep[lab[i]];
    if (m == 0)
        return otgi_fail(OTG_EINVAL, "fashion-mnist: no image of the requested classes in %s",
                         path);
    const int64_t shape[2] = {m, FM_PIXELS};
    *images = otg_tensor_new(2, shape);
    *labels = *images ? malloc((size_t)m) : NULL;
    if (!*labels) {
        otg_tensor_free(*images);
        *images = NULL;
        return otgi_fail(OTG_ENOMEM, "fashion-mnist: out of memory for %lld images", (long long)m);
    }
    float *out = (*images)->data;
    for (int64_t i = 0, r = 0; i < n; i++) {
        if (!keep[lab[i]]) continue;
        const uint8_t *src = pix + i * FM_PIXELS;
        for (int j = 0; j < FM_PIXELS; j++)
            out[r * FM_PIXELS + j] = (float)src[j] / 255.0f;
        (*labels)[r++] = lab[i];
    }
    return OTG_OK;
}

/* Loads <root>/{train,t10k}-{images-idx3,labels-idx1}-ubyte.gz for split "train" / "test" (checked
 * by otg_source_open, the only caller). */
otg_status otgi_data_read_fashion_mnist(const char *root, const char *split, const int *classes,
                                        int n_classes, otg_tensor **images, uint8_t **labels) {
    *images = NULL, *labels = NULL;
    bool keep[FM_CLASSES];
    otg_status st = class_mask(classes, n_classes, keep);
    if (st) return st;
    const char *pre = split[1] == 'r' ? "train" : "t10k";
    char ipath[4096], lpath[4096];
    if (snprintf(ipath, sizeof ipath, "%s/%s-images-idx3-ubyte.gz", root, pre) >= (int)sizeof ipath)
        return otgi_fail(OTG_EINVAL, "fashion-mnist: root directory name too long");
    snprintf(lpath, sizeof lpath, "%s/%s-labels-idx1-ubyte.gz", root, pre);
    gzFile fi = NULL, fl = NULL;
    uint8_t *pix = NULL, *lab = NULL;
    uint32_t ni = 0, nl = 0;
    if ((st = open_idx(ipath, IDX_IMAGES, &fi, &ni))) goto fail;
    if ((st = open_idx(lpath, IDX_LABELS, &fl, &nl))) goto fail;
    if (nl != ni) {
        st = otgi_fail(OTG_EFORMAT, "%s: label count %u != image count %u", lpath, (unsigned)nl,
                       (unsigned)ni);
        goto fail;
    }
    if ((st = read_exact(fl, lpath, nl, "label", &lab))) goto fail;
    if ((st = check_labels(lpath, lab, nl))) goto fail;
    if ((st = read_exact(fi, ipath, (int64_t)ni * FM_PIXELS, "pixel", &pix))) goto fail;
    st = keep_rows(ipath, pix, lab, ni, keep, images, labels);
fail:
    if (fi) gzclose(fi);
    if (fl) gzclose(fl);
    free(pix);
    free(lab);
    return st;
}
