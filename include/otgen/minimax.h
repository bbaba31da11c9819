/* otgen minimax: first-order methods for min_x max_y L(x, y) as type objects over one flat double
 * buffer z = (x, y) (GSL style: the caller owns the loop and calls otg_minimax_step once per
 * iteration). Every method sees the game only through an oracle g(z) of the operator
 * G(z) = (d_x L, -d_y L), possibly noisy (its noise comes from the rng passed to the step).
 *   simgd          z <- z - a_k g(z)
 *   altgda         x <- x - a_k g_x(x, y);  y <- y - a_k g_y(x_new, y)
 *   optimistic     z <- z - a_k g_k - b_k (g_k - g_{k-1}),  g_{-1} = g_0
 *   anchored       z <- z - c (1-p)/(k+1)^p g_k + (1-p) gamma/(k+1) (z_0 - z)
 *   extragradient  w = z - a_k g(z);  z <- z - a_k g(w)
 *   optimistic-adam, anchored-adam: the same updates with g_k replaced by Adam's preconditioned
 *   direction m_hat / (sqrt(v_hat) + eps).
 * with a_k = lr / (k+1)^lr_exp and b_k = optimism / (k+1)^opt_exp. The types are opaque; the
 * registry enumerates them. Implemented in src/minimax/. See docs/games.md. */
#ifndef OTGEN_MINIMAX_H
#define OTGEN_MINIMAX_H

#include "otgen/core.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct otg_minimax_type otg_minimax_type;
typedef struct otg_minimax otg_minimax;

extern const otg_minimax_type *const otg_minimax_simgd;
extern const otg_minimax_type *const otg_minimax_altgda;
extern const otg_minimax_type *const otg_minimax_optimistic;
extern const otg_minimax_type *const otg_minimax_anchored;
extern const otg_minimax_type *const otg_minimax_extragradient;
extern const otg_minimax_type *const otg_minimax_optimistic_adam;
extern const otg_minimax_type *const otg_minimax_anchored_adam;

/* The registry, in the order above: otg_minimax_type_at(i) for 0 <= i < count (NULL otherwise);
 * by_name takes "simgd", "altgda", "optimistic", "anchored", "extragradient", "optimistic-adam",
 * "anchored-adam" and returns NULL (error set, listing the names) otherwise. */
int otg_minimax_type_count(void);
const otg_minimax_type *otg_minimax_type_at(int i);
const otg_minimax_type *otg_minimax_type_by_name(const char *name);
const char *otg_minimax_type_name(const otg_minimax_type *t);    /* "" for NULL */
const char *otg_minimax_type_summary(const otg_minimax_type *t); /* "" for NULL */
/* 1 when the step size is a_k = lr / (k+1)^lr_exp (lr must be > 0); 0 for the anchored methods,
 * whose step is c (1-p)/(k+1)^p. */
int otg_minimax_type_uses_lr(const otg_minimax_type *t);

typedef struct {
    double lr;       /* a: the learning rate, > 0 [0.1] (not used by anchored) */
    double lr_exp;   /* exponent of a_k = a / (k+1)^lr_exp, >= 0 [0] */
    double optimism; /* optimistic: b, the optimism rate, >= 0 [0.1] */
    double opt_exp;  /* optimistic: exponent of b_k = b / (k+1)^opt_exp, >= 0 [0] */
    double p;        /* anchored: p in (0, 1) [2/3] (the theorem needs p in (1/2, 1)) */
    double gamma;    /* anchored: anchor pull gamma >= 0 [2] (the theorem needs gamma >= 2) */
    double scale;    /* anchored: step scale c > 0 multiplying (1-p)/(k+1)^p [1] */
    int64_t refresh; /* anchored: every `refresh` steps the anchor becomes z_k and k restarts;
                        0 = never [0] */
    double beta1, beta2, eps; /* the -adam variants [0.9, 0.999, 1e-8] */
} otg_minimax_params;

otg_minimax_params otg_minimax_params_default(void);

/* The oracle: writes g[nx + ny], an estimate of G(z) at z[nx + ny], drawing any noise from rng
 * (which may be NULL for a deterministic oracle). Returns OTG_OK or an error status. */
typedef otg_status (*otg_minimax_oracle)(void *ctx, const double *z, double *g, otg_rng *rng);

/* A method of type t for a game with nx minimising and ny maximising coordinates (nx, ny >= 1);
 * NULL with the reason on bad parameters or out of memory. Free with otg_minimax_free. */
otg_minimax *otg_minimax_new(const otg_minimax_type *t, int64_t nx, int64_t ny,
                             const otg_minimax_params *p);
void otg_minimax_free(otg_minimax *m);

/* One iteration z_k -> z_{k+1} in place on z[nx + ny]. The first step after new (or reset) takes
 * z as the anchor z_0 (anchored) and g_{-1} = g_0 (optimistic). The oracle is called once
 * (simgd, optimistic, anchored) or twice (altgda, extragradient). OTG_EINVAL on NULL arguments,
 * the oracle's status if it fails, OTG_ENONFINITE (z left as computed) when z_{k+1} is not
 * finite. */
OTG_NODISCARD otg_status otg_minimax_step(otg_minimax *m, double *z, otg_minimax_oracle oracle,
                                          void *ctx, otg_rng *rng);
/* Forgets the history (step count, anchor, previous direction, Adam moments). */
void otg_minimax_reset(otg_minimax *m);
/* Steps taken since new or reset. */
int64_t otg_minimax_steps(const otg_minimax *m);
/* The run state (step counts and the method's vectors: previous direction, anchor, Adam
 * moments, ...) as otg_minimax_state_size(m) doubles, for checkpoints: get copies it out, set
 * restores it (OTG_EINVAL when n differs); a method restored this way steps exactly as the one
 * it was saved from. */
int64_t otg_minimax_state_size(const otg_minimax *m);
void otg_minimax_state_get(const otg_minimax *m, double *out);
OTG_NODISCARD otg_status otg_minimax_state_set(otg_minimax *m, const double *in, int64_t n);
/* Oracle calls per step (1 or 2), for comparing methods at equal cost. */
int otg_minimax_oracle_calls(const otg_minimax_type *t);

#ifdef __cplusplus
}
#endif
#endif
