/* otgen bench: built-in benchmarks (measurements, never pass/fail).
 *   bench sw   the fused SW value+gradient on random clouds with fresh Gaussian directions per
 *              call (what bench/torch_sw.py times), next to the time of its three GEMMs
 *              alone and the machine's SGEMM peak measured in the same run.
 *   bench sort ns per element of the sorts, per engine and size (bench_sort.c).
 *   bench particles  relu2 particle-flow steps per second (bench_particles.c).
 *   bench cnn        the cnn/rescnn generator's training steps per second (bench_cnn.c).
 *   bench mpi        seconds and bytes per training step, under mpirun or not (bench_mpi.c);
 *   bench mpi-model  the weak-scaling model of the MPI mode as a chart (bench_mpi.c).
 *   bench gemm the SGEMM peak through otgen (2048^3, all threads). */
#define _GNU_SOURCE
#include "cli.h"
#include "options.h"
#include "otgen/otgen.h"

#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    int64_t n, d, L, threads, reps, chunk;
    double p;
    char kind[16]; /* sw: gaussian or hadamard directions */
} bench_opts;

#define OFF(f) offsetof(bench_opts, f), 0
static const otg_param_def defs[] = {
    {"n", OTG_PARAM_INT, OFF(n), "N", "points per cloud (sw)", 1, INT32_MAX, 0},
    {"d", OTG_PARAM_INT, OFF(d), "D",
     "dimension (sw); D = 784 draws B uniform in [0, 1] like images", 1, 1 << 20, 0},
    {"L", OTG_PARAM_INT, OFF(L), "L", "directions (sw)", 1, 1 << 24, 0},
    {"p", OTG_PARAM_REAL, OFF(p), "P", "order", 1, 1e6, 0},
    {"chunk", OTG_PARAM_INT, OFF(chunk), "C", "directions per pass", 1, 1 << 24, 0},
    {"kind", OTG_PARAM_STR, OTG_PARAM_STR_FIELD(bench_opts, kind), "K",
     "sw directions: gaussian (projected by GEMM) | hadamard (by fast transforms)", 0, 0, 0},
    {"threads", OTG_PARAM_INT, OFF(threads), "T", "threads", 0, 1024, 0},
    {"reps", OTG_PARAM_INT, OFF(reps), "R", "timed repetitions after 3 warm-up calls", 1, 100000,
     0},
};

static const char *USAGE =
    "usage: otgen bench sw --n N --d D --L L [options]\n"
    "       otgen bench train [--model fmnist|2d] [--threads T] [--reps R]\n"
    "       otgen bench sort [--reps R]\n"
    "       otgen bench particles [--threads T] [--reps R]\n"
    "       otgen bench cnn [--model cnn|rescnn] [--batch B] [--threads T] [--reps R]\n"
    "       otgen bench gemm [--threads T] [--reps R]\n"
    "       [mpirun -np P] otgen bench mpi [--batch N] [--projections L] [--steps N]\n"
    "                                      [--threads T]\n"
    "       otgen bench mpi-model --step-s T [options]   (docs/mpi.md)\n"
    "Times the fused SW value+gradient (fresh directions each call) and, in the same run, its\n"
    "three GEMMs alone, the SGEMM peak, the sorts' speed and the physical limit (GEMMs at the\n"
    "peak + sorts at their speed) with the fraction of it reached (limit_fraction). Last stdout\n"
    "line: key=value pairs incl. median_ms.\n";

static void bench_parse(int argc, char **argv, bench_opts *o, int need_sizes) {
    *o = (bench_opts){0, 0, 0, 2, 15, 256, 2.0, "gaussian"};
    params_parse_argv("bench", USAGE, defs, (int)(sizeof defs / sizeof defs[0]), o, argc, argv,
                      NULL);
    if (need_sizes && (!o->n || !o->d || !o->L))
        cli_usage_error("bench", "sw needs --n, --d and --L");
    if (strcmp(o->kind, "gaussian") && strcmp(o->kind, "hadamard"))
        cli_usage_error("bench", "--kind: 'gaussian' or 'hadamard'");
}

/* Median and minimum in ms over reps calls of fn(ctx) after 3 warm-up calls. */
static void time_it(void (*fn)(void *), void *ctx, int64_t reps, double *median, double *best) {
    double *t = malloc((size_t)reps * sizeof *t);
    if (!t) {
        fprintf(stderr, "otgen bench: out of memory\n");
        exit(OTG_EXIT_FAIL);
    }
    for (int i = 0; i < 3; i++)
        fn(ctx);
    for (int64_t r = 0; r < reps; r++) {
        double t0 = cli_now();
        fn(ctx);
        t[r] = 1e3 * (cli_now() - t0);
    }
    *median = cli_sort_median(t, reps);
    *best = t[0];
    free(t);
}

