/* Stable sort of float32 values with their permutation, on order-preserving 32-bit keys.
 * Two engines give the same bits:
 *  - the C reference (otgi_sort_f32_c): an LSD radix sort with its digits fixed at compile time
 *    (3 passes of 11/11/10 bits from SORT_WIDE_N values up, 4 passes of 8 bits below, where
 *    clearing 2048-bucket histograms would cost more than the passes), the histograms of all
 *    passes counted in one unrolled loop while the keys are made, a pass skipped when every key
 *    shares its digit, and the last pass writing the output values and permutation directly;
 *    insertion sort below SORT_SMALL_N values. With a permutation, key and index travel packed
 *    in one 64-bit word (key | index << 32: one store per element per pass).
 *  - Highway's vqsort (sort_vq.cc, only when built with libhwy), on the keys alone or on the
 *    packed words key << 32 | index. vqsort is not stable, but those words are all distinct and
 *    equal keys are the same bits, so its output is fully determined: the same as the radix's.
 * otgi_sort_f32 picks per size class, by a measurement on this machine at the first sort of
 * the class (vq_wins below; OTGEN_SORT=c|vq|auto overrides). Ties keep index order, the
 * documented selection for sorts (docs/autodiff.md); -0 and +0 count as equal (both come out
 * as +0); NaNs sort to the ends by their bits. */
#define _POSIX_C_SOURCE 200809L /* clock_gettime */
#include "ot/ot_internal.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum { SORT_SMALL_N = 48, SORT_WIDE_N = 512 };

/* Order-preserving key: flip all bits of negatives, the sign bit of positives. x + 0.0f turns
 * -0 into +0 so that the two zeros tie (and keep index order). */
static inline uint32_t float_key(float x) {
    x += 0.0f;
    uint32_t u;
    memcpy(&u, &x, sizeof u);
    return u ^ ((uint32_t)((int32_t)u >> 31) | 0x80000000u);
}

