/* Private pieces of the ad-study (ad_study.c, ad_study_ref.c): the float64 reference path — a
 * ReLU MLP and the SW_2^2 loss with their backward written out in double precision, the same
 * maths as the float32 tape (otg_mlp_build's parameter layout, relu'(0) = s, stable sorts, SW
 * normalised by n L) but independent of it. Never installed; the tests include it. */
#ifndef OTGEN_STUDY_INTERNAL_H
#define OTGEN_STUDY_INTERNAL_H

#include "otgen/study.h"

#include <stdint.h>

/* The accumulators of a series' statistics (sums and sums of squares [rows, cols], counts
 * [rows]), borrowed: the game study's checkpoints save and restore them. */
void otgi_series_stats_raw(otg_series_stats *s, double **sum, double **sq, int64_t **count,
                           int64_t *rows, int *cols);

#define OTGI_ADREF_MAX_LAYERS 9

typedef struct {
    int n_layers;                              /* dense layers (hidden layers + 1) */
    int64_t widths[OTGI_ADREF_MAX_LAYERS + 1]; /* widths[0] latent dim, widths[n_layers] data */
    int64_t batch, L;
    double relu_prime;
    int64_t n_params;
    double *u, *g;                        /* [n_params]: W0 [w0, w1], b0 [w1], W1, b1, ... */
    double *h[OTGI_ADREF_MAX_LAYERS + 1]; /* h[l] [batch, widths[l]]: h[0] = z, h[l] = relu(a[l]) */
    double *a[OTGI_ADREF_MAX_LAYERS + 1]; /* a[l] [batch, widths[l]], l >= 1: preactivations */
    double *da, *dh;                      /* [batch, max width] scratch */
    double *px, *py, *gp;                 /* [L, batch] projections and d loss / d px */
    int64_t *perm;                        /* [batch] */
    int64_t kinks;                        /* relu inputs exactly 0 in the last evaluation */
} otgi_adref;

/* A reference MLP widths[0] -> ... -> widths[n_widths - 1] (relu on hidden layers) for batches of
 * `batch` and L directions; parameters zero. NULL (error set) on out of memory or n_widths
 * outside 2..10. Free with otgi_adref_free (NULL-safe). */
otgi_adref *otgi_adref_new(const int64_t *widths, int n_widths, int64_t batch, int64_t L, double s);
void otgi_adref_free(otgi_adref *r);
/* SW_2^2 between the model's output on z [batch, w0] and y [batch, d] along theta [d, L] (floats,
 * widened exactly); writes d loss / d u into r->g and counts r->kinks. Returns the loss. */
double otgi_adref_loss_grad(otgi_adref *r, const float *z, const float *y, const float *theta);

#endif
