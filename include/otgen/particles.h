/* otgen particles: mean-field particle gradient flows (Chizat & Bach 2018, docs/algorithms.md §6).
 * F(mu) = R(∫Phi dmu) + ∫V dmu discretised as mu_m = (1/m) sum_i delta_{u_i}; each particle moves
 * along the speed field m grad_{u_i} F_m (forward Euler, a step that does not shrink with m).
 * A problem is a type object (otg_particles_type); the solver (otg_particles) owns the particles,
 * the problem state and the batch stream. Results never depend on the thread count.
 *
 * Problems and otgen's own constants (the paper's are not known):
 *  relu2    u = (w, theta) in R x R^{d+1}, Phi(u)(x) = w relu(theta.[x,1]), V = (lambda/2)(w^2 +
 *           |theta|^2). Teacher f* = (1/m0) sum_j relu(theta*_j.[x,1]), theta*_j = (unit direction
 *           in R^d, bias 0) drawn uniformly on the sphere, weight 1. Init: u_i uniform on the
 * sphere of radius r0 in R^{d+2} (default r0 = 0.1). relu'(0) is taken as 0. sigmoid2 Phi(u)(x) = w
 * sigma(theta.[x,1]), V = lambda |w| with the subgradient sign(w) and 0 at w = 0. Teacher f* =
 * (1/m0) sum_j (+-1 alternating) sigma(4 theta*_j.[x,1]) with the same directions as relu2. Init: w
 * = 0, theta uniform on the sphere of radius r0 (default for this problem: 4) in R^{d+1}. deconv u
 * = (w, t), t on the torus [0, 1) (wrapped after each step). Phi(u) = w psi(. - t), psi(s) =
 * sum_{|k|<=K} e^{2 pi i k s} (Dirichlet, K = 7 by default). Observation y = sum_j w*_j psi(. -
 * t*_j), m0 spikes with weights alternating +-(1 + j/m0) at positions spread on the torus with a
 * random shift and jitter. R(f) = 0.5 ||f - y||^2_L2 computed exactly by Parseval: 0.5
 * sum_{k=-K..K} |yhat_k - (1/m) sum_i w_i e^{-2 pi i k t_i}|^2. V = lambda |w| (subgradient
 * sign(w), 0 at 0). Init: w = 0, t_i = (i + 1/2)/m. The position component of the speed is divided
 * by (2 pi K)^2 (a fixed metric on (w, t); positions are otherwise far stiffer than weights). The
 * ablation initialisation OTG_PARTICLES_INIT_POINT puts every particle at one point (the first
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
    int64_t d;      /* input dimension (networks) [2] */
    int64_t m0;     /* teacher neurons / true spikes [3] */
    double lambda;  /* regulariser weight [0] */
    int64_t n;      /* fixed sample size, 0 = fresh samples each step [0] */
    int64_t batch;  /* points per step (full batch when >= n > 0) [256] */
    int64_t n_eval; /* evaluation points when n = 0 [4096] */
    otg_particles_inputs inputs;
    otg_particles_init init;
    double r0;            /* init radius; <= 0 selects the problem's default */
    int64_t kernel_order; /* K of the Dirichlet kernel (deconv) [7] */
    uint64_t seed;        /* teacher, data, init and batches all derive from it [1] */
} otg_particles_params;

/* The defaults shown in brackets above. */
otg_particles_params otg_particles_params_default(void);

/* Picture coordinates of one particle u[dim] for 2-D charts, xy[2]; m is the number of particles
 * in the measure (the mass normaliser). */
typedef void (*otg_particles_xy_fn)(const float *u, int64_t dim, int64_t m, float *xy);

/* An optional chart of a measure: out[g] = P(u)(x_g) on the grid x_g = g / (n_grid - 1) of [0, 1]
 * for particles u[n, dim] with mass normaliser norm (deconv: the cumulative signed mass
 * M(t) = (1/norm) sum_{t_i <= t} w_i, which identifies the measure). */
