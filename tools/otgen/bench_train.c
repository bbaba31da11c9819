/* otgen bench train: training steps per second of the SW generator step that
 * ../shared/bench/torch_train.py times, with the same definitions:
 *   fmnist  MLP 32-512-512-784 (relu, sigmoid out), batch 256, L = 128, Fashion-MNIST, SGD
 *   2d      MLP 2-128-128-2 (relu, linear out), batch 512, L = 64, 8 Gaussians, SGD
 * and the GEMM-limited rate (the step's GEMM FLOPs at the SGEMM peak measured in the same run). */
#define _POSIX_C_SOURCE 200809L
#include "cli.h"
#include "train.h"

#include <stdlib.h>
#include <string.h>

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Options of the model as torch_train.py defines it. */
static void model_options(train_opts *o, int fmnist, int64_t threads) {
    *o = train_opts_default();
    free(o->data), free(o->hidden), free(o->optimizer), free(o->output);
    o->data = strdup(fmnist ? "fashion-mnist" : "gaussians8");
    o->hidden = strdup(fmnist ? "512,512" : "128,128");
    o->optimizer = strdup("sgd");
    o->output = strdup(fmnist ? "sigmoid" : "none");
    o->latent = fmnist ? 32 : 2, o->batch = fmnist ? 256 : 512, o->projections = fmnist ? 128 : 64;
    o->val_n = o->batch, o->val_projections = 8, o->threads = threads;
}

/* GEMM FLOPs of one step: the MLP forward and backward and the SW kernel's three products. */
static double step_flops(const train_run *r) {
    const otg_model_spec *s = &r->spec;
    double mac = (double)s->latent * (double)s->hidden[0];
    for (int i = 0; i + 1 < s->n_hidden; i++) mac += (double)s->hidden[i] * (double)s->hidden[i + 1];
    mac += (double)s->hidden[s->n_hidden - 1] * (double)s->out_dim;
    return 6.0 * (double)r->o->batch * mac + 6.0 * (double)r->o->batch * (double)r->dim * (double)r->o->projections;
}

int bench_train(int argc, char **argv, double (*peak)(int64_t)) {
    int fmnist = 1;
    int64_t threads = 2, reps = 15;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--model") && i + 1 < argc) {
            fmnist = !strcmp(argv[++i], "fmnist");
            if (!fmnist && strcmp(argv[i], "2d")) cli_usage_error("bench", "--model: '%s' (fmnist or 2d)", argv[i]);
        } else if (!strcmp(argv[i], "--threads") && i + 1 < argc) threads = cli_parse_int("bench", "--threads", argv[++i], 0, 1024);
        else if (!strcmp(argv[i], "--reps") && i + 1 < argc) reps = cli_parse_int("bench", "--reps", argv[++i], 1, 100000);
        else cli_usage_error("bench", "train: unknown option '%s' (--model fmnist|2d, --threads, --reps)", argv[i]);
    }
    train_opts o;
    model_options(&o, fmnist, threads);
    train_run r;
    int rc = train_setup(&r, &o);
    if (rc) return rc;
    double *t = malloc((size_t)reps * sizeof *t);
    for (int64_t b = -3; b < reps; b++) { /* 3 warm-up blocks, then timed blocks of 10 steps */
        double t0 = cli_now();
        for (int k = 0; k < 10; k++) train_step(&r);
        if (b >= 0) t[b] = cli_now() - t0;
    }
    qsort(t, (size_t)reps, sizeof *t, cmp_double);
    double med = reps % 2 ? t[reps / 2] : 0.5 * (t[reps / 2 - 1] + t[reps / 2]), pk = peak(5);
    double flops = step_flops(&r), limit = pk * 1e9 / flops, sps = 10.0 / med;
    const char *ct = getenv("OPENBLAS_CORETYPE");
    printf("# otgen bench train --model %s: %.1f steps/s; GEMM limit %.1f steps/s (%.3f GFLOP/step at %.1f GFLOP/s): %.0f%%\n",
           fmnist ? "fmnist" : "2d", sps, limit, flops * 1e-9, pk, 100.0 * sps / limit);
    printf("tool=otgen version=%s model=%s batch=%lld L=%lld threads=%lld steps_per_s=%.2f best_steps_per_s=%.2f "
           "gemm_limit_steps_per_s=%.1f limit_fraction=%.3f gflop_per_step=%.4f peak_gflops=%.1f coretype=%s\n",
           otg_version(), fmnist ? "fmnist" : "2d", (long long)o.batch, (long long)o.projections, (long long)threads, sps,
           10.0 / t[0], limit, sps / limit, flops * 1e-9, pk, ct && *ct ? ct : "auto");
    free(t);
    train_release(&r);
    opts_free(train_opt_defs, train_n_opts, &o);
    return OTG_EXIT_OK;
}
