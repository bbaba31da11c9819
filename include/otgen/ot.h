/* otgen ot: 1-D optimal transport, the Sliced-Wasserstein estimator with its fused
 * value-and-gradient kernel, direction samplers, max-sliced variants, and the SW loss as an ad
 * op. Conventions follow POT: directions Theta [d, L] hold one direction per column; the
 * estimator is SW_p^p = (1/L) sum_l W_p^p(theta_l # mu, theta_l # nu), always divided by the
 * number of directions used; the reported distance is (SW_p^p)^(1/p). See docs/algorithms.md §1. */
#ifndef OTGEN_OT_H
#define OTGEN_OT_H

#include "otgen/ad.h"
#include "otgen/comm.h"
#include "otgen/core.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- 1-D ------------------------------------------------------------------------------------ */

/* W_p^p between mu = sum_i a_i delta_{s_i} and nu = sum_j b_j delta_{t_j}, p >= 1. a (b) NULL
 * means uniform; given weights must be finite and >= 0 with a positive sum and are normalised to
 * sum 1. ds[n], dt[m] (each may be NULL) receive d W_p^p / d s_i and d / d t_j: a selection of the
 * Clarke subdifferential (ties broken by index; at a zero residual the p = 1 derivative is 0).
 * OTG_EINVAL on bad weights, p < 1, n or m < 1; OTG_ENOMEM. */
OTG_NODISCARD otg_status otg_ot_wasserstein_1d(const float *s, const float *a, int64_t n,
                                               const float *t, const float *b, int64_t m, double p,
                                               double *value, float *ds, float *dt);

/* ---- directions ----------------------------------------------------------------------------- */

typedef enum {
    OTG_DIR_GAUSSIAN,   /* theta = g / |g|, g ~ N(0, I_d): uniform on the sphere */
    OTG_DIR_ORTHOGONAL, /* blocks of d orthonormal columns, each block Haar-distributed (QR of a
                           Gaussian matrix with the sign fix), the last block truncated */
    OTG_DIR_RQMC,    /* d = 3 only: randomised quasi-Monte-Carlo, the L-point Fibonacci lattice on
                        the sphere under one Haar-random orthogonal matrix (each direction is
                        marginally uniform, the set is evenly spread); OTG_EINVAL for d != 3 */
    OTG_DIR_HADAMARD /* structured orthogonal blocks (otg_sw_hadamard_draw), dense form only */
} otg_dir_kind;

/* Parses "gaussian" / "orthogonal" / "rqmc". */
OTG_NODISCARD otg_status otg_dir_parse(const char *name, otg_dir_kind *out);
/* Fills theta [d, L] (row-major, one unit direction per column) from rng. OTG_EINVAL on d < 1,
 * L < 1, or kind OTG_DIR_RQMC with d != 3. */
OTG_NODISCARD otg_status otg_sw_directions(otg_rng *rng, otg_dir_kind kind, int64_t d, int64_t L,
                                           float *theta);

/* Structured orthogonal random directions (Yu et al., NeurIPS 2016), for fast projections of
 * high-dimensional points: with N = 2^ceil(log2 d), block b of N directions is the rows of
 * M_b = H D_b3 H D_b2 H D_b1 / N^(3/2) (H the N x N Walsh-Hadamard matrix, D_bk diagonals of random
 * signs; M_b is orthogonal), each restricted to the first d coordinates and normalised; the
 * last block is truncated to L. For d = N a block is an exactly orthonormal basis; otherwise
 * each block is a tight frame of R^d before the normalisation. Passed as otg_sw_opts.fast, the
 * SW kernel projects by fast transforms: 3 N log2 N adds per point and block instead of d L
 * multiply-adds (for d = 784, L = 784: about 20 times fewer operations). */
typedef struct {
    int64_t d, L, n_fft, blocks; /* n_fft = N, blocks = ceil(L / N) */
    float *signs;                /* [blocks, 3, N] the +-1 of D_b1, D_b2, D_b3 */
    float *scale;                /* [L] 1 / (N^(3/2) |M_b[l, :d]|): the normalisation */
    float *buf;                  /* [N] scratch of the draw */
    double *sums;                /* [L] scratch of the draw: the squared norms */
    int64_t cap_signs, cap_L, cap_buf;
} otg_sw_hadamard;