typedef struct {
    const char *file;   /* chart file name in a sweep's output directory ("mass_vs_t.png") */
    const char *what;   /* end of the chart title ("mass on [0, t]") */
    const char *xlabel; /* "position t" */
    const char *ylabel; /* "(1/m) sum of w_i over t_i <= t" */
    void (*eval)(const float *u, int64_t n, int64_t dim, int64_t norm, int n_grid, double *out);
} otg_particles_profile;

/* A problem type. Define one in your own file (every entry marked "required" filled, the others
 * may be NULL / 0) and pass its address to otg_particles_new; the built-in ones are also found by
 * name through otg_particles_type_by_name (to add one to the library, append it to the list in
 * src/particles/registry.c). docs/contributing-particles.md walks through it. */
typedef struct otg_particles_type {
    const char *name;      /* required: the --problem name */
    const char *summary;   /* required: one line for help texts */
    int64_t default_steps; /* Euler steps used when a run asks for 0 (> 0) */
    double default_lr;     /* step size used when a run asks for 0 (> 0) */
    double default_r0;     /* the init radius used for r0 <= 0 (help text only; 0: no radius) */
    /* Required. Floats per particle. */
    int64_t (*dim)(const otg_particles_params *p);
    /* Required. Builds the problem state (teacher, data) for up to m particles; NULL + error on
     * failure. */
    void *(*create)(const otg_particles_params *p, int64_t m);
    void (*destroy)(void *state); /* required; called with the state of create */
    /* Required. Initial particles u[m, dim] (spread as the theorems need, or all at one point). */
    void (*init)(void *state, int64_t m, float *u);
    /* Required. F_m(u) into *F and, when g != NULL, g[m, dim] = m grad_{u_i} F_m (the speed
     * field). With batch == NULL the evaluation data (exact / fixed sample); otherwise a training
     * batch drawn from *batch. */
    otg_status (*eval)(void *state, const float *u, int64_t m, otg_rng *batch, double *F, float *g);
    /* Keeps particles in the domain after a step (deconv: positions modulo 1); NULL: none. */
    void (*project)(void *state, int64_t m, float *u);
    /* The ground-truth particles [*n, dim] (teacher neurons / spikes) in the student's
     * parameterisation, owned by the state; NULL: no truth is known. */
    const float *(*truth)(const void *state, int64_t *n);
    /* F* (the minimum over measures) or NAN when unknown; NULL: always unknown. */
    double (*minimum)(const void *state);
    /* Chart coordinates of a particle; NULL: its first two floats (u[0], u[1]) (u[0], u[0] when
     * dim = 1). */
    otg_particles_xy_fn xy;
    const char *xy_title;    /* what the trajectory chart shows ["first 2 coords over time"] */
    const char *truth_label; /* legend of the truth in the chart ["truth"] */
    const otg_particles_profile *profile; /* an extra chart of the measure; NULL: none */
} otg_particles_type;

extern const otg_particles_type otg_particles_relu2, otg_particles_sigmoid2, otg_particles_deconv;
/* The built-in type called name ("relu2", "sigmoid2", "deconv"). NULL on a miss, with
 * otg_last_error() = "particles: unknown problem 'x' (relu2, sigmoid2, deconv)". */
const otg_particles_type *otg_particles_type_by_name(const char *name);
/* The built-in types: count, and the i-th for 0 <= i < count (NULL outside), in a fixed order. */
int otg_particles_type_count(void);
const otg_particles_type *otg_particles_type_at(int i);
/* t->name and t->summary (the accessors every registry family has; NULL for a NULL t). */
const char *otg_particles_type_name(const otg_particles_type *t);
const char *otg_particles_type_summary(const otg_particles_type *t);
/* The type's chart coordinates of particle u[dim] (t->xy or its default), xy[2]. */
void otg_particles_type_xy(const otg_particles_type *t, const float *u, int64_t dim, int64_t m,
                           float *xy);

