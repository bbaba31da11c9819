/* otgen bench train: training steps per second of the SW generator step that
 * bench/torch_train.py times, with the same definitions:
 *   fmnist  MLP 32-512-512-784 (relu, sigmoid out), batch 256, L = 128, Fashion-MNIST, SGD
 *   2d      MLP 2-128-128-2 (relu, linear out), batch 512, L = 64, 8 Gaussians, SGD
 * and the GEMM-limited rate (the step's GEMM FLOPs at the SGEMM peak measured in the same run), and
 * the physical limit: those GEMMs plus the SW sorts at their measured speed. */
#define _POSIX_C_SOURCE 200809L
#include "cli.h"
#include "options.h"
#include "otgen/otgen.h"
#include "otgen/train.h"

#include <stddef.h>
#include <stdio.h>

#include <stdlib.h>
#include <string.h>

/* The config of the model as torch_train.py defines it. */
static otg_train_config model_config(int fmnist) {
    otg_train_config c = otg_train_config_default();
    snprintf(c.data, sizeof c.data, "%s", fmnist ? "fashion-mnist" : "gaussians8");
    snprintf(c.hidden, sizeof c.hidden, "%s", fmnist ? "512,512" : "128,128");
    snprintf(c.optimizer, sizeof c.optimizer, "sgd");
    snprintf(c.output, sizeof c.output, "%s", fmnist ? "sigmoid" : "none");
    c.latent = fmnist ? 32 : 2, c.batch = fmnist ? 256 : 512, c.projections = fmnist ? 128 : 64;
    c.val_n = c.batch, c.val_projections = 8;
    return c;
}

/* GEMM FLOPs of one step: the MLP forward and backward and the SW kernel's three products. */
static double step_flops(const otg_trainer *t) {
    const otg_model_spec *s = otg_trainer_spec(t);
    const otg_train_config *c = otg_trainer_config(t);
    double mac = (double)s->latent * (double)s->hidden[0];
    for (int i = 0; i + 1 < s->n_hidden; i++)
        mac += (double)s->hidden[i] * (double)s->hidden[i + 1];
    mac += (double)s->hidden[s->n_hidden - 1] * (double)s->out_dim;
    return 6.0 * (double)c->batch * mac +
           6.0 * (double)c->batch * (double)s->out_dim * (double)c->projections;
}

/* reps timed blocks of 10 steps after 3 warm-up blocks, into t[reps]. */
static otg_status time_blocks(otg_trainer *tr, int64_t reps, double *t) {
    for (int64_t b = -3; b < reps; b++) {
        double t0 = cli_now();
        for (int k = 0; k < 10; k++) {
            otg_status st = otg_trainer_step(tr, NULL);
            if (st != OTG_OK) return st;
        }
        if (b >= 0) t[b] = cli_now() - t0;
    }
    return OTG_OK;
}

typedef struct {
    char model[16];
    int64_t threads, reps;
} bench_train_opts;

static const otg_param_def defs[] = {
    {"model", OTG_PARAM_STR, OTG_PARAM_STR_FIELD(bench_train_opts, model), "M", "fmnist or 2d", 0,
     0, 0},
    {"threads", OTG_PARAM_INT, offsetof(bench_train_opts, threads), 0, "T", "threads", 0, 1024, 0},
    {"reps", OTG_PARAM_INT, offsetof(bench_train_opts, reps), 0, "R",
     "timed blocks of 10 steps after 3 warm-up blocks", 1, 100000, 0},
};

int bench_train(int argc, char **argv, double (*peak)(int64_t)) {
    bench_train_opts o = {"fmnist", 2, 15};
    params_parse_argv("bench",
                      "usage: otgen bench train [--model fmnist|2d] [--threads T] [--reps R]\n"
                      "Training steps per second against the GEMM limit of the machine.\n",
                      defs, (int)(sizeof defs / sizeof defs[0]), &o, argc, argv, NULL);
    int fmnist = !strcmp(o.model, "fmnist");
    if (!fmnist && strcmp(o.model, "2d"))
        cli_usage_error("bench", "--model: '%s' (fmnist or 2d)", o.model);
    int64_t threads = o.threads, reps = o.reps;
    otg_threads_set((int)threads);
    otg_train_config c = model_config(fmnist);
    otg_trainer *tr = otg_trainer_new(&c);
    double *t = malloc((size_t)reps * sizeof *t);
    otg_status st = tr && t ? time_blocks(tr, reps, t) : OTG_ENOMEM;
    if (st != OTG_OK) {
        fprintf(stderr, "otgen bench: train: %s\n", otg_last_error());
        free(t), otg_trainer_free(tr);
        return OTG_EXIT_FAIL;
    }
    double med = cli_sort_median(t, reps), pk = peak(5);
    double flops = step_flops(tr), limit = pk * 1e9 / flops, sps = 10.0 / med;
    /* the physical limit of the whole step: its GEMMs at the peak plus the SW sorts (the batch
     * with its permutation, the data batch keys alone, per direction) at their measured
     * one-thread speed shared by the threads */
    double sort_s = (double)c.projections * (double)c.batch *
                    (bench_sort_ns(c.batch, 1, 5) + bench_sort_ns(c.batch, 0, 5)) * 1e-9 /
                    otg_threads_get();
    double phys = 1.0 / (flops / (pk * 1e9) + sort_s);
    const char *ct = getenv("OPENBLAS_CORETYPE");
    printf("# otgen bench train --model %s: %.1f steps/s; GEMM limit %.1f steps/s (%.3f GFLOP/step "
           "at %.1f GFLOP/s): %.0f%%\n",
           fmnist ? "fmnist" : "2d", sps, limit, flops * 1e-9, pk, 100.0 * sps / limit);
    printf("# physical limit %.1f steps/s (GEMMs at the peak + sorts %.3f ms/step): %.0f%%\n", phys,
           sort_s * 1e3, 100.0 * sps / phys);
    printf("tool=otgen version=%s model=%s batch=%lld L=%lld threads=%lld steps_per_s=%.2f "
           "best_steps_per_s=%.2f "
           "gemm_limit_steps_per_s=%.1f limit_fraction=%.3f phys_limit_steps_per_s=%.1f "
           "phys_limit_fraction=%.3f sort_ms_per_step=%.3f gflop_per_step=%.4f peak_gflops=%.1f "
           "coretype=%s\n",
           otg_version(), fmnist ? "fmnist" : "2d", (long long)c.batch, (long long)c.projections,
           (long long)threads, sps, 10.0 / t[0], limit, sps / limit, phys, sps / phys, sort_s * 1e3,
           flops * 1e-9, pk, ct && *ct ? ct : "auto");
    free(t);
    otg_trainer_free(tr);
    return OTG_EXIT_OK;
}