/* Draws fresh signs from rng (blocks * 3 * N bits) into h (zero-initialised before its first
 * use; its buffers grow and are reused) and writes the same directions densely into theta [d, L]
 * (one unit direction per column), as otg_sw_directions does; theta NULL: h alone (for
 * otg_sw_opts.fast, whose SW reads only theta's shape; cheaper when N - d < d), with the same
 * bits in h. OTG_EINVAL on NULL rng or h, d < 1, L < 1. */
OTG_NODISCARD otg_status otg_sw_hadamard_draw(otg_rng *rng, int64_t d, int64_t L,
                                              otg_sw_hadamard *h, float *theta);
void otg_sw_hadamard_free(otg_sw_hadamard *h);

/* ---- the SW estimator ----------------------------------------------------------------------- */

typedef struct otg_sw_workspace otg_sw_workspace;

/* A reusable workspace: buffers grow to the largest problem seen and are then reused, so
 * repeated calls of one size allocate nothing. Not shared between concurrent calls. */
otg_sw_workspace *otg_sw_workspace_new(void);
void otg_sw_workspace_free(otg_sw_workspace *ws);

typedef struct {
    double p;      /* the order, >= 1 [2] */
    int64_t chunk; /* directions held in memory at once (rounded up to a multiple of 256) [256]:
                      peak memory is O((n + m) chunk) floats; results do not depend on it, nor
                      on the threads */
    const float *weights;        /* per-direction weights [L] (borrowed; finite, >= 0, positive sum;
                                    normalised to sum 1) or NULL = uniform 1/L [NULL]. Given: value =
                                    sum_l w_l W_p^p(theta_l), grad_x its gradient, stderr_value =
                                    sqrt(L/(L-1) sum_l w_l^2 (W_p^p(theta_l) - value)^2) (the plain
                                    standard error for uniform weights). As OTT's `weights`. */
    const otg_sw_hadamard *fast; /* the directions in structured form (borrowed), or NULL
                                    [NULL]: otg_sw then projects by fast transforms instead of
                                    GEMM with theta, whose entries it does not read (only its
                                    shape [d, L]); theta drawn with h by otg_sw_hadamard_draw
                                    gives the same values up to rounding. Every chunk is all L
                                    directions. Used by otg_sw and the MC estimator only. */
} otg_sw_opts;

otg_sw_opts otg_sw_opts_default(void);

typedef struct {
    double value;    /* SW_p^p estimate: (1/L) sum_l W_p^p(theta_l) */
    double distance; /* value^(1/p), POT's sliced_wasserstein_distance */
    double
        stderr_value; /* Monte-Carlo standard error of value: sd_l(W_p^p) / sqrt(L); NaN if L = 1 */
    int64_t n_directions;
    int64_t ties; /* adjacent equal projections of x met in the sorts (kink hits) */
} otg_sw_result;

/* SW between x [n, d] (weights a [n] or NULL) and y [m, d] (weights b [m] or NULL) along the
 * columns of theta [d, L]. Fused: projections by GEMM, 2L stable sorts in parallel across
 * directions, residuals, and (if grad_x is not NULL) grad_x [n, d] = d value / d x = R theta^T
 * by GEMM, overwritten. per_dir [L] (or NULL) receives W_p^p(theta_l). Non-finite inputs give a
 * non-finite value. OTG_ESHAPE on mismatched shapes, OTG_EINVAL on bad options or weights. */
OTG_NODISCARD otg_status otg_sw(otg_sw_workspace *ws, const otg_tensor *x, const float *a,
                                const otg_tensor *y, const float *b, const otg_tensor *theta,
                                const otg_sw_opts *opts, otg_sw_result *res, float *grad_x,
                                double *per_dir);

/* ---- SW_2^2 against a whole data set along a fixed bank of directions --------------------- */

/* The data side of SW_2^2 against the empirical law of y [N, d] along the columns of
 * theta [d, K], for clouds of n points: q [K, n] (row k ascending) the means of y's quantile
 * function along theta_k over [i/n, (i+1)/n), and c [K] the variance left inside those
 * intervals, (1/N) sum_j t_j^2 - (1/n) sum_i q_ki^2, so that for the sorted projections s of any
 * x [n, d], W_2^2(theta_k # x, theta_k # y) = (1/n) sum_i (s_i - q_ki)^2 + c_k exactly (up to
 * rounding). Costs N d K multiply-adds and K sorts of N values, once; fixed work items in
 * parallel, so the bits do not depend on the thread count. OTG_ESHAPE on shapes, OTG_EINVAL on
 * n < 1 or N outside [1, 2^31). */
