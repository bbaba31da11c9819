/* The sliced energy distance (Hertrich, Wald, Altekrueger & Hagemann, ICLR 2024): the energy
 * distance ED = 2 E|X - Y| - E|X - X'| - E|Y - Y'| (Euclidean norms) equals
 * c_d E_theta[ED_1(theta # mu, theta # nu)] over theta uniform on the sphere, with
 * c_d = sqrt(pi) Gamma((d + 1) / 2) / Gamma(d / 2) (from E_theta |<theta, z>| = |z| / c_d), and
 * the 1-D energy distance of each direction comes from the sorted projections in
 * O((n + m) log(n + m)): sum_{i<j} |x_i - x_j| = sum_k x_(k) (2k - n + 1) and the cross sum by one
 * merge. Within-sample means are over pairs i != j, as otg_energy_distance's. Projections by
 * GEMM per chunk of 256 directions (float32, as the SW kernel's), the directions in parallel, each
 * with its own sort, the mean in index order: the same bits for any thread count. The gradient
 * with respect to x (otg_sliced_energy_grad) comes from the ranks in the same sorts: d ED_1 / d s_k
 * of the k-th smallest x projection is 2 (#{t < s_k} - #{t > s_k}) / (n m) - 2 (2k - n + 1) /
 * (n (n - 1)), found by one merge; then grad_x = (c_d / L) R Theta^T by GEMM, as SW's. */
#include "internal.h"
#include "ot/ot_internal.h"
#include "otgen/ot.h"

#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

enum { CHUNK = 256 }; /* directions projected by one GEMM */

/* sum_{i<j} |s_i - s_j| over the sorted s [n] */
static double within_sum(const float *s, int64_t n) {
    double t = 0.0;
    for (int64_t k = 0; k < n; k++)
        t += (double)s[k] * (double)(2 * k - n + 1);
    return t;
}

/* sum_{i,j} |a_i - b_j| over the sorted a [n] and b [m], by one merge with prefix sums of a. */
static double cross_sum(const float *a, int64_t n, const float *b, int64_t m) {
    double total = 0.0, below = 0.0, t = 0.0;
    for (int64_t i = 0; i < n; i++)
        total += (double)a[i];
    int64_t c = 0; /* a[0, c) < b[j] */
    for (int64_t j = 0; j < m; j++) {
        const double v = (double)b[j];
        while (c < n && a[c] < b[j])
            below += (double)a[c++];
        t += (double)c * v - below + (total - below) - (double)(n - c) * v;
    }
    return t;
}

double otg_sliced_energy_constant(int64_t d) {
    return sqrt(3.14159265358979323846) *
           exp(lgamma(0.5 * (double)(d + 1)) - lgamma(0.5 * (double)d));
}

/* Per-thread scratch: the sorted projections of one direction, x's permutation, the sort's
 * buffers. */
typedef struct {
    float *sx, *sy;
    int32_t *perm;
    otgi_sort_scratch sc;
} energy_scratch;

/* d ED_1 / d s for the sorted x projections s [n] (ties broken by index, sign(0) = 0 against y:
 * a Clarke selection) against the sorted y projections t [m], times scale, written to
 * out[perm[k]]: 2 (#{t < s_k} - #{t > s_k}) / (n m) - 2 (2k - n + 1) / (n (n - 1)). */
static void energy_1d_grad(const float *s, const int32_t *perm, int64_t n, const float *t,
                           int64_t m, double scale, float *out) {
    const double cross = 2.0 / ((double)n * (double)m),
                 within = 2.0 / ((double)n * (double)(n - 1));
    int64_t lo = 0, hi = 0; /* t[0, lo) < s_k, t[0, hi) <= s_k */
    for (int64_t k = 0; k < n; k++) {
        while (lo < m && t[lo] < s[k])
            lo++;
        if (hi < lo) hi = lo;
        while (hi < m && t[hi] <= s[k])
            hi++;
        const double g = cross * (double)(lo - (m - hi)) - within * (double)(2 * k - n + 1);
        out[perm[k]] = (float)(scale * g);
    }
}

/* ED_1 of one direction from its projections px [n], py [m]:
 * 2 cross / (n m) - 2 within_x / (n (n - 1)) - 2 within_y / (m (m - 1)). With scale != 0, px is
 * overwritten by scale d ED_1 / d px. */
static double energy_1d(float *px, int64_t n, const float *py, int64_t m, double scale,
                        energy_scratch *t) {
    otgi_sort_f32(px, n, t->sx, scale != 0.0 ? t->perm : NULL, &t->sc);
    otgi_sort_f32(py, m, t->sy, NULL, &t->sc);
    if (scale != 0.0) energy_1d_grad(t->sx, t->perm, n, t->sy, m, scale, px);
    return 2.0 * cross_sum(t->sx, n, t->sy, m) / ((double)n * (double)m) -
           2.0 * within_sum(t->sx, n) / ((double)n * (double)(n - 1)) -
           2.0 * within_sum(t->sy, m) / ((double)m * (double)(m - 1));
}

static void scratch_free(energy_scratch *ts, int nt) {
    for (int i = 0; ts && i < nt; i++)
        free(ts[i].sx), free(ts[i].sy), free(ts[i].perm), otgi_sort_release(&ts[i].sc);
    free(ts);
}

