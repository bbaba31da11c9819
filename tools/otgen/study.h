/* `otgen ad-study`'s pieces: the float64 reference path (study_ref.c) — a ReLU MLP and the SW_2^2
 * loss with their backward written out in double precision, the same maths as the float32 tape
 * (otg_mlp_build's parameter layout, relu'(0) = s, stable sorts, SW normalised by n L) — and the
 * float32 run pair (study_run.c). */
#ifndef OTGEN_TOOLS_STUDY_H
#define OTGEN_TOOLS_STUDY_H

#include "otgen/otgen.h"

#define STUDY_MAX_LAYERS 9

typedef struct {
    int n_layers;                         /* dense layers (hidden layers + 1) */
    int64_t widths[STUDY_MAX_LAYERS + 1]; /* widths[0] = latent dim, widths[n_layers] = data dim */
    int64_t batch, L;
    double relu_prime;
    int64_t n_params;
    double *u, *g;                   /* [n_params]: W0 [w0, w1], b0 [w1], W1, b1, ... */
    double *h[STUDY_MAX_LAYERS + 1]; /* h[l] [batch, widths[l]]: h[0] = z, h[l] = relu(a[l]) */
    double *a[STUDY_MAX_LAYERS + 1]; /* a[l] [batch, widths[l]], l >= 1: preactivations */
    double *da, *dh;                 /* [batch, max width] scratch */
    double *px, *py, *gp;            /* [L, batch] projections and d loss / d px */
    int64_t *perm;                   /* [batch] */
    int64_t kinks;                   /* relu inputs exactly 0 in the last evaluation */
} study_ref;

/* A reference MLP widths[0] -> ... -> widths[n_widths - 1] (relu on hidden layers) for batches of
 * `batch` and L directions; parameters zero. NULL on out of memory or n_widths outside 2..10. */
study_ref *study_ref_new(const int64_t *widths, int n_widths, int64_t batch, int64_t L, double s);
void study_ref_free(study_ref *r);
/* SW_2^2 between the model's output on z [batch, w0] and y [batch, d] along theta [d, L] (floats,
 * widened exactly); writes d loss / d u into r->g and counts r->kinks. Returns the loss. */
double study_ref_loss_grad(study_ref *r, const float *z, const float *y, const float *theta);

/* ---- the float32 path (study_run.c): the tape, otg_mlp_build and the fused SW loss ---------- */

typedef struct {
    otg_graph *g;
    otg_node *z, *y, *out, *loss;
    otg_sw_loss_ctx sw;
    int64_t batch, n_params;
} study_f32;

/* The generator widths[0] -> ... -> widths[n_widths - 1] (ReLU hidden layers) with relu'(0) = s,
 * initialised from stream (seed, 0), and its SW_2^2 loss along theta (borrowed) for batches of
 * `batch`. 0, or -1 with the reason in otg_last_error. */
int study_f32_build(study_f32 *m, const int64_t *widths, int n_widths, int64_t batch,
                    const otg_tensor *theta, float s, uint64_t seed);
void study_f32_release(study_f32 *m);
/* One SGD step u -= lr g on batch z, y (theta as built): the loss into *loss, relu kinks and SW
 * sort ties of the step into *kinks, *ties. 0, or -1 (error set, step not applied) when the
 * forward or backward pass fails. */
int study_f32_step(study_f32 *m, const float *z, const float *y, double lr, double *loss,
                   int64_t *kinks, int64_t *ties);

/* Fixed validation: n latents (from the latent law) and target points, 128 directions, from
 * streams (seed, 10..12). */
typedef struct {
    int64_t n, dim;
    otg_tensor *z, *y, *x, *theta;
    otg_sw_workspace *ws;
} study_val;

int study_val_make(study_val *v, otg_source *target, otg_source *latent, int64_t n, uint64_t seed);
void study_val_release(study_val *v);
/* SW_2 between the model's samples of the validation latents and the validation points
 * (v->n a multiple of m->batch). */
double study_val_sw(study_val *v, study_f32 *m);

#endif
