/* expf and the sigmoid on arrays, four lanes at a time, with exactly the bits of glibc's scalar
 * expf. glibc (2.28 on; checked on 2.36) computes expf in double: with xd = x, k/32 the nearest
 * multiple of 1/32 to xd / ln 2 (found with the shift 1.5 2^52) and r = xd 32 / ln 2 - k,
 * expf(x) = (float)(s (C0 r^3 + C1 r^2 + C2 r + 1)), s = 2^(k/32) from a 32-entry table; on
 * CPUs with FMA and AVX2 its ifunc picks __expf_fma, whose five fused multiply-adds are copied
 * here one for one (the disassembly of libm's __expf_fma; constants from __exp2f_data). The
 * vector path runs only where glibc would run __expf_fma, and only for |x| < 88 (top 12 bits
 * of |x| <= 0x42a, glibc's fast path): any lane outside, and NaN, goes to the scalar expf. A
 * first-use self-check against the scalar expf on 2^16 spread inputs turns the vector path off
 * if this libm computes differently; tests/test_ad_ops.c compares all 2^32 inputs when
 * OTGEN_EXHAUSTIVE is set (it was: 0 differences on glibc 2.36, AMD EPYC). */
#include "ad/ad_internal.h"

#include <math.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define HAVE_VEXP 1
#include <immintrin.h>

static const uint64_t EXP2F_TAB[32] = {
    0x3ff0000000000000, 0x3fefd9b0d3158574, 0x3fefb5586cf9890f, 0x3fef9301d0125b51,
    0x3fef72b83c7d517b, 0x3fef54873168b9aa, 0x3fef387a6e756238, 0x3fef1e9df51fdee1,
    0x3fef06fe0a31b715, 0x3feef1a7373aa9cb, 0x3feedea64c123422, 0x3feece086061892d,
    0x3feebfdad5362a27, 0x3feeb42b569d4f82, 0x3feeab07dd485429, 0x3feea47eb03a5585,
    0x3feea09e667f3bcd, 0x3fee9f75e8ec5f74, 0x3feea11473eb0187, 0x3feea589994cce13,
    0x3feeace5422aa0db, 0x3feeb737b0cdc5e5, 0x3feec49182a3f090, 0x3feed503b23e255d,
    0x3feee89f995ad3ad, 0x3feeff76f2fb5e47, 0x3fef199bdd85529c, 0x3fef3720dcef9069,
    0x3fef5818dcfba487, 0x3fef7c97337b9b5f, 0x3fefa4afa2a490da, 0x3fefd0765b6e4540};

#define TARGET __attribute__((target("avx2,fma")))

/* expf of four floats on glibc's fast path (every lane |x| < 88 and not NaN). */
static TARGET inline __m128 exp4(__m128 x) {
    const __m256d inv_ln2_n = _mm256_set1_pd(0x1.71547652b82fep+5);
    const __m256d shift = _mm256_set1_pd(0x1.8p+52);
    const __m256d c0 = _mm256_set1_pd(0x1.c6af84b912394p-20);
    const __m256d c1 = _mm256_set1_pd(0x1.ebfce50fac4f3p-13);
    const __m256d c2 = _mm256_set1_pd(0x1.62e42ff0c52d6p-6);
    const __m256d xd = _mm256_cvtps_pd(x);
    const __m256d kr = _mm256_fmadd_pd(inv_ln2_n, xd, shift); /* k in the low bits */
    const __m256i ki = _mm256_castpd_si256(kr);
    const __m256d kd = _mm256_sub_pd(kr, shift);
    const __m256d r = _mm256_fmsub_pd(inv_ln2_n, xd, kd);
    const __m256i idx = _mm256_and_si256(ki, _mm256_set1_epi64x(31));
    const __m256i tab = _mm256_i64gather_epi64((const long long *)EXP2F_TAB, idx, 8);
    const __m256d s = _mm256_castsi256_pd(_mm256_add_epi64(tab, _mm256_slli_epi64(ki, 47)));
    const __m256d z = _mm256_fmadd_pd(r, c0, c1);
    const __m256d r2 = _mm256_mul_pd(r, r);
    const __m256d y1 = _mm256_fmadd_pd(r, c2, _mm256_set1_pd(1.0));
    const __m256d y = _mm256_mul_pd(_mm256_fmadd_pd(z, r2, y1), s);
    return _mm256_cvtpd_ps(y);
}

