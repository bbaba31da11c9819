/* Hyperparameter descent for the lasso through implicit differentiation (docs/implicit.md,
 * docs/algorithms.md §4). x*(lam) = argmin 1/2 |A x - b|^2 + lam |x|_1 is a fixed-point node of
 * forward-backward (ISTA); the validation loss L(lam) = mean((V x*(lam) - c)^2) / 2 is
 * differentiated with respect to lam by solving (I - A_T)^T w = g on T's tape. Gradient descent on
 * log lam, mu <- mu - eta lam dL/dlam, from lam_max / 2 and from lam_max / 100 (L is not convex
 * in lam: the two starts end in different local minima). Prints a table, then the hypergradient
 * against central finite differences (h = lam / 100) on a grid of lam, and draws
 * runs/examples/lasso/descent.png (L over a lam grid with the descent path) and hypergradient.png
 * (implicit against FD). Usage: build/lasso_hyper [--steps K] [--eta E] [--out DIR] */
#define _POSIX_C_SOURCE 200809L
#include "otgen/otgen.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* A library call failed where the example cannot go on: say why and stop. */
static void die(void) {
    fprintf(stderr, "%s\n", otg_last_error());
    exit(1);
}

enum { M = 50, P = 30, MV = 50, GRID = 60 }; /* train rows, features, validation rows */

typedef struct {
    float a[M * P], b[M], v[MV * P], c[MV];
    otg_graph *g;
    otg_node *lam, *x, *loss;
} problem;

/* y = X x_true + 0.5 noise, X Gaussian / sqrt(rows); x_true has 6 nonzeros of mixed sign. */
static void fill_rows(otg_rng *r, float *x, float *y, int rows, const float *xt) {
    otg_rng_fill_normal(r, rows * P, x);
    for (int i = 0; i < rows * P; i++)
        x[i] /= sqrtf((float)rows);
    for (int i = 0; i < rows; i++) {
        double s = 0.5 * otg_rng_normal(r);
        for (int j = 0; j < P; j++)
            s += (double)x[i * P + j] * (double)xt[j];
        y[i] = (float)s;
    }
}

static int problem_make(problem *p) {
    float xt[P] = {0};
    const float nz[6] = {2.0f, -1.5f, 1.0f, -1.0f, 0.7f, 0.5f};
    for (int j = 0; j < 6; j++)
        xt[5 * j] = nz[j];
    otg_rng r = otg_rng_make(2021, 0);
    fill_rows(&r, p->a, p->b, M, xt);
    fill_rows(&r, p->v, p->c, MV, xt);
    p->g = otg_graph_new();
    p->lam = otg_input(p->g, 1, (int64_t[]){1}, 1);
    otg_tensor a = otg_tensor_view(p->a, 2, (int64_t[]){M, P});
    otg_fixed_point_opts o = otg_fixed_point_opts_default();
    o.max_iter = 20000, o.adjoint_max_iter = 20000, o.tol = 1e-7, o.adjoint_tol = 1e-6;
    p->x = otg_lasso_solve(p->g, p->lam, &a, p->b, 0.0f, &o);
    otg_node *nv = otg_input(p->g, 2, (int64_t[]){MV, P}, 0);
    otg_node *nc = otg_input(p->g, 2, (int64_t[]){MV, 1}, 0);
    otg_node *res = otg_sub(p->g, otg_matmul(p->g, nv, p->x), nc);
    p->loss = otg_scale(p->g, otg_mean(p->g, otg_square(p->g, res)), 0.5f);
    if (!p->loss || otg_graph_compile(p->g) != OTG_OK) return -1;
    memcpy(otg_node_data(nv), p->v, sizeof p->v);
    memcpy(otg_node_data(nc), p->c, sizeof p->c);
    return 0;
}

/* L(lam), and dL/dlam into *grad when grad is not NULL. NAN (message printed) on failure. */
static double eval(problem *p, double lam, double *grad) {
    otg_node_data(p->lam)[0] = (float)lam;
    otg_status st = otg_graph_forward(p->g);
    if (st == OTG_OK && grad) {
        otg_graph_zero_grad(p->g);
        st = otg_graph_backward(p->g, p->loss);
        if (st == OTG_OK) *grad = otg_node_grad(p->lam)[0];
    }
    if (st != OTG_OK) {
        fprintf(stderr, "lasso_hyper: lam %g: %s\n", lam, otg_last_error());
        return NAN;
    }
    return otg_node_data(p->loss)[0];
}

static int support(problem *p) {
    int k = 0;
    for (int j = 0; j < P; j++)
        k += otg_node_data(p->x)[j] != 0.0f;
    return k;
}

/* lam_max = max_j |A^T b|_j: x*(lam) = 0 for lam >= lam_max. */
static double lam_max(const problem *p) {
    double m = 0.0;
    for (int j = 0; j < P; j++) {
        double s = 0.0;
        for (int i = 0; i < M; i++)
            s += (double)p->a[i * P + j] * (double)p->b[i];
        m = fmax(m, fabs(s));
    }
    return m;
}

