/* bench_core: speed of otgen's core paths on this machine (a benchmark, not a test).
 *  (a) SGEMM through the tensor layer (otg_tensor_gemm) next to the same raw cblas_sgemm call, on
 *      square and MLP-training shapes, outputs checked to agree: the cost of the layer itself.
 *  (b) one training step (forward, zero_grad, backward) of the MLP 32->512->512->784, ReLU hidden,
 *      sigmoid output, batch 256, loss mean(out^2), next to its eight GEMMs alone through raw
 *      CBLAS: the floor a tape around OpenBLAS could reach.
 * Usage: bench_core [--threads T] [--reps R] [--quick]. Last line: key=value pairs. */
#define _POSIX_C_SOURCE 200809L

#include "otgen/ad.h"
#include "otgen/core.h"
#include "otgen/nn.h"

#include <cblas.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench_timing.h"

#define MAX_REPS 1000
#define KEYS_LEN 4096

typedef struct {
    int threads;     /* otg_threads_set (OpenMP pool shared with OpenBLAS) */
    int reps;        /* timed samples per measurement; medians are reported */
    int quick;       /* fewer reps, shorter samples, no 1024^3 GEMM */
    double sample_s; /* target length of one timed sample */
} options;

typedef void (*bench_fn)(void *ctx);

/* ---- timing ----------------------------------------------------------------------------- */

/* Seconds for `calls` back-to-back calls of fn. */
static double time_calls(bench_fn fn, void *ctx, int calls) {
    double t0 = now_s();
    for (int i = 0; i < calls; i++)
        fn(ctx);
    return now_s() - t0;
}

/* Warms fn up (3 calls, at least 50 ms) and returns how many calls make one sample of about
 * o->sample_s seconds, so short kernels are not timed at clock resolution. */
static int calibrate(bench_fn fn, void *ctx, const options *o) {
    double t = time_calls(fn, ctx, 3) / 3.0;
    for (double spent = 3.0 * t; spent < 0.05; spent += t)
        fn(ctx);
    t = time_calls(fn, ctx, 2) / 2.0;
    int calls = (int)ceil(o->sample_s / (t > 1e-9 ? t : 1e-9));
    return calls < 1 ? 1 : calls > 100000 ? 100000 : calls;
}

/* Median seconds per call of fn[0..n_fn), timed interleaved: each of the o->reps rounds takes one
 * sample of every fn, in an order that rotates from round to round, so drift in the machine's
 * speed (other tenants, clocks) falls on all of them alike. sec[n_fn] receives the medians. */
static void time_interleaved(int n_fn, bench_fn const *fn, void *const *ctx, const options *o,
                             double *sec) {
    int calls[4];
    static double samples[4][MAX_REPS];
    for (int f = 0; f < n_fn; f++)
        calls[f] = calibrate(fn[f], ctx[f], o);
    for (int r = 0; r < o->reps; r++)
        for (int j = 0; j < n_fn; j++) {
            int f = (j + r) % n_fn;
            samples[f][r] = time_calls(fn[f], ctx[f], calls[f]) / calls[f];
        }
    for (int f = 0; f < n_fn; f++)
        sec[f] = median(samples[f], o->reps);
}

/* ---- keys line -------------------------------------------------------------------------- */

static char keys[KEYS_LEN];

/* Appends " name=value" (value printed with the given decimals) to the key=value line. */
static void key_add(const char *name, double value, int decimals) {
    size_t len = strlen(keys);
    snprintf(keys + len, sizeof keys - len, "%s%s=%.*f", len ? " " : "", name, decimals, value);
}

/* ---- (a) SGEMM: tensor layer vs raw CBLAS ------------------------------------------------ */

/* C [m, n] = op(A) op(B); A stored [m, k] or [k, m] (ta), B [k, n] or [n, k] (tb). */
typedef struct {
    const char *tag;  /* key prefix: gemm<tag>_gflops */
    const char *what; /* where the shape comes from */
    int ta, tb;
    int64_t m, n, k;
} gemm_shape;

