/* otgen demo: the end-to-end demonstration of the foundation (until `otgen train` exists).
 * Fits an MLP 2 -> hidden -> 1 to the target f(x) = sin(3 x1) cos(2 x2) on [-1, 1]^2 by
 * fixed-step SGD on the mean squared error, with the tape autodiff, CBLAS GEMMs and RNG streams
 * (batches from stream 1, validation points from stream 2), and prints the loss falling. */
#define _GNU_SOURCE
#include "cli.h"
#include "otgen/otgen.h"

#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

typedef struct {
    int64_t steps, batch, log_every, seed, threads;
    double lr, relu_prime;
    int64_t hidden[8];
    int n_hidden;
    otg_activation act;
} demo_opts;

static void demo_help(void) {
    printf("usage: otgen demo [options]\n"
           "Fit an MLP to f(x) = sin(3 x1) cos(2 x2) on [-1, 1]^2 by fixed-step SGD on the MSE.\n"
           "Progress goes to stderr; a table of step, train MSE, validation MSE and kink hits,\n"
           "then one key=value summary line, go to stdout.\n\n"
           "  --steps N         SGD steps [3000]\n"
           "  --batch N         points per step [256]\n"
           "  --lr A            fixed step size [0.1]\n"
           "  --hidden W,W      hidden widths [64,64]\n"
           "  --activation F    relu|leaky_relu|tanh|sigmoid|softplus|abs [relu]\n"
           "  --relu-prime S    value of relu'(0) used by backprop, in [0, 1] [0]\n"
           "  --seed N          RNG seed [1]\n"
           "  --threads N       threads for OpenMP and OpenBLAS, 0 = all cores [0]\n"
           "  --log-every N     table row every N steps [300]\n");
}

static void demo_parse(int argc, char **argv, demo_opts *o) {
    static const struct option longopts[] = {
        {"steps", required_argument, 0, 's'},      {"batch", required_argument, 0, 'b'},
        {"lr", required_argument, 0, 'l'},         {"hidden", required_argument, 0, 'H'},
        {"activation", required_argument, 0, 'a'}, {"relu-prime", required_argument, 0, 'r'},
        {"seed", required_argument, 0, 'S'},       {"threads", required_argument, 0, 't'},
        {"log-every", required_argument, 0, 'L'},  {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0}};
    *o = (demo_opts){3000, 256, 300, 1, 0, 0.1, 0.0, {64, 64}, 2, OTG_ACT_RELU};
    int c;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        switch (c) {
        case 's': o->steps = cli_parse_int("demo", "--steps", optarg, 1, INT64_C(1) << 40); break;
        case 'b': o->batch = cli_parse_int("demo", "--batch", optarg, 1, 1 << 20); break;
        case 'l': o->lr = cli_parse_double("demo", "--lr", optarg, 1e-12, 1e3); break;
        case 'H': o->n_hidden = cli_parse_int_list("demo", "--hidden", optarg, o->hidden, 8); break;
        case 'r': o->relu_prime = cli_parse_double("demo", "--relu-prime", optarg, 0, 1); break;
        case 'S': o->seed = cli_parse_int("demo", "--seed", optarg, 0, INT64_MAX); break;
        case 't': o->threads = cli_parse_int("demo", "--threads", optarg, 0, 1024); break;
        case 'L': o->log_every = cli_parse_int("demo", "--log-every", optarg, 1, INT64_MAX); break;
        case 'a':
            if (otg_activation_parse(optarg, &o->act) != OTG_OK)
                cli_usage_error("demo", "--activation: %s", otg_last_error());
            break;
        case 'h': demo_help(); exit(OTG_EXIT_OK);
        default:
            cli_usage_error("demo", "unknown or incomplete option '%s' (otgen demo --help)",
                            argv[optind - 1]);
        }
    }
    if (optind < argc) cli_usage_error("demo", "unexpected argument '%s'", argv[optind]);
}

/* The regression target. */
static float target(float x1, float x2) { return sinf(3.0f * x1) * cosf(2.0f * x2); }

typedef struct {
    otg_graph *g;
    otg_node *x, *y, *loss;
} demo_model;

static int demo_build(const demo_opts *o, demo_model *m) {
    int64_t widths[10] = {2};
    for (int i = 0; i < o->n_hidden; i++) widths[1 + i] = o->hidden[i];
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
        otg_graph_forward(m->g);
        s += (double)otg_node_data(m->loss)[0];
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
        otg_graph_forward(m.g);
        loss = (double)otg_node_data(m.loss)[0];
        kinks += otg_graph_kink_count(m.g);
        if (!isfinite(loss)) {
            cli_progress_end(&progress);
            fprintf(stderr, "otgen demo: diverged at step %lld (loss %g); lower --lr\n",
                    (long long)step, loss);
            otg_graph_free(m.g);
            return OTG_EXIT_FAIL;
        }
        otg_graph_zero_grad(m.g);
        otg_graph_backward(m.g, m.loss);
        for (int64_t i = 0; i < np; i++) p[i] -= (float)o.lr * grad[i]; /* fixed-step SGD */
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
           "kink_hits=%lld seconds=%.2f\n", (long long)o.steps, (long long)np, val0, loss, val,
           (long long)kinks, secs);
    otg_graph_free(m.g);
    return OTG_EXIT_OK;
}
