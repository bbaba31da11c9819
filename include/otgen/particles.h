/* otgen particles: mean-field particle gradient flows (Chizat & Bach 2018, docs/algorithms.md §6).
 * F(mu) = R(∫Phi dmu) + ∫V dmu discretised as mu_m = (1/m) sum_i delta_{u_i}; each particle moves
 * along the speed field m grad_{u_i} F_m (forward Euler, a step that does not shrink with m).
 * A problem is a type object (otg_particles_type); the solver (otg_particles) owns the particles,
 * the problem state and the batch stream. Results never depend on the thread count.
 *
 * Problems and otgen's own constants (the paper's are not known):
 *  relu2    u = (w, theta) in R x R^{d+1}, Phi(u)(x) = w relu(theta.[x,1]), V = (lambda/2)(w^2 +
 *           |theta|^2). Teacher f* = (1/m0) sum_j relu(theta*_j.[x,1]), theta*_j = (unit direction
 *           in R^d, bias 0) drawn uniformly on the sphere, weight 1. Init: u_i uniform on the sphere
 *           of radius r0 in R^{d+2} (default r0 = 0.1). relu'(0) is taken as 0.
 *  sigmoid2 Phi(u)(x) = w sigma(theta.[x,1]), V = lambda |w| with the subgradient sign(w) and 0 at
 *           w = 0. Teacher f* = (1/m0) sum_j (+-1 alternating) sigma(4 theta*_j.[x,1]) with the
 *           same directions as relu2. Init: w = 0, theta uniform on the sphere of radius r0 (default
 *           for this problem: 4) in R^{d+1}.
 *  deconv   u = (w, t), t on the torus [0, 1) (wrapped after each step). Phi(u) = w psi(. - t),
 *           psi(s) = sum_{|k|<=K} e^{2 pi i k s} (Dirichlet, K = 7 by default). Observation
 *           y = sum_j w*_j psi(. - t*_j), m0 spikes with weights alternating +-(1 + j/m0) at
 *           positions spread on the torus with a random shift and jitter. R(f) = 0.5 ||f - y||^2_L2
 *           computed exactly by Parseval: 0.5 sum_{k=-K..K} |yhat_k - (1/m) sum_i w_i
 *           e^{-2 pi i k t_i}|^2. V = lambda |w| (subgradient sign(w), 0 at 0). Init: w = 0, t_i =
 *           (i + 1/2)/m. The position component of the speed is divided by (2 pi K)^2 (a fixed
 *           metric on (w, t); positions are otherwise far stiffer than weights).
 *  The ablation initialisation OTG_PARTICLES_INIT_POINT puts every particle at one point (the first
 *  particle of the spread initialisation).
 * Data for the networks: inputs N(0, I_d) or uniform on S^{d-1}; a fixed sample of n points (exact
 * empirical objective, minibatches drawn with replacement when batch < n) or, with n = 0, fresh
 * samples each step ("population"), the objective then measured on a fixed sample of n_eval points.
 * The global minimum F* is 0 when lambda = 0 (the teacher is representable as a measure); otherwise
 * it is unknown (NAN). */
#ifndef OTGEN_PARTICLES_H
#define OTGEN_PARTICLES_H
#include "otgen/core.h"
#ifdef __cplusplus
extern "C" {
#endif

typedef enum { OTG_PARTICLES_INIT_SPREAD = 0, OTG_PARTICLES_INIT_POINT } otg_particles_init;
typedef enum { OTG_PARTICLES_X_GAUSSIAN = 0, OTG_PARTICLES_X_SPHERE } otg_particles_inputs;

/* Parameters of a problem instance. */
typedef struct {
    int64_t d;            /* input dimension (networks) [2] */
    int64_t m0;           /* teacher neurons / true spikes [3] */
    double lambda;        /* regulariser weight [0] */
    int64_t n;            /* fixed sample size, 0 = fresh samples each step [0] */
    int64_t batch;        /* points per step (full batch when >= n > 0) [256] */
    int64_t n_eval;       /* evaluation points when n = 0 [4096] */
    otg_particles_inputs inputs;
    otg_particles_init init;
    double r0;            /* init radius; <= 0 selects the problem's default */
    int64_t kernel_order; /* K of the Dirichlet kernel (deconv) [7] */
    uint64_t seed;        /* teacher, data, init and batches all derive from it [1] */
} otg_particles_params;

/* The defaults shown in brackets above. */
otg_particles_params otg_particles_params_default(void);

/* A problem type: add one file defining one of these and list it in otg_particles_type_find. */
typedef struct otg_particles_type {
    const char *name;
    const char *summary;
    /* Floats per particle. */
    int64_t (*dim)(const otg_particles_params *p);
    /* Builds the problem state (teacher, data) for up to m particles; NULL + error on failure. */
    void *(*create)(const otg_particles_params *p, int64_t m);
    void (*destroy)(void *state);
    /* Initial particles u[m, dim] (spread as the theorems need, or all at one point). */
    void (*init)(void *state, int64_t m, float *u);
    /* F_m(u) into *F and, when g != NULL, g[m, dim] = m grad_{u_i} F_m (the speed field). With
     * batch == NULL the evaluation data (exact / fixed sample); otherwise a training batch drawn
     * from *batch. */
    otg_status (*eval)(void *state, const float *u, int64_t m, otg_rng *batch, double *F, float *g);
    /* Keeps particles in the domain after a step (deconv: positions modulo 1); may be NULL. */
    void (*project)(void *state, int64_t m, float *u);
    /* The ground-truth particles [*n, dim] (teacher neurons / spikes) in the student's
     * parameterisation, owned by the state. */
    const float *(*truth)(const void *state, int64_t *n);
    /* F* (the minimum over measures) or NAN when unknown. */
    double (*minimum)(const void *state);
} otg_particles_type;

extern const otg_particles_type otg_particles_relu2, otg_particles_sigmoid2, otg_particles_deconv;
/* The type called name ("relu2", "sigmoid2", "deconv") or NULL. */
const otg_particles_type *otg_particles_type_find(const char *name);

/* A particle system: problem state, m particles [m, dim], speed buffer and batch stream. */
typedef struct otg_particles otg_particles;
/* New system with initialised particles; NULL with the reason in otg_last_error() on bad params
 * (m < 1, d < 1, m0 < 1, lambda < 0, batch < 1, K < 1) or out of memory. Free with
 * otg_particles_free. */
otg_particles *otg_particles_new(const otg_particles_type *t, const otg_particles_params *p,
                                 int64_t m);
void otg_particles_free(otg_particles *s);
int64_t otg_particles_count(const otg_particles *s);
int64_t otg_particles_dim(const otg_particles *s);
/* The particles [m, dim] (owned by s; may be edited between steps). */
float *otg_particles_data(otg_particles *s);
const otg_particles_type *otg_particles_get_type(const otg_particles *s);
/* One forward Euler step u_i <- u_i - lr * m grad_{u_i} F_m on a fresh training batch.
 * OTG_ENONFINITE when the particles or the objective stop being finite. */
otg_status otg_particles_step(otg_particles *s, double lr);
/* F_m on the evaluation data. */
otg_status otg_particles_objective(otg_particles *s, double *F);
/* F* or NAN when unknown. */
double otg_particles_minimum(const otg_particles *s);
/* Ground-truth particles [*n, dim]. */
const float *otg_particles_truth(const otg_particles *s, int64_t *n);
/* F_m and the speed g[m, dim] at arbitrary particles u[m, dim] on the evaluation data (tests). */
otg_status otg_particles_eval(otg_particles *s, const float *u, double *F, float *g);

#ifdef __cplusplus
}
#endif
#endif
