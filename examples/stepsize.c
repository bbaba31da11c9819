/* Tanguy (2023), Theorem 1, as an experiment (docs/algorithms.md section 7): on a discrete problem
 * (16 latent points pushed onto a 4 x 4 grid by an MLP 2-32-32-2 with ReLU), run fixed-step SGD on
 * SW_2^2 with fresh directions at steps a, a/2, a/4, a/8, and compare each interpolated trajectory
 * t -> u_floor(t/a) with a reference flow (step a/64, 1024 directions per step) at equal times
 * t <= T. The theorem says the sup distance shrinks as the step shrinks. Prints a table and draws
 * runs/examples/stepsize/stepsize.png (sup distance against step, log-log) and distance.png.
 * Usage: build/stepsize [--seeds S] [--out DIR] */
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

enum { N = 16, D = 2, SAMPLES = 41 }; /* points, dimension, trajectory samples on [0, T] */
static const double A0 = 0.2, T = 8.0;

typedef struct {
    otg_graph *g;
    otg_node *z, *y, *loss;
    otg_sw_loss_ctx sw;
    otg_tensor *theta;
    int64_t np;
} problem;

static void problem_make(problem *p, int64_t L) {
    memset(p, 0, sizeof *p);
    p->g = otg_graph_new();
    p->z = otg_input(p->g, 2, (int64_t[]){N, D}, 0);
    p->y = otg_input(p->g, 2, (int64_t[]){N, D}, 0);
    otg_mlp_spec s = otg_mlp_spec_default();
    s.widths = (const int64_t[]){D, 32, 32, D};
    s.n_widths = 4;
    otg_rng init = otg_rng_make(2023, 0); /* the same initial u for every run */
    otg_node *x = otg_mlp_build(p->g, p->z, &s, &init);
    p->sw.ws = otg_sw_workspace_new();
    p->sw.opts = otg_sw_opts_default();
    p->theta = otg_tensor_new(2, (int64_t[]){D, L});
    p->sw.theta = p->theta;
    p->loss = otg_sw_loss(p->g, x, p->y, &p->sw);
    if (otg_graph_compile(p->g) != OTG_OK) die();
    otg_graph_params(p->g, &p->np);
    /* the discrete problem: fixed latent points and the 4 x 4 grid */
    otg_rng zr = otg_rng_make(7, 1);
    otg_rng_fill_normal(&zr, N * D, otg_node_data(p->z));
    float *y = otg_node_data(p->y);
    for (int i = 0; i < N; i++)
        y[2 * i] = (float)(i % 4) / 1.5f - 1.0f, y[2 * i + 1] = (float)(i / 4) / 1.5f - 1.0f;
}

static void problem_free(problem *p) {
    otg_graph_free(p->g);
    otg_sw_loss_release(&p->sw);
    otg_sw_workspace_free(p->sw.ws);
    otg_tensor_free(p->theta);
}

/* Runs SGD with step a until time T; traj[j * np ...] = u at time t_j = j T / (SAMPLES - 1). */
static void trajectory(problem *p, double a, uint64_t seed, float *traj) {
    otg_rng dirs = otg_rng_make(seed, 3);
    int64_t n;
    float *u = otg_graph_params(p->g, &n), *g = otg_graph_grads(p->g, NULL);
    float *u0 = malloc((size_t)n * sizeof *u0);
    memcpy(u0, u, (size_t)n * sizeof *u0);
    const int64_t steps = (int64_t)llround(T / a);
    int64_t j = 0;
    for (int64_t k = 0; k <= steps; k++) {
        /* u_k is the interpolated trajectory at every sample time t_j with floor(t_j / a) = k */
        while (j < SAMPLES && (int64_t)floor((double)j * T / (SAMPLES - 1) / a + 1e-9) == k)
            memcpy(traj + j++ * n, u, (size_t)n * sizeof *u);
        if (k == steps) break;
        if (otg_sw_directions(&dirs, OTG_DIR_GAUSSIAN, D, p->theta->shape[1], p->theta->data) !=
            OTG_OK)
            die();
        if (otg_graph_forward(p->g) != OTG_OK) die();
        otg_graph_zero_grad(p->g);
        if (otg_graph_backward(p->g, p->loss) != OTG_OK) die();
        for (int64_t i = 0; i < n; i++)
            u[i] -= (float)a * g[i];
    }
    memcpy(u, u0, (size_t)n * sizeof *u0); /* restore the initial point for the next run */
    free(u0);
}

