/* Fixed filters on images, which the mlp generator may put between its last layer and the output
 * activation (nn.h): blur, the 3 x 3 Gaussian low-pass (output_blur), and median5, the 5-point
 * median (output_median). No parameters: blur's kernel follows from sigma (fattr[0]). Each blurred
 * pixel is the sum of its nine products (zeros beyond the border) in kernel order, and a median is
 * a selection, so the bits do not depend on the thread count or the SIMD width. */
#include "ad/ad_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define PAR_MIN 32768  /* below this many elements a loop runs on one thread */
#define STACK_PAD 4096 /* floats of a thread's zero-bordered plane kept on its stack */

/* k [3 * 3] (row-major, offsets -1, 0, 1): exp(-(a^2 + b^2) / (2 sigma^2)) normalised to sum 1
 * (in double, then rounded once). */
static void gaussian3(double sigma, float k[9]) {
    double w[9], sum = 0.0;
    for (int i = 0; i < 9; i++) {
        const int a = i / 3 - 1, b = i % 3 - 1;
        w[i] = exp(-(double)(a * a + b * b) / (2.0 * sigma * sigma));
        sum += w[i];
    }
    for (int i = 0; i < 9; i++)
        k[i] = (float)(w[i] / sum);
}

static otg_status blur_shape(otg_node *n) {
    const otg_node *x = n->in[0];
    if (x->ndim != 4) return otgi_fail(OTG_ESHAPE, "blur: needs x [N, C, H, W]");
    if (!(n->fattr[0] > 0.0f && n->fattr[0] <= 100.0f))
        return otgi_fail(OTG_EINVAL, "blur: sigma %g outside (0, 100]", (double)n->fattr[0]);
    return otgi_shape_like_input(n);
}

/* The nine products of output column j, added to 0 in kernel order (rows r0, r1, r2 of the
 * zero-bordered plane). */
static inline float nine(const float *r0, const float *r1, const float *r2, int64_t j,
                         const float *k) {
    float acc = 0.0f;
    acc += k[0] * r0[j], acc += k[1] * r0[j + 1], acc += k[2] * r0[j + 2];
    acc += k[3] * r1[j], acc += k[4] * r1[j + 1], acc += k[5] * r1[j + 2];
    acc += k[6] * r2[j], acc += k[7] * r2[j + 1], acc += k[8] * r2[j + 2];
    return acc;
}

/* dst [h, w] (+)= the correlation of the plane behind pad [h + 2, w + 2] (zero border) with k,
 * added to dst when add. */
static OTGI_WIDE_SIMD void correlate3(const float *restrict pad, float *restrict dst, int64_t h,
                                      int64_t w, const float *restrict k, int add) {
    const int64_t pw = w + 2;
    for (int64_t i = 0; i < h; i++) {
        const float *r0 = pad + i * pw, *r1 = r0 + pw, *r2 = r1 + pw;
        float *out = dst + i * w;
        if (add) {
#pragma omp simd
            for (int64_t j = 0; j < w; j++)
                out[j] += nine(r0, r1, r2, j, k);
        } else {
#pragma omp simd
            for (int64_t j = 0; j < w; j++)
                out[j] = nine(r0, r1, r2, j, k);
        }
    }
}

/* dst (+)= blur(src) for planes [planes, h, w]; each thread copies its planes into a zero-bordered
 * buffer of its own (on its stack when it fits). OTG_ENOMEM when a buffer cannot be allocated. */
static otg_status blur_planes(const float *src, float *dst, int64_t planes, int64_t h, int64_t w,
                              double sigma, int add) {
    float k[9];
    gaussian3(sigma, k);
    const int64_t pw = w + 2, ph = h + 2;
    int failed = 0;
#pragma omp parallel if (planes * h * w > PAR_MIN) reduction(| : failed)
    {
        float local[STACK_PAD]; /* planes up to 62 x 62 need no heap */
        float *pad = ph * pw <= STACK_PAD ? local : malloc((size_t)(ph * pw) * sizeof *pad);
        if (pad) memset(pad, 0, (size_t)(ph * pw) * sizeof *pad); /* the zero border */
        failed = !pad;
#pragma omp for
        for (int64_t p = 0; p < planes; p++) {
            if (!pad) continue;
            for (int64_t i = 0; i < h; i++)
                memcpy(pad + (i + 1) * pw + 1, src + (p * h + i) * w, (size_t)w * sizeof *pad);
            correlate3(pad, dst + p * h * w, h, w, k, add);
        }
        if (pad != local) free(pad);
    }
    return failed ? otgi_fail(OTG_ENOMEM, "blur: out of memory") : OTG_OK;
}

static otg_status blur_forward(otg_node *n) {
    const otg_node *x = n->in[0];
    return blur_planes(x->value, n->value, x->shape[0] * x->shape[1], x->shape[2], x->shape[3],
                       (double)n->fattr[0], 0);
}

/* The adjoint of a correlation with zero padding is the correlation with the flipped kernel,
 * and the Gaussian kernel is its own flip: dx += blur(dy). */
static otg_status blur_backward(otg_node *n) {
    otg_node *x = n->in[0];
    if (!x->grad) return OTG_OK;
    return blur_planes(n->grad, x->grad, x->shape[0] * x->shape[1], x->shape[2], x->shape[3],
                       (double)n->fattr[0], 1);
}

