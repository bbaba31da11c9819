/* otgen bench cnn: training steps per second of the convolutional SW generator step that
 * bench/torch_cnn.py times, with the same definitions: `otgen train --data fashion-mnist --model
 * cnn|rescnn` at its defaults (latent 32, 32 channels, ReLU, sigmoid out, L = 128 Gaussian
 * directions, SW_2^2 on the batch, Adam lr 1e-3) and the batch given; validation is not timed. */
#define _POSIX_C_SOURCE 200809L
#include "cli.h"
#include "options.h"
#include "otgen/otgen.h"
#include "otgen/train.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* CPU seconds of the whole process (all threads): under load a steadier figure than the wall. */
static double cpu_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

typedef struct {
    char model[16];
    int64_t batch, threads, reps;
} bench_cnn_opts;

static const otg_param_def defs[] = {
    {"model", OTG_PARAM_STR, OTG_PARAM_STR_FIELD(bench_cnn_opts, model), "M", "cnn or rescnn", 0, 0,
     0},
    {"batch", OTG_PARAM_INT, offsetof(bench_cnn_opts, batch), 0, "B", "batch", 1, 1 << 20, 0},
    {"threads", OTG_PARAM_INT, offsetof(bench_cnn_opts, threads), 0, "T", "threads", 0, 1024, 0},
    {"reps", OTG_PARAM_INT, offsetof(bench_cnn_opts, reps), 0, "R",
     "timed blocks of 10 steps after 3 warm-up blocks", 1, 100000, 0},
};

/* Multiply-adds per sample of the 3x3 convolutions, forward only: 32 -> 16 channels at 14 x 14
 * and 16 -> 1 at 28 x 28, and for rescnn two 16 -> 16 at 14 x 14 and two at 28 x 28. */
static double conv_macs(int res) {
    return 196.0 * 16 * 32 * 9 + 784.0 * 1 * 16 * 9 + (res ? 2.0 * (196 + 784) * 16 * 16 * 9 : 0);
}

/* reps timed blocks of 10 steps after 3 warm-up blocks, into t[reps]; *cpu = CPU seconds per
 * step over the timed blocks. */
static otg_status time_blocks(otg_trainer *tr, int64_t reps, double *t, double *cpu) {
    double c0 = 0.0;
    for (int64_t b = -3; b < reps; b++) {
        if (b == 0) c0 = cpu_now();
        double t0 = cli_now();
        for (int k = 0; k < 10; k++) {
            otg_status st = otg_trainer_step(tr, NULL);
            if (st != OTG_OK) return st;
        }
        if (b >= 0) t[b] = cli_now() - t0;
    }
    *cpu = (cpu_now() - c0) / (10.0 * (double)reps);
    return OTG_OK;
}

int bench_cnn(int argc, char **argv) {
    bench_cnn_opts o = {"cnn", 64, 2, 10};
    params_parse_argv("bench",
                      "usage: otgen bench cnn [--model cnn|rescnn] [--batch B] [--threads T] "
                      "[--reps R]\n"
                      "Steps per second of the convolutional generator's SW training step.\n",
                      defs, (int)(sizeof defs / sizeof defs[0]), &o, argc, argv, NULL);
    if (strcmp(o.model, "cnn") && strcmp(o.model, "rescnn"))
        cli_usage_error("bench", "--model: '%s' (cnn or rescnn)", o.model);
    otg_threads_set((int)o.threads);
    otg_train_config c = otg_train_config_default();
    snprintf(c.data, sizeof c.data, "fashion-mnist");
    snprintf(c.model, sizeof c.model, "%s", o.model);
    c.batch = o.batch, c.val_n = o.batch, c.val_projections = 8;
    otg_trainer *tr = otg_trainer_new(&c);
    double *t = malloc((size_t)o.reps * sizeof *t);
    double cpu = 0.0;
    otg_status st = tr && t ? time_blocks(tr, o.reps, t, &cpu) : OTG_ENOMEM;
    if (st != OTG_OK) {
        fprintf(stderr, "otgen bench: cnn: %s\n", otg_last_error());
        free(t), otg_trainer_free(tr);
        return OTG_EXIT_FAIL;
    }
    double med = cli_sort_median(t, o.reps), sps = 10.0 / med;
    const char *ct = getenv("OPENBLAS_CORETYPE");
    printf("# otgen bench cnn --model %s --batch %lld: %.1f steps/s (%.1f ms/step)\n", o.model,
           (long long)o.batch, sps, 1e3 * med / 10.0);
    printf("tool=otgen version=%s model=%s batch=%lld L=%lld threads=%lld steps_per_s=%.2f "
           "best_steps_per_s=%.2f cpu_ms_per_step=%.2f conv_gflop_per_step=%.4f coretype=%s\n",
           otg_version(), o.model, (long long)o.batch, (long long)c.projections,
           (long long)o.threads, sps, 10.0 / t[0], 1e3 * cpu,
           6.0 * conv_macs(strcmp(o.model, "cnn") != 0) * (double)o.batch * 1e-9,
           ct && *ct ? ct : "auto");
    free(t);
    otg_trainer_free(tr);
    return OTG_EXIT_OK;
}
