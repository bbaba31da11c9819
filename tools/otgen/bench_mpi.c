/* otgen bench mpi: seconds per training step and bytes received per step of the Fashion-MNIST
 * recipe (otgen train --data fashion-mnist: MLP 32-512-512-784, Adam), in one process or under
 * mpirun (bench/mpi_bench.sh runs both and compares); with the exchanged bytes the library's
 * distributed mode is predicted to need (docs/mpi.md). otgen bench mpi-model: the weak-scaling
 * model (rows per rank fixed, a given link speed) from a measured step time, as a chart. */
#define _POSIX_C_SOURCE 200809L
#include "cli.h"
#include "options.h"
#include "otgen/otgen.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Bytes a rank receives per training step with n rows over P ranks (shards of n / P): the
 * generated rows (n d), the W_p^p values, the residuals of its gradient rows for the other
 * ranks' directions, its gradient rows (an upper bound: all of them), and per generator layer
 * (k -> c) the layer's input and output gradient rows (twice: matmul and bias) and the rows of
 * dW computed elsewhere. */
static double predicted_bytes(double n, double P, double d, double L, const int64_t *w, int nw) {
    const double f = (P - 1.0) / P;
    double floats = n * f * d + 2.0 * L * f + L * f * n / P + n / P * d * f;
    for (int i = 0; i + 1 < nw; i++)
        floats +=
            n * f * ((double)w[i] + 2.0 * (double)w[i + 1]) + (double)w[i] * (double)w[i + 1] * f;
    return 4.0 * floats + 8.0 * 3.0 * (P - 1.0);
}

/* The generator's widths (latent, hidden..., out) of a trainer. */
static int widths(const otg_trainer *t, int64_t *w) {
    const otg_model_spec *s = otg_trainer_spec(t);
    int k = 0;
    w[k++] = s->latent;
    for (int i = 0; i < s->n_hidden; i++)
        w[k++] = s->hidden[i];
    w[k++] = s->out_dim;
    return k;
}

typedef struct {
    int64_t batch, projections, steps, threads;
} bench_mpi_opts;

static const otg_param_def defs[] = {
    {"batch", OTG_PARAM_INT, offsetof(bench_mpi_opts, batch), 0, "N", "batch", 1, 1 << 24, 0},
    {"projections", OTG_PARAM_INT, offsetof(bench_mpi_opts, projections), 0, "L", "directions", 1,
     1 << 24, 0},
    {"steps", OTG_PARAM_INT, offsetof(bench_mpi_opts, steps), 0, "N", "timed steps (after one)", 1,
     1 << 20, 0},
    {"threads", OTG_PARAM_INT, offsetof(bench_mpi_opts, threads), 0, "N",
     "threads per process (0 = all cores; under mpirun 0 = 1)", 0, 1024, 0},
};

static const char *USAGE = "usage: [mpirun -np P] otgen bench mpi [options]\n"
                           "Seconds and bytes per step of the Fashion-MNIST recipe.\n";

int bench_mpi(int argc, char **argv) {
    bench_mpi_opts o = {256, 128, 5, 0};
    params_parse_argv("bench mpi", USAGE, defs, 4, &o, argc, argv, NULL);
    otg_comm *comm = cli_comm();
    otg_threads_set(comm && o.threads == 0 ? 1 : (int)o.threads);
    otg_train_config c = otg_train_config_default();
    snprintf(c.data, sizeof c.data, "fashion-mnist");
    c.batch = o.batch, c.projections = o.projections, c.val_n = o.batch, c.val_projections = 8;
    otg_trainer *t = comm ? otg_trainer_new_comm(&c, comm) : otg_trainer_new(&c);
    if (!t) cli_usage_error("bench mpi", "%s", otg_last_error());
    otg_status st = otg_trainer_step(t, NULL); /* warm-up: buffers, first touches */
    if (comm && st == OTG_OK) st = comm->barrier(comm->ctx);
    const int64_t b0 = comm ? comm->bytes_received : 0;
    const double t0 = cli_now();
    for (int64_t s = 0; st == OTG_OK && s < o.steps; s++)
        st = otg_trainer_step(t, NULL);
    if (comm && st == OTG_OK) st = comm->barrier(comm->ctx);
    const double dt = (cli_now() - t0) / (double)o.steps;
    const int64_t bytes = comm ? (comm->bytes_received - b0) / o.steps : 0;
    if (st != OTG_OK) {
        fprintf(stderr, "otgen bench mpi: %s\n", otg_last_error());
        otg_trainer_free(t);
        return OTG_EXIT_FAIL;
    }
    int64_t w[10];
    const int nw = widths(t, w);
    const int P = comm ? comm->size : 1;
    const double pred =
        P > 1 ? predicted_bytes((double)o.batch, P, (double)w[nw - 1], (double)o.projections, w, nw)
              : 0.0;
    if (cli_rank() == 0)
        printf("tool=otgen bench=mpi ranks=%d threads=%d batch=%lld projections=%lld steps=%lld "
               "step_s=%.4f bytes_per_step_rank0=%lld predicted_bound=%.0f coretype=%s\n",
               P, otg_threads_get(), (long long)o.batch, (long long)o.projections,
               (long long)o.steps, dt, (long long)bytes, pred,
               getenv("OPENBLAS_CORETYPE") ? getenv("OPENBLAS_CORETYPE") : "unset");
    otg_trainer_free(t);
    return OTG_EXIT_OK;
}

