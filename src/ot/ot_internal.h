/* Private helpers of the ot module: the stable float sort (radix on float keys) and the 1-D
 * transport kernels on sorted supports shared by the SW drivers and the public 1-D function. */
#ifndef OTGEN_OT_INTERNAL_H
#define OTGEN_OT_INTERNAL_H

#include "internal.h"

/* Scratch for sorting up to cap values: two arrays of packed (key, index) words. */
typedef struct {
    uint64_t *w0, *w1;
    int64_t cap;
} otgi_sort_scratch;

/* (Re)sizes the scratch for n values; OTG_ENOMEM on failure. */
otg_status otgi_sort_reserve(otgi_sort_scratch *s, int64_t n);
void otgi_sort_release(otgi_sort_scratch *s);

/* Sorts x[n] ascending into sorted[n]; perm[i] (if not NULL) receives the index in x of
 * sorted[i]. Stable: equal values keep their index order (-0 and +0 count as equal). Returns the
 * number of adjacent equal pairs in the sorted output (ties). NaNs sort to the ends. */
int64_t otgi_sort_f32(const float *x, int64_t n, float *sorted, int32_t *perm, otgi_sort_scratch *s);

/* 1-D cost pieces for a residual r = s - t: value |r|^p and derivative p sign(r) |r|^(p-1)
 * (0 at r = 0: the selection documented for p = 1). */
static inline double otgi_cost(double r, double p) {
    double a = r < 0 ? -r : r;
    if (p == 2.0) return r * r;
    if (p == 1.0) return a;
    return __builtin_pow(a, p);
}
static inline double otgi_cost_deriv(double r, double p) {
    if (p == 2.0) return 2.0 * r;
    double sg = r > 0 ? 1.0 : r < 0 ? -1.0 : 0.0;
    if (p == 1.0) return sg;
    return p * sg * __builtin_pow(sg * r, p - 1.0);
}

/* Equal sizes, uniform weights, on sorted s[n], t[n]: returns (1/n) sum |s_i - t_i|^p and, if
 * ds is not NULL, ds[i] = scale * d/ds_i of sum |s_i - t_i|^p (scale carries 1/(n L)). */
double otgi_w1d_sorted_equal(const float *s, const float *t, int64_t n, double p, double scale,
                             float *ds);

/* General weights (normalised, in sorted order) on sorted s[n], t[m]: the north-west-corner plan
 * on the quantile intervals. Returns sum_ij mass_ij |s_i - t_j|^p; ds[n] and dt[m] (either may be
 * NULL) receive scale * the derivatives. */
double otgi_w1d_sorted_general(const float *s, const double *a, int64_t n, const float *t,
                               const double *b, int64_t m, double p, double scale, double *ds,
                               double *dt);

/* Normalised weights out[n] from w[n] (NULL: uniform); OTG_EINVAL naming `who` on negative,
 * non-finite or all-zero weights. */
otg_status otgi_weights(const float *w, int64_t n, const char *who, double *out);

#endif
