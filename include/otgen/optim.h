/* otgen optim: optimisers as type objects over flat float buffers (GSL style: the caller owns the
 * loop and calls otg_optim_step once per iteration), and learning-rate schedules.
 *   sgd       u <- u - lr g                                   (fixed step: Tanguy 2023, Thm 1)
 *   momentum  v <- mu v + g;  u <- u - lr v                   (heavy ball, PyTorch's convention)
 *   adam      Kingma & Ba with bias correction
 *   npsgd     u <- Proj_B(0,r)(u - lr g + lr a eps), eps ~ N(0, I_P) (Tanguy 2023, Thm 2); the ball
 * is in the WHOLE parameter space unless per-tensor projection is asked for by name. See
 * docs/algorithms.md section 2. */
#ifndef OTGEN_OPTIM_H
#define OTGEN_OPTIM_H

#include "otgen/core.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct otg_optim_type otg_optim_type;
typedef struct otg_optim otg_optim;

extern const otg_optim_type *const otg_optim_sgd;
extern const otg_optim_type *const otg_optim_momentum;
extern const otg_optim_type *const otg_optim_adam;
extern const otg_optim_type *const otg_optim_npsgd;

/* The registry, in the order above: otg_optim_type_at(i) for 0 <= i < count (NULL otherwise);
 * by_name takes "sgd", "momentum", "adam", "npsgd" and returns NULL (error set, listing the
 * names) otherwise. */
int otg_optim_type_count(void);
const otg_optim_type *otg_optim_type_at(int i);
const otg_optim_type *otg_optim_type_by_name(const char *name);
const char *otg_optim_type_name(const otg_optim_type *t);    /* "(null)" for NULL */
const char *otg_optim_type_summary(const otg_optim_type *t); /* "" for NULL */

typedef struct {
    double momentum; /* momentum: mu [0.9] */
    double beta1;    /* adam [0.9] */
    double beta2;    /* adam [0.999] */
    double eps;      /* adam [1e-8] */
    double radius;   /* npsgd: r of the ball, > 0 [10] */
    double noise;    /* npsgd: a, the noise level, >= 0 [0.01] */
    int per_tensor;  /* npsgd: project each segment on its own ball instead of the whole vector [0]
                      */
} otg_optim_params;

otg_optim_params otg_optim_params_default(void);

/* An optimiser of type t for n parameters; NULL with the reason on bad parameters (e.g. radius <=
 * 0, momentum outside [0, 1), noise < 0) or out of memory. */
otg_optim *otg_optim_new(const otg_optim_type *t, int64_t n, const otg_optim_params *p);
void otg_optim_free(otg_optim *o);

/* Segments (tensor sizes, summing to n) for npsgd's per-tensor projection. */
OTG_NODISCARD otg_status otg_optim_set_segments(otg_optim *o, int n_segments, const int64_t *sizes);

/* One update of u[n] from the gradient g[n] with step size lr > 0. rng: the stream of npsgd's noise
 * (may be NULL for the others). OTG_EINVAL on a bad lr or missing rng. */
OTG_NODISCARD otg_status otg_optim_step(otg_optim *o, float *u, const float *g, double lr,
                                        otg_rng *rng);

/* The optimiser's state for checkpoints: state_size floats (momentum buffer, Adam moments) and the
 * number of steps taken (Adam's bias correction). Restoring both resumes bit-identically. */
int64_t otg_optim_state_size(const otg_optim *o);
float *otg_optim_state(otg_optim *o);
int64_t otg_optim_steps(const otg_optim *o);
void otg_optim_set_steps(otg_optim *o, int64_t steps);

/* ---- schedules ----------------------------------------------------------------------------- */

typedef enum {
    OTG_SCHED_CONSTANT, /* lr0 */
    OTG_SCHED_STEP,     /* lr0 * gamma^floor(step / every) */
    OTG_SCHED_PLATEAU,  /* lr *= gamma after `patience` validations without improving the best */
    OTG_SCHED_COSINE,   /* min_lr + (lr0 - min_lr) (1 + cos(pi min(step, every) / every)) / 2 */
    OTG_SCHED_WSD       /* lr0 before `start`, then the cosine decay of step - start */
} otg_sched_kind;

typedef struct {
    otg_sched_kind kind;
    double lr0, gamma, min_lr; /* [gamma 0.5, min_lr 0] */
    int64_t every;             /* step: period in steps; cosine, wsd: decay length [1000] */
    int64_t patience;          /* plateau: validations [5] */
    /* plateau state (checkpointed with the run) */
    double lr, best;
    int64_t bad;
    int64_t start; /* wsd: first step of the decay [0] */
} otg_schedule;

/* "constant", "step", "plateau", "cosine", "wsd". */
OTG_NODISCARD otg_status otg_sched_parse(const char *name, otg_sched_kind *out);
otg_schedule otg_schedule_make(otg_sched_kind kind, double lr0);
/* The learning rate for `step` (0-based). For plateau, pass the latest validation metric when one
 * was computed at this step, NaN otherwise. */
double otg_schedule_lr(otg_schedule *s, int64_t step, double metric);

#ifdef __cplusplus
}
#endif
#endif
