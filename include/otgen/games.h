/* otgen games: min-max test problems min_x max_y L(x, y) for the methods of otgen/minimax.h.
 * A game type is a public vtable (otg_game_type, GSL style): its name, a table of knobs
 * (otg_param_def rows over the type's own params struct), and the entries that compute L(z),
 * G(z) = (d_x L, -d_y L) and, optionally, the saddle, metrics, a projection and samples. Entries
 * that may be NULL fall back to one generic default in the dispatcher (BLIS style). A user defines
 * a game in their own file by filling an otg_game_type and passes it to otg_game_new; the
 * built-in types are enumerated by otg_game_type_count / otg_game_type_at.
 * z = (x, y) is one flat double buffer [nx + ny]. The built-in types:
 *   dirac      L = x y                                  (1 + 1; saddle 0)
 *   quadratic  L = rho/2 |x|^2 + <x, y>                 (dim + dim; saddle 0; rho = 0.4 gives
 *                                                        the paper's 0.2 x^2 + x y)
 *   bilinear   L = x^T A y + b^T x + c^T y              (dim + dim; A = U diag(s) V^T with random
 *              orthogonal U, V and s log-spaced from 1 down to 1/cond; b, c put the saddle at a
 *              random z*, so |G| is 1-Lipschitz)
 *   nonsmooth  L = sum |x_i| + <x, y> - sum |y_i|       (dim + dim; saddle 0). Subgradients select
 *              sign(0) = 0, the minimal-norm element of [-1, 1], so G(z*) = 0 exactly.
 *   onelayer   the one-layer generator of Kontonis, Liu & Tzamos (2020): target y = phi(W* x),
 *              x ~ N(0, I_d); generator W [d, d] (x = W, the d*d minimising coordinates,
 * row-major); discriminator D(y) = <V, y y^T> + <v, y> (y = (V [d, d], v [d])) with L = E D(y*) - E
 * D(phi(W x)) - lambda/2 (|V|^2 + |v|^2). The oracle draws `batch` target and `batch` generator
 * samples from the caller's stream; loss and operator use a fixed evaluation set instead (eval_n of
 * each). No known saddle (W is defined up to W Q, Q orthogonal); metrics cov_err and sw
 * (otg_game_metrics). gan2d      a GAN on the plane: generator G_theta, an MLP 2 -> h -> h -> 2
 * (ReLU) of a N(0, I_2) latent, against discriminator D_phi, an MLP 2 -> h -> h -> 1 (leaky ReLU
 *              0.2), on the gaussians8 mixture (8 modes on the circle of radius 2, sd
 *              target_noise); z = (theta, phi). Loss standard (zero-sum, E log sigma(D(y)) +
 *              E log(1 - sigma(D(G(x))))), nonsat (the generator minimises -E log sigma(D(G(x))))
 *              or wasserstein (E D(y) - E D(G(x)), the discriminator clipped to [-clip, clip]
 *              by otg_game_project). Minibatch oracle as onelayer's; metrics modes, hq, sw.
 * See docs/games.md. */
#ifndef OTGEN_GAMES_H
#define OTGEN_GAMES_H

#include "otgen/core.h"

