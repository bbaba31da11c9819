/* The float64 reference path of the ad-study (otg_ad_study_run): a ReLU MLP's forward and backward
 * and the SW_2^2 loss's value and gradient in double precision, in plain loops (small models only).
 * It follows the float32 tape's conventions exactly — parameter layout, relu'(0) = s, stable sorts
 * with ties by index, SW_p^p = (1 / L) sum_l (1 / n) sum_i |px_(i) - py_(i)|^2 — so that the two
 * paths differ only by rounding, and counts relu inputs exactly at 0 as the tape does. It uses no
 * part of the tape: that independence is the point of the comparison. */
#include "internal.h"
#include "study/study_internal.h"

#include <stdlib.h>
#include <string.h>

void otgi_adref_free(otgi_adref *r) {
    if (!r) return;
    free(r->u), free(r->g), free(r->da), free(r->dh), free(r->px), free(r->py), free(r->gp);
    free(r->perm);
    for (int l = 0; l <= OTGI_ADREF_MAX_LAYERS; l++)
        free(r->h[l]), free(r->a[l]);
    free(r);
}

otgi_adref *otgi_adref_new(const int64_t *widths, int n_widths, int64_t batch, int64_t L,
                           double s) {
    if (n_widths < 2 || n_widths > OTGI_ADREF_MAX_LAYERS + 1) {
        otgi_fail(OTG_EINVAL, "ad-study: reference model needs 2..%d widths (got %d)",
                  OTGI_ADREF_MAX_LAYERS + 1, n_widths);
        return NULL;
    }
    otgi_adref *r = otgi_calloc(1, sizeof *r);
    if (!r) return NULL;
    r->n_layers = n_widths - 1, r->batch = batch, r->L = L, r->relu_prime = s;
    int64_t wmax = 0;
    int ok = 1;
    for (int l = 0; l < n_widths; l++) {
        r->widths[l] = widths[l];
        wmax = widths[l] > wmax ? widths[l] : wmax;
        ok &= (r->h[l] = otgi_calloc((size_t)(batch * widths[l]), sizeof(double))) != NULL;
        if (l > 0) {
            ok &= (r->a[l] = otgi_calloc((size_t)(batch * widths[l]), sizeof(double))) != NULL;
            r->n_params += widths[l - 1] * widths[l] + widths[l];
        }
    }
    r->u = otgi_calloc((size_t)r->n_params, sizeof(double));
    r->g = otgi_calloc((size_t)r->n_params, sizeof(double));
    r->da = otgi_calloc((size_t)(batch * wmax), sizeof(double));
    r->dh = otgi_calloc((size_t)(batch * wmax), sizeof(double));
    r->px = otgi_calloc((size_t)(batch * L), sizeof(double));
    r->py = otgi_calloc((size_t)(batch * L), sizeof(double));
    r->gp = otgi_calloc((size_t)(batch * L), sizeof(double));
    r->perm = otgi_calloc((size_t)batch, sizeof(int64_t));
    if (!ok || !r->u || !r->g || !r->da || !r->dh || !r->px || !r->py || !r->gp || !r->perm) {
        otgi_adref_free(r);
        return NULL;
    }
    return r;
}

/* Offsets of layer l's W [w_{l-1}, w_l] and b [w_l] in u. */
static int64_t w_off(const otgi_adref *r, int l) {
    int64_t o = 0;
    for (int k = 1; k < l; k++)
        o += r->widths[k - 1] * r->widths[k] + r->widths[k];
    return o;
}

static void forward(otgi_adref *r) {
    const int64_t n = r->batch;
    r->kinks = 0;
    for (int l = 1; l <= r->n_layers; l++) {
        const int64_t in = r->widths[l - 1], out = r->widths[l];
        const double *W = r->u + w_off(r, l), *b = W + in * out, *x = r->h[l - 1];
        double *a = r->a[l], *h = r->h[l];
        for (int64_t i = 0; i < n; i++)
            for (int64_t j = 0; j < out; j++) {
                double s = 0.0;
                for (int64_t k = 0; k < in; k++)
                    s += x[i * in + k] * W[k * out + j];
                a[i * out + j] = s + b[j];
            }
        const int hidden = l < r->n_layers;
        for (int64_t i = 0; i < n * out; i++) {
            h[i] = hidden ? (a[i] > 0.0 ? a[i] : 0.0) : a[i];
            r->kinks += hidden && a[i] == 0.0;
        }
    }
}