/* A particle system: problem state, m particles [m, dim], speed buffer and batch stream. */
typedef struct otg_particles otg_particles;
/* New system with initialised particles; NULL with the reason in otg_last_error() on bad params
 * (m < 1, d < 1, m0 < 1, lambda < 0, batch < 1, K < 1), a type missing a required entry, or out
 * of memory. Free with
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
OTG_NODISCARD otg_status otg_particles_step(otg_particles *s, double lr);
/* F_m on the evaluation data. */
OTG_NODISCARD otg_status otg_particles_objective(otg_particles *s, double *F);
/* F* or NAN when unknown (or the type has no minimum entry). */
double otg_particles_minimum(const otg_particles *s);
/* Ground-truth particles [*n, dim] (owned by s); NULL with *n = 0 when the type has none. */
const float *otg_particles_truth(const otg_particles *s, int64_t *n);
/* The stream of the training batches (fresh samples each step), for checkpoints: save *it with
 * the particles, restore both to resume bit-identically. */
otg_rng *otg_particles_stream(otg_particles *s);
/* F_m and the speed g[m, dim] at arbitrary particles u[m, dim] on the evaluation data (tests). */
OTG_NODISCARD otg_status otg_particles_eval(otg_particles *s, const float *u, double *F, float *g);

/* ---- a whole run, built only on the calls above: copy and adapt it to own the loop ---------- */

/* Settings of otg_particles_run; the defaults come from the problem type. */
typedef struct {
    int64_t steps;     /* forward Euler steps [t->default_steps] */
    double lr;         /* step size [t->default_lr] */
    int64_t log_every; /* an objective row every N steps and at the last one; 0 = ceil(steps/200) */
    int64_t start;     /* steps already done: a resumed run whose particles and stream the caller
                        * restored from a checkpoint continues at k = start [0] */
    int64_t checkpoint_every; /* hooks->on_checkpoint every N steps, 0 = never [0] */
} otg_particles_run_opts;
/* {t->default_steps, t->default_lr, 0}. */
otg_particles_run_opts otg_particles_run_opts_default(const otg_particles_type *t);

/* One objective row: F_m on the evaluation data after `step` steps, and F - F* (NAN when F* is
 * unknown). */
typedef struct {
    int64_t step;
    double objective, excess;
} otg_particles_row;

/* Optional callbacks (each may be NULL): on_particles at every k = 0..steps with the particles
 * after k steps (before row k), on_row for each row. They must not free s. */
typedef struct {
    void (*on_particles)(void *user, otg_particles *s, int64_t k);
    void (*on_row)(void *user, const otg_particles_row *row);
    void *user;
    /* after step k when k % checkpoint_every == 0 (k < steps), and when should_stop asks: the
     * caller saves otg_particles_data and *otg_particles_stream (and its own rows); a failure
     * stops the run with its status */
    otg_status (*on_checkpoint)(void *user, otg_particles *s, int64_t steps_done);
    /* asked after each step: nonzero checkpoints and returns OTG_CONTINUE */
    int (*should_stop)(void *user);
} otg_particles_hooks;

/* The result of a run: steps taken and the last row (objective NAN before the first row). */
typedef struct {
    int64_t steps_done;
    double objective, excess;
} otg_particles_result;

/* Runs o->steps Euler steps of lr from the current particles, with a row at k = 0, every
 * log_every steps and at the end: for k in 0..steps { on_particles(k); row if due; step }.
 * hooks may be NULL; res (may be NULL) is filled on success and on failure (steps_done = the
 * steps that succeeded). OTG_EINVAL on steps < 1 or lr <= 0; the status of
 * otg_particles_step (OTG_ENONFINITE) or otg_particles_objective otherwise; OTG_CONTINUE after
 * a stop asked by hooks->should_stop (the checkpoint written). With o->start = k0 the loop runs
 * k = k0..steps on particles restored to step k0, and ends bit-identical to a run from 0. */
OTG_NODISCARD otg_status otg_particles_run(otg_particles *s, const otg_particles_run_opts *o,
                                           const otg_particles_hooks *hooks,
                                           otg_particles_result *res);