static const gemm_shape gemm_shapes[] = {
    {"256", "square", 0, 0, 256, 256, 256},
    {"512", "square", 0, 0, 512, 512, 512},
    {"1024", "square", 0, 0, 1024, 1024, 1024},
    {"_fwd", "MLP fwd h2[256,512] W3[512,784]", 0, 0, 256, 784, 512},
    {"_dw", "MLP bwd dW3 = h2^T g", 1, 0, 512, 784, 256},
    {"_dx", "MLP bwd dh2 = g W3^T", 0, 1, 256, 512, 784},
};
#define N_GEMM_SHAPES (int)(sizeof gemm_shapes / sizeof gemm_shapes[0])

typedef struct {
    const gemm_shape *s;
    otg_tensor *a, *b, *c_tensor, *c_raw;
    otg_status status; /* first failure of otg_tensor_gemm, else OTG_OK */
} gemm_ctx;

static void run_tensor_gemm(void *p) {
    gemm_ctx *x = p;
    otg_status st = otg_tensor_gemm(x->s->ta, x->s->tb, 1.0f, x->a, x->b, 0.0f, x->c_tensor);
    if (st != OTG_OK) x->status = st;
}

static void run_raw_gemm(void *p) {
    gemm_ctx *x = p;
    const gemm_shape *s = x->s;
    cblas_sgemm(CblasRowMajor, s->ta ? CblasTrans : CblasNoTrans, s->tb ? CblasTrans : CblasNoTrans,
                (blasint)s->m, (blasint)s->n, (blasint)s->k, 1.0f, x->a->data,
                (blasint)x->a->shape[1], x->b->data, (blasint)x->b->shape[1], 0.0f, x->c_raw->data,
                (blasint)s->n);
}

static void gemm_ctx_free(gemm_ctx *x) {
    otg_tensor_free(x->a);
    otg_tensor_free(x->b);
    otg_tensor_free(x->c_tensor);
    otg_tensor_free(x->c_raw);
}

/* Allocates A, B (uniform draws in (-1, 1)) and the two outputs; 0 on success. */
static int gemm_ctx_init(gemm_ctx *x, const gemm_shape *s, otg_rng *rng) {
    int64_t sa[2] = {s->ta ? s->k : s->m, s->ta ? s->m : s->k};
    int64_t sb[2] = {s->tb ? s->n : s->k, s->tb ? s->k : s->n};
    int64_t sc[2] = {s->m, s->n};
    memset(x, 0, sizeof *x);
    x->s = s;
    x->a = otg_tensor_new(2, sa);
    x->b = otg_tensor_new(2, sb);
    x->c_tensor = otg_tensor_new(2, sc);
    x->c_raw = otg_tensor_new(2, sc);
    if (!x->a || !x->b || !x->c_tensor || !x->c_raw) return -1;
    otg_tensor *ab[2] = {x->a, x->b};
    for (int t = 0; t < 2; t++) {
        int64_t n = otg_tensor_numel(ab[t]);
        otg_rng_fill_uniform(rng, n, ab[t]->data);
        for (int64_t i = 0; i < n; i++)
            ab[t]->data[i] = 2.0f * ab[t]->data[i] - 1.0f;
    }
    return 0;
}

static double max_abs_diff(const float *x, const float *y, int64_t n) {
    double d = 0.0;
    for (int64_t i = 0; i < n; i++)
        d = fmax(d, fabs((double)x[i] - (double)y[i]));
    return d;
}

