/* Private interface between games.c and onelayer.c: the one-layer generator game of Kontonis,
 * Liu & Tzamos (2020) with otgen's moment-matching discriminator (docs/algorithms.md section 5).
 * z = (W [d, d] row-major, V [d, d] row-major, v [d]); nx = d^2, ny = d^2 + d. */
#ifndef OTGEN_GAMES_ONELAYER_H
#define OTGEN_GAMES_ONELAYER_H

#include "otgen/games.h"

typedef struct otgi_onelayer otgi_onelayer;

/* Q [d, d] with orthonormal columns from rng (Gram-Schmidt on a Gaussian matrix); games.c. */
void otgi_game_random_orthogonal(int64_t d, otg_rng *r, double *q);
/* a [d, d] = U diag(s) V^T, U, V random orthogonal from r, s log-spaced from 1 to 1/cond; games.c.
 * OTG_ENOMEM or OTG_OK. */
otg_status otgi_game_random_conditioned(int64_t d, double cond, otg_rng *r, double *a);

/* W*, the evaluation sets and the SW directions from p (already checked); NULL on ENOMEM. */
otgi_onelayer *otgi_onelayer_new(const otg_game_params *p);
void otgi_onelayer_free(otgi_onelayer *o);
/* L(z) and G(z) on the fixed evaluation sets. out [2 d^2 + d]. */
double otgi_onelayer_loss(const otgi_onelayer *o, const double *z);
void otgi_onelayer_operator(const otgi_onelayer *o, const double *z, double *out);
/* G(z) on a fresh minibatch (batch target, then batch generator samples) drawn from rng. */
void otgi_onelayer_oracle(const otgi_onelayer *o, const double *z, double *out, otg_rng *rng);
/* W with N(0, scale^2 / d) entries from rng, V = v = 0. */
void otgi_onelayer_initial_point(const otgi_onelayer *o, double scale, otg_rng *rng, double *z);
/* out[0] = cov_err, out[1] = sw. */
otg_status otgi_onelayer_metrics(otgi_onelayer *o, const double *z, double *out);

#endif
