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
 *   onelayer   the one-layer generator of Kontonis, Liu & Tzamos (2020): target y = phi(W* x),
 *              x ~ N(0, I_d); generator W [d, d] (x = W, the d*d minimising coordinates, row-major);
 *              discriminator D(y) = <V, y y^T> + <v, y> (y = (V [d, d], v [d])) with
 *              L = E D(y*) - E D(phi(W x)) - lambda/2 (|V|^2 + |v|^2). The oracle draws `batch`
 *              target and `batch` generator samples from the caller's stream; loss and operator
 *              use a fixed evaluation set instead (eval_n of each). No known saddle (W is defined
 *              up to W Q, Q orthogonal); metrics cov_err and sw (otg_game_metrics).
 *   gan2d      a GAN on the plane: generator G_theta, an MLP 2 -> h -> h -> 2 (ReLU) of a
 *              N(0, I_2) latent, against discriminator D_phi, an MLP 2 -> h -> h -> 1 (leaky ReLU
 *              0.2), on the gaussians8 mixture (8 modes on the circle of radius 2, sd
 *              target_noise); z = (theta, phi). Loss standard (zero-sum, E log sigma(D(y)) +
 *              E log(1 - sigma(D(G(x))))), nonsat (the generator minimises -E log sigma(D(G(x))))
 *              or wasserstein (E D(y) - E D(G(x)), the discriminator clipped to [-clip, clip]
 *              by otg_game_project). Minibatch oracle as onelayer's; metrics modes, hq, sw.
 * See docs/algorithms.md section 5 and docs/games.md. */
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
extern const otg_game_type *const otg_game_onelayer;
extern const otg_game_type *const otg_game_gan2d;

/* "dirac", "quadratic", "bilinear", "nonsmooth", "onelayer", "gan2d"; NULL (error set, listing
 * the names) otherwise. */
const otg_game_type *otg_game_type_by_name(const char *name);
const char *otg_game_type_name(const otg_game_type *t);
/* The names above separated by ", " (for help texts). */
const char *otg_game_names(void);

/* onelayer's activation phi; derivatives at 0 select relu'(0) = 0, leaky_relu'(0) = alpha. */
typedef enum { OTG_GAME_ACT_RELU, OTG_GAME_ACT_LEAKY_RELU, OTG_GAME_ACT_TANH } otg_game_act;

/* Parses "relu", "leaky_relu", "tanh"; OTG_EINVAL (error set) otherwise. */
otg_status otg_game_act_parse(const char *name, otg_game_act *out);
const char *otg_game_act_name(otg_game_act a);

/* gan2d's loss. */
typedef enum { OTG_GAME_GAN_STANDARD, OTG_GAME_GAN_NONSAT, OTG_GAME_GAN_WASSERSTEIN } otg_game_gan_loss;

/* Parses "standard", "nonsat", "wasserstein"; OTG_EINVAL (error set) otherwise. */
otg_status otg_game_gan_loss_parse(const char *name, otg_game_gan_loss *out);
const char *otg_game_gan_loss_name(otg_game_gan_loss l);

