/* Structured orthogonal directions (Yu et al., "Orthogonal Random Features", NeurIPS 2016):
 * block b of N = 2^ceil(log2 d) directions is the rows of M_b = H D_b3 H D_b2 H D_b1 / N^(3/2)
 * (H the N x N Walsh-Hadamard matrix, the D random sign diagonals; M_b is orthogonal) restricted
 * to the first d coordinates and normalised. A point's L projections cost 3 N log2 N adds per
 * block (a zero-padded copy through three fast transforms) instead of d L multiply-adds; the SW
 * kernel takes that path through otg_sw_opts.fast (sw.c), the dense theta serves every other.
 * Every output is a fixed sequence of adds, subtracts and one multiply per entry, row by row:
 * the bits depend neither on the threads nor on the instruction set. */
#include "ot/ot_internal.h"
#include "otgen/ot.h"

#include <math.h>
#include <string.h>

enum { GROUP = OTGI_HADAMARD_GROUP }; /* rows transformed together: outputs go 8 floats at a time */

/* x [n] := H (s . x) (unnormalised; s NULL: H x), n a power of two: log2 n stages of butterflies
 * (x_j, x_j+h) -> (x_j + x_j+h, x_j - x_j+h). The scalar reference. */
void otgi_fwht_c(float *restrict x, const float *restrict s, int64_t n) {
    for (int64_t j = 0; s && j < n; j++)
        x[j] *= s[j];
    for (int64_t h = 1; h < n; h *= 2)
        for (int64_t i = 0; i < n; i += 2 * h)
            for (int64_t j = i; j < i + h; j++) {
                const float a = x[j], b = x[j + h];
                x[j] = a + b, x[j + h] = a - b;
            }
}

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
/* The same with AVX2, n >= 8: the sign product and the stages h = 1, 2, 4 inside one register
 * (lane j gets x_j + x_j^h where its bit h is clear, x_j^h - x_j where it is set: the same
 * sums and differences as fwht_c's, so the same bits), then the stages h >= 8 two at a time. */
__attribute__((target("avx2"))) static void fwht_avx2(float *restrict x, const float *restrict s,
                                                      int64_t n) {
    for (int64_t j = 0; j < n; j += 8) {
        __m256 v = _mm256_loadu_ps(x + j);
        if (s) v = _mm256_mul_ps(v, _mm256_loadu_ps(s + j));
        __m256 w = _mm256_permute_ps(v, 0xB1); /* h = 1: swap neighbours */
        v = _mm256_blend_ps(_mm256_add_ps(v, w), _mm256_sub_ps(w, v), 0xAA);
        w = _mm256_permute_ps(v, 0x4E); /* h = 2: swap pairs */
        v = _mm256_blend_ps(_mm256_add_ps(v, w), _mm256_sub_ps(w, v), 0xCC);
        w = _mm256_permute2f128_ps(v, v, 0x01); /* h = 4: swap halves */
        v = _mm256_blend_ps(_mm256_add_ps(v, w), _mm256_sub_ps(w, v), 0xF0);
        _mm256_storeu_ps(x + j, v);
    }
    int64_t h = 8;
    for (; 4 * h <= n; h *= 4) /* stages h and 2h in one pass over the data */
        for (int64_t i = 0; i < n; i += 4 * h)
            for (int64_t j = i; j < i + h; j += 8) {
                const __m256 a = _mm256_loadu_ps(x + j), b = _mm256_loadu_ps(x + j + h);
                const __m256 c = _mm256_loadu_ps(x + j + 2 * h), e = _mm256_loadu_ps(x + j + 3 * h);
                const __m256 ab = _mm256_add_ps(a, b), a_b = _mm256_sub_ps(a, b);
                const __m256 ce = _mm256_add_ps(c, e), c_e = _mm256_sub_ps(c, e);
                _mm256_storeu_ps(x + j, _mm256_add_ps(ab, ce));
                _mm256_storeu_ps(x + j + h, _mm256_add_ps(a_b, c_e));
                _mm256_storeu_ps(x + j + 2 * h, _mm256_sub_ps(ab, ce));
                _mm256_storeu_ps(x + j + 3 * h, _mm256_sub_ps(a_b, c_e));
            }
    if (h < n) /* the last stage alone */
        for (int64_t j = 0; j < h; j += 8) {
            const __m256 a = _mm256_loadu_ps(x + j), b = _mm256_loadu_ps(x + j + h);
            _mm256_storeu_ps(x + j, _mm256_add_ps(a, b));
            _mm256_storeu_ps(x + j + h, _mm256_sub_ps(a, b));
        }
}
#endif