OTG_NODISCARD otg_status otg_sw_quantiles(const otg_tensor *y, const otg_tensor *theta, int64_t n,
                                          float *q, double *c);

/* SW_2^2 between x [n, d] (uniform weights) and the data set whose quantile data along the
 * columns of theta [d, L] are q [L, n] and c [L] (otg_sw_quantiles' rows for those directions):
 * the same value, standard error, grad_x and per_dir as otg_sw(x, y) gives against all N rows of
 * y, for one projection and one sort of x per direction and no data batch. opts: p must be 2,
 * no direction weights (OTG_EINVAL otherwise). */
OTG_NODISCARD otg_status otg_sw_to_quantiles(otg_sw_workspace *ws, const otg_tensor *x,
                                             const float *q, const double *c,
                                             const otg_tensor *theta, const otg_sw_opts *opts,
                                             otg_sw_result *res, float *grad_x, double *per_dir);

/* ---- variance-reduced and importance-weighted estimators ---------------------------------- */

/* Estimators of SW_p^p from the same L directions (docs/sliced-wasserstein.md, "Estimators"):
 *  MC   the plain mean (1/L) sum_l W_l, W_l = W_p^p(theta_l # mu, theta_l # nu): otg_sw itself.
 *  LCV  control variate C(theta) = (theta^T (m_x - m_y))^2 (a lower bound of W_2^2(theta)),
 *       E_theta C = |m_x - m_y|^2 / d (Nguyen & Ho, ICLR 2024);
 *  UCV  C(theta) = (theta^T (m_x - m_y))^2 + theta^T S_x theta + theta^T S_y theta (the cost of
 *       the independent coupling, an upper bound of W_2^2(theta); S the weighted covariances),
 *       E_theta C = (|m_x - m_y|^2 + tr S_x + tr S_y) / d.
 *       Both: value = mean_l W_l - gamma (mean_l C_l - E C) with, as the authors' code,
 *       gamma = [(1/L) sum_l (W_l - mean W)(C_l - E C)] / [(1/L) sum_l (C_l - E C)^2] (0 when
 *       the denominator vanishes); stderr = sd_l(W_l - gamma C_l) / sqrt(L). The expectations
 *       are over theta uniform on the sphere: give such directions (gaussian, orthogonal, rqmc).
 *  EBSW energy-based SW (Nguyen & Ho, NeurIPS 2023), a different quantity: the importance-
 *       sampled sum_l w_l W_l with w = normalise(f(W_l)), f(W) = exp(W / temperature) (a
 *       softmax) or W (identity); W_l is a mean over points, so the weights do not depend on n.
 *       stderr = sqrt(L/(L-1) sum_l w_l^2 (W_l - value)^2) (self-normalised importance
 *       sampling, delta method). */
typedef enum { OTG_SW_EST_MC, OTG_SW_EST_LCV, OTG_SW_EST_UCV, OTG_SW_EST_EBSW } otg_sw_estimator;
typedef enum { OTG_EBSW_EXP, OTG_EBSW_IDENTITY } otg_ebsw_energy;

/* Parse "mc" / "lcv" / "ucv" / "ebsw", and "exp" / "identity"; OTG_EINVAL naming the choices. */
OTG_NODISCARD otg_status otg_sw_estimator_parse(const char *name, otg_sw_estimator *out);
OTG_NODISCARD otg_status otg_ebsw_energy_parse(const char *name, otg_ebsw_energy *out);
/* "mc", "lcv", "ucv", "ebsw" (static storage; "?" for a bad value). */
const char *otg_sw_estimator_name(otg_sw_estimator e);

typedef struct {
    otg_sw_estimator kind;  /* [OTG_SW_EST_MC] */
    otg_ebsw_energy energy; /* EBSW's f [OTG_EBSW_EXP] */
    double temperature;     /* EBSW with f = exp: > 0, in the units of W_p^p [1] */
    int fixed_gamma;        /* CV gradient: 0 = the exact derivative of the value, gamma's
                               dependence on x included (as autograd through the authors'
                               code); 1 = gamma held constant [0]. EBSW's gradient always holds
                               the weights constant (sum_l w_l grad W_l, as the authors' code) */
} otg_sw_estimator_opts;

