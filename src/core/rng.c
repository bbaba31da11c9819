/* Counter-based random streams on Random123's Philox4x32-10.
 * Key = the 64-bit seed; counter words = (block index lo, hi, stream id lo, hi). A fill of n values
 * maps element i to a fixed block (counter + i/4), so results never depend on the thread count. */
#define _GNU_SOURCE /* sincos */
#include "internal.h"

#include <Random123/philox.h>
#include <math.h>

static const double TWO_PI = 6.283185307179586476925286766559;

otg_rng otg_rng_make(uint64_t seed, uint64_t stream) {
    otg_rng r = {seed, stream, 0, {0, 0, 0, 0}, 0};
    return r;
}

/* The 4 words of block `index` of (seed, stream). */
static philox4x32_ctr_t rng_block(const otg_rng *r, uint64_t index) {
    philox4x32_ctr_t c = {{(uint32_t)index, (uint32_t)(index >> 32), (uint32_t)r->stream,
                           (uint32_t)(r->stream >> 32)}};
    philox4x32_key_t k = {{(uint32_t)r->seed, (uint32_t)(r->seed >> 32)}};
    return philox4x32(c, k);
}

uint32_t otg_rng_u32(otg_rng *r) {
    if (r->buf_left == 0) {
        philox4x32_ctr_t b = rng_block(r, r->counter++);
        for (int i = 0; i < 4; i++)
            r->buf[i] = b.v[i];
        r->buf_left = 4;
    }
    return r->buf[4 - r->buf_left--];
}

/* (x + 0.5) / 2^32: uniform on (0, 1), never 0 or 1, so log() is always finite. */
static double u32_to_open01(uint32_t x) {
    return ((double)x + 0.5) * (1.0 / 4294967296.0);
}

double otg_rng_uniform(otg_rng *r) {
    return u32_to_open01(otg_rng_u32(r));
}

double otg_rng_normal(otg_rng *r) {
    double u1 = otg_rng_uniform(r), u2 = otg_rng_uniform(r);
    return sqrt(-2.0 * log(u1)) * cos(TWO_PI * u2);
}

void otg_rng_fill_uniform(otg_rng *r, int64_t n, float *out) {
    if (n <= 0) return;
    r->buf_left = 0;
    const uint64_t base = r->counter;
    const int64_t nblocks = (n + 3) / 4;
#pragma omp parallel for schedule(static) if (n > 65536)
    for (int64_t b = 0; b < nblocks; b++) {
        philox4x32_ctr_t w = rng_block(r, base + (uint64_t)b);
        for (int j = 0; j < 4 && 4 * b + j < n; j++)
            out[4 * b + j] = (float)u32_to_open01(w.v[j]);
    }
    r->counter = base + (uint64_t)nblocks;
}

/* Box-Muller in single precision for fills (float outputs): u from the top 24 bits of each word,
 * so -2 log u is exact to float rounding and |z| <= 5.8. glibc's logf/sincosf are correctly
 * rounded or nearly so, and identical on every run of the same binary. */
static inline float u24_open01(uint32_t x) {
    return ((float)(x >> 8) + 0.5f) * 0x1p-24f;
}

void otg_rng_fill_normal(otg_rng *r, int64_t n, float *out) {
    if (n <= 0) return;
    r->buf_left = 0;
    const uint64_t base = r->counter;
    const int64_t nblocks = (n + 3) / 4;
    const float two_pi = 6.28318530717958647692f;
#pragma omp parallel for schedule(static) if (n > 65536)
    for (int64_t b = 0; b < nblocks; b++) {
        philox4x32_ctr_t w = rng_block(r, base + (uint64_t)b);
        for (int pair = 0; pair < 2; pair++) {
            float u1 = u24_open01(w.v[2 * pair]), u2 = u24_open01(w.v[2 * pair + 1]);
            float rad = sqrtf(-2.0f * logf(u1)), sn, cs;
            sincosf(two_pi * u2, &sn, &cs);
            int64_t i = 4 * b + 2 * pair;
            if (i < n) out[i] = rad * cs;
            if (i + 1 < n) out[i + 1] = rad * sn;
        }
    }
    r->counter = base + (uint64_t)nblocks;
}

otg_status otg_rng_fill_sphere(otg_rng *r, int64_t d, int64_t k, float *out) {
    if (!r || !out) return otgi_fail(OTG_EINVAL, "rng_fill_sphere: NULL argument");
    if (d <= 0 || k <= 0)
        return otgi_fail(OTG_EINVAL, "rng_fill_sphere: need d > 0 and k > 0 (got %lld, %lld)",
                         (long long)d, (long long)k);
    int64_t n;
    if (otgi_mul_i64(d, k, &n)) return otgi_fail(OTG_EINVAL, "rng_fill_sphere: d*k overflows");
    otg_rng_fill_normal(r, n, out);
    /* normalise each column; columns in blocks of 256 so rows are read contiguously */
    const int64_t nblk = (k + 255) / 256;
#pragma omp parallel for schedule(static) if (n > 65536)
    for (int64_t blk = 0; blk < nblk; blk++) {
        const int64_t c0 = blk * 256, w = k - c0 < 256 ? k - c0 : 256;
        double acc[256] = {0};
        for (int64_t i = 0; i < d; i++)
            for (int64_t c = 0; c < w; c++) {
                double v = out[i * k + c0 + c];
                acc[c] += v * v;
            }
        for (int64_t c = 0; c < w; c++)
            acc[c] = acc[c] > 0.0 ? 1.0 / sqrt(acc[c]) : 0.0;
        for (int64_t i = 0; i < d; i++)
            for (int64_t c = 0; c < w; c++)
                out[i * k + c0 + c] = (float)((double)out[i * k + c0 + c] * acc[c]);
        /* a zero Gaussian vector has probability 0; guard anyway with the first basis vector */
        for (int64_t c = 0; c < w; c++)
            if (acc[c] == 0.0) out[c0 + c] = 1.0f;
    }
    return OTG_OK;
}

void otgi_rng_draw_distinct(otg_rng *rng, int64_t *pick, int64_t n, int64_t k) {
    for (int64_t i = 0; i < n; i++)
        pick[i] = i;
    for (int64_t l = 0; l < k; l++) { /* the first k swaps of a Fisher-Yates shuffle */
        int64_t j = l + (int64_t)(otg_rng_uniform(rng) * (double)(n - l));
        if (j >= n) j = n - 1; /* uniform() in [0, 1): only a rounding could reach n */
        const int64_t t = pick[j];
        pick[j] = pick[l], pick[l] = t;
    }
}

void otgi_rng_permutation(otg_rng *rng, int64_t *perm, int64_t n) {
    for (int64_t i = 0; i < n; i++)
        perm[i] = i;
    for (int64_t i = n - 1; i > 0; i--) {
        int64_t j = (int64_t)(otg_rng_uniform(rng) * (double)(i + 1));
        j = j > i ? i : j;
        const int64_t k = perm[i];
        perm[i] = perm[j], perm[j] = k;
    }
}