/* One shape: check agreement, time both paths interleaved, print a row and its keys. */
static int bench_gemm_shape(const gemm_shape *s, otg_rng *rng, const options *o) {
    gemm_ctx x;
    if (gemm_ctx_init(&x, s, rng) != 0) {
        fprintf(stderr, "bench_core: gemm %s: %s\n", s->tag, otg_last_error());
        gemm_ctx_free(&x);
        return -1;
    }
    /* agreement with one single-threaded call, the bits otg_gemm promises for any thread count */
    run_tensor_gemm(&x);
    otg_threads_set(1);
    run_raw_gemm(&x);
    otg_threads_set(o->threads);
    double diff = max_abs_diff(x.c_tensor->data, x.c_raw->data, s->m * s->n);
    bench_fn fn[2] = {run_tensor_gemm, run_raw_gemm};
    void *ctx[2] = {&x, &x};
    double sec[2];
    time_interleaved(2, fn, ctx, o, sec);
    if (x.status != OTG_OK) {
        fprintf(stderr, "bench_core: otg_tensor_gemm %s: %s\n", s->tag, otg_last_error());
        gemm_ctx_free(&x);
        return -1;
    }
    double flop = 2.0 * (double)s->m * (double)s->n * (double)s->k;
    double gt = flop / sec[0] * 1e-9, gr = flop / sec[1] * 1e-9;
    char shape[48], key[64];
    snprintf(shape, sizeof shape, "%lldx%lldx%lld %s%s", (long long)s->m, (long long)s->n,
             (long long)s->k, s->ta ? "T" : "N", s->tb ? "T" : "N");
    printf("  %-20s %-32s %9.1f %9.1f %8.3f %10.2e\n", shape, s->what, gt, gr, gt / gr, diff);
    snprintf(key, sizeof key, "gemm%s_gflops", s->tag);
    key_add(key, gt, 1);
    snprintf(key, sizeof key, "gemm%s_raw_gflops", s->tag);
    key_add(key, gr, 1);
    snprintf(key, sizeof key, "gemm%s_ratio", s->tag);
    key_add(key, gt / gr, 3);
    gemm_ctx_free(&x);
    return diff == 0.0 ? 0 : 1;
}

static int bench_gemm(const options *o) {
    otg_rng rng = otg_rng_make(42, 1);
    int bad = 0;
    printf("SGEMM, GFLOP/s = 2mnk / median time (otg_tensor_gemm vs cblas_sgemm threaded by "
           "OpenBLAS; max|diff| against one 1-thread cblas_sgemm)\n");
    printf("  %-20s %-32s %9s %9s %8s %10s\n", "m x n x k, op", "shape from", "tensor", "raw",
           "ratio", "max|diff|");
    for (int i = 0; i < N_GEMM_SHAPES; i++) {
        if (o->quick && gemm_shapes[i].m >= 1024) continue;
        int r = bench_gemm_shape(&gemm_shapes[i], &rng, o);
        if (r < 0) return -1;
        bad |= r;
    }
    if (bad) printf("  note: the two paths disagree somewhere (max|diff| above is not 0)\n");
    return 0;
}

/* ---- (b) MLP training step ---------------------------------------------------------------- */

#define MLP_BATCH 256
#define MLP_LAYERS 3
static const int64_t mlp_widths[MLP_LAYERS + 1] = {32, 512, 512, 784};

typedef struct {
    otg_graph *g;
    otg_node *x, *out, *loss; /* x [256, 32], out [256, 784], loss [1] */
    otg_status status;        /* first failure inside a timed call, else OTG_OK */
} mlp_ctx;

/* Builds the graph and writes standard-normal inputs into x; 0 on success. */
static int mlp_build(mlp_ctx *m) {
    otg_rng rng = otg_rng_make(7, 0);
    otg_mlp_spec spec = otg_mlp_spec_default();
    spec.widths = mlp_widths;
    spec.n_widths = MLP_LAYERS + 1;
    spec.activation = OTG_ACT_RELU;
    spec.output = OTG_ACT_SIGMOID;
    memset(m, 0, sizeof *m);
    m->g = otg_graph_new();
    if (!m->g) return -1;
    m->x = otg_input(m->g, 2, (int64_t[]){MLP_BATCH, mlp_widths[0]}, 0);
    m->out = otg_mlp_build(m->g, m->x, &spec, &rng);
    m->loss = otg_mean(m->g, otg_square(m->g, m->out));
    if (!m->loss || otg_graph_compile(m->g) != OTG_OK) return -1;
    otg_rng_fill_normal(&rng, MLP_BATCH * mlp_widths[0], otg_node_data(m->x));
    return 0;
}

static void mlp_forward(void *p) {
    mlp_ctx *m = p;
    otg_status st = otg_graph_forward(m->g);
    if (st != OTG_OK) m->status = st;
}