otg_sw_estimator_opts otg_sw_estimator_opts_default(void);

/* What the estimate was made of (all from the same directions). */
typedef struct {
    double mc_value, mc_stderr; /* the plain mean (1/L) sum_l W_l and its standard error */
    double gamma;               /* CV coefficient (0 for MC and EBSW) */
    double cv_mean;             /* E_theta C in closed form (CV; 0 otherwise) */
    double cv_sample_mean;      /* (1/L) sum_l C(theta_l) (CV; 0 otherwise) */
    double ess;                 /* 1 / sum_l w_l^2: EBSW's effective sample size (L otherwise) */
} otg_sw_estimate_info;

/* The estimator est (NULL: MC) of SW_p^p between x [n, d] (weights a or NULL) and y [m, d]
 * (weights b or NULL) along the columns of theta [d, L], on the fused kernel: res->value the
 * estimate, res->distance max(value, 0)^(1/p) (a control-variate estimate can be slightly
 * negative), res->stderr_value its standard error; info (or NULL) the parts; per_dir [L] (or
 * NULL) W_p^p(theta_l); grad_x [n, d] (or NULL) the gradient of res->value with respect to x
 * (see est->fixed_gamma), overwritten. MC is otg_sw (same bits). Other estimators: the same bits
 * for any thread count and chunk; with grad_x every direction's residuals are held at once
 * (memory O((n + m) L) floats, plus [L, n] for UCV); without, O((n + m) chunk). opts->weights
 * must be NULL for them. Errors as otg_sw; OTG_EINVAL on bad estimator options. */
OTG_NODISCARD otg_status otg_sw_estimate(otg_sw_workspace *ws, const otg_tensor *x, const float *a,
                                         const otg_tensor *y, const float *b,
                                         const otg_tensor *theta, const otg_sw_opts *opts,
                                         const otg_sw_estimator_opts *est, otg_sw_result *res,
                                         otg_sw_estimate_info *info, float *grad_x,
                                         double *per_dir);

/* otg_sw over the ranks of comm (NULL: otg_sw), with the same bits for any number of ranks.
 * Collective: every rank passes the same x, y, theta, weights and options. The directions go in
 * windows of chunk x size directions, each split over the ranks (a rank holds about chunk
 * directions at once: peak memory O((n + m) chunk) floats plus its gradient rows' residuals of a
 * window); res and per_dir are filled on every rank. grad_x (or NULL) receives the gradient rows
 * [row_off[rank], row_off[rank + 1]) as [rows, d] (row_off [size + 1], e.g. from otg_comm_rows), or
 * all [n, d] rows when row_off is NULL. Errors as otg_sw, and the communicator's. docs/mpi.md. */
OTG_NODISCARD otg_status otg_sw_comm(otg_sw_workspace *ws, const otg_tensor *x, const float *a,
                                     const otg_tensor *y, const float *b, const otg_tensor *theta,
                                     const otg_sw_opts *opts, otg_sw_result *res, float *grad_x,
                                     const int64_t *row_off, double *per_dir, otg_comm *comm);

/* ---- SW over many clouds -------------------------------------------------------------------- */

/* SW between every pair of the K >= 2 clouds clouds[k] [n_k, d] (uniform weights; sizes may
 * differ) along the shared columns of theta [d, L]: every cloud is projected and sorted once per
 * direction (K sorts per direction, not K (K - 1)), then all K (K - 1) / 2 values W_p^p come from
 * the sorted projections. dist [K, K] (row-major) receives SW_p = (SW_p^p)^(1/p) with a zero
 * diagonal and value [K, K] (or NULL) SW_p^p; entry (i, j), i < j, has the bits of
 * otg_sw(clouds[i], NULL, clouds[j], NULL, theta, opts) for any thread count and chunk. Peak
 * memory O(chunk sum_k n_k + K^2 L) floats/doubles. Non-finite points give non-finite entries.
 * OTG_EINVAL (K < 2, p < 1, chunk < 1, NULL, per-direction opts->weights), OTG_ESHAPE (a cloud not
 * [n, d] with theta's d), OTG_ENOMEM. */