/* The descent; path_l[k], path_v[k] receive lam_k and L(lam_k). Returns the steps done. */
static int descend(problem *p, int steps, double eta, double lam, double *path_l, double *path_v) {
    printf("# hyperparameter descent on log lam: mu <- mu - %g lam dL/dlam\n", eta);
    printf("%4s %10s %12s %13s %8s %6s %6s\n", "k", "lam", "L_val", "dL/dlam", "support", "fwd",
           "adj");
    int k = 0;
    for (; k < steps; k++) {
        double gr = 0.0, l = eval(p, lam, &gr);
        if (!isfinite(l)) break;
        otg_fixed_point_info in;
        if (otg_fixed_point_stats(p->x, &in) != OTG_OK) die();
        printf("%4d %10.5f %12.6f %13.5e %8d %6d %6d\n", k, lam, l, gr, support(p), in.iters,
               in.adjoint_iters);
        path_l[k] = lam, path_v[k] = l;
        lam *= exp(-eta * lam * gr);
    }
    return k;
}

static double central_fd(problem *p, double lam, double h, int *s_lo, int *s_hi) {
    double lp = eval(p, lam + h, NULL);
    *s_hi = support(p);
    double lm = eval(p, lam - h, NULL);
    *s_lo = support(p);
    return (lp - lm) / (2.0 * h);
}

/* L, the implicit hypergradient and central FD (h = 1e-2 lam) on a log grid of lam; prints the
 * grid points where they differ by more than 1% with the support at both ends of the stencil. */
static void grid_scan(problem *p, double lo, double hi, double *gl, double *gv, double *gi,
                      double *gf) {
    double worst_same = 0.0, sorted[GRID];
    int n_break = 0;
    for (int i = 0; i < GRID; i++) {
        gl[i] = lo * pow(hi / lo, (double)i / (GRID - 1));
        gv[i] = eval(p, gl[i], &gi[i]);
        int s_lo, s_hi;
        gf[i] = central_fd(p, gl[i], 1e-2 * gl[i], &s_lo, &s_hi);
        double e = fabs(gi[i] - gf[i]) / fmax(fabs(gf[i]), 1e-12);
        sorted[i] = e;
        if (s_lo != s_hi)
            n_break++;
        else
            worst_same = fmax(worst_same, e);
        if (e > 1e-2)
            printf("#   lam %.5f: implicit %.5e, FD %.5e, support %d at lam - h, %d at lam + h\n",
                   gl[i], gi[i], gf[i], s_lo, s_hi);
    }
    for (int i = 1; i < GRID; i++) /* insertion sort for the median */
        for (int j = i; j > 0 && sorted[j - 1] > sorted[j]; j--) {
            double t = sorted[j];
            sorted[j] = sorted[j - 1], sorted[j - 1] = t;
        }
    printf("# hypergradient vs central FD (h = 1e-2 lam) on %d lam in [%.4g, %.4g]: median rel "
           "err %.2e; worst %.2e where the support is the same at lam -/+ h; %d stencils hold a "
           "breakpoint of the support\n",
           GRID, lo, hi, sorted[GRID / 2], worst_same, n_break);
}

int main(int argc, char **argv) {
    int steps = 20;
    double eta = 5.0;
    const char *out = "runs/examples/lasso";
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--steps"))
            steps = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--eta"))
            eta = atof(argv[i + 1]);
        else if (!strcmp(argv[i], "--out"))
            out = argv[i + 1];
    }
    if (steps < 1 || steps > 1000 || !(eta > 0))
        return fprintf(stderr, "lasso_hyper: --steps in 1..1000, --eta > 0\n"), 2;
    otg_threads_set(1);
    problem p;
    if (problem_make(&p) != 0) return fprintf(stderr, "lasso_hyper: %s\n", otg_last_error()), 1;
    const double lmax = lam_max(&p), start[2] = {0.5, 0.01};
    printf("# lasso: A [%d, %d], validation [%d, %d], lam_max = %.4f\n", M, P, MV, P, lmax);
    double *pl = calloc((size_t)(2 * steps), sizeof *pl),
           *pv = calloc((size_t)(2 * steps), sizeof *pv);
    int done[2];
    for (int r = 0; r < 2; r++) {
        printf("# start lam_0 = %g lam_max\n", start[r]);
        done[r] = descend(&p, steps, eta, start[r] * lmax, pl + r * steps, pv + r * steps);
    }
    double gl[GRID], gv[GRID], gi[GRID], gf[GRID];
    grid_scan(&p, 1e-3 * lmax, lmax, gl, gv, gi, gf);
    char path[512];
    mkdir("runs", 0755), mkdir("runs/examples", 0755), mkdir(out, 0755);
    snprintf(path, sizeof path, "%s/descent.png", out);
    otg_series s[3] = {{"L_val(lam) on a grid", gl, gv, GRID},
                       {"descent from lam_max/2", pl, pv, done[0]},
                       {"descent from lam_max/100", pl + steps, pv + steps, done[1]}};
    if (otg_plot_lines(path, s, 3, "Lasso: validation loss and hyperparameter descent", "lam",
                       "validation loss", 1, 0, 1) != OTG_OK)
        fprintf(stderr, "lasso_hyper: %s\n", otg_last_error());
    snprintf(path, sizeof path, "%s/hypergradient.png", out);
    otg_series h[2] = {{"implicit dL/dlam", gl, gi, GRID},
                       {"central FD, h = lam/100", gl, gf, GRID}};
    if (otg_plot_lines(path, h, 2, "Lasso hypergradient: implicit vs finite differences", "lam",
                       "dL/dlam", 1, 0, 1) != OTG_OK)
        fprintf(stderr, "lasso_hyper: %s\n", otg_last_error());
    printf("pictures: %s/descent.png %s/hypergradient.png\n", out, out);
    otg_graph_free(p.g);
    free(pl), free(pv);
    return done[0] == steps && done[1] == steps ? 0 : 1;
}
