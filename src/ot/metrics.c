/* Evaluation metrics between point clouds that need no directions: the energy distance, and its
 * standard error over the sampling of the points (the delta method on the row sums). */
#include "internal.h"
#include "otgen/ot.h"

#include <math.h>

/* row[i] = sum_j |a_i - b_j| for every i (skipping j == i when same), in double. */
static void row_dists(const float *a, int64_t na, const float *b, int64_t nb, int64_t d, int same,
                      double *row) {
#pragma omp parallel for schedule(static)
    for (int64_t i = 0; i < na; i++) {
        double s = 0.0;
        for (int64_t j = 0; j < nb; j++) {
            if (same && i == j) continue;
            double q = 0.0;
            for (int64_t k = 0; k < d; k++) {
                double t = (double)a[i * d + k] - (double)b[j * d + k];
                q += t * t;
            }
            s += sqrt(q);
        }
        row[i] = s;
    }
}

/* The mean of row[na] over the pairs (na (nb - same) of them), summed in index order. */
static double pair_mean(const double *row, int64_t na, int64_t nb, int same) {
    double total = 0.0;
    for (int64_t i = 0; i < na; i++)
        total += row[i];
    return total / ((double)na * (double)(same ? nb - 1 : nb));
}

/* The mean of |a_i - b_j| over the pairs (i != j when same); NaN on out of memory. */
static double mean_dist(const float *a, int64_t na, const float *b, int64_t nb, int64_t d,
                        int same) {
    double *row = malloc((size_t)na * sizeof *row);
    if (!row) return NAN;
    row_dists(a, na, b, nb, d, same, row);
    const double mean = pair_mean(row, na, nb, same);
    free(row);
    return mean;
}

static otg_status energy_check(const otg_tensor *x, const otg_tensor *y, const double *out) {
    if (!x || !y || !out || !x->data || !y->data)
        return otgi_fail(OTG_EINVAL, "energy: NULL argument");
    if (x->ndim != 2 || y->ndim != 2 || x->shape[1] != y->shape[1])
        return otgi_fail(OTG_ESHAPE, "energy: x [n, d] and y [m, d] must share d");
    if (x->shape[0] < 2 || y->shape[0] < 2)
        return otgi_fail(OTG_EINVAL, "energy: needs at least 2 points per cloud");
    return OTG_OK;
}

otg_status otg_energy_distance(const otg_tensor *x, const otg_tensor *y, double *out) {
    otg_status st = energy_check(x, y, out);
    if (st != OTG_OK) return st;
    const int64_t n = x->shape[0], m = y->shape[0], d = x->shape[1];
    double xy = mean_dist(x->data, n, y->data, m, d, 0),
           xx = mean_dist(x->data, n, x->data, n, d, 1);
    double yy = mean_dist(y->data, m, y->data, m, d, 1);
    if (isnan(xy) || isnan(xx) || isnan(yy)) return otgi_fail(OTG_ENOMEM, "energy: out of memory");
    *out = 2.0 * xy - xx - yy;
    return OTG_OK;
}

/* The sample variance of v[k] (two passes, in index order). */
static double variance(const double *v, int64_t k) {
    double mean = 0.0, s = 0.0;
    for (int64_t i = 0; i < k; i++)
        mean += v[i];
    mean /= (double)k;
    for (int64_t i = 0; i < k; i++)
        s += (v[i] - mean) * (v[i] - mean);
    return s / (double)(k - 1);
}

/* ED = 2 xy - xx - yy from the row sums; the influence of x_i is h_x(i) / n with
 * h_x(i) = 2 r_xy(i) / m - 2 r_xx(i) / (n - 1) (x_i sits in 2 (n - 1) of the n (n - 1) ordered
 * pairs of xx), that of y_j is h_y(j) / m likewise, so Var ED ~ Var h_x / n + Var h_y / m. */
otg_status otg_energy_distance_se(const otg_tensor *x, const otg_tensor *y, double *value,
                                  double *se) {
    otg_status st = energy_check(x, y, value);
    if (st != OTG_OK) return st;
    if (!se) return otgi_fail(OTG_EINVAL, "energy: NULL argument");
    const int64_t n = x->shape[0], m = y->shape[0], d = x->shape[1];
    double *r = malloc((size_t)(2 * (n + m)) * sizeof *r);
    if (!r) return otgi_fail(OTG_ENOMEM, "energy: out of memory");
    double *rxy = r, *rxx = r + n, *ryx = r + 2 * n, *ryy = r + 2 * n + m;
    row_dists(x->data, n, y->data, m, d, 0, rxy), row_dists(x->data, n, x->data, n, d, 1, rxx);
    row_dists(y->data, m, x->data, n, d, 0, ryx), row_dists(y->data, m, y->data, m, d, 1, ryy);
    /* the value from the same row sums, as otg_energy_distance sums them */
    *value = 2.0 * pair_mean(rxy, n, m, 0) - pair_mean(rxx, n, n, 1) - pair_mean(ryy, m, m, 1);
    for (int64_t i = 0; i < n; i++) /* h_x in place of r_xy */
        rxy[i] = 2.0 * rxy[i] / (double)m - 2.0 * rxx[i] / (double)(n - 1);
    for (int64_t j = 0; j < m; j++)
        ryx[j] = 2.0 * ryx[j] / (double)n - 2.0 * ryy[j] / (double)(m - 1);
    *se = sqrt(variance(rxy, n) / (double)n + variance(ryx, m) / (double)m);
    free(r);
    return OTG_OK;
}
