/* otgen implicit: nodes defined by a fixed point x* = T(x*, theta), differentiated implicitly
 * (Bolte, Le, Pauwels & Silveti-Falls 2021; docs/algorithms.md §4). T is an ordinary graph of
 * its own (inputs x and theta, output T(x, theta)); the node's forward iterates x <- T(x, theta)
 * to a tolerance, its backward solves (I - A)^T w = g matrix-free with vector-Jacobian products of
 * T's tape (A = dT/dx, the tape's conservative Jacobian at x*) and returns B^T w (B = dT/dtheta).
 * Shipped uses: the lasso by forward-backward (ISTA) and the deep-equilibrium layer (nn.h).
 * See docs/implicit.md. */
#ifndef OTGEN_IMPLICIT_H
#define OTGEN_IMPLICIT_H

#include "otgen/ad.h"
#include "otgen/core.h"

#ifdef __cplusplus
extern "C" {
#endif

/* How the backward solves the adjoint equation (I - A)^T w = g. */
typedef enum {
    OTG_ADJOINT_ITERATE, /* w <- g + A^T w from w = g: needs the spectral radius of A < 1 (as the
                          * forward does); converges at the forward's rate */
    OTG_ADJOINT_GMRES    /* restarted GMRES(m): any invertible I - A, usually far fewer passes
                          * when A's spectral radius is near 1 */
} otg_adjoint_solver;

/* Settings of a fixed-point node; defaults in brackets (otg_fixed_point_opts_default). */
typedef struct {
    int max_iter;         /* forward iterations x <- T(x, theta) at most [1000] */
    double tol;           /* forward stop: max|x_k+1 - x_k| <= tol (1 + max|x_k+1|) [1e-6] */
    int adjoint_max_iter; /* backward iterations w <- g + A^T w at most [1000] */
    double adjoint_tol;   /* backward stop: |g + A^T w - w|_2 <= adjoint_tol |g|_2 [1e-6] */
    int warm_start;       /* start each forward from the last solution instead of 0 [0]; with 0,
                           * a forward depends only on theta (bit-reproducible in isolation) */
    otg_adjoint_solver adjoint_solver; /* [OTG_ADJOINT_ITERATE] */
    int gmres_restart;                 /* GMRES: Krylov vectors per restart cycle, 1..1000 [30] */
} otg_fixed_point_opts;

/* The defaults in brackets above. */
otg_fixed_point_opts otg_fixed_point_opts_default(void);

/* A node x* [shape of t_x] with x* = T(x*, theta), appended to g.
 * t: T's graph, built by the caller: t_x an otg_input (requires_grad = 1) for x, t_theta[i]
 * otg_inputs for theta (requires_grad = 1 where g needs d/dtheta[i]), t_out the node T(x, theta),
 * of t_x's shape. t must have no otg_param: T's parameters enter as theta. Constant inputs of t
 * (requires_grad = 0, not in t_theta) keep the values the caller wrote after otg_graph_compile(t).
 * theta[i]: nodes of g of t_theta[i]'s shape, 1 <= n_theta <= 8; their values are copied into t
 * at each forward and their gradients receive B^T w at each backward.
 * Ownership: the call consumes t (g frees it with itself; on failure it is freed at once).
 * Returns NULL (reason in otg_last_error) on a bad argument or shape. At run time:
 *   otg_graph_forward returns OTG_ENOCONV when the iteration does not reach tol in max_iter,
 *   OTG_ENONFINITE when an iterate is NaN/Inf;
 *   otg_graph_backward returns OTG_ENOCONV when the adjoint solve diverges, stagnates, hits a
 *   zero pivot (GMRES) or runs out of iterations — the symptom of a singular (or nearly
 *   singular) I - A, or for OTG_ADJOINT_ITERATE of a spectral radius of A >= 1. */
otg_node *otg_fixed_point(otg_graph *g, otg_graph *t, otg_node *t_x, otg_node *t_out, int n_theta,
                          otg_node *const *t_theta, otg_node *const *theta,
                          const otg_fixed_point_opts *opts);

/* What the last forward and backward of a fixed-point node did. */
typedef struct {
    int iters;               /* forward iterations used */
    double step;             /* last max|x_k+1 - x_k| */
    int adjoint_iters;       /* backward passes of T in the last adjoint solve (0 before one) */
    double adjoint_residual; /* last |g + A^T w - w|_2 / |g|_2 (GMRES: its estimate) */
    int64_t kinks;           /* nonsmooth-op inputs of T's graph exactly at a kink in the last
                              * evaluation of T (otg_graph_kink_count of T at x*) */
} otg_fixed_point_info;

/* Fills *info for a node made by otg_fixed_point (OTG_EINVAL for any other node). */
OTG_NODISCARD otg_status otg_fixed_point_stats(const otg_node *n, otg_fixed_point_info *info);

/* ---- the lasso by forward-backward ----------------------------------------------------------- */

/* The soft-threshold S_t(v) = sign(v) max(|v| - t, 0) = relu(v - t) - relu(-v - t), elementwise:
 * v [p, 1], t [1] (broadcast). Built from two relus, so at |v| = t backprop uses relu'(0) = s of
 * the graph: dS/dv = s and dS/dt = -sign(v) s there (s = 0 by default: the zero piece). */
otg_node *otg_soft_threshold(otg_graph *g, otg_node *v, otg_node *t);

/* One forward-backward (ISTA) step on g for min_x 1/2 |A x - b|^2 + lam |x|_1:
 * T(x, lam) = S_{gamma lam}(x - gamma A^T (A x - b)). x [p, 1], lam [1], a [m, p], at [p, m]
 * (A^T, given so that no transpose op is needed), b [m, 1]. Use it to build the T of
 * otg_lasso_solve, or to unroll K steps on one tape. */
otg_node *otg_lasso_ista_step(otg_graph *g, otg_node *x, otg_node *lam, otg_node *a, otg_node *at,
                              otg_node *b, float gamma);

/* x*(lam) [p, 1], the lasso solution for A [m, p] and b [m] (copied), as a fixed-point node of
 * the ISTA step with step gamma (0 < gamma < 2 / |A|_2^2 for convergence; gamma <= 0 selects
 * 1 / |A|_2^2 from a power-iteration estimate). lam: a node of g of shape [1] (the
 * hyperparameter, >= 0). I - A is invertible when the columns of A on the support of x* are
 * linearly independent; otherwise the backward reports OTG_ENOCONV (singular). */
otg_node *otg_lasso_solve(otg_graph *g, otg_node *lam, const otg_tensor *a, const float *b,
                          float gamma, const otg_fixed_point_opts *opts);

/* |A|_2 for A [m, n] row-major by power iteration on A^T A from a fixed start (deterministic),
 * at most max_iter iterations or until the estimate changes by < 1e-7 relative. A lower bound of
 * the true norm up to that tolerance. */
double otg_spectral_norm(const float *a, int64_t m, int64_t n, int max_iter);

#ifdef __cplusplus
}
#endif
#endif