void otgi_fwht(float *x, const float *s, int64_t n) {
#if defined(__x86_64__) && defined(__GNUC__)
    if (n >= 8 && __builtin_cpu_supports("avx2")) {
        fwht_avx2(x, s, n);
        return;
    }
#endif
    otgi_fwht_c(x, s, n);
}

/* v [N] := H D3 H D2 H D1 v for block b (forward) or D1 H D2 H D3 H v (its transpose). */
static void transform(const otg_sw_hadamard *h, int64_t b, float *v, int transpose) {
    const int64_t N = h->n_fft;
    const float *s = h->signs + b * 3 * N;
    if (!transpose) {
        for (int k = 0; k < 3; k++)
            otgi_fwht(v, s + k * N, N);
        return;
    }
    otgi_fwht(v, NULL, N); /* H; then D3 and D2 as the products ahead of the next transforms */
    otgi_fwht(v, s + 2 * N, N);
    otgi_fwht(v, s + N, N);
    for (int64_t j = 0; j < N; j++)
        v[j] *= s[j];
}

void otg_sw_hadamard_free(otg_sw_hadamard *h) {
    if (!h) return;
    free(h->signs), free(h->scale), free(h->buf), free(h->sums);
    memset(h, 0, sizeof *h);
}

/* *p holds at least need elements of elem bytes (grown, contents dropped, when *cap < need). */
static int grow(void **p, int64_t *cap, int64_t need, size_t elem) {
    if (need <= *cap) return 1;
    free(*p);
    *p = malloc((size_t)need * elem);
    *cap = *p ? need : 0;
    return *p != NULL;
}

static otg_status reserve(otg_sw_hadamard *h, int64_t d, int64_t L) {
    int64_t N = 1;
    while (N < d)
        N *= 2;
    const int64_t blocks = (L + N - 1) / N;
    int64_t cap_sums = h->cap_L; /* scale and sums hold L each */
    const int ok = grow((void **)&h->signs, &h->cap_signs, blocks * 3 * N, sizeof(float)) &&
                   grow((void **)&h->sums, &cap_sums, L, sizeof(double)) &&
                   grow((void **)&h->scale, &h->cap_L, L, sizeof(float)) &&
                   grow((void **)&h->buf, &h->cap_buf, N, sizeof(float));
    if (!ok) {
        otg_sw_hadamard_free(h);
        return otgi_fail(OTG_ENOMEM, "hadamard directions: out of memory for d=%lld, L=%lld",
                         (long long)d, (long long)L);
    }
    h->d = d, h->L = L, h->n_fft = N, h->blocks = blocks;
    return OTG_OK;
}