/* zero_grad + backward; replays the last forward, so it can be timed on its own. */
static void mlp_backward(void *p) {
    mlp_ctx *m = p;
    otg_graph_zero_grad(m->g);
    otg_status st = otg_graph_backward(m->g, m->loss);
    if (st != OTG_OK) m->status = st;
}

static void mlp_step(void *p) {
    mlp_forward(p);
    mlp_backward(p);
}

/* The GEMMs of one step through raw CBLAS, same shapes and beta as the tape's matmul op:
 * per layer l (in -> out) forward h_l [B, out] = h_{l-1} [B, in] W_l [in, out] (beta 0),
 * dW_l [in, out] += h_{l-1}^T g_l, and for l > 1 (x needs no gradient) dh_{l-1} += g_l W_l^T. */
typedef struct {
    float *h[MLP_LAYERS + 1], *gh[MLP_LAYERS + 1], *w[MLP_LAYERS], *gw[MLP_LAYERS];
} floor_ctx;

static void floor_step(void *p) {
    floor_ctx *f = p;
    const int64_t b = MLP_BATCH;
    for (int l = 0; l < MLP_LAYERS; l++) {
        int64_t in = mlp_widths[l], out = mlp_widths[l + 1];
        otg_gemm(0, 0, b, out, in, 1.0f, f->h[l], in, f->w[l], out, 0.0f, f->h[l + 1], out);
    }
    for (int l = MLP_LAYERS - 1; l >= 0; l--) {
        int64_t in = mlp_widths[l], out = mlp_widths[l + 1];
        otg_gemm(1, 0, in, out, b, 1.0f, f->h[l], in, f->gh[l + 1], out, 1.0f, f->gw[l], out);
        if (l > 0)
            otg_gemm(0, 1, b, in, out, 1.0f, f->gh[l + 1], out, f->w[l], out, 1.0f, f->gh[l], in);
    }
}

/* One calloc'd block for all floor buffers (small values: only the time matters). */
static float *floor_init(floor_ctx *f) {
    int64_t total = 0;
    for (int l = 0; l <= MLP_LAYERS; l++)
        total += 2 * MLP_BATCH * mlp_widths[l];
    for (int l = 0; l < MLP_LAYERS; l++)
        total += 2 * mlp_widths[l] * mlp_widths[l + 1];
    float *block = calloc((size_t)total, sizeof(float)), *p = block;
    if (!block) return NULL;
    for (int64_t i = 0; i < total; i++)
        block[i] = 1e-3f * (float)(i % 97);
    for (int l = 0; l <= MLP_LAYERS; l++) {
        f->h[l] = p;
        f->gh[l] = p + MLP_BATCH * mlp_widths[l];
        p += 2 * MLP_BATCH * mlp_widths[l];
    }
    for (int l = 0; l < MLP_LAYERS; l++) {
        f->w[l] = p;
        f->gw[l] = p + mlp_widths[l] * mlp_widths[l + 1];
        p += 2 * mlp_widths[l] * mlp_widths[l + 1];
    }
    return block;
}

/* 6 B sum(in * out): forward 2 B in out, dW and dX 2 B in out each (the first layer's dX is not
 * computed since x needs no gradient: the executed count is 0.4% lower). */
static double mlp_flops(void) {
    double s = 0.0;
    for (int l = 0; l < MLP_LAYERS; l++)
        s += (double)mlp_widths[l] * (double)mlp_widths[l + 1];
    return 6.0 * MLP_BATCH * s;
}

/* Prints the loss and whether every parameter gradient is finite after one more step. */
static int mlp_sanity(mlp_ctx *m) {
    mlp_step(m);
    int64_t n = 0;
    float *gr = otg_graph_grads(m->g, &n);
    otg_tensor gv = otg_tensor_view(gr, 1, &n);
    int finite = otg_tensor_check_finite(&gv, "grads") == OTG_OK;
    double gsq = 0.0;
    for (int64_t i = 0; i < n; i++)
        gsq += (double)gr[i] * (double)gr[i];
    printf("  loss %.6f, %lld parameters, |grad| %.4e, gradients %s\n",
           (double)otg_node_data(m->loss)[0], (long long)n, sqrt(gsq),
           finite ? "finite" : "NOT FINITE");
    return m->status == OTG_OK && finite ? 0 : -1;
}