OTG_NODISCARD otg_status otg_sw_pairwise(const otg_tensor *clouds, int64_t K,
                                         const otg_tensor *theta, const otg_sw_opts *opts,
                                         double *dist, double *value);

/* ---- max-sliced ----------------------------------------------------------------------------- */

/* max_l W_p^p(theta_l) over the columns of theta (POT's max-sliced on sampled directions);
 * *best receives the column index. */
OTG_NODISCARD otg_status otg_sw_max_sampled(otg_sw_workspace *ws, const otg_tensor *x,
                                            const float *a, const otg_tensor *y, const float *b,
                                            const otg_tensor *theta, double p, double *value,
                                            int64_t *best);

/* Projected gradient ascent on the sphere from direction dir [d]:
 * dir <- normalise(dir + step grad_dir W_p^p(dir)), `iters` times (the DSW-style max-sliced
 * estimator). A fixed step can overshoot, so dir returns the best direction met (the start
 * included) and *value its W_p^p: never below the starting value. */
OTG_NODISCARD otg_status otg_sw_max_ascent(const otg_tensor *x, const float *a, const otg_tensor *y,
                                           const float *b, double p, int64_t iters, double step,
                                           float *dir, double *value);

/* ---- evaluation metrics ---------------------------------------------------------------------- */

/* Energy distance 2 E|X - Y| - E|X - X'| - E|Y - Y'| (Euclidean norms; within-sample means over
 * pairs i != j) between x [n, d] and y [m, d], n, m >= 2. O((n + m)^2 d); rows in parallel, sums in
 * double in index order (same bits for any thread count). */
OTG_NODISCARD otg_status otg_energy_distance(const otg_tensor *x, const otg_tensor *y, double *out);
/* The same *value (same bits), and *se its standard error over the sampling of the points: the
 * delta method, sqrt(Var h_x / n + Var h_y / m) with h_x(i) = 2 mean_j |x_i - y_j| -
 * 2 mean_{k != i} |x_i - x_k| and h_y likewise (the influence of each point). A first-order
 * estimate: it understates the spread when the two laws are nearly equal (ED ~ 1/n). Costs
 * 4/3 of otg_energy_distance (the value comes from the same row sums). Errors as
 * otg_energy_distance's. */
OTG_NODISCARD otg_status otg_energy_distance_se(const otg_tensor *x, const otg_tensor *y,
                                                double *value, double *se);

/* The standard error of the SW_p distance (SW_p^p)^(1/p) along theta [d, L] between x [n, d] and
 * y [m, d] over the sampling of the points: the standard deviation of `replicates` bootstrap
 * values, each with the rows of x and of y resampled with replacement (multinomial counts drawn
 * from rng) and the same directions. Add the directions' Monte-Carlo error (otg_sw's stderr, on
 * the distance's scale) in quadrature for the whole error of an estimate. n, m in
 * [2, 2^31 - 1], replicates >= 2, p >= 1 (else OTG_EINVAL); OTG_ESHAPE, OTG_ENOMEM,
 * OTG_ENONFINITE (non-finite points). Directions in parallel; the same bits for any thread count.
 */
OTG_NODISCARD otg_status otg_sw_bootstrap(const otg_tensor *x, const otg_tensor *y,
                                          const otg_tensor *theta, double p, int64_t replicates,
                                          otg_rng *rng, double *se);

/* The sliced energy distance (Hertrich et al., ICLR 2024): the energy distance above, estimated
 * as c_d times the mean over the columns of theta [d, L] (unit directions, e.g. otg_sw_directions)
 * of the 1-D energy distances of the projections, each from sorted values in
 * O((n + m) log(n + m)) instead of O((n + m)^2 d). On the same scale as otg_energy_distance (its
 * expectation over uniform directions); exact for d = 1 with theta = [1]. */
typedef struct {
    double value;        /* the estimate of the energy distance */
    double stderr_value; /* its Monte-Carlo standard error over the directions (NaN if L = 1) */
    int64_t n_directions;
} otg_sliced_energy_result;

/* x [n, d], y [m, d], n, m >= 2; per_dir [L] (or NULL) receives each direction's 1-D energy
 * distance (before the factor c_d). OTG_ESHAPE on mismatched shapes, OTG_ENONFINITE when the value
 * is not finite (non-finite points), OTG_ENOMEM. */