/* Scratch of nt threads for n and m points, allocated once per call; NULL on ENOMEM. */
static energy_scratch *scratch_new(int nt, int64_t n, int64_t m) {
    energy_scratch *ts = otgi_calloc((size_t)nt, sizeof *ts);
    for (int i = 0; ts && i < nt; i++) {
        energy_scratch *t = &ts[i];
        t->sx = malloc((size_t)n * sizeof *t->sx), t->sy = malloc((size_t)m * sizeof *t->sy);
        t->perm = malloc((size_t)n * sizeof *t->perm);
        if (!t->sx || !t->sy || !t->perm || otgi_sort_reserve(&t->sc, n > m ? n : m) != OTG_OK) {
            scratch_free(ts, i + 1);
            return NULL;
        }
    }
    return ts;
}

/* w [L] = ED_1 of every direction: per chunk of CHUNK directions, the projections
 * P^T [lc, n] = Theta_c^T X^T and Q^T by GEMM, then the directions in parallel; with grad [n, d]
 * (or NULL), P^T is overwritten by R^T = scale d ED_1 / d P^T and grad += R Theta_c^T by GEMM
 * (thread-count invariant, as every otg_gemm). 0 on ENOMEM. */
static int energies(const otg_tensor *x, const otg_tensor *y, const otg_tensor *theta, double *w,
                    double scale, float *grad) {
    const int64_t n = x->shape[0], m = y->shape[0], d = x->shape[1], L = theta->shape[1];
    const int nt = omp_get_max_threads();
    float *pt = malloc((size_t)(CHUNK * n) * sizeof *pt),
          *qt = malloc((size_t)(CHUNK * m) * sizeof *qt);
    energy_scratch *ts = pt && qt ? scratch_new(nt, n, m) : NULL;
    if (grad) memset(grad, 0, (size_t)(n * d) * sizeof *grad);
    for (int64_t c0 = 0; ts && c0 < L; c0 += CHUNK) {
        const int64_t lc = L - c0 < CHUNK ? L - c0 : CHUNK;
        otg_gemm(1, 1, lc, n, d, 1.0f, theta->data + c0, L, x->data, d, 0.0f, pt, n);
        otg_gemm(1, 1, lc, m, d, 1.0f, theta->data + c0, L, y->data, d, 0.0f, qt, m);
#pragma omp parallel for schedule(dynamic, 4) num_threads(nt)
        for (int64_t l = 0; l < lc; l++)
            w[c0 + l] = energy_1d(pt + l * n, n, qt + l * m, m, grad ? scale : 0.0,
                                  &ts[omp_get_thread_num()]);
        /* grad [n, d] += (R^T [lc, n])^T Theta_c^T [lc, d] */
        if (grad) otg_gemm(1, 1, n, d, lc, 1.0f, pt, n, theta->data + c0, L, 1.0f, grad, d);
    }
    int ok = ts != NULL;
    scratch_free(ts, nt);
    free(pt), free(qt);
    return ok;
}

otg_status otg_sliced_energy_grad(const otg_tensor *x, const otg_tensor *y, const otg_tensor *theta,
                                  otg_sliced_energy_result *res, double *per_dir, float *grad_x) {
    if (!x || !y || !theta || !res || !x->data || !y->data || !theta->data)
        return otgi_fail(OTG_EINVAL, "sliced energy: NULL argument");
    if (x->ndim != 2 || y->ndim != 2 || theta->ndim != 2 || x->shape[1] != y->shape[1] ||
        theta->shape[0] != x->shape[1])
        return otgi_fail(OTG_ESHAPE,
                         "sliced energy: x [n, d], y [m, d] and theta [d, L] must share d");
    const int64_t n = x->shape[0], m = y->shape[0], L = theta->shape[1];
    if (n < 2 || m < 2)
        return otgi_fail(OTG_EINVAL, "sliced energy: needs at least 2 points per cloud");
    if (L < 1) return otgi_fail(OTG_EINVAL, "sliced energy: no directions");
    const double c = otg_sliced_energy_constant(x->shape[1]);
    double *w = per_dir ? per_dir : otgi_calloc((size_t)L, sizeof *w); /* the values land there */
    if (!w || !energies(x, y, theta, w, c / (double)L, grad_x)) {
        if (w != per_dir) free(w);
        return otgi_fail(OTG_ENOMEM, "sliced energy: out of memory");
    }
    otg_sw_result mean; /* the mean and standard error over the directions, as SW's */
    otgi_sw_summarise(w, L, 1.0, &mean);
    res->value = c * mean.value;
    res->stderr_value = c * mean.stderr_value;
    res->n_directions = L;
    if (w != per_dir) free(w);
    return isfinite(res->value)
               ? OTG_OK
               : otgi_fail(OTG_ENONFINITE, "sliced energy: the value is not finite "
                                           "(non-finite points?)");
}

otg_status otg_sliced_energy(const otg_tensor *x, const otg_tensor *y, const otg_tensor *theta,
                             otg_sliced_energy_result *res, double *per_dir) {
    return otg_sliced_energy_grad(x, y, theta, res, per_dir, NULL);
}