typedef struct {
    double step_s, link_gbs;
    int64_t rows, projections, max_ranks;
    char out[4096];
} model_opts;

static const otg_param_def model_defs[] = {
    {"step-s", OTG_PARAM_REAL, offsetof(model_opts, step_s), 0, "T",
     "measured seconds per step of one rank", 0, 1e6, 0},
    {"rows", OTG_PARAM_INT, offsetof(model_opts, rows), 0, "N", "rows per rank", 1, 1 << 24, 0},
    {"projections", OTG_PARAM_INT, offsetof(model_opts, projections), 0, "L", "directions", 1,
     1 << 24, 0},
    {"link-gbs", OTG_PARAM_REAL, offsetof(model_opts, link_gbs), 0, "G", "link GB/s", 1e-3, 1e6, 0},
    {"max-ranks", OTG_PARAM_INT, offsetof(model_opts, max_ranks), 0, "P", "largest P", 2, 4096, 0},
    {"out", OTG_PARAM_STR, OTG_PARAM_STR_FIELD(model_opts, out), "F.png", "the chart", 0, 0, 0},
};

/* T(P) = step_s + bytes(P rows, P) / link, for P = 1, 2, 4, ... (the fmnist MLP's widths). */
int bench_mpi_model(int argc, char **argv) {
    model_opts o = {1.0, 10.0, 2048, 2048, 256, ""};
    params_parse_argv("bench mpi-model", "usage: otgen bench mpi-model --step-s T [options]\n",
                      model_defs, 6, &o, argc, argv, NULL);
    const int64_t w[4] = {32, 512, 512, 784};
    double P[16], T[16], C[16], B[16];
    int k = 0;
    printf(
        "# weak scaling: %lld rows per rank, L = %lld, d = 784, link %.3g GB/s, compute %.4f s\n",
        (long long)o.rows, (long long)o.projections, o.link_gbs, o.step_s);
    printf("ranks,batch,bytes_per_rank,comm_s,step_s,efficiency\n");
    for (int64_t p = 1; p <= o.max_ranks && k < 16; p *= 2, k++) {
        P[k] = (double)p, C[k] = o.step_s;
        B[k] = p > 1 ? predicted_bytes((double)(p * o.rows), (double)p, 784.0,
                                       (double)o.projections, w, 4)
                     : 0.0;
        T[k] = o.step_s + B[k] / (o.link_gbs * 1e9);
        printf("%lld,%lld,%.0f,%.4f,%.4f,%.3f\n", (long long)p, (long long)(p * o.rows), B[k],
               B[k] / (o.link_gbs * 1e9), T[k], o.step_s / T[k]);
    }
    if (!o.out[0]) return OTG_EXIT_OK;
    otg_series s[2] = {{"step (compute + comm)", P, T, k}, {"compute only", P, C, k}};
    char title[128];
    snprintf(title, sizeof title, "Weak scaling, %lld rows/rank, L=%lld, %.0f GB/s",
             (long long)o.rows, (long long)o.projections, o.link_gbs);
    if (otg_plot_lines(o.out, s, 2, title, "ranks P", "seconds per step", 1, 0, 1) != OTG_OK) {
        fprintf(stderr, "otgen bench mpi-model: %s\n", otg_last_error());
        return OTG_EXIT_FAIL;
    }
    return OTG_EXIT_OK;
}
