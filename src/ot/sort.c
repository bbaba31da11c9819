/* Stable sort of float32 values with their permutation: LSD radix sort on order-preserving
 * 32-bit keys, three passes of 11/11/10 bits with all histograms built in one read, passes
 * skipped when every key shares the digit; insertion sort below 48 values. Ties keep index
 * order, which is the documented selection for sorts (docs/autodiff.md). */
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
    s->k0 = malloc((size_t)n * sizeof *s->k0);
    s->k1 = malloc((size_t)n * sizeof *s->k1);
    s->i0 = malloc((size_t)n * sizeof *s->i0);
    s->i1 = malloc((size_t)n * sizeof *s->i1);
    if (!s->k0 || !s->k1 || !s->i0 || !s->i1) {
        otgi_sort_release(s);
        return otgi_fail(OTG_ENOMEM, "sort: out of memory for %lld values", (long long)n);
    }
    s->cap = n;
    return OTG_OK;
}

void otgi_sort_release(otgi_sort_scratch *s) {
    free(s->k0), free(s->k1), free(s->i0), free(s->i1);
    memset(s, 0, sizeof *s);
}

/* Stable insertion sort of keys k[n] with indices idx[n]. */
static void insertion_sort(uint32_t *k, int32_t *idx, int64_t n) {
    for (int64_t i = 1; i < n; i++) {
        uint32_t key = k[i];
        int32_t id = idx[i];
        int64_t j = i - 1;
        while (j >= 0 && k[j] > key) {
            k[j + 1] = k[j];
            idx[j + 1] = idx[j];
            j--;
        }
        k[j + 1] = key;
        idx[j + 1] = id;
    }
}

static const int SHIFT[3] = {0, 11, 22};
static const uint32_t MASK[3] = {0x7ff, 0x7ff, 0x3ff};

/* Three LSD passes over (keys, indices); returns pointers to the arrays holding the result. */
static void radix_passes(otgi_sort_scratch *s, int64_t n, uint32_t **kout, int32_t **iout) {
    static _Thread_local uint32_t hist[3][2048];
    memset(hist, 0, sizeof hist);
    uint32_t *ka = s->k0, *kb = s->k1;
    int32_t *ia = s->i0, *ib = s->i1;
    for (int64_t i = 0; i < n; i++) {
        uint32_t k = ka[i];
        hist[0][k & 0x7ff]++;
        hist[1][(k >> 11) & 0x7ff]++;
        hist[2][k >> 22]++;
    }
    for (int pass = 0; pass < 3; pass++) {
        uint32_t *h = hist[pass];
        const uint32_t first = (ka[0] >> SHIFT[pass]) & MASK[pass];
        if (h[first] == (uint32_t)n) continue; /* every key has this digit: nothing to do */
        uint32_t sum = 0;
        for (uint32_t b = 0; b <= MASK[pass]; b++) {
            uint32_t c = h[b];
            h[b] = sum;
            sum += c;
        }
        for (int64_t i = 0; i < n; i++) {
            uint32_t k = ka[i];
            uint32_t pos = h[(k >> SHIFT[pass]) & MASK[pass]]++;
            kb[pos] = k;
            ib[pos] = ia[i];
        }
        uint32_t *kt = ka;
        ka = kb, kb = kt;
        int32_t *it = ia;
        ia = ib, ib = it;
    }
    *kout = ka;
    *iout = ia;
}

int64_t otgi_sort_f32(const float *x, int64_t n, float *sorted, int32_t *perm, otgi_sort_scratch *s) {
    if (n <= 0) return 0;
    for (int64_t i = 0; i < n; i++) {
        s->k0[i] = float_key(x[i]);
        s->i0[i] = (int32_t)i;
    }
    uint32_t *k = s->k0;
    int32_t *idx = s->i0;
    if (n < SMALL_N) insertion_sort(k, idx, n);
    else radix_passes(s, n, &k, &idx);
    int64_t ties = 0;
    for (int64_t i = 0; i < n; i++) {
        sorted[i] = key_float(k[i]);
        ties += i > 0 && k[i] == k[i - 1];
    }
    if (perm) memcpy(perm, idx, (size_t)n * sizeof *perm);
    return ties;
}