OTG_NODISCARD otg_status otg_sliced_energy(const otg_tensor *x, const otg_tensor *y,
                                           const otg_tensor *theta, otg_sliced_energy_result *res,
                                           double *per_dir);
/* As otg_sliced_energy, and grad_x [n, d] (or NULL) receives d value / d x, overwritten: a
 * selection of the Clarke subdifferential (at equal projections ties are broken by index among x
 * and sign(0) = 0 against y), from the ranks in the same sorts, O((n + m) log(n + m)) per
 * direction plus a GEMM. Thread-count invariant. Errors as otg_sliced_energy. */
OTG_NODISCARD otg_status otg_sliced_energy_grad(const otg_tensor *x, const otg_tensor *y,
                                                const otg_tensor *theta,
                                                otg_sliced_energy_result *res, double *per_dir,
                                                float *grad_x);
/* c_d = sqrt(pi) Gamma((d + 1) / 2) / Gamma(d / 2): |z| = c_d E_theta |<theta, z>|. */
double otg_sliced_energy_constant(int64_t d);

/* ---- the SW loss as an ad op ---------------------------------------------------------------- */

/* Context of an SW loss node: the caller sets theta (borrowed, [d, L]) before each forward, e.g.
 * fresh directions every training step; result holds the last forward's figures. */
typedef struct {
    otg_sw_workspace *ws;    /* owned by the caller */
    const otg_tensor *theta; /* borrowed */
    otg_sw_opts opts;
    otg_sw_result result;
    float *grad_x;             /* [n, d], owned by the node's context (allocated at build) */
    otg_sw_estimator_opts est; /* the estimator (zeroed = MC, plain otg_sw) */
} otg_sw_loss_ctx;

/* loss [1] = SW_p^p(x, y; theta) with uniform weights, x [n, d], y [m, d], estimated by
 * ctx->est (otg_sw_estimate). The gradient flows to x only (y is data). ctx must outlive the graph;
 * free ctx->grad_x with otg_sw_loss_release. */
otg_node *otg_sw_loss(otg_graph *g, otg_node *x, otg_node *y, otg_sw_loss_ctx *ctx);
void otg_sw_loss_release(otg_sw_loss_ctx *ctx);

/* Context of an SW loss node against quantile data (otg_sw_to_quantiles): the caller sets
 * theta [d, L], q [L, n] and c [L] (all borrowed) before each forward. */
typedef struct {
    otg_sw_workspace *ws; /* owned by the caller */
    const otg_tensor *theta;
    const float *q;
    const double *c;
    otg_sw_opts opts; /* p = 2 */
    otg_sw_result result;
    float *grad_x; /* [n, d], owned by the node's context (allocated at build) */
} otg_sw_quantile_loss_ctx;

/* loss [1] = SW_2^2 between x [n, d] and the data set behind ctx's quantiles; the gradient flows
 * to x. ctx must outlive the graph; free ctx->grad_x with otg_sw_quantile_loss_release. */
otg_node *otg_sw_quantile_loss(otg_graph *g, otg_node *x, otg_sw_quantile_loss_ctx *ctx);
void otg_sw_quantile_loss_release(otg_sw_quantile_loss_ctx *ctx);

/* Context of a sliced-energy loss node, as otg_sw_loss_ctx: theta [d, L] (borrowed, unit
 * directions) set before each forward; result holds the last forward's figures. */
typedef struct {
    const otg_tensor *theta; /* borrowed */
    otg_sliced_energy_result result;
    float *grad_x; /* [n, d], owned by the node's context (allocated at build) */
} otg_sliced_energy_loss_ctx;

/* loss [1] = the sliced energy distance between x [n, d] and y [m, d] (n, m >= 2) along theta
 * (otg_sliced_energy_grad), the gradient to x only. ctx must outlive the graph; free
 * ctx->grad_x with otg_sliced_energy_loss_release. NULL (otg_last_error) on bad shapes. */
otg_node *otg_sliced_energy_loss(otg_graph *g, otg_node *x, otg_node *y,
                                 otg_sliced_energy_loss_ctx *ctx);
void otg_sliced_energy_loss_release(otg_sliced_energy_loss_ctx *ctx);

#ifdef __cplusplus
}
#endif
#endif