static double dist(const float *a, const float *b, int64_t n) {
    double s = 0;
    for (int64_t i = 0; i < n; i++)
        s += ((double)a[i] - (double)b[i]) * ((double)a[i] - (double)b[i]);
    return sqrt(s);
}

int main(int argc, char **argv) {
    int seeds = 5;
    const char *out = "runs/examples/stepsize";
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--seeds"))
            seeds = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--out"))
            out = argv[i + 1];
    }
    if (seeds < 1) return fprintf(stderr, "stepsize: --seeds must be >= 1\n"), 2;
    otg_threads_set(1);
    problem ref, sgd;
    problem_make(&ref, 1024);
    problem_make(&sgd, 4);
    const int64_t np = ref.np;
    float *rt = malloc((size_t)(SAMPLES * np) * sizeof *rt),
          *st = malloc((size_t)(SAMPLES * np) * sizeof *st);
    trajectory(&ref, A0 / 64.0, 99, rt);
    double alpha[4], sup[4], curve[4][SAMPLES], tgrid[SAMPLES];
    for (int j = 0; j < SAMPLES; j++)
        tgrid[j] = (double)j * T / (SAMPLES - 1);
    printf("# SGD on SW_2^2 (4 directions per step) against the reference flow (step %g, 1024 "
           "directions), T = %g, %d seeds\n",
           A0 / 64.0, T, seeds);
    printf("%10s %8s %16s\n", "step", "steps", "sup_t |u-u_ref|");
    for (int k = 0; k < 4; k++) {
        alpha[k] = A0 / (double)(1 << k), sup[k] = 0;
        for (int j = 0; j < SAMPLES; j++)
            curve[k][j] = 0;
        for (int s = 0; s < seeds; s++) {
            trajectory(&sgd, alpha[k], 1000 + (uint64_t)s, st);
            double m = 0;
            for (int j = 0; j < SAMPLES; j++) {
                double dj = dist(st + j * np, rt + j * np, np);
                curve[k][j] += dj / seeds;
                m = fmax(m, dj);
            }
            sup[k] += m / seeds;
        }
        printf("%10.4f %8lld %16.5f\n", alpha[k], (long long)llround(T / alpha[k]), sup[k]);
    }
    double slope = (log(sup[3]) - log(sup[0])) / (log(alpha[3]) - log(alpha[0]));
    printf("fitted slope of log sup-distance against log step: %.2f (positive: the distance "
           "shrinks with the step)\n",
           slope);
    char path[512];
    mkdir("runs", 0755), mkdir("runs/examples", 0755), mkdir(out, 0755);
    snprintf(path, sizeof path, "%s/stepsize.png", out);
    otg_series s1 = {"mean over seeds of sup_t |u_a(t) - u_ref(t)|", alpha, sup, 4};
    if (otg_plot_lines(path, &s1, 1, "SGD trajectories approach the flow as the step shrinks",
                       "step a", "sup distance", 1, 1, 1) != OTG_OK)
        fprintf(stderr, "stepsize: %s\n", otg_last_error());
    snprintf(path, sizeof path, "%s/distance.png", out);
    char labels[4][32];
    otg_series cs[4];
    for (int k = 0; k < 4; k++) {
        snprintf(labels[k], sizeof labels[k], "a = %g", alpha[k]);
        cs[k] = (otg_series){labels[k], tgrid, curve[k], SAMPLES};
    }
    if (otg_plot_lines(path, cs, 4, "Distance to the reference flow", "time t",
                       "|u_a(t) - u_ref(t)|", 0, 0, 1) != OTG_OK)
        fprintf(stderr, "stepsize: %s\n", otg_last_error());
    printf("pictures: %s/stepsize.png %s/distance.png\n", out, out);
    problem_free(&ref), problem_free(&sgd);
    free(rt), free(st);
    return 0;
}
