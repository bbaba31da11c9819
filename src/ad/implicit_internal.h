/* Private hooks of the fixed-point node (src/ad/implicit.c) for builders in other modules: the
 * deep-equilibrium layer (src/nn/deq.c) projects its W onto a spectral-norm ball before each
 * forward solve through the prepare hook. */
#ifndef OTGEN_IMPLICIT_INTERNAL_H
#define OTGEN_IMPLICIT_INTERNAL_H

#include "internal.h"
#include "otgen/implicit.h"

/* Called at the start of every forward of the fixed-point node with the node's inputs (the
 * theta values, writable: a parameter's slice of the flat buffer), before they are copied into
 * T's graph. An error status aborts the forward. */
typedef otg_status (*otgi_fixed_point_prepare)(void *user, int n_theta, const otg_tensor *theta);

/* Installs the hook on a node made by otg_fixed_point; user is owned by the node when release
 * is non-NULL (called when the graph is freed). OTG_EINVAL for any other node. */
otg_status otgi_fixed_point_set_prepare(otg_node *n, otgi_fixed_point_prepare prepare, void *user,
                                        void (*release)(void *user));

/* ---- GMRES for the adjoint equation (implicit_gmres.c) ---- */

/* v -> A^T v: *av points to the result (valid until the next call). */
typedef otg_status (*otgi_matvec)(void *ctx, const float *v, const float **av);

typedef struct {
    int64_t n;          /* unknowns */
    int restart;        /* m: Krylov vectors per cycle */
    int max_iter;       /* operator applications at most (restarts' residuals not counted) */
    double tol;         /* stop at |g - (I - A^T) w| <= tol |g| */
    double *work;       /* [otgi_gmres_work_doubles(n, restart)] */
    float *fbuf;        /* [n] */
    otgi_matvec matvec;
    void *ctx;
} otgi_gmres_args;

size_t otgi_gmres_work_doubles(int64_t n, int m);
/* Solves (I - A^T) w = g from w = 0 into w_out [n]. OTG_ENOCONV with *why ("stagnated", "hit a
 * zero pivot", "did not converge", "gave |w| > 1e6 |g|") when it fails; a matvec error passes
 * through. *iters: operator applications; *rel_residual: the last |r| / |g|. */
otg_status otgi_gmres(const otgi_gmres_args *a, const float *g, float *w_out, int *iters,
                      double *rel_residual, const char **why);

#endif