/* Whether every lane of x is on glibc's fast path: top 12 bits of |x| at most 0x42a. */
static TARGET inline int fast4(__m128 x) {
    const __m128i top =
        _mm_and_si128(_mm_srli_epi32(_mm_castps_si128(x), 20), _mm_set1_epi32(0x7ff));
    return _mm_movemask_epi8(_mm_cmpgt_epi32(top, _mm_set1_epi32(0x42a))) == 0;
}

static TARGET void exp_fma(const float *x, float *y, int64_t n) {
    int64_t i = 0;
    for (; i + 4 <= n; i += 4) {
        const __m128 v = _mm_loadu_ps(x + i);
        if (fast4(v))
            _mm_storeu_ps(y + i, exp4(v));
        else
            for (int k = 0; k < 4; k++)
                y[i + k] = expf(x[i + k]);
    }
    for (; i < n; i++)
        y[i] = expf(x[i]);
}

static float sigmoid1(float x) { /* the scalar definition (ops_elementwise.c's f_sigmoid) */
    if (x >= 0.0f) return 1.0f / (1.0f + expf(-x));
    float e = expf(x);
    return e / (1.0f + e);
}

static TARGET void sigmoid_fma(const float *x, float *y, int64_t n) {
    const __m128 zero = _mm_setzero_ps(), one = _mm_set1_ps(1.0f);
    const __m128 sign = _mm_set1_ps(-0.0f);
    int64_t i = 0;
    for (; i + 4 <= n; i += 4) {
        const __m128 v = _mm_loadu_ps(x + i);
        const __m128 pos = _mm_cmpge_ps(v, zero);                    /* x >= 0 */
        const __m128 a = _mm_blendv_ps(v, _mm_xor_ps(v, sign), pos); /* -x there, else x */
        if (!fast4(a)) {
            for (int k = 0; k < 4; k++)
                y[i + k] = sigmoid1(x[i + k]);
            continue;
        }
        const __m128 e = exp4(a), d = _mm_add_ps(one, e);
        _mm_storeu_ps(y + i, _mm_div_ps(_mm_blendv_ps(e, one, pos), d)); /* 1 or e, / (1 + e) */
    }
    for (; i < n; i++)
        y[i] = sigmoid1(x[i]);
}

/* 1: the vector path gives expf's bits here; 0: not (or no FMA/AVX2); -1: not checked yet. */
static _Atomic int vexp_state = -1;

/* The self-check: 2^16 inputs spread over all float bit patterns (plus the fast path's ends). */
static int vexp_check(void) {
    if (!__builtin_cpu_supports("avx2") || !__builtin_cpu_supports("fma")) return 0;
    enum { M = 1 << 16 };
    float *x = malloc(2 * M * sizeof *x), *got = x + M;
    if (!x) return 0;
    for (uint32_t i = 0; i < M; i++) {
        uint32_t u = i * 65537u + (i >> 3); /* every 2^16-th pattern, jittered */
        memcpy(&x[i], &u, sizeof u);
    }
    x[0] = 88.0f, x[1] = -88.0f, x[2] = 0x1.62e42ep6f, x[3] = -0x1.9fe368p6f;
    exp_fma(x, got, M);
    int same = 1;
    for (int i = 0; i < M && same; i++) {
        float want = expf(x[i]);
        same = !memcmp(&want, &got[i], sizeof want);
    }
    free(x);
    return same;
}

static int vexp_ok(void) {
    int s = atomic_load_explicit(&vexp_state, memory_order_relaxed);
    if (s < 0) {
        s = vexp_check();
        atomic_store_explicit(&vexp_state, s, memory_order_relaxed);
    }
    return s;
}
#endif

void otgi_expf_array(const float *x, float *y, int64_t n) {
#ifdef HAVE_VEXP
    if (vexp_ok()) {
        exp_fma(x, y, n);
        return;
    }
#endif
    for (int64_t i = 0; i < n; i++)
        y[i] = expf(x[i]);
}

void otgi_sigmoid_array(const float *x, float *y, int64_t n) {
#ifdef HAVE_VEXP
    if (vexp_ok()) {
        sigmoid_fma(x, y, n);
        return;
    }
#endif
    for (int64_t i = 0; i < n; i++) {
        const float v = x[i];
        if (v >= 0.0f) {
            y[i] = 1.0f / (1.0f + expf(-v));
        } else {
            const float e = expf(v);
            y[i] = e / (1.0f + e);
        }
    }
}

int otgi_expf_vector_active(void) {
#ifdef HAVE_VEXP
    return vexp_ok();
#else
    return 0;
#endif
}