typedef struct {
    otg_tensor *x, *y, *th, *r, *grad; /* r: residual-shaped [n, L] for the GEMM-only timing */
    otg_sw_workspace *ws;
    otg_rng dirs;
    otg_sw_opts opts;
    double value;
    int with_grad;
    otg_sw_hadamard had; /* --kind hadamard: the call's structured directions (opts.fast) */
} sw_bench;

static void run_sw(void *vctx) {
    sw_bench *b = vctx;
    otg_sw_result res;
    float *grad = b->with_grad ? b->grad->data : NULL;
    b->value = (double)NAN; /* a failed call shows as a NaN value */
    const otg_status st =
        b->opts.fast
            ? otg_sw_hadamard_draw(&b->dirs, b->x->shape[1], b->th->shape[1], &b->had, NULL)
            : otg_sw_directions(&b->dirs, OTG_DIR_GAUSSIAN, b->x->shape[1], b->th->shape[1],
                                b->th->data);
    if (st == OTG_OK &&
        otg_sw(b->ws, b->x, NULL, b->y, NULL, b->th, &b->opts, &res, grad, NULL) == OTG_OK)
        b->value = res.value;
}

/* The GEMM work of one call, as three full-size GEMMs: X Theta, Y Theta, R Theta^T. */
static void run_gemms(void *vctx) {
    sw_bench *b = vctx;
    otg_tensor_gemm(0, 0, 1.0f, b->x, b->th, 0.0f, b->r);
    otg_tensor_gemm(0, 0, 1.0f, b->y, b->th, 0.0f, b->r);
    otg_tensor_gemm(0, 1, 1.0f, b->r, b->th, 0.0f, b->grad);
}

typedef struct {
    otg_tensor *a, *b, *c;
} gemm_bench;

static void run_peak(void *vctx) {
    gemm_bench *g = vctx;
    otg_tensor_gemm(0, 0, 1.0f, g->a, g->b, 0.0f, g->c);
}

/* SGEMM GFLOP/s on 2048^3 through otgen's tensor layer. */
static double gemm_peak(int64_t reps) {
    const int64_t s = 2048;
    gemm_bench g = {otg_tensor_new(2, (int64_t[]){s, s}), otg_tensor_new(2, (int64_t[]){s, s}),
                    otg_tensor_new(2, (int64_t[]){s, s})};
    if (!g.a || !g.b || !g.c) {
        fprintf(stderr, "otgen bench: gemm: %s\n", otg_last_error());
        exit(OTG_EXIT_FAIL);
    }
    otg_rng r = otg_rng_make(0, 0);
    otg_rng_fill_normal(&r, s * s, g.a->data);
    otg_rng_fill_normal(&r, s * s, g.b->data);
    double med, best;
    time_it(run_peak, &g, reps < 5 ? reps : 5, &med, &best);
    otg_tensor_free(g.a), otg_tensor_free(g.b), otg_tensor_free(g.c);
    return 2.0 * (double)(s * s * s) / (best * 1e-3) * 1e-9;
}

static const char *coretype(void) {
    const char *c = getenv("OPENBLAS_CORETYPE");
    return c && *c ? c : "auto";
}

