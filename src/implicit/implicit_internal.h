/* Private helpers of the implicit module (src/implicit/), never included outside it: the GMRES
 * solver of the adjoint equation. The hook other modules may use is in implicit_hooks.h. */
#ifndef OTGEN_IMPLICIT_INTERNAL_H
#define OTGEN_IMPLICIT_INTERNAL_H

#include "implicit/implicit_hooks.h"

/* ---- GMRES for the adjoint equation (gmres.c) ---- */

/* v -> A^T v: *av points to the result (valid until the next call). */
typedef otg_status (*otgi_matvec)(void *ctx, const float *v, const float **av);

typedef struct {
    int64_t n;    /* unknowns */
    int restart;  /* m: Krylov vectors per cycle */
    int max_iter; /* operator applications at most (restarts' residuals not counted) */
    double tol;   /* stop at |g - (I - A^T) w| <= tol |g| */
    double *work; /* [otgi_gmres_work_doubles(n, restart)] */
    float *fbuf;  /* [n] */
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