#ifdef __cplusplus
extern "C" {
#endif

/* A game-specific metric: its CSV column / stdout key, and how a chart shows it. */
typedef struct {
    const char *name;    /* "cov_err" */
    const char *label;   /* y-axis label of its chart; NULL: no chart */
    int against_samples; /* chart: 1 against the target samples drawn (log-log), 0 against k */
} otg_game_metric;

/* The type object. `state` is what create returned; entries marked optional may be NULL. */
typedef struct otg_game_type {
    const char *name;    /* "bilinear" */
    const char *summary; /* one line for help texts */
    /* knobs: rows over the type's params struct of params_size bytes (names are the CLI's flags
     * and the config keys); defaults fills such a struct. n_params = 0: no knobs, params unused. */
    const otg_param_def *params;
    int n_params;
    size_t params_size;
    void (*defaults)(void *params);
    /* The state of a game from params (INT and REAL knobs already checked against the table's
     * ranges; STR knobs are checked here) and the seed of its random parts; writes the
     * dimensions. NULL with the reason (otgi_fail / otg_last_error) on bad parameters or ENOMEM. */
    void *(*create)(const void *params, uint64_t seed, int64_t *nx, int64_t *ny);
    void (*destroy)(void *state);
    double (*loss)(void *state, const double *z);             /* L(z) */
    void (*field)(void *state, const double *z, double *out); /* out [nx + ny] = G(z) */
    /* optional: a stochastic estimate of G(z) drawing from rng (never NULL when called).
     * NULL: the exact field (the dispatcher adds the Gaussian noise sigma for every type). */
    otg_status (*oracle)(void *state, const double *z, double *out, otg_rng *rng);
    /* optional: z [nx + ny] from rng. NULL: z* + scale u (u uniform on the unit sphere; z* = 0
     * without a saddle). */
    void (*initial_point)(void *state, double scale, otg_rng *rng, double *z);
    /* optional: copies z* into zstar and returns 1 when known. NULL: unknown. */
    int (*saddle)(void *state, double *zstar);
    int n_metrics;                      /* game-specific metrics (0: none) */
    const otg_game_metric *metric_info; /* [n_metrics] */
    otg_status (*metrics)(void *state, const double *z, double *out); /* out [n_metrics] */
    /* optional: the constraint set's projection after each step. NULL: identity. */
    void (*project)(void *state, double *z);
    /* optional: target samples drawn per oracle call. NULL: 0 (no samples column). */
    int64_t (*samples_per_call)(void *state);
    /* optional: planar samples of the generator at z into gen [n, 2] and of the target into
     * target [n, 2] (either may be NULL). NULL: the game has none. */
    otg_status (*samples)(void *state, const double *z, int64_t n, float *gen, float *target);
    /* optional hint for drivers: metric rows worth logging over a run (a row evaluates G on the
     * evaluation sets); 0: every step. otgen game's default --every is steps / max_rows when
     * steps >= 2 max_rows. */
    int64_t max_rows;
    /* 1 when G jumps at the saddle (a subgradient selection of a nonsmooth L, e.g. nonsmooth):
     * |G(z_k)|^2 need not vanish as z_k -> z*, so drivers read the rate off |z_k - z*| instead
     * (otgen game's slope and convergence.png). 0: G is continuous. */
    int field_jumps;
} otg_game_type;

typedef struct otg_game otg_game;

extern const otg_game_type *const otg_game_dirac;
extern const otg_game_type *const otg_game_quadratic;
extern const otg_game_type *const otg_game_bilinear;
extern const otg_game_type *const otg_game_nonsmooth;
extern const otg_game_type *const otg_game_onelayer;
extern const otg_game_type *const otg_game_gan2d;

/* The built-in types, in the order above: otg_game_type_at(i) for 0 <= i < count (NULL
 * otherwise). by_name returns NULL (error set, listing the names) on a miss. */
int otg_game_type_count(void);
const otg_game_type *otg_game_type_at(int i);
const otg_game_type *otg_game_type_by_name(const char *name);
const char *otg_game_type_name(const otg_game_type *t);    /* "" for NULL */
const char *otg_game_type_summary(const otg_game_type *t); /* "" for NULL */
/* Fills params (t->params_size bytes) with t's default knobs. OTG_EINVAL on NULL arguments. */
OTG_NODISCARD otg_status otg_game_type_defaults(const otg_game_type *t, void *params);

/* Knobs of dirac, quadratic, bilinear and nonsmooth (each type's table lists the fields it uses):
 * dirac: dim (fixed at 1); quadratic: dim, rho; bilinear: dim, cond; nonsmooth: dim. */
typedef struct {
    int64_t dim; /* size of x and of y, in [1, 4096] [1] */
    double rho;  /* quadratic: curvature in x, >= 0 [0.4] */
    double cond; /* bilinear: condition number of A, >= 1 [10] */
} otg_game_classic_params;

/* Knobs of onelayer (flags --dim --cond --act --leaky-alpha --lambda --batch --eval-n --sw-dirs).
 */
typedef struct {
    int64_t dim;        /* d, in [1, 64] [1] */
    double cond;        /* condition number of W* = U diag(s) V^T, >= 1 [10] */
    char act[16];       /* phi: "relu", "leaky_relu" or "tanh" (relu'(0) = 0, leaky'(0) = alpha)
                           ["relu"] */
    double leaky_alpha; /* slope of leaky_relu for negative inputs, in [0, 1) [0.2] */
    double lambda;      /* L2 penalty on the discriminator, > 0 [1] */
    int64_t batch;      /* target (and generator) samples per oracle call, >= 1 [64] */
    int64_t eval_n;     /* size of the fixed evaluation sets, >= 2 [1024] */
    int64_t sw_dirs;    /* fixed directions of the sw metric, >= 1 [64] */
} otg_game_onelayer_params;

/* Knobs of gan2d (flags --hidden --gan-loss --clip --target-noise --batch --eval-n --sw-dirs). */
typedef struct {
    int64_t hidden;      /* width h of both MLPs' hidden layers, in [1, 1024] [32] */
    char gan_loss[16];   /* "standard", "nonsat" or "wasserstein" ["standard"] */
    double clip;         /* wasserstein: clipping bound of the discriminator, > 0 [0.1] */
    double target_noise; /* sd of each mode of the mixture, > 0 [0.05] */
    int64_t batch;       /* latent and target samples per oracle call, >= 1 [64] */
    int64_t eval_n;      /* size of the fixed evaluation sets, >= 2 [1024] */
    int64_t sw_dirs;     /* fixed directions of the sw metric, >= 1 [64] */
} otg_game_gan2d_params;

/* A game of type t with knobs params (t->params_size bytes; NULL: the defaults); seed drives its
 * random parts (bilinear: A, b, c from stream (seed, 0); onelayer: W* from (seed, 0), the
 * evaluation set from (seed, 3), the SW directions from (seed, 4); gan2d: evaluation sets from
 * (seed, 3), directions from (seed, 4)); sigma >= 0 is the standard deviation of the Gaussian
 * noise otg_game_oracle adds. NULL with the reason on bad parameters or out of memory. The game
 * borrows t (which must outlive it) and copies params. */
otg_game *otg_game_new(const otg_game_type *t, const void *params, uint64_t seed, double sigma);
void otg_game_free(otg_game *g);

const otg_game_type *otg_game_type_of(const otg_game *g);
const char *otg_game_name(const otg_game *g);
int64_t otg_game_nx(const otg_game *g);
int64_t otg_game_ny(const otg_game *g);
/* L(z) for z [nx + ny]. Writes scratch held by g: a game is not shared between threads. */
double otg_game_loss(otg_game *g, const double *z);
/* The exact operator out [nx + ny] = (d_x L, -d_y L) at z (subgradients as documented above). */
void otg_game_operator(otg_game *g, const double *z, double *out);
/* Copies the saddle point into zstar [nx + ny] and returns 1 when it is known; 0 (zstar
 * untouched) otherwise (onelayer, gan2d). */
int otg_game_saddle(otg_game *g, double *zstar);
/* A starting point z [nx + ny] from rng: z* + scale u with u uniform on the unit sphere when the
 * saddle is known; onelayer: W with i.i.d. N(0, scale^2 / d) entries and V = 0, v = 0; gan2d:
 * both MLPs He-initialised (weights N(0, scale^2 2 / fan_in), biases 0), then projected. */
void otg_game_initial_point(otg_game *g, double scale, otg_rng *rng, double *z);
/* Game-specific metrics: their number (onelayer 3, gan2d 3, others 0) and names (onelayer
 * "cov_err", "sw", "tv_dist"; gan2d "modes", "hq", "sw"); "" out of range. */
int otg_game_n_metrics(const otg_game *g);
const char *otg_game_metric_name(const otg_game *g, int i);
/* Writes the metrics at z into out [otg_game_n_metrics(g)]. onelayer: cov_err =
 * |W W^T - W* W*^T|_F / |W* W*^T|_F, sw = SW_2 between phi(W x) and phi(W* x') on the two
 * evaluation sets along the fixed directions, and tv_dist = |S*^-1/2 W W^T S*^-1/2 - I|_F
 * (S* = W* W*^T), within constant factors of the total variation between N(0, W W^T) and
 * N(0, S*), an upper bound on that between phi(W x) and phi(W* x) (docs/games.md). gan2d: modes =
 * mixture modes covered (holding at least a fifth of their share n/8 of the high-quality points),
 * hq = fraction of generated points within max(3 sd, 0.05) of a mode centre, sw = SW_2 to the
 * target evaluation set. OTG_ENOMEM, OTG_ENONFINITE, or OTG_OK (also for a game without metrics).
 */
OTG_NODISCARD otg_status otg_game_metrics(otg_game *g, const double *z, double *out);
/* Target samples drawn per oracle call (onelayer, gan2d: batch; others 0). */
int64_t otg_game_samples_per_call(otg_game *g);
/* The stochastic oracle, in the otg_minimax_oracle signature (ctx is the otg_game *): the type's
 * oracle (or G(z)) + sigma eps, eps ~ N(0, I) from rng. rng may be NULL only when sigma = 0 and
 * the type has no oracle of its own (onelayer and gan2d draw their minibatches from rng).
 * OTG_EINVAL for a NULL rng when noise or samples are needed, or the type oracle's status. */
OTG_NODISCARD otg_status otg_game_oracle(void *game, const double *z, double *out, otg_rng *rng);
/* The constraint set's projection, to apply after each step: gan2d with the wasserstein loss
 * clips the discriminator's parameters to [-clip, clip]; a no-op for every other game. */
void otg_game_project(otg_game *g, double *z);
/* 1 when the type has planar samples (gan2d). */
int otg_game_has_samples(const otg_game *g);
/* The generator's images of the first n (<= eval_n) latent evaluation points into gen [n, 2] and
 * the first n target evaluation points into target [n, 2] (either may be NULL). OTG_EINVAL
 * (error set) for games without samples. */
OTG_NODISCARD otg_status otg_game_samples(otg_game *g, const double *z, int64_t n, float *gen,
                                          float *target);

#ifdef __cplusplus
}
#endif
#endif
