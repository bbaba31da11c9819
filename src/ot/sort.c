/* Stable sort of float32 values with their permutation: LSD radix sort on order-preserving
 * 32-bit keys. With a permutation, key and index travel packed in one 64-bit word (one store per
 * element per pass). Digits: 3 passes of 11/11/10 bits for n >= 512, 4 passes of 8 bits below
 * (clearing and scanning 2048-bucket histograms would cost more than the passes); all histograms
 * are built while the keys are made, and a pass is skipped when every key shares its digit;
 * insertion sort below 48 values. Ties keep index order, the documented selection for sorts
 * (docs/autodiff.md). */
#include "ot/ot_internal.h"

#include <string.h>

#define SMALL_N 48

/* Order-preserving key: flip all bits of negatives, the sign bit of positives. x + 0.0f turns
 * -0 into +0 so that the two zeros tie (and keep index order). */
static inline uint32_t float_key(float x) {
    x += 0.0f;
    uint32_t u;
    memcpy(&u, &x, sizeof u);
    return u ^ ((uint32_t)((int32_t)u >> 31) | 0x80000000u);
}

static inline float key_float(uint32_t k) {
    uint32_t u = k & 0x80000000u ? k ^ 0x80000000u : ~k;
    float x;
    memcpy(&x, &u, sizeof x);
    return x;
}

otg_status otgi_sort_reserve(otgi_sort_scratch *s, int64_t n) {
    if (n <= s->cap) return OTG_OK;
    otgi_sort_release(s);
    s->w0 = malloc((size_t)n * sizeof *s->w0);
    s->w1 = malloc((size_t)n * sizeof *s->w1);
    if (!s->w0 || !s->w1) {
        otgi_sort_release(s);
        return otgi_fail(OTG_ENOMEM, "sort: out of memory for %lld values", (long long)n);
    }
    s->cap = n;
    return OTG_OK;
}

void otgi_sort_release(otgi_sort_scratch *s) {
    free(s->w0), free(s->w1);
    memset(s, 0, sizeof *s);
}

typedef struct {
    int passes, shift[4];
    uint32_t mask[4];
} digits;
static const digits WIDE = {3, {0, 11, 22, 0}, {0x7ff, 0x7ff, 0x3ff, 0}};
static const digits NARROW = {4, {0, 8, 16, 24}, {0xff, 0xff, 0xff, 0xff}};

/* Exclusive prefix sums of one histogram; 0 when every key has the same digit (skip the pass). */
static inline int prefix(uint32_t *h, uint32_t mask, uint32_t n, uint32_t first_digit) {
    if (h[first_digit] == n) return 0;
    uint32_t sum = 0;
    for (uint32_t b = 0; b <= mask; b++) {
        uint32_t c = h[b];
        h[b] = sum;
        sum += c;
    }
    return 1;
}

/* Sorts the packed words key | index << 32 of x[n] (stable); returns the array holding them. */
static inline __attribute__((always_inline)) uint64_t *radix_packed(const digits *dg, const float *x,
                                                                    int64_t n, otgi_sort_scratch *s) {
    static _Thread_local uint32_t hist[4][2048];
    for (int p = 0; p < dg->passes; p++) memset(hist[p], 0, (dg->mask[p] + 1) * sizeof(uint32_t));
    uint64_t *a = s->w0, *b = s->w1;
    for (int64_t i = 0; i < n; i++) {
        uint32_t k = float_key(x[i]);
        a[i] = k | (uint64_t)i << 32;
        for (int p = 0; p < dg->passes; p++) hist[p][(k >> dg->shift[p]) & dg->mask[p]]++;
    }
    for (int p = 0; p < dg->passes; p++) {
        const int sh = dg->shift[p];
        const uint32_t mk = dg->mask[p];
        uint32_t *h = hist[p];
        if (!prefix(h, mk, (uint32_t)n, ((uint32_t)a[0] >> sh) & mk)) continue;
        for (int64_t i = 0; i < n; i++) b[h[((uint32_t)a[i] >> sh) & mk]++] = a[i];
        uint64_t *t = a;
        a = b, b = t;
    }
    return a;
}

/* The same on bare keys (no permutation wanted), in the scratch viewed as uint32. */
static inline __attribute__((always_inline)) uint32_t *radix_keys(const digits *dg, const float *x,
                                                                  int64_t n, otgi_sort_scratch *s) {
    static _Thread_local uint32_t hist[4][2048];
    for (int p = 0; p < dg->passes; p++) memset(hist[p], 0, (dg->mask[p] + 1) * sizeof(uint32_t));
    uint32_t *a = (uint32_t *)s->w0, *b = (uint32_t *)s->w1;
    for (int64_t i = 0; i < n; i++) {
        uint32_t k = float_key(x[i]);
        a[i] = k;
        for (int p = 0; p < dg->passes; p++) hist[p][(k >> dg->shift[p]) & dg->mask[p]]++;
    }
    for (int p = 0; p < dg->passes; p++) {
        const int sh = dg->shift[p];
        const uint32_t mk = dg->mask[p];
        uint32_t *h = hist[p];
        if (!prefix(h, mk, (uint32_t)n, (a[0] >> sh) & mk)) continue;
        for (int64_t i = 0; i < n; i++) b[h[(a[i] >> sh) & mk]++] = a[i];
        uint32_t *t = a;
        a = b, b = t;
    }
    return a;
}

/* Stable insertion sort of packed words by their low 32 bits (the key). */
static uint64_t *insertion_packed(const float *x, int64_t n, otgi_sort_scratch *s) {
    uint64_t *a = s->w0;
    for (int64_t i = 0; i < n; i++) {
        uint64_t w = float_key(x[i]) | (uint64_t)i << 32;
        int64_t j = i - 1;
        while (j >= 0 && (uint32_t)a[j] > (uint32_t)w) {
            a[j + 1] = a[j];
            j--;
        }
        a[j + 1] = w;
    }
    return a;
}

int64_t otgi_sort_f32(const float *x, int64_t n, float *sorted, int32_t *perm, otgi_sort_scratch *s) {
    if (n <= 0) return 0;
    int64_t ties = 0;
    if (perm || n < SMALL_N) {
        uint64_t *w = n < SMALL_N ? insertion_packed(x, n, s)
                      : n < 512   ? radix_packed(&NARROW, x, n, s)
                                  : radix_packed(&WIDE, x, n, s);
        for (int64_t i = 0; i < n; i++) {
            sorted[i] = key_float((uint32_t)w[i]);
            ties += i > 0 && (uint32_t)w[i] == (uint32_t)w[i - 1];
        }
        if (perm)
            for (int64_t i = 0; i < n; i++) perm[i] = (int32_t)(w[i] >> 32);
        return ties;
    }
    uint32_t *k = n < 512 ? radix_keys(&NARROW, x, n, s) : radix_keys(&WIDE, x, n, s);
    for (int64_t i = 0; i < n; i++) {
        sorted[i] = key_float(k[i]);
        ties += i > 0 && k[i] == k[i - 1];
    }
    return ties;
}