static inline float key_float(uint32_t k) {
    uint32_t m = (uint32_t)((int32_t)~k >> 31) | 0x80000000u; /* inverse of float_key's mask */
    uint32_t u = k ^ m;
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

/* Exclusive prefix sums of one histogram of nb buckets; 0 when every key has the same digit
 * (the pass is skipped). */
static inline int prefix(uint32_t *h, uint32_t nb, uint32_t n, uint32_t first_digit) {
    if (h[first_digit] == n) return 0;
    uint32_t sum = 0;
    for (uint32_t b = 0; b < nb; b++) {
        uint32_t c = h[b];
        h[b] = sum;
        sum += c;
    }
    return 1;
}

/* Adjacent equal pairs of the sorted output (the keys are equal iff the values' bits are). */
static int64_t count_ties(const float *sorted, int64_t n) {
    int64_t ties = 0;
    uint32_t prev, cur;
    memcpy(&prev, sorted, sizeof prev);
    for (int64_t i = 1; i < n; i++) {
        memcpy(&cur, sorted + i, sizeof cur);
        ties += cur == prev;
        prev = cur;
    }
    return ties;
}

/* The radix engine, instantiated per (digit layout, with or without permutation) so that every
 * shift, mask and bucket count is a constant. W is the word type: uint64_t (key | index << 32)
 * or uint32_t (key). NP passes of widths B0..B3 (bits). */
#define KEY_OF(w) ((uint32_t)(w))
#define DIGIT(w, sh, bits) ((KEY_OF(w) >> (sh)) & ((1u << (bits)) - 1u))

#define DEFINE_RADIX(name, W, NP, B0, B1, B2, B3, WITH_PERM)                                       \
    static void name(const float *x, int64_t n, float *sorted, int32_t *perm,                      \
                     otgi_sort_scratch *s) {                                                       \
        enum { S1 = B0, S2 = B0 + B1, S3 = B0 + B1 + B2 };                                         \
        uint32_t h0[1u << B0] = {0}, h1[1u << B1] = {0}, h2[1u << B2] = {0}, h3[1u << B3] = {0};   \
        W *a = (W *)s->w0, *b = (W *)s->w1;                                                        \
        for (int64_t i = 0; i < n; i++) {                                                          \
            uint32_t k = float_key(x[i]);                                                          \
            a[i] = WITH_PERM ? (W)(k | (uint64_t)i << 32) : (W)k;                                  \
        }                                                                                          \
        for (int64_t i = 0; i < n; i++) {                                                          \
            W w = a[i];                                                                            \
            h0[DIGIT(w, 0, B0)]++, h1[DIGIT(w, S1, B1)]++, h2[DIGIT(w, S2, B2)]++;                 \
            if (NP == 4) h3[DIGIT(w, NP == 4 ? S3 : 0, B3)]++;                                     \
        }                                                                                          \
        uint32_t *hs[4] = {h0, h1, h2, h3};                                                        \
        const int shs[4] = {0, S1, S2, S3}, bits[4] = {B0, B1, B2, B3};                            \
        int last = -1; /* the last pass that moves anything */                                     \
        int live[4] = {0, 0, 0, 0};                                                                \
        for (int p = 0; p < NP; p++) {                                                             \
            live[p] = prefix(hs[p], 1u << bits[p], (uint32_t)n,                                    \
                             (KEY_OF(a[0]) >> shs[p]) & ((1u << bits[p]) - 1u));                   \
            if (live[p]) last = p;                                                                 \
        }                                                                                          \
        for (int p = 0; p < last; p++) {                                                           \
            if (!live[p]) continue;                                                                \
            uint32_t *h = hs[p];                                                                   \
            const int sh = shs[p];                                                                 \
            const uint32_t mk = (1u << bits[p]) - 1u;                                              \
            for (int64_t i = 0; i < n; i++)                                                        \
                b[h[(KEY_OF(a[i]) >> sh) & mk]++] = a[i];                                          \
            W *t = a;                                                                              \
            a = b, b = t;                                                                          \
        }                                                                                          \
        if (last >= 0) { /* the last pass scatters straight into the outputs */                    \
            uint32_t *h = hs[last];                                                                \
            const int sh = shs[last];                                                              \
            const uint32_t mk = (1u << bits[last]) - 1u;                                           \
            for (int64_t i = 0; i < n; i++) {                                                      \
                W w = a[i];                                                                        \
                uint32_t at = h[(KEY_OF(w) >> sh) & mk]++;                                         \
                sorted[at] = key_float(KEY_OF(w));                                                 \
                if (WITH_PERM) perm[at] = (int32_t)((uint64_t)w >> 32);                            \
            }                                                                                      \
        } else { /* every key is the same */                                                       \
            for (int64_t i = 0; i < n; i++) {                                                      \
                sorted[i] = key_float(KEY_OF(a[i]));                                               \
                if (WITH_PERM) perm[i] = (int32_t)i;                                               \
            }                                                                                      \
        }                                                                                          \
    }

/* (the unused fourth histogram of the 3-pass layouts has one bucket) */
DEFINE_RADIX(radix_wide_perm, uint64_t, 3, 11, 11, 10, 0, 1)
DEFINE_RADIX(radix_narrow_perm, uint64_t, 4, 8, 8, 8, 8, 1)
DEFINE_RADIX(radix_wide_keys, uint32_t, 3, 11, 11, 10, 0, 0)
DEFINE_RADIX(radix_narrow_keys, uint32_t, 4, 8, 8, 8, 8, 0)

/* Stable insertion sort of packed words by their low 32 bits (the key). */
static void insertion_packed(const float *x, int64_t n, float *sorted, int32_t *perm,
                             otgi_sort_scratch *s) {
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
    for (int64_t i = 0; i < n; i++)
        sorted[i] = key_float((uint32_t)a[i]);
    if (perm)
        for (int64_t i = 0; i < n; i++)
            perm[i] = (int32_t)(a[i] >> 32);
}

int64_t otgi_sort_f32_c(const float *x, int64_t n, float *sorted, int32_t *perm,
                        otgi_sort_scratch *s) {
    if (n <= 0) return 0;
    if (n < SORT_SMALL_N)
        insertion_packed(x, n, sorted, perm, s);
    else if (perm)
        (n < SORT_WIDE_N ? radix_narrow_perm : radix_wide_perm)(x, n, sorted, perm, s);
    else
        (n < SORT_WIDE_N ? radix_narrow_keys : radix_wide_keys)(x, n, sorted, NULL, s);
    return count_ties(sorted, n);
}

#ifdef OTGEN_HAVE_HWY
/* vqsort on the keys alone (no permutation) or on the packed words key << 32 | index. */
static void vq_sort(const float *x, int64_t n, float *sorted, int32_t *perm, otgi_sort_scratch *s) {
    if (perm) {
        uint64_t *w = s->w0;
        for (int64_t i = 0; i < n; i++)
            w[i] = (uint64_t)float_key(x[i]) << 32 | (uint64_t)i;
        otgi_vqsort_u64(w, n);
        for (int64_t i = 0; i < n; i++) {
            sorted[i] = key_float((uint32_t)(w[i] >> 32));
            perm[i] = (int32_t)(uint32_t)w[i];
        }
    } else {
        uint32_t *k = (uint32_t *)s->w0;
        for (int64_t i = 0; i < n; i++)
            k[i] = float_key(x[i]);
        otgi_vqsort_u32(k, n);
        for (int64_t i = 0; i < n; i++)
            sorted[i] = key_float(k[i]);
    }
}

/* The engine per size class, chosen by measurement on this machine (which engine is faster
 * depends on the CPU: on a Xeon vqsort won on keys at every size, on an AMD EPYC it is 1.4-10x
 * slower than the radix from 1024 keys up; docs/performance.md). Size class c holds
 * 2^c <= n < 2^(c+1), separately with and without the permutation. The first sort of a class in
 * the process times both engines on a synthetic slice of its n normal values (at most CAL_MAX_N:
 * passes of at least CAL_MIN_VALUES values, the best of up to CAL_REPS each, interleaved, ending
 * early once one is CAL_CLEAR times faster after CAL_MIN_REPS each; 0.5-5 ms per class) and
 * records the faster. The early end waits for CAL_MIN_REPS passes because on a busy machine a
 * pass can lose its core: ending after one, 6 of 30 processes beside a busy loop picked the radix
 * for 256 keys with the permutation, 3x slower there than vqsort (0 of 80 now, beside three). The
 * state of a class is an atomic: the thread that claims it measures, the others use the radix
 * meanwhile. Since both engines give the same bits, the pick (which can differ between runs on a
 * busy machine) never changes a result. OTGEN_SORT=c or vq forces an engine (auto, the default,
 * measures). */
enum {
    SORT_CLASSES = 64,
    CAL_MAX_N = 32768,
    CAL_MIN_VALUES = 4096,
    CAL_REPS = 7,
    CAL_MIN_REPS = 3
};
#define CAL_CLEAR 1.5 /* a ratio of best times that ends the calibration early */
enum { PICK_UNKNOWN, PICK_MEASURING, PICK_C, PICK_VQ };
static _Atomic int sort_pick[2][SORT_CLASSES];
enum { MODE_UNREAD, MODE_AUTO, MODE_C, MODE_VQ };
static _Atomic int sort_mode;

static int size_class(int64_t n) {
    return 63 - __builtin_clzll((unsigned long long)n);
}

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Seconds per pass of one engine over every slice of the calibration input. */
static double time_engine(int vq, const float *x, int64_t m, int64_t slices, float *out,
                          int32_t *perm, otgi_sort_scratch *s) {
    double t0 = now_s();
    for (int64_t k = 0; k < slices; k++)
        vq ? vq_sort(x + k * m, m, out, perm, s)
           : (void)otgi_sort_f32_c(x + k * m, m, out, perm, s);
    return now_s() - t0;
}

/* Whether vqsort sorts n values (with or without the permutation) faster than the radix here,
 * timed on min(n, CAL_MAX_N) values; the radix when the calibration cannot allocate. */
static int vq_faster(int64_t n, int with_perm) {
    int64_t m = n < CAL_MAX_N ? n : CAL_MAX_N;
    int64_t slices = (CAL_MIN_VALUES + m - 1) / m;
    float *x = malloc((size_t)(slices * m) * sizeof *x), *out = malloc((size_t)m * sizeof *out);
    int32_t *perm = with_perm ? malloc((size_t)m * sizeof *perm) : NULL;
    otgi_sort_scratch s = {0};
    int vq = 0;
    if (x && out && (perm || !with_perm) && otgi_sort_reserve(&s, m) == OTG_OK) {
        otg_rng r = otg_rng_make(0x5e11ab1e, (uint64_t)m); /* its own stream: no result draws */
        otg_rng_fill_normal(&r, slices * m, x);
        double best[2] = {1e30, 1e30};
        vq_sort(x, m < 64 ? m : 64, out, perm, &s); /* vqsort's per-thread state, untimed */
        for (int rep = 0; rep < CAL_REPS; rep++) {
            for (int e = 0; e < 2; e++) {
                double t = time_engine(e, x, m, slices, out, perm, &s);
                if (t < best[e]) best[e] = t;
            }
            if (rep + 1 >= CAL_MIN_REPS &&
                (best[0] > CAL_CLEAR * best[1] || best[1] > CAL_CLEAR * best[0]))
                break;
        }
        vq = best[1] < best[0];
    }
    otgi_sort_release(&s);
    free(x), free(out), free(perm);
    return vq;
}

static int read_mode(void) {
    int mode = atomic_load_explicit(&sort_mode, memory_order_relaxed);
    if (mode != MODE_UNREAD) return mode;
    const char *e = getenv("OTGEN_SORT");
    mode = e && !strcmp(e, "c") ? MODE_C : e && !strcmp(e, "vq") ? MODE_VQ : MODE_AUTO;
    atomic_store_explicit(&sort_mode, mode, memory_order_relaxed);
    return mode;
}

/* Whether otgi_sort_f32 uses vqsort for n >= SORT_SMALL_N values. */
static int vq_wins(int64_t n, int with_perm) {
    int mode = read_mode();
    if (mode != MODE_AUTO) return mode == MODE_VQ;
    _Atomic int *slot = &sort_pick[with_perm != 0][size_class(n)];
    int pick = atomic_load_explicit(slot, memory_order_relaxed);
    if (pick == PICK_UNKNOWN) {
        int expect = PICK_UNKNOWN;
        if (!atomic_compare_exchange_strong(slot, &expect, PICK_MEASURING))
            return expect == PICK_VQ;
        pick = vq_faster(n, with_perm) ? PICK_VQ : PICK_C;
        atomic_store(slot, pick);
    }
    return pick == PICK_VQ;
}
#endif

int otgi_sort_mode_valid(const char *value) {
    return !value || !strcmp(value, "c") || !strcmp(value, "vq") || !strcmp(value, "auto");
}

int otgi_sort_engine(int64_t n, int with_perm) {
#ifdef OTGEN_HAVE_HWY
    if (n >= SORT_SMALL_N && vq_wins(n, with_perm)) return 1;
#else
    (void)n, (void)with_perm;
#endif
    return 0;
}

int64_t otgi_sort_f32_vq(const float *x, int64_t n, float *sorted, int32_t *perm,
                         otgi_sort_scratch *s) {
#ifdef OTGEN_HAVE_HWY
    if (n <= 0) return 0;
    vq_sort(x, n, sorted, perm, s);
    return count_ties(sorted, n);
#else
    return otgi_sort_f32_c(x, n, sorted, perm, s);
#endif
}

int64_t otgi_sort_f32(const float *x, int64_t n, float *sorted, int32_t *perm,
                      otgi_sort_scratch *s) {
    return otgi_sort_engine(n, perm != NULL) ? otgi_sort_f32_vq(x, n, sorted, perm, s)
                                             : otgi_sort_f32_c(x, n, sorted, perm, s);
}
