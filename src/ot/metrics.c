/* Evaluation metrics between point clouds that need no directions: the energy distance. */
#include "internal.h"
#include "otgen/ot.h"

#include <math.h>

/* sum_{j} |a_i - b_j| for every i (skipping j == i when same), row sums in double. */
static double mean_dist(const float *a, int64_t na, const float *b, int64_t nb, int64_t d, int same) {
    double *row = malloc((size_t)na * sizeof *row);
    if (!row) return NAN;
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
    double total = 0.0;
    for (int64_t i = 0; i < na; i++) total += row[i];
    free(row);
    return total / ((double)na * (double)(same ? nb - 1 : nb));
}

otg_status otg_energy_distance(const otg_tensor *x, const otg_tensor *y, double *out) {
    if (!x || !y || !out || !x->data || !y->data) return otgi_fail(OTG_EINVAL, "energy: NULL argument");
    if (x->ndim != 2 || y->ndim != 2 || x->shape[1] != y->shape[1])
        return otgi_fail(OTG_ESHAPE, "energy: x [n, d] and y [m, d] must share d");
    if (x->shape[0] < 2 || y->shape[0] < 2) return otgi_fail(OTG_EINVAL, "energy: needs at least 2 points per cloud");
    const int64_t n = x->shape[0], m = y->shape[0], d = x->shape[1];
    double xy = mean_dist(x->data, n, y->data, m, d, 0), xx = mean_dist(x->data, n, x->data, n, d, 1);
    double yy = mean_dist(y->data, m, y->data, m, d, 1);
    if (isnan(xy) || isnan(xx) || isnan(yy)) return otgi_fail(OTG_ENOMEM, "energy: out of memory");
    *out = 2.0 * xy - xx - yy;
    return OTG_OK;
}