static int bench_sw(int argc, char **argv) {
    bench_opts o;
    bench_parse(argc, argv, &o, 1);
    otg_threads_set((int)o.threads);
    sw_bench b = {otg_tensor_new(2, (int64_t[]){o.n, o.d}),
                  otg_tensor_new(2, (int64_t[]){o.n, o.d}),
                  otg_tensor_new(2, (int64_t[]){o.d, o.L}),
                  otg_tensor_new(2, (int64_t[]){o.n, o.L}),
                  otg_tensor_new(2, (int64_t[]){o.n, o.d}),
                  otg_sw_workspace_new(),
                  otg_rng_make(1, 1),
                  {o.p, o.chunk, NULL, NULL},
                  0.0,
                  1,
                  {0}};
    if (!strcmp(o.kind, "hadamard")) { /* theta once for the GEMM-only timing, then h alone */
        b.opts.fast = &b.had;
        if (b.th && otg_sw_hadamard_draw(&b.dirs, o.d, o.L, &b.had, b.th->data) != OTG_OK) {
            fprintf(stderr, "otgen bench: %s\n", otg_last_error());
            return OTG_EXIT_FAIL;
        }
    }
    if (!b.x || !b.y || !b.th || !b.r || !b.grad || !b.ws) {
        fprintf(stderr, "otgen bench: out of memory for n=%lld d=%lld L=%lld\n", (long long)o.n,
                (long long)o.d, (long long)o.L);
        return OTG_EXIT_FAIL;
    }
    otg_rng data = otg_rng_make(0, 0);
    otg_rng_fill_normal(&data, o.n * o.d, b.x->data);
    if (o.d == 784)
        otg_rng_fill_uniform(&data, o.n * o.d, b.y->data);
    else
        otg_rng_fill_normal(&data, o.n * o.d, b.y->data);
    double med, best, gmed, gbest, vmed, vbest;
    time_it(run_sw, &b, o.reps, &med, &best);
    b.with_grad = 0;
    time_it(run_sw, &b, o.reps, &vmed, &vbest); /* value only, what POT computes */
    b.with_grad = 1;
    time_it(run_gemms, &b, o.reps, &gmed, &gbest);
    double peak = gemm_peak(o.reps);
    double flops = 6.0 * (double)o.n * (double)o.d * (double)o.L;
    /* the physical limit: the GEMMs at the peak, the sorts (x with its permutation, y keys
     * alone) at their measured one-thread speed shared by the threads */
    double sort_x = bench_sort_ns(o.n, 1, 5), sort_y = bench_sort_ns(o.n, 0, 5);
    double gemm_lim = flops / (peak * 1e9) * 1e3;
    double sort_lim = (double)o.L * (double)o.n * (sort_x + sort_y) * 1e-6 / otg_threads_get();
    double limit = gemm_lim + sort_lim;
    printf("# otgen bench sw: value+gradient, fresh %s directions per call, %lld threads, "
           "OPENBLAS_CORETYPE=%s\n",
           o.kind, (long long)o.threads, coretype());
    printf("# value only %.3f ms\n", vmed);
    printf("# fused %.3f ms (min %.3f); its 3 GEMMs alone %.3f ms; total/GEMMs %.2f; "
           "%.1f GFLOP/s = %.0f%% of the %.1f GFLOP/s SGEMM peak\n",
           med, best, gmed, med / gmed, flops / (med * 1e-3) * 1e-9,
           100.0 * flops / (med * 1e-3) * 1e-9 / peak, peak);
    printf("# limit %.3f ms = GEMMs at the peak %.3f + sorts %.3f (%.2f + %.2f ns per value, one "
           "thread, over %d threads): %.0f%% of the limit reached\n",
           limit, gemm_lim, sort_lim, sort_x, sort_y, otg_threads_get(), 100.0 * limit / med);
    printf("tool=otgen version=%s n=%lld d=%lld L=%lld p=%g threads=%lld chunk=%lld median_ms=%.3f "
           "min_ms=%.3f value_only_ms=%.3f gemm_ms=%.3f total_over_gemm=%.3f peak_gflops=%.1f "
           "peak_fraction=%.3f limit_ms=%.3f limit_gemm_ms=%.3f limit_sort_ms=%.3f "
           "sort_perm_ns=%.2f sort_keys_ns=%.2f limit_fraction=%.3f coretype=%s value=%.6g "
           "kind=%s\n",
           otg_version(), (long long)o.n, (long long)o.d, (long long)o.L, o.p, (long long)o.threads,
           (long long)o.chunk, med, best, vmed, gmed, med / gmed, peak,
           flops / (med * 1e-3) * 1e-9 / peak, limit, gemm_lim, sort_lim, sort_x, sort_y,
           limit / med, coretype(), b.value, o.kind);
    otg_tensor_free(b.x), otg_tensor_free(b.y), otg_tensor_free(b.th), otg_tensor_free(b.r);
    otg_tensor_free(b.grad);
    otg_sw_workspace_free(b.ws);
    otg_sw_hadamard_free(&b.had);
    return OTG_EXIT_OK;
}

int cmd_bench(int argc, char **argv) {
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        bench_opts o = {0, 0, 0, 2, 15, 256, 2.0, "gaussian"};
        params_print_help(USAGE, defs, (int)(sizeof defs / sizeof defs[0]), &o);
        return argc < 2 ? OTG_EXIT_USAGE : OTG_EXIT_OK;
    }
    if (!strcmp(argv[1], "sw")) return bench_sw(argc - 1, argv + 1);
    if (!strcmp(argv[1], "train")) return bench_train(argc - 1, argv + 1, gemm_peak);
    if (!strcmp(argv[1], "sort")) return bench_sort(argc - 1, argv + 1);
    if (!strcmp(argv[1], "particles")) return bench_particles(argc - 1, argv + 1);
    if (!strcmp(argv[1], "cnn")) return bench_cnn(argc - 1, argv + 1);
    if (!strcmp(argv[1], "mpi")) return bench_mpi(argc - 1, argv + 1);
    if (!strcmp(argv[1], "mpi-model")) return bench_mpi_model(argc - 1, argv + 1);
    if (!strcmp(argv[1], "gemm")) {
        bench_opts o;
        bench_parse(argc - 1, argv + 1, &o, 0);
        otg_threads_set((int)o.threads);
        double peak = gemm_peak(o.reps);
        printf("tool=otgen bench=gemm size=2048 threads=%lld peak_gflops=%.1f coretype=%s\n",
               (long long)o.threads, peak, coretype());
        return OTG_EXIT_OK;
    }
    fprintf(stderr,
            "otgen bench: unknown benchmark '%s' (sw, train, sort, particles, cnn, gemm, "
            "mpi, mpi-model)\n",
            argv[1]);
    return OTG_EXIT_USAGE;
}
