/* Test helper: finite-difference gradient check of a graph's output with respect to its leaves.
 * The loss is L = sum_k w_k out_k with fixed random weights w, evaluated in double from the
 * float32 forward; the analytic gradient comes from otg_graph_backward_seed(out, w). Central
 * differences use the step actually representable in float ((x + h) - (x - h) after rounding).
 * A case passes when every element satisfies |ad - fd| <= rtol |fd| + atol * max|fd|, and the
 * gradient is large enough that a wrong sign or a factor of 2 would fail (non-vacuous). */
#ifndef OTGEN_TEST_GRADCHECK_H
#define OTGEN_TEST_GRADCHECK_H

#include "otgen/ad.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    double max_err;   /* worst |ad - fd| / (rtol |fd| + atol max|fd|), <= 1 to pass */
    double max_fd;    /* max |fd| over all checked elements */
    double wrong2_err;/* the same measure for 2 * ad (must be > 1: the check can fail) */
    int64_t checked;
} gradcheck_result;

static inline double gc_loss(otg_graph *g, otg_node *out, const float *w) {
    if (otg_graph_forward(g) != OTG_OK) return NAN;
    const float *y = otg_node_data(out);
    double s = 0.0;
    for (int64_t k = 0; k < otg_node_numel(out); k++) s += (double)w[k] * (double)y[k];
    return s;
}

/* Checks d L / d leaves[i] for i < n_leaves (inputs with requires_grad or params).
 * h: finite-difference step; rtol/atol: tolerances. */
static inline gradcheck_result gradcheck(otg_graph *g, otg_node *out, otg_node **leaves, int n_leaves,
                                  uint64_t seed, float h, double rtol, double atol) {
    gradcheck_result r = {0, 0, 0, 0};
    int64_t m = otg_node_numel(out), total = 0;
    float *w = malloc((size_t)m * sizeof *w);
    otg_rng rng = otg_rng_make(seed, 999);
    for (int64_t k = 0; k < m; k++) w[k] = (float)(otg_rng_uniform(&rng) * 2.0 - 1.0);
    for (int i = 0; i < n_leaves; i++) total += otg_node_numel(leaves[i]);
    double *ad = malloc((size_t)total * sizeof *ad), *fd = malloc((size_t)total * sizeof *fd);
    gc_loss(g, out, w);
    otg_graph_zero_grad(g);
    if (otg_graph_backward_seed(g, out, w) != OTG_OK) {
        fprintf(stderr, "gradcheck: backward failed: %s\n", otg_last_error());
        r.max_err = INFINITY;
        goto done;
    }
    int64_t at = 0;
    for (int i = 0; i < n_leaves; i++) {
        const float *gi = otg_node_grad(leaves[i]);
        for (int64_t j = 0; j < otg_node_numel(leaves[i]); j++) ad[at++] = gi[j];
    }
    at = 0;
    for (int i = 0; i < n_leaves; i++) {
        float *x = otg_node_data(leaves[i]);
        for (int64_t j = 0; j < otg_node_numel(leaves[i]); j++, at++) {
            float v = x[j], xp = v + h, xm = v - h;
            x[j] = xp;
            double lp = gc_loss(g, out, w);
            x[j] = xm;
            double lm = gc_loss(g, out, w);
            x[j] = v;
            fd[at] = (lp - lm) / ((double)xp - (double)xm);
            if (fabs(fd[at]) > r.max_fd) r.max_fd = fabs(fd[at]);
        }
    }
    for (int64_t k = 0; k < total; k++) {
        double tol = rtol * fabs(fd[k]) + atol * r.max_fd + 1e-12;
        double e = fabs(ad[k] - fd[k]) / tol, e2 = fabs(2.0 * ad[k] - fd[k]) / tol;
        if (!(e <= r.max_err)) r.max_err = e; /* NaN-safe */
        if (e2 > r.wrong2_err) r.wrong2_err = e2;
    }
    r.checked = total;
    gc_loss(g, out, w); /* leave the graph at the unperturbed point */
done:
    free(w);
    free(ad);
    free(fd);
    return r;
}

/* Fills a leaf with uniforms in [lo, hi], optionally keeping |x| >= gap away from 0. */
static inline void gc_fill(otg_node *n, otg_rng *rng, float lo, float hi, float gap) {
    float *x = otg_node_data(n);
    for (int64_t j = 0; j < otg_node_numel(n); j++) {
        float v;
        do v = (float)((double)lo + ((double)hi - (double)lo) * otg_rng_uniform(rng));
        while (fabsf(v) < gap);
        x[j] = v;
    }
}

#endif
