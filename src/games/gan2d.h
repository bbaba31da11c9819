/* Private interface between games.c and gan2d.c: a GAN on the plane, an MLP generator G_theta
 * (latent N(0, I_2) -> R^2) against an MLP discriminator D_phi (R^2 -> R), on the gaussians8
 * mixture of src/data (8 modes on the circle of radius 2). z = (theta, phi), both the
 * parameters of 2 -> h -> h -> out MLPs (layout in gan2d.c). docs/algorithms.md section 5. */
#ifndef OTGEN_GAMES_GAN2D_H
#define OTGEN_GAMES_GAN2D_H

#include "otgen/games.h"

typedef struct otgi_gan2d otgi_gan2d;

/* The target source, the fixed evaluation sets (latent and target, stream (seed, 3)) and the SW
 * directions (stream (seed, 4)) from p (already checked); NULL on ENOMEM. */
otgi_gan2d *otgi_gan2d_new(const otg_game_params *p);
void otgi_gan2d_free(otgi_gan2d *q);
/* Parameter counts of the generator (nx) and the discriminator (ny). */
int64_t otgi_gan2d_nx(const otgi_gan2d *q);
int64_t otgi_gan2d_ny(const otgi_gan2d *q);
/* L(z) and G(z) [nx + ny] on the fixed evaluation sets. */
double otgi_gan2d_loss(otgi_gan2d *q, const double *z);
void otgi_gan2d_operator(otgi_gan2d *q, const double *z, double *out);
/* G(z) on a fresh minibatch (batch latent points, then batch target points) drawn from rng. */
void otgi_gan2d_oracle(otgi_gan2d *q, const double *z, double *out, otg_rng *rng);
/* He-initialised weights (std scale * sqrt(2 / fan_in)), zero biases, from rng. */
void otgi_gan2d_initial_point(const otgi_gan2d *q, double scale, otg_rng *rng, double *z);
/* Wasserstein loss: clips the discriminator's parameters to [-clip, clip]; no-op otherwise. */
void otgi_gan2d_project(const otgi_gan2d *q, double *z);
/* out[0] = modes covered, out[1] = fraction of high-quality samples, out[2] = SW_2 to the
 * target, on the evaluation sets (definitions in gan2d.c). */
otg_status otgi_gan2d_metrics(otgi_gan2d *q, const double *z, double *out);
/* G(latent evaluation set) into gen [n, 2] (n <= eval_n) and the target evaluation set into
 * target [n, 2] (either may be NULL). */
void otgi_gan2d_samples(otgi_gan2d *q, const double *z, int64_t n, float *gen, float *target);

#endif