otg_status otg_sw_hadamard_draw(otg_rng *rng, int64_t d, int64_t L, otg_sw_hadamard *h,
                                float *theta) {
    if (!rng || !h) return otgi_fail(OTG_EINVAL, "hadamard directions: NULL argument");
    if (d < 1 || L < 1 || d > (INT64_C(1) << 30))
        return otgi_fail(OTG_EINVAL,
                         "hadamard directions: need 1 <= d <= 2^30 and L >= 1 (got %lld, %lld)",
                         (long long)d, (long long)L);
    otg_status st = reserve(h, d, L);
    if (st != OTG_OK) return st;
    const int64_t N = h->n_fft, n_signs = h->blocks * 3 * N;
    for (int64_t i = 0; i < n_signs; i += 32) { /* 32 signs per draw, bit k for entry i + k */
        const uint32_t bits = otg_rng_u32(rng);
        for (int64_t k = 0; k < 32 && i + k < n_signs; k++)
            h->signs[i + k] = (bits >> k) & 1u ? -1.0f : 1.0f;
    }
    /* S_l = sum_{j<d} (A_b e_j)_l^2 for the integer matrix A_b = H D3 H D2 H D1: from the d
     * columns (which theta also needs), or, without theta when the N - d padding columns are
     * fewer and every sum is exact (N <= 4096: partial sums below 2^24, squares summed below
     * 2^53), as N^3 minus theirs (A_b A_b^T = N^3 I). Both give the same doubles. */
    const int complement = !theta && N <= 4096 && N - d < d;
    double *sum2 = h->sums;
    memset(sum2, 0, (size_t)L * sizeof *sum2);
    for (int64_t j = complement ? d : 0; j < (complement ? N : d); j++)
        for (int64_t b = 0; b < h->blocks; b++) {
            const int64_t l0 = b * N, w = L - l0 < N ? L - l0 : N;
            memset(h->buf, 0, (size_t)N * sizeof(float));
            h->buf[j] = 1.0f;
            transform(h, b, h->buf, 0);
            for (int64_t l = 0; l < w; l++) {
                const double v = (double)h->buf[l];
                if (theta) theta[j * L + l0 + l] = h->buf[l];
                sum2[l0 + l] += v * v;
            }
        }
    const double n3 = (double)N * (double)N * (double)N;
    for (int64_t l = 0; l < L; l++) { /* theta_l = A_b[l, :d]^T / sqrt(S_l); scale 1/sqrt(S_l) */
        const double root = sqrt(complement ? n3 - sum2[l] : sum2[l]);
        h->scale[l] = (float)(1.0 / root);
        for (int64_t j = 0; theta && j < d; j++)
            theta[j * L + l] = (float)((double)theta[j * L + l] / root);
    }
    return OTG_OK;
}

/* out [L, rows] (row stride ld): the projections of pts [rows, d] on the normalised directions,
 * scale[l] (M_b pad(x))_l, by groups of GROUP rows. buf: GROUP * N floats of scratch. */
void otgi_hadamard_project(const otg_sw_hadamard *h, const float *pts, int64_t rows, float *out,
                           int64_t ld, float *buf) {
    const int64_t N = h->n_fft, d = h->d, L = h->L;
    for (int64_t i0 = 0; i0 < rows; i0 += GROUP) {
        const int64_t g = rows - i0 < GROUP ? rows - i0 : GROUP;
        for (int64_t b = 0; b < h->blocks; b++) {
            const int64_t l0 = b * N, w = L - l0 < N ? L - l0 : N;
            for (int64_t r = 0; r < g; r++) {
                float *v = buf + r * N;
                memcpy(v, pts + (i0 + r) * d, (size_t)d * sizeof(float));
                memset(v + d, 0, (size_t)(N - d) * sizeof(float));
                transform(h, b, v, 0);
            }
            for (int64_t l = 0; l < w; l++) {
                float *o = out + (l0 + l) * ld + i0;
                const float s = h->scale[l0 + l];
                for (int64_t r = 0; r < g; r++)
                    o[r] = buf[r * N + l] * s;
            }
        }
    }
}

/* grad [rows, d] += the residuals res [L, rows] (row stride ld) mapped back:
 * grad_i += sum_l res[l, i] theta_l = the first d entries of sum_b M_b^T (scale . res[block b]). */
void otgi_hadamard_adjoint_add(const otg_sw_hadamard *h, const float *res, int64_t ld, int64_t rows,
                               float *grad, float *buf) {
    const int64_t N = h->n_fft, d = h->d, L = h->L;
    for (int64_t i0 = 0; i0 < rows; i0 += GROUP) {
        const int64_t g = rows - i0 < GROUP ? rows - i0 : GROUP;
        for (int64_t b = 0; b < h->blocks; b++) {
            const int64_t l0 = b * N, w = L - l0 < N ? L - l0 : N;
            for (int64_t r = 0; r < g; r++)
                memset(buf + r * N + w, 0, (size_t)(N - w) * sizeof(float));
            for (int64_t l = 0; l < w; l++) {
                const float *src = res + (l0 + l) * ld + i0;
                const float s = h->scale[l0 + l];
                for (int64_t r = 0; r < g; r++)
                    buf[r * N + l] = src[r] * s;
            }
            for (int64_t r = 0; r < g; r++) {
                float *v = buf + r * N, *gi = grad + (i0 + r) * d;
                transform(h, b, v, 1);
                for (int64_t j = 0; j < d; j++)
                    gi[j] += v[j];
            }
        }
    }
}
