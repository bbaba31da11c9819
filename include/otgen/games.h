/* otgen games: min-max test problems min_x max_y L(x, y) for the methods of otgen/minimax.h.
 * A game is an instance of a type object {name, dimensions, L(z), G(z) = (d_x L, -d_y L), the
 * saddle z* when known}; its oracle adds optional Gaussian noise sigma * N(0, I) drawn from the
 * caller's stream. z = (x, y) is one flat double buffer [nx + ny].
 *   dirac      L = x y                                  (1 + 1; saddle 0)
 *   quadratic  L = rho/2 |x|^2 + <x, y>                 (dim + dim; saddle 0; rho = 0.4 gives
 *                                                        the paper's 0.2 x^2 + x y)
 *   bilinear   L = x^T A y + b^T x + c^T y              (dim + dim; A = U diag(s) V^T with random
 *              orthogonal U, V and s log-spaced from 1 down to 1/cond; b, c put the saddle at a
 *              random z*, so |G| is 1-Lipschitz)
 *   nonsmooth  L = sum |x_i| + <x, y> - sum |y_i|       (dim + dim; saddle 0). Subgradients select
 *              sign(0) = 0, the minimal-norm element of [-1, 1], so G(z*) = 0 exactly.
 * See ALGORITHMS.md section 5 and docs/games.md. */
#ifndef OTGEN_GAMES_H
#define OTGEN_GAMES_H

#include "otgen/core.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct otg_game_type otg_game_type;
typedef struct otg_game otg_game;

extern const otg_game_type *const otg_game_dirac;
extern const otg_game_type *const otg_game_quadratic;
extern const otg_game_type *const otg_game_bilinear;
extern const otg_game_type *const otg_game_nonsmooth;

/* "dirac", "quadratic", "bilinear", "nonsmooth"; NULL (error set, listing the names) otherwise. */
const otg_game_type *otg_game_type_by_name(const char *name);
const char *otg_game_type_name(const otg_game_type *t);
/* The names above separated by ", " (for help texts). */
const char *otg_game_names(void);

typedef struct {
    int64_t dim;  /* size of x and of y (dirac: must be 1) [1] */
    double rho;   /* quadratic: curvature in x, >= 0 [0.4] */
    double cond;  /* bilinear: condition number of A, >= 1 [10] */
    double sigma; /* standard deviation of the oracle's Gaussian noise, >= 0 [0] */
    uint64_t seed; /* bilinear: A, b, c are drawn from stream (seed, 0) [0] */
} otg_game_params;

otg_game_params otg_game_params_default(void);

/* A game of type t; NULL with the reason on bad parameters or out of memory. */
otg_game *otg_game_new(const otg_game_type *t, const otg_game_params *p);
void otg_game_free(otg_game *g);

const char *otg_game_name(const otg_game *g);
int64_t otg_game_nx(const otg_game *g);
int64_t otg_game_ny(const otg_game *g);
/* L(z) for z [nx + ny]. */
double otg_game_loss(const otg_game *g, const double *z);
/* The exact operator out [nx + ny] = (d_x L, -d_y L) at z (subgradients as documented above). */
void otg_game_operator(const otg_game *g, const double *z, double *out);
/* Copies the saddle point into zstar [nx + ny] and returns 1 when it is known; 0 otherwise. */
int otg_game_saddle(const otg_game *g, double *zstar);
/* The stochastic oracle, in the otg_minimax_oracle signature (ctx is the otg_game *):
 * G(z) + sigma eps, eps ~ N(0, I) from rng (rng may be NULL only when sigma = 0).
 * OTG_EINVAL for a NULL rng when noise is needed. */
otg_status otg_game_oracle(void *game, const double *z, double *out, otg_rng *rng);

#ifdef __cplusplus
}
#endif
#endif
