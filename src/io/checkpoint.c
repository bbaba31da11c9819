/* Checkpoints: one self-checking file holding a JSON header, the flat parameters and the
 * optimiser state, closed by a CRC-32. Written atomically; read all at once and validated before
 * anything is handed back, so a truncated or corrupted file is refused with its reason. */
#define _POSIX_C_SOURCE 200809L
#include "io_internal.h"
#include "otgen/io.h"

#include <math.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

static const char MAGIC[8] = {'O', 'T', 'G', 'C', 'K', 'P', 'T', '\0'};
#define CKPT_VERSION 1u

/* Growable byte buffer for assembling the file in memory. */
typedef struct {
    unsigned char *p;
    size_t len, cap;
} bytes;

static int put(bytes *b, const void *src, size_t n) {
    if (n == 0) return 0; /* memcpy from a NULL source is undefined even for 0 bytes */
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->len + n)
            cap *= 2;
        unsigned char *q = realloc(b->p, cap);
        if (!q) return -1;
        b->p = q, b->cap = cap;
    }
    memcpy(b->p + b->len, src, n);
    b->len += n;
    return 0;
}

static int put_u32(bytes *b, uint32_t v) {
    unsigned char c[4] = {(unsigned char)v, (unsigned char)(v >> 8), (unsigned char)(v >> 16),
                          (unsigned char)(v >> 24)};
    return put(b, c, 4);
}

static int put_u64(bytes *b, uint64_t v) {
    return put_u32(b, (uint32_t)v) || put_u32(b, (uint32_t)(v >> 32));
}

static uint32_t get_u32(const unsigned char *c) {
    return (uint32_t)c[0] | (uint32_t)c[1] << 8 | (uint32_t)c[2] << 16 | (uint32_t)c[3] << 24;
}

static uint64_t get_u64(const unsigned char *c) {
    return get_u32(c) | (uint64_t)get_u32(c + 4) << 32;
}

otg_status otg_checkpoint_write(const char *path, const char *header, const float *params,
                                int64_t n_params, const float *state, int64_t n_state) {
    if (!path || !header || (!params && n_params) || (!state && n_state) || n_params < 0 ||
        n_state < 0)
        return otgi_fail(OTG_EINVAL, "checkpoint_write: bad argument");
    bytes b = {0};
    size_t hl = strlen(header);
    int bad = put(&b, MAGIC, 8) || put_u32(&b, CKPT_VERSION) || put_u32(&b, (uint32_t)hl) ||
              put(&b, header, hl) || put_u64(&b, (uint64_t)n_params) ||
              put(&b, params, (size_t)n_params * sizeof(float)) || put_u64(&b, (uint64_t)n_state) ||
              put(&b, state, (size_t)n_state * sizeof(float));
    if (!bad) bad = put_u32(&b, (uint32_t)crc32(0L, b.p, (uInt)b.len));
    otg_status st = bad ? otgi_fail(OTG_ENOMEM, "%s: out of memory", path)
                        : otgi_atomic_write(path, b.p, b.len, 1);
    free(b.p);
    return st;
}

/* Validates the layout of p[len]; sets the offsets of the parts. */
static otg_status check_layout(const char *path, const unsigned char *p, size_t len, size_t *hoff,
                               size_t *hl, size_t *poff, uint64_t *np, size_t *soff, uint64_t *ns) {
    if (len < 8 || memcmp(p, MAGIC, 8))
        return otgi_fail(OTG_EFORMAT, "%s: not an otgen checkpoint (bad magic)", path);
    if (len < 8 + 4 + 4 + 8 + 8 + 4)
        return otgi_fail(OTG_EFORMAT, "%s: truncated checkpoint (%zu bytes)", path, len);
    if (get_u32(p + 8) != CKPT_VERSION)
        return otgi_fail(OTG_EFORMAT, "%s: checkpoint format version %u (this otgen reads %u)",
                         path, get_u32(p + 8), CKPT_VERSION);
    *hl = get_u32(p + 12), *hoff = 16;
    if (*hoff + *hl + 8 > len)
        return otgi_fail(OTG_EFORMAT, "%s: truncated checkpoint (header)", path);
    *np = get_u64(p + *hoff + *hl), *poff = *hoff + *hl + 8;
    if (*np > (len - *poff) / 4)
        return otgi_fail(OTG_EFORMAT, "%s: truncated checkpoint (parameters)", path);
    size_t after = *poff + (size_t)*np * 4;
    if (after + 8 + 4 > len)
        return otgi_fail(OTG_EFORMAT, "%s: truncated checkpoint (state)", path);
    *ns = get_u64(p + after), *soff = after + 8;
    if (*ns > (len - *soff - 4) / 4 || *soff + (size_t)*ns * 4 + 4 != len)
        return otgi_fail(OTG_EFORMAT,
                         "%s: truncated or padded checkpoint (%zu bytes, layout says %zu)", path,
                         len, *soff + (size_t)*ns * 4 + 4);
    uint32_t want = get_u32(p + len - 4), got = (uint32_t)crc32(0L, p, (uInt)(len - 4));
    if (want != got)
        return otgi_fail(OTG_EFORMAT, "%s: corrupted checkpoint (CRC-32 %08x, stored %08x)", path,
                         got, want);
    return OTG_OK;
}

otg_status otg_checkpoint_read(const char *path, otg_checkpoint *out) {
    if (!path || !out) return otgi_fail(OTG_EINVAL, "checkpoint_read: NULL argument");
    memset(out, 0, sizeof *out);
    size_t len = 0, hoff = 0, hl = 0, poff = 0, soff = 0;
    uint64_t np = 0, ns = 0;
    char *text;
    otg_status st = otg_file_read(path, 0, &text, &len);
    if (st != OTG_OK) return st;
    const unsigned char *p = (const unsigned char *)text;
    st = check_layout(path, p, len, &hoff, &hl, &poff, &np, &soff, &ns);
    if (st == OTG_OK) {
        out->header = malloc(hl + 1);
        out->params = malloc((size_t)(np ? np : 1) * sizeof(float));
        out->state = malloc((size_t)(ns ? ns : 1) * sizeof(float));
        if (!out->header || !out->params || !out->state)
            st = otgi_fail(OTG_ENOMEM, "%s: out of memory", path);
    }
    if (st == OTG_OK) {
        memcpy(out->header, p + hoff, hl);
        out->header[hl] = '\0';
        memcpy(out->params, p + poff, (size_t)np * sizeof(float));
        memcpy(out->state, p + soff, (size_t)ns * sizeof(float));
        out->n_params = (int64_t)np, out->n_state = (int64_t)ns;
        for (uint64_t i = 0; i < np && st == OTG_OK; i++)
            if (!isfinite(out->params[i]))
                st = otgi_fail(OTG_ENONFINITE, "%s: parameter %llu is not finite", path,
                               (unsigned long long)i);
    }
    free(text);
    if (st != OTG_OK) otg_checkpoint_release(out);
    return st;
}

void otg_checkpoint_release(otg_checkpoint *c) {
    if (!c) return;
    free(c->header), free(c->params), free(c->state);
    memset(c, 0, sizeof *c);
}