static int bench_mlp(const options *o) {
    mlp_ctx m;
    floor_ctx f;
    float *block = floor_init(&f);
    if (mlp_build(&m) != 0 || !block) {
        fprintf(stderr, "bench_core: mlp: %s\n", block ? otg_last_error() : "out of memory");
        otg_graph_free(m.g);
        free(block);
        return -1;
    }
    mlp_step(&m); /* a forward before the first backward-only call */
    bench_fn fn[4] = {mlp_step, mlp_forward, mlp_backward, floor_step};
    void *ctx[4] = {&m, &m, &m, &f};
    double sec[4];
    time_interleaved(4, fn, ctx, o, sec);
    int rc = mlp_sanity(&m);
    double flop = mlp_flops();
    printf("  step (fwd + zero_grad + bwd) %8.3f ms  %6.1f GFLOP/s  (%.3g GFLOP/step)\n",
           1e3 * sec[0], flop / sec[0] * 1e-9, flop * 1e-9);
    printf("  forward alone                %8.3f ms\n", 1e3 * sec[1]);
    printf("  zero_grad + backward alone   %8.3f ms\n", 1e3 * sec[2]);
    printf("  its 8 GEMMs, raw CBLAS       %8.3f ms  %6.1f GFLOP/s  (%.0f%% of the step)\n",
           1e3 * sec[3], flop / sec[3] * 1e-9, 100.0 * sec[3] / sec[0]);
    key_add("mlp_ms", 1e3 * sec[0], 3);
    key_add("mlp_gflops", flop / sec[0] * 1e-9, 1);
    key_add("mlp_fwd_ms", 1e3 * sec[1], 3);
    key_add("mlp_bwd_ms", 1e3 * sec[2], 3);
    key_add("mlp_gemm_floor_ms", 1e3 * sec[3], 3);
    otg_graph_free(m.g);
    free(block);
    return rc;
}

/* ---- options and main --------------------------------------------------------------------- */

static int parse_options(int argc, char **argv, options *o) {
    o->threads = 2;
    o->reps = 15;
    o->quick = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--threads") == 0 && i + 1 < argc) {
            o->threads = atoi(argv[++i]);
        } else if (strcmp(argv[i], "--reps") == 0 && i + 1 < argc) {
            o->reps = atoi(argv[++i]);
            if (o->reps < 1 || o->reps > MAX_REPS) return -1;
        } else if (strcmp(argv[i], "--quick") == 0) {
            o->quick = 1;
        } else {
            return -1;
        }
    }
    if (o->quick && o->reps > 5) o->reps = 5;
    o->sample_s = o->quick ? 0.01 : 0.03;
    return 0;
}

int main(int argc, char **argv) {
    options o;
    if (parse_options(argc, argv, &o) != 0) {
        fprintf(stderr, "usage: bench_core [--threads T] [--reps R (1..%d)] [--quick]\n", MAX_REPS);
        return 2;
    }
    if (otg_threads_set(o.threads) != OTG_OK) {
        fprintf(stderr, "bench_core: %s\n", otg_last_error());
        return 2;
    }
    const char *coretype = getenv("OPENBLAS_CORETYPE");
    printf("otgen %s bench_core: threads=%d reps=%d%s OPENBLAS_CORETYPE=%s\n", otg_version(),
           otg_threads_get(), o.reps, o.quick ? " (quick)" : "", coretype ? coretype : "(unset)");
    if (bench_gemm(&o) != 0) return 1;
    printf("MLP 32->512->512->784 (ReLU, sigmoid out), batch %d, loss mean(out^2), median per "
           "step\n",
           MLP_BATCH);
    if (bench_mlp(&o) != 0) return 1;
    printf("threads=%d %s\n", otg_threads_get(), keys);
    return 0;
}