typedef struct {
    int64_t dim;  /* size of x and of y (dirac: must be 1; onelayer: d in [1, 64]) [1] */
    double rho;   /* quadratic: curvature in x, >= 0 [0.4] */
    double cond;  /* bilinear: condition number of A; onelayer: of W* = U diag(s) V^T (random
                     orthogonal U, V, s log-spaced from 1 to 1/cond), >= 1 [10] */
    double sigma; /* standard deviation of the oracle's Gaussian noise, >= 0 [0] */
    uint64_t seed; /* bilinear: A, b, c are drawn from stream (seed, 0); onelayer: W* from stream
                      (seed, 0), the evaluation set from (seed, 3), the SW directions from
                      (seed, 4) [0] */
    otg_game_act act;   /* onelayer: phi [OTG_GAME_ACT_RELU] */
    double leaky_alpha; /* onelayer: slope of leaky_relu for negative inputs, in [0, 1) [0.2] */
    double lambda;      /* onelayer: L2 penalty on the discriminator, > 0 [1] */
    int64_t batch;      /* onelayer, gan2d: target (and generator) samples per oracle call, >= 1
                           [64] */
    int64_t eval_n;     /* onelayer, gan2d: size of the fixed evaluation sets, >= 2 [1024] */
    int64_t sw_dirs;    /* onelayer, gan2d: fixed directions of the sw metric, >= 1 [64] */
    int64_t hidden;     /* gan2d: width h of both MLPs' hidden layers, in [1, 1024] [32] */
    otg_game_gan_loss gan_loss; /* gan2d [OTG_GAME_GAN_STANDARD] */
    double clip;        /* gan2d, wasserstein: clipping bound of the discriminator, > 0 [0.1] */
    double target_noise; /* gan2d: sd of each mode of the mixture, > 0 [0.05] */
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
/* Copies the saddle point into zstar [nx + ny] and returns 1 when it is known; 0 (zstar
 * untouched) otherwise (onelayer, gan2d). */
int otg_game_saddle(const otg_game *g, double *zstar);
/* A starting point z [nx + ny] from rng: z* + scale u with u uniform on the unit sphere when the
 * saddle is known; onelayer: W with i.i.d. N(0, scale^2 / d) entries and V = 0, v = 0; gan2d:
 * both MLPs He-initialised (weights N(0, scale^2 2 / fan_in), biases 0), then projected. */
void otg_game_initial_point(const otg_game *g, double scale, otg_rng *rng, double *z);
/* Game-specific metrics: their number (onelayer 2, gan2d 3, others 0) and names (onelayer
 * "cov_err", "sw"; gan2d "modes", "hq", "sw"). */
int otg_game_n_metrics(const otg_game *g);
const char *otg_game_metric_name(const otg_game *g, int i);
/* Writes the metrics at z into out [otg_game_n_metrics(g)]. onelayer: cov_err =
 * |W W^T - W* W*^T|_F / |W* W*^T|_F and sw = SW_2 between phi(W x) and phi(W* x') on the two
 * evaluation sets along the fixed directions. gan2d: modes = mixture modes covered (holding at
 * least a fifth of their share n/8 of the high-quality points), hq = fraction of generated points
 * within max(3 sd, 0.05) of a mode centre, sw = SW_2 to the target evaluation set. Uses scratch
 * held by g (a game is not shared between threads). OTG_ENOMEM, OTG_ENONFINITE, or OTG_OK. */
otg_status otg_game_metrics(otg_game *g, const double *z, double *out);
/* Target samples drawn per oracle call (onelayer, gan2d: batch; others 0). */
int64_t otg_game_samples_per_call(const otg_game *g);
/* The stochastic oracle, in the otg_minimax_oracle signature (ctx is the otg_game *):
 * G(z) + sigma eps, eps ~ N(0, I) from rng (rng may be NULL only when sigma = 0 and the game is
 * not onelayer, whose oracle is the minibatch operator, drawing its samples from rng).
 * OTG_EINVAL for a NULL rng when noise or samples are needed. */
otg_status otg_game_oracle(void *game, const double *z, double *out, otg_rng *rng);
/* The constraint set's projection, to apply after each step: gan2d with the wasserstein loss
 * clips the discriminator's parameters to [-clip, clip]; a no-op for every other game. */
void otg_game_project(const otg_game *g, double *z);
/* gan2d: the generator's images of the first n (<= eval_n) latent evaluation points into
 * gen [n, 2] and the first n target evaluation points into target [n, 2] (either may be NULL).
 * OTG_EINVAL (error set) for other games. */
otg_status otg_game_samples(otg_game *g, const double *z, int64_t n, float *gen, float *target);

#ifdef __cplusplus
}
#endif
#endif
