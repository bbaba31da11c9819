/* otgen demo: the end-to-end demonstration of the foundation (until `otgen train` exists).
 * Fits an MLP 2 -> hidden -> 1 to the target f(x) = sin(3 x1) cos(2 x2) on [-1, 1]^2 by
 * fixed-step SGD on the mean squared error, with the tape autodiff, CBLAS GEMMs and RNG streams
 * (batches from stream 1, validation points from stream 2), and prints the loss falling. */
#define _GNU_SOURCE
#include "cli.h"
#include "options.h"
#include "otgen/otgen.h"

#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>

typedef struct {
    int64_t steps, batch, log_every, seed, threads;
    double lr, relu_prime;
    char hidden_list[256], act_name[32];
    int64_t hidden[8];
    int n_hidden;
    otg_activation act;
} demo_opts;

#define OFF(f) offsetof(demo_opts, f), 0
#define STR(f) OTG_PARAM_STR_FIELD(demo_opts, f)
static const otg_param_def defs[] = {
    {"steps", OTG_PARAM_INT, OFF(steps), "N", "SGD steps", 1, 1099511627776.0, 0},
    {"batch", OTG_PARAM_INT, OFF(batch), "N", "points per step", 1, 1 << 20, 0},
    {"lr", OTG_PARAM_REAL, OFF(lr), "A", "fixed step size", 1e-12, 1e3, 0},
    {"hidden", OTG_PARAM_STR, STR(hidden_list), "W,W", "hidden widths", 0, 0, 0},
    {"activation", OTG_PARAM_STR, STR(act_name), "F", "relu|leaky_relu|tanh|sigmoid|softplus|abs",
     0, 0, 0},
    {"relu-prime", OTG_PARAM_REAL, OFF(relu_prime), "S",
     "value of relu'(0) used by backprop, in [0, 1]", 0, 1, 0},
    {"seed", OTG_PARAM_INT, OFF(seed), "N", "RNG seed", 0, 9.2e18, 0},
    {"threads", OTG_PARAM_INT, OFF(threads), "N", "threads for OpenMP and OpenBLAS, 0 = all cores",
     0, 1024, 0},
    {"log-every", OTG_PARAM_INT, OFF(log_every), "N", "table row every N steps", 1, 9.2e18, 0},
};

static void demo_parse(int argc, char **argv, demo_opts *o) {
    *o = (demo_opts){.steps = 3000,
                     .batch = 256,
                     .log_every = 300,
                     .seed = 1,
                     .lr = 0.1,
                     .hidden_list = "64,64",
                     .act_name = "relu"};
    params_parse_argv(
        "demo",
        "usage: otgen demo [options]\n"
        "Fit an MLP to f(x) = sin(3 x1) cos(2 x2) on [-1, 1]^2 by fixed-step SGD on the MSE.\n"
        "Progress goes to stderr; a table of step, train MSE, validation MSE and kink hits,\n"
        "then one key=value summary line, go to stdout.\n",
        defs, (int)(sizeof defs / sizeof defs[0]), o, argc, argv, NULL);
    o->n_hidden = cli_parse_int_list("demo", "--hidden", o->hidden_list, o->hidden, 8);
    if (otg_activation_parse(o->act_name, &o->act) != OTG_OK)
        cli_usage_error("demo", "--activation: %s", otg_last_error());
}

/* The regression target. */
static float target(float x1, float x2) {
    return sinf(3.0f * x1) * cosf(2.0f * x2);
}

typedef struct {
    otg_graph *g;
    otg_node *x, *y, *loss;
} demo_model;

static int demo_build(const demo_opts *o, demo_model *m) {
    int64_t widths[10] = {2};
    for (int i = 0; i < o->n_hidden; i++)
        widths[1 + i] = o->hidden[i];
    widths[1 + o->n_hidden] = 1;
    otg_mlp_spec spec = otg_mlp_spec_default();
    spec.widths = widths;
    spec.n_widths = o->n_hidden + 2;
    spec.activation = o->act;
    otg_rng init = otg_rng_make((uint64_t)o->seed, 0);
    m->g = otg_graph_new();
    if (!m->g || otg_graph_set_relu_prime(m->g, (float)o->relu_prime) != OTG_OK) return -1;
    m->x = otg_input(m->g, 2, (int64_t[]){o->batch, 2}, 0);
    m->y = otg_input(m->g, 2, (int64_t[]){o->batch, 1}, 0);
    otg_node *out = otg_mlp_build(m->g, m->x, &spec, &init);
    m->loss = otg_mean(m->g, otg_square(m->g, otg_sub(m->g, out, m->y)));
    return m->loss && otg_graph_compile(m->g) == OTG_OK ? 0 : -1;
}