/* ---- checkpoints: what an on_checkpoint hook saves, and a resume restores ------------------
 * One file in src/io's container (otg_checkpoint_write: atomic, CRC-checked): a JSON header
 * (format "otgen-particles-checkpoint", schema 1, the FNV-1a 64 hash of the run's key, the step,
 * the thread count, the batch stream, the caller's rows and last objective; docs/particles.md),
 * the particles [m, dim] as parameters and the caller's snapshots [n_snapshots, m, 2] as state.
 * A run resumed from it (particles and stream restored, otg_particles_run_opts.start =
 * steps_done) ends bit-identical to the uninterrupted run. */
typedef struct {
    int64_t steps_done; /* the steps the saved particles have taken (>= 1 to be loadable) */
    char *metrics;      /* the caller's rows so far as text; save: NULL = "" */
    float *snapshots;   /* [n_snapshots, m, 2] the caller's trajectory points; save: NULL when 0 */
    int64_t n_snapshots;
    double objective; /* the last row's objective (a non-finite one is saved as 0) */
    int threads;      /* load: the thread count that wrote the file (0 unknown); save: ignored,
                       * otg_threads_get() is written */
} otg_particles_checkpoint;

/* Writes s's particles and batch stream with c (the caller's part) to path atomically,
 * replacing it. key (required): the run's identity as text (say "name=value;" for every option
 * that decides the run); the file keeps its hash and a load with another key is refused.
 * OTG_EINVAL on a NULL or negative argument; OTG_ENOMEM; the write's OTG_EIO. */
OTG_NODISCARD otg_status otg_particles_checkpoint_save(const char *path, otg_particles *s,
                                                       const char *key,
                                                       const otg_particles_checkpoint *c);
/* Reads path into *out and restores s's particles and batch stream from it (s of the run's
 * problem, params and m). key: the run's key as at the save (NULL: not checked); steps: the
 * run's length, steps_done must lie in 1..steps (<= 0: no upper bound). On success out holds
 * steps_done, metrics and snapshots (allocated; free with otg_particles_checkpoint_release),
 * n_snapshots, objective and threads. s NULL: only the header is read and checked (out->threads
 * before a run is built, say), snapshots stay NULL. On failure s and *out are untouched / empty:
 * otg_checkpoint_read's status (OTG_EIO unreadable, OTG_EFORMAT damaged: truncated, bad CRC);
 * OTG_EFORMAT "... is not a particles checkpoint" (another format) or "malformed checkpoint
 * header"; OTG_EINVAL "... belongs to another run" (another key); OTG_ESHAPE when its
 * particles or snapshots do not fit s; OTG_ENOMEM. */
OTG_NODISCARD otg_status otg_particles_checkpoint_load(const char *path, otg_particles *s,
                                                       const char *key, int64_t steps,
                                                       otg_particles_checkpoint *out);
/* Frees what a load allocated and zeroes *c (NULL is fine). */
void otg_particles_checkpoint_release(otg_particles_checkpoint *c);

/* Called after each run of a sweep with the finished system (freed after the call): m = ms[im],
 * seed = p->seed + k. */
typedef void (*otg_particles_sweep_fn)(void *user, int im, int64_t k, otg_particles *s,
                                       const otg_particles_result *r);
/* For each m of ms[nm] (outer) and k = 0..seeds-1 (inner): a new system with seed p->seed + k,
 * otg_particles_run(o), then on_run (may be NULL). results (may be NULL) [seeds, nm] gets
 * results[k * nm + im]. Stops at the first failure and returns its status: the run's, or
 * OTG_EINVAL when otg_particles_new refuses (its reason in otg_last_error()). */
OTG_NODISCARD otg_status otg_particles_sweep(const otg_particles_type *t,
                                             const otg_particles_params *p, const int64_t *ms,
                                             int nm, int64_t seeds, const otg_particles_run_opts *o,
                                             otg_particles_sweep_fn on_run, void *user,
                                             otg_particles_result *results);

#ifdef __cplusplus
}
#endif
#endif