const otgi_op_def otgi_op_blur = {"blur", blur_shape, blur_forward, blur_backward, NULL};

otg_node *otg_blur(otg_graph *g, otg_node *x, float sigma) {
    const float fa[2] = {sigma, 0.0f};
    return otgi_node_new(g, OTG_OP_BLUR, 1, &x, fa, NULL);
}

/* ---- median5: the median of a pixel and its four neighbours ---- */

static otg_status median5_shape(otg_node *n) {
    if (n->in[0]->ndim != 4) return otgi_fail(OTG_ESHAPE, "median5: needs x [N, C, H, W]");
    return otgi_shape_like_input(n);
}

static inline float min2(float a, float b) {
    return b < a ? b : a;
}
static inline float max2(float a, float b) {
    return a < b ? b : a;
}

/* The median of five values by min and max alone (exact, no rounding): the median of e and the
 * two middle candidates of the pairs (a, b), (c, d). */
static inline float med5(float a, float b, float c, float d, float e) {
    const float f = max2(min2(a, b), min2(c, d)), g = min2(max2(a, b), max2(c, d));
    return max2(min2(e, f), min2(max2(e, f), g));
}

/* at [5]: the offsets in a plane [h, w] of pixel (i, j) and of its up, left, right and down
 * neighbours (the nearest pixel beyond the border), in the order of the selection at ties. */
static inline void five_at(int64_t i, int64_t j, int64_t h, int64_t w, int64_t at[5]) {
    at[0] = i * w + j, at[1] = (i > 0 ? i - 1 : 0) * w + j, at[2] = i * w + (j > 0 ? j - 1 : 0);
    at[3] = i * w + (j + 1 < w ? j + 1 : j), at[4] = (i + 1 < h ? i + 1 : i) * w + j;
}

static inline float med5_at(const float *p, const int64_t at[5]) {
    return med5(p[at[1]], p[at[2]], p[at[3]], p[at[4]], p[at[0]]);
}

/* dst [h, w] := median5 of the plane src [h, w]: the inner columns vectorised, the two border
 * columns through five_at. */
static OTGI_WIDE_SIMD void median_plane(const float *restrict src, float *restrict dst, int64_t h,
                                        int64_t w) {
    int64_t at[5];
    for (int64_t i = 0; i < h; i++) {
        const float *c = src + i * w, *u = src + (i > 0 ? i - 1 : 0) * w;
        const float *d = src + (i + 1 < h ? i + 1 : i) * w;
        float *out = dst + i * w;
#pragma omp simd
        for (int64_t j = 1; j < w - 1; j++)
            out[j] = med5(u[j], c[j - 1], c[j + 1], d[j], c[j]);
        five_at(i, 0, h, w, at), out[0] = med5_at(src, at);
        five_at(i, w - 1, h, w, at), out[w - 1] = med5_at(src, at);
    }
}

static otg_status median5_forward(otg_node *n) {
    const otg_node *x = n->in[0];
    const int64_t planes = x->shape[0] * x->shape[1], h = x->shape[2], w = x->shape[3];
#pragma omp parallel for if (planes * h * w > PAR_MIN)
    for (int64_t p = 0; p < planes; p++)
        median_plane(x->value + p * h * w, n->value + p * h * w, h, w);
    return OTG_OK;
}

/* dx += dy routed to the input each output took: the first of centre, up, left, right, down whose
 * value equals the output's. A plane's outputs add into its own inputs alone, so the planes run in
 * parallel and each plane in a fixed order. */
static otg_status median5_backward(otg_node *n) {
    otg_node *x = n->in[0];
    if (!x->grad) return OTG_OK;
    const int64_t planes = x->shape[0] * x->shape[1], h = x->shape[2], w = x->shape[3];
#pragma omp parallel for if (planes * h * w > PAR_MIN)
    for (int64_t p = 0; p < planes; p++) {
        const float *v = x->value + p * h * w, *y = n->value + p * h * w, *dy = n->grad + p * h * w;
        float *dx = x->grad + p * h * w;
        for (int64_t i = 0; i < h; i++)
            for (int64_t j = 0; j < w; j++) {
                int64_t at[5];
                five_at(i, j, h, w, at);
                int k = 0;
                while (k < 4 && v[at[k]] != y[i * w + j])
                    k++;
                dx[at[k]] += dy[i * w + j];
            }
    }
    return OTG_OK;
}

otg_status otgi_median5_rows(float *x, int64_t n, int64_t h, int64_t w) {
    float local[STACK_PAD];
    float *copy = h * w <= STACK_PAD ? local : malloc((size_t)(h * w) * sizeof *copy);
    if (!copy) return otgi_fail(OTG_ENOMEM, "median5: out of memory");
    for (int64_t i = 0; i < n; i++) {
        memcpy(copy, x + i * h * w, (size_t)(h * w) * sizeof *copy);
        median_plane(copy, x + i * h * w, h, w);
    }
    if (copy != local) free(copy);
    return OTG_OK;
}

const otgi_op_def otgi_op_median5 = {"median5", median5_shape, median5_forward, median5_backward,
                                     NULL};

otg_node *otg_median5(otg_graph *g, otg_node *x) {
    return otgi_node_new(g, OTG_OP_MEDIAN5, 1, &x, NULL, NULL);
}