/* Draws a batch of uniform points on [-1, 1]^2 from `stream` and their targets. */
static void demo_batch(demo_model *m, otg_rng *stream, int64_t n) {
    float *x = otg_node_data(m->x), *y = otg_node_data(m->y);
    otg_rng_fill_uniform(stream, 2 * n, x);
    for (int64_t i = 0; i < n; i++) {
        x[2 * i] = 2.0f * x[2 * i] - 1.0f;
        x[2 * i + 1] = 2.0f * x[2 * i + 1] - 1.0f;
        y[i] = target(x[2 * i], x[2 * i + 1]);
    }
}

/* Validation MSE over 8 fixed batches (stream 2 from counter 0 every time). */
static double demo_validate(demo_model *m, const demo_opts *o) {
    otg_rng val = otg_rng_make((uint64_t)o->seed, 2);
    double s = 0.0;
    for (int b = 0; b < 8; b++) {
        demo_batch(m, &val, o->batch);
        s += otg_graph_forward(m->g) == OTG_OK ? (double)otg_node_data(m->loss)[0] : (double)NAN;
    }
    return s / 8.0;
}

int cmd_demo(int argc, char **argv) {
    demo_opts o;
    demo_parse(argc, argv, &o);
    otg_threads_set((int)o.threads);
    demo_model m;
    if (demo_build(&o, &m) != 0) {
        fprintf(stderr, "otgen demo: %s\n", otg_last_error());
        otg_graph_free(m.g);
        return OTG_EXIT_FAIL;
    }
    int64_t np;
    float *p = otg_graph_params(m.g, &np), *grad = otg_graph_grads(m.g, NULL);
    otg_rng train = otg_rng_make((uint64_t)o.seed, 1);
    double val0 = demo_validate(&m, &o), loss = 0.0, t0 = cli_now();
    int64_t kinks = 0;
    printf("# otgen demo: MLP 2-%s-1 (%lld parameters), SGD lr=%g, batch %lld, threads %d\n",
           otg_activation_name(o.act), (long long)np, o.lr, (long long)o.batch, otg_threads_get());
    printf("%8s %12s %12s %8s\n", "step", "train_mse", "val_mse", "kinks");
    printf("%8d %12s %12.6f %8s\n", 0, "-", val0, "-");
    cli_progress progress;
    cli_progress_start(&progress, o.steps, o.log_every);
    for (int64_t step = 1; step <= o.steps; step++) {
        demo_batch(&m, &train, o.batch);
        loss = otg_graph_forward(m.g) == OTG_OK ? (double)otg_node_data(m.loss)[0] : (double)NAN;
        kinks += otg_graph_kink_count(m.g);
        if (!isfinite(loss)) {
            cli_progress_end(&progress);
            fprintf(stderr, "otgen demo: diverged at step %lld (loss %g); lower --lr\n",
                    (long long)step, loss);
            otg_graph_free(m.g);
            return OTG_EXIT_FAIL;
        }
        otg_graph_zero_grad(m.g);
        if (otg_graph_backward(m.g, m.loss) != OTG_OK) {
            cli_progress_end(&progress);
            fprintf(stderr, "otgen demo: backward at step %lld: %s\n", (long long)step,
                    otg_last_error());
            otg_graph_free(m.g);
            return OTG_EXIT_FAIL;
        }
        for (int64_t i = 0; i < np; i++)
            p[i] -= (float)o.lr * grad[i]; /* fixed-step SGD */
        char status[64];
        snprintf(status, sizeof status, "loss %.5f", loss);
        cli_progress_update(&progress, step, status);
        if (step % o.log_every == 0 || step == o.steps) {
            printf("%8lld %12.6f %12.6f %8lld\n", (long long)step, loss, demo_validate(&m, &o),
                   (long long)kinks);
            fflush(stdout);
        }
    }
    cli_progress_end(&progress);
    double val = demo_validate(&m, &o), secs = cli_now() - t0;
    printf("steps=%lld params=%lld initial_val_mse=%.6g final_train_mse=%.6g final_val_mse=%.6g "
           "kink_hits=%lld seconds=%.2f\n",
           (long long)o.steps, (long long)np, val0, loss, val, (long long)kinks, secs);
    otg_graph_free(m.g);
    return OTG_EXIT_OK;
}
