/* otgen bench particles: forward Euler steps per second of the mean-field particle flow for relu2
 * (two-layer ReLU network, 2-homogeneous, weight decay) with m = 1024 particles, d = 64, a fixed
 * sample of 1024 points used as the full batch: per step F_m, the speed m grad F_m and the update,
 * what bench/torch_particles.py times with PyTorch tensors. particle_steps_per_s = m * steps_per_s.
 */
#define _POSIX_C_SOURCE 200809L
#include "cli.h"
#include "options.h"
#include "otgen/otgen.h"
#include "otgen/particles.h"

#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>

enum { BENCH_M = 1024, BENCH_D = 64, BENCH_BATCH = 1024, BENCH_M0 = 16, BLOCK_STEPS = 10 };
#define BENCH_LAMBDA 1e-3
#define BENCH_LR 0.05

typedef struct {
    int64_t threads, reps;
} bench_particles_opts;

static const otg_param_def defs[] = {
    {"threads", OTG_PARAM_INT, offsetof(bench_particles_opts, threads), 0, "T", "threads", 0, 1024,
     0},
    {"reps", OTG_PARAM_INT, offsetof(bench_particles_opts, reps), 0, "R",
     "timed blocks after 3 warm-up blocks", 1, 100000, 0},
};

int bench_particles(int argc, char **argv) {
    bench_particles_opts o = {2, 15};
    char usage[512];
    snprintf(
        usage, sizeof usage,
        "usage: otgen bench particles [--threads T] [--reps R]\n"
        "Forward Euler steps per second of relu2 with m = %d, d = %d, batch %d (a fixed sample of\n"
        "%d points, full batch), lambda = %g, lr = %g; each timed block is %d steps.\n"
        "Last stdout line: key=value pairs incl. steps_per_s and particle_steps_per_s.\n",
        BENCH_M, BENCH_D, BENCH_BATCH, BENCH_BATCH, BENCH_LAMBDA, BENCH_LR, BLOCK_STEPS);
    params_parse_argv("bench", usage, defs, (int)(sizeof defs / sizeof defs[0]), &o, argc, argv,
                      NULL);
    int64_t threads = o.threads, reps = o.reps;
    otg_threads_set((int)threads);
    otg_particles_params p = otg_particles_params_default();
    p.d = BENCH_D, p.m0 = BENCH_M0, p.lambda = BENCH_LAMBDA, p.n = BENCH_BATCH,
    p.batch = BENCH_BATCH;
    otg_particles *s = otg_particles_new(&otg_particles_relu2, &p, BENCH_M);
    double *t = malloc((size_t)reps * sizeof *t);
    if (!s || !t) {
        fprintf(stderr, "otgen bench: %s\n", s ? "out of memory" : otg_last_error());
        otg_particles_free(s), free(t);
        return OTG_EXIT_FAIL;
    }
    for (int64_t r = -3; r < reps; r++) { /* 3 warm-up blocks, then reps timed blocks */
        double t0 = cli_now();
        for (int k = 0; k < BLOCK_STEPS; k++)
            if (otg_particles_step(s, BENCH_LR) != OTG_OK) {
                fprintf(stderr, "otgen bench: %s\n", otg_last_error());
                otg_particles_free(s), free(t);
                return OTG_EXIT_FAIL;
            }
        if (r >= 0) t[r] = (cli_now() - t0) / BLOCK_STEPS;
    }
    double med = cli_sort_median(t, reps), F = 0.0;
    if (otg_particles_objective(s, &F) != OTG_OK) F = (double)NAN; /* printed as nan */
    /* Two GEMM-shaped products per step (pre-activations, theta gradients): 2 * 2 * B * m * (d+1).
     */
    double flops = 4.0 * BENCH_BATCH * BENCH_M * (BENCH_D + 1.0);
    printf("# otgen bench particles: relu2 m=%d d=%d batch=%d, %lld threads: %.3f ms/step "
           "(best %.3f), %.1f steps/s, %.3g particle-steps/s, %.1f GFLOP/s in the two products\n",
           BENCH_M, BENCH_D, BENCH_BATCH, (long long)threads, 1e3 * med, 1e3 * t[0], 1.0 / med,
           BENCH_M / med, flops / med * 1e-9);
    printf(
        "tool=otgen version=%s bench=particles problem=relu2 m=%d d=%d batch=%d threads=%lld "
        "median_ms=%.3f best_ms=%.3f steps_per_s=%.2f particle_steps_per_s=%.4g objective=%.6g\n",
        otg_version(), BENCH_M, BENCH_D, BENCH_BATCH, (long long)threads, 1e3 * med, 1e3 * t[0],
        1.0 / med, BENCH_M / med, F);
    otg_particles_free(s), free(t);
    return OTG_EXIT_OK;
}