/* Sorts idx[n] by (key, index): the stable order of the tape's sorts. qsort has no context
 * argument, so the keys pass through a thread-local pointer: one sort at a time per thread. */
static _Thread_local const double *sort_keys;
static int by_key(const void *p, const void *q) {
    int64_t i = *(const int64_t *)p, j = *(const int64_t *)q;
    double a = sort_keys[i], b = sort_keys[j];
    return a < b ? -1 : a > b ? 1 : (i > j) - (i < j);
}

static void sort_index(const double *keys, int64_t n, int64_t *idx) {
    for (int64_t i = 0; i < n; i++)
        idx[i] = i;
    sort_keys = keys;
    qsort(idx, (size_t)n, sizeof *idx, by_key);
}

static int cmp_double(const void *p, const void *q) {
    double a = *(const double *)p, b = *(const double *)q;
    return (a > b) - (a < b);
}

/* SW_2^2 of out = h[n_layers] against y along theta; d loss / d out into dh. */
static double sw_loss(otgi_adref *r, const float *y, const float *theta) {
    const int64_t n = r->batch, d = r->widths[r->n_layers], L = r->L;
    const double *x = r->h[r->n_layers];
    for (int64_t l = 0; l < L; l++)
        for (int64_t i = 0; i < n; i++) {
            double sx = 0.0, sy = 0.0;
            for (int64_t k = 0; k < d; k++) {
                sx += x[i * d + k] * (double)theta[k * L + l];
                sy += (double)y[i * d + k] * (double)theta[k * L + l];
            }
            r->px[l * n + i] = sx, r->py[l * n + i] = sy;
        }
    double v = 0.0, scale = 1.0 / ((double)n * (double)L);
    for (int64_t l = 0; l < L; l++) {
        double *px = r->px + l * n, *py = r->py + l * n, *gp = r->gp + l * n;
        sort_index(px, n, r->perm);
        qsort(py, (size_t)n, sizeof *py, cmp_double);
        for (int64_t i = 0; i < n; i++) {
            double res = px[r->perm[i]] - py[i];
            v += res * res * scale;
            gp[r->perm[i]] = 2.0 * res * scale;
        }
    }
    memset(r->dh, 0, (size_t)(n * d) * sizeof(double));
    for (int64_t i = 0; i < n; i++)
        for (int64_t k = 0; k < d; k++) {
            double s = 0.0;
            for (int64_t l = 0; l < L; l++)
                s += r->gp[l * n + i] * (double)theta[k * L + l];
            r->dh[i * d + k] = s;
        }
    return v;
}

/* Backward from dh = d loss / d h[n_layers] into g. */
static void backward(otgi_adref *r) {
    const int64_t n = r->batch;
    memset(r->g, 0, (size_t)r->n_params * sizeof(double));
    for (int l = r->n_layers; l >= 1; l--) {
        const int64_t in = r->widths[l - 1], out = r->widths[l];
        const double *W = r->u + w_off(r, l), *a = r->a[l], *x = r->h[l - 1];
        double *gW = r->g + w_off(r, l), *gb = gW + in * out;
        const int hidden = l < r->n_layers;
        for (int64_t i = 0; i < n * out; i++) {
            double slope = a[i] > 0.0 ? 1.0 : a[i] == 0.0 ? r->relu_prime : 0.0;
            r->da[i] = hidden ? r->dh[i] * slope : r->dh[i];
        }
        for (int64_t i = 0; i < n; i++)
            for (int64_t j = 0; j < out; j++) {
                gb[j] += r->da[i * out + j];
                for (int64_t k = 0; k < in; k++)
                    gW[k * out + j] += x[i * in + k] * r->da[i * out + j];
            }
        if (l == 1) break;
        for (int64_t i = 0; i < n; i++)
            for (int64_t k = 0; k < in; k++) {
                double s = 0.0;
                for (int64_t j = 0; j < out; j++)
                    s += r->da[i * out + j] * W[k * out + j];
                r->dh[i * in + k] = s;
            }
    }
}

double otgi_adref_loss_grad(otgi_adref *r, const float *z, const float *y, const float *theta) {
    for (int64_t i = 0; i < r->batch * r->widths[0]; i++)
        r->h[0][i] = (double)z[i];
    forward(r);
    double v = sw_loss(r, y, theta);
    backward(r);
    return v;
}
