/* otgen ad-check: the conservative-field path identity as a user command (docs/autodiff.md).
 * Builds a model and a loss f from the flags, runs the library's otg_ad_check_path along random
 * piecewise-linear curves through the parameters and/or inputs (half of them through the origin,
 * where with zero biases every ReLU input is exactly 0) and prints its per-curve rows and report.
 * A wrong derivative shows as a large residual. */
#define _POSIX_C_SOURCE 200809L /* strdup */
#include "adcheck.h"
#include "cli.h"
#include "options.h"

#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    char model[32], hidden[256], activation[32], wrt[16], loss[16];
    int64_t latent, batch, curves, points, seed, threads;
    double relu_prime, radius, through_origin, tol;
} check_opts;

#define OFF(f) offsetof(check_opts, f), 0
#define STR(f) OTG_PARAM_STR_FIELD(check_opts, f)
static const otg_param_def defs[] = {
    {"model", OTG_PARAM_STR, STR(model), "NAME", "mlp, cnn (8x8 images) or rescnn", 0, 0, 0},
    {"hidden", OTG_PARAM_STR, STR(hidden), "W,W", "mlp hidden widths", 0, 0, 0},
    {"activation", OTG_PARAM_STR, STR(activation), "F",
     "relu, leaky_relu, tanh, sigmoid, softplus, abs, or the custom ops custom_relu, broken_relu "
     "(mlp only)",
     0, 0, 0},
    {"latent", OTG_PARAM_INT, OFF(latent), "N", "input dimension of the model", 1, 4096, 0},
    {"batch", OTG_PARAM_INT, OFF(batch), "N", "input rows", 1, 4096, 0},
    {"loss", OTG_PARAM_STR, STR(loss), "NAME",
     "f: sum (fixed random weights on the output) or sw (SW_2^2 to fixed points along fixed "
     "directions)",
     0, 0, 0},
    {"wrt", OTG_PARAM_STR, STR(wrt), "W", "the variables the curves move: params, input or both", 0,
     0, 0},
    {"curves", OTG_PARAM_INT, OFF(curves), "N", "random curves (two straight segments each)", 1,
     100000, 0},
    {"points", OTG_PARAM_INT, OFF(points), "M", "trapezoid intervals per segment", 1, 10000000, 0},
    {"through-origin", OTG_PARAM_REAL, OFF(through_origin), "F",
     "fraction of curves whose middle vertex is the origin (exact kinks)", 0, 1, 0},
    {"radius", OTG_PARAM_REAL, OFF(radius), "R",
     "vertex spread, relative to the size of the moved variables", 1e-6, 1e6, 0},
    {"relu-prime", OTG_PARAM_REAL, OFF(relu_prime), "S", "relu'(0) used by backprop, in [0, 1]", 0,
     1, 0},
    {"tol", OTG_PARAM_REAL, OFF(tol), "T", "verdict=pass when residual <= T", 0, 1e300, 0},
    {"seed", OTG_PARAM_INT, OFF(seed), "N", "seed of the model, the curves and the fixed data", 0,
     9e15, 0},
    {"threads", OTG_PARAM_INT, OFF(threads), "N", "threads, 0 = all cores", 0, 1024, 0},
};
static const int n_defs = (int)(sizeof defs / sizeof defs[0]);

static const char *USAGE =
    "usage: otgen ad-check [options]\n"
    "Checks the path identity f(g(1)) - f(g(0)) = int_0^1 <D_f(g(t)), g'(t)> dt that backprop's\n"
    "output D_f (a conservative field, Bolte & Pauwels 2021) must satisfy along any curve g, "
    "kinks\n"
    "included. One row per curve on stdout, then a key=value line with residual= (the worst over\n"
    "the curves of |lhs - rhs| / V, V = max(|lhs|, int |<D_f, g'>| dt) the variation of f along "
    "the\n"
    "curve), residual_vs_lhs= (the same over |lhs|) and verdict=pass|fail against --tol.\n"
    "Example: otgen ad-check --model mlp --activation relu --seed 1\n";

typedef struct {
    otg_graph *g;
    otg_node *x, *out, *f;
    otg_sw_loss_ctx sw;
    otg_tensor *theta;
    adcheck_act_ctx act;
    int move_params, move_input;
    int64_t n_params, n_u;
} checker;

static void parse_args(check_opts *o, int argc, char **argv) {
    *o = (check_opts){.latent = 3,
                      .batch = 4,
                      .curves = 8,
                      .points = 2000,
                      .seed = 1,
                      .threads = 1,
                      .relu_prime = 0.0,
                      .radius = 1.0,
                      .through_origin = 0.5,
                      .tol = 1e-2,
                      .model = "mlp",
                      .hidden = "16,16",
                      .activation = "relu",
                      .wrt = "both",
                      .loss = "sum"};
    params_parse_argv("ad-check", USAGE, defs, n_defs, o, argc, argv, NULL);
    if (strcmp(o->wrt, "params") && strcmp(o->wrt, "input") && strcmp(o->wrt, "both"))
        cli_usage_error("ad-check", "--wrt: '%s' (params, input or both)", o->wrt);
    if (strcmp(o->loss, "sum") && strcmp(o->loss, "sw"))
        cli_usage_error("ad-check", "--loss: '%s' (sum or sw)", o->loss);
    otg_model_kind k;
    if (otg_model_kind_parse(o->model, &k) != OTG_OK)
        cli_usage_error("ad-check", "--model: %s", otg_last_error());
    otg_activation a;
    int custom = !strcmp(o->activation, "custom_relu") || !strcmp(o->activation, "broken_relu");
    if (!custom && otg_activation_parse(o->activation, &a) != OTG_OK)
        cli_usage_error("ad-check", "--activation: %s", otg_last_error());
    if (custom && k != OTG_MODEL_MLP)
        cli_usage_error("ad-check", "--activation %s: only with --model mlp", o->activation);
}

/* An MLP whose hidden activation is the custom ReLU op: dense (He) + custom_relu, last dense. */
static otg_node *custom_mlp(checker *c, const int64_t *hidden, int nh, int64_t out_dim,
                            otg_rng *rng) {
    otg_node *h = c->x;
    for (int l = 0; l < nh && h; l++)
        h = adcheck_custom_relu(c->g, otg_nn_dense(c->g, h, hidden[l], OTG_INIT_HE, rng), &c->act);
    return h ? otg_nn_dense(c->g, h, out_dim, OTG_INIT_XAVIER, rng) : NULL;
}

static int build(checker *c, const check_opts *o) {
    memset(c, 0, sizeof *c);
    otg_rng init = otg_rng_make((uint64_t)o->seed, 0), data = otg_rng_make((uint64_t)o->seed, 1);
    c->move_params = strcmp(o->wrt, "input") != 0;
    c->move_input = strcmp(o->wrt, "params") != 0;
    c->act.relu_prime = (float)o->relu_prime;
    c->act.slope_error = !strcmp(o->activation, "broken_relu") ? 1.1f : 1.0f;
    c->g = otg_graph_new();
    if (!c->g || otg_graph_set_relu_prime(c->g, (float)o->relu_prime) != OTG_OK) return -1;
    otg_model_kind kind;
    if (otg_model_kind_parse(o->model, &kind) != OTG_OK) return -1;
    otg_model_spec s = otg_model_spec_default(kind, o->latent, kind == OTG_MODEL_MLP ? 2 : 64);
    s.n_hidden = cli_parse_int_list("ad-check", "--hidden", o->hidden, s.hidden, 8);
    s.img_h = s.img_w = 8, s.channels = 4;
    c->x = otg_input(c->g, 2, (int64_t[]){o->batch, o->latent}, c->move_input);
    if (otg_activation_parse(o->activation, &s.activation) == OTG_OK)
        c->out = otg_model_build(c->g, c->x, &s, &init);
    else
        c->out = custom_mlp(c, s.hidden, s.n_hidden, s.out_dim, &init);
    otg_node *fix = otg_input(c->g, 2, (int64_t[]){o->batch, s.out_dim}, 0); /* fixed N(0, 1) */
    if (!c->x || !c->out || !fix) return -1;
    if (!strcmp(o->loss, "sum")) {
        c->f = otg_sum(c->g, otg_mul(c->g, c->out, fix));
    } else {
        c->sw.ws = otg_sw_workspace_new();
        c->sw.opts = otg_sw_opts_default();
        c->theta = otg_tensor_new(2, (int64_t[]){s.out_dim, 16});
        c->sw.theta = c->theta;
        if (!c->sw.ws || !c->theta) return -1;
        if (otg_sw_directions(&data, OTG_DIR_GAUSSIAN, s.out_dim, 16, c->theta->data) != OTG_OK)
            return -1;
        c->f = otg_sw_loss(c->g, c->out, fix, &c->sw);
    }
    if (!c->f || otg_graph_compile(c->g) != OTG_OK) return -1;
    otg_rng_fill_normal(&data, otg_node_numel(fix), otg_node_data(fix));
    otg_rng_fill_normal(&data, otg_node_numel(c->x), otg_node_data(c->x));
    otg_graph_params(c->g, &c->n_params);
    c->n_u = (c->move_params ? c->n_params : 0) + (c->move_input ? otg_node_numel(c->x) : 0);
    return 0;
}

static void release(checker *c) {
    otg_graph_free(c->g);
    otg_sw_loss_release(&c->sw);
    otg_sw_workspace_free(c->sw.ws);
    otg_tensor_free(c->theta);
}

/* Kink hits of one evaluation: the tape's, plus the SW sorts' ties with --loss sw. */
static int64_t count_kinks(void *user, otg_graph *g) {
    const checker *c = user;
    return otg_graph_kink_count(g) + (c->sw.ws ? c->sw.result.ties : 0);
}

static void print_curve(void *user, const otg_ad_path_curve *k) {
    (void)user;
    printf("%6lld %8s %14.7g %14.7g %12.4g %12.4g %12.4g %10lld\n", (long long)k->index,
           k->origin ? "yes" : "no", k->lhs, k->rhs, k->residual, k->coarse, k->vs_lhs,
           (long long)k->kinks);
}

static void print_report(const check_opts *o, const otg_ad_path_report *r) {
    printf("model=%s activation=%s loss=%s wrt=%s relu_prime=%g curves=%lld points=%lld "
           "kink_hits=%lld "
           "mean_residual=%.4g residual_coarse=%.4g residual_vs_lhs=%.4g residual=%.4g tol=%g "
           "verdict=%s\n",
           o->model, o->activation, o->loss, o->wrt, o->relu_prime, (long long)o->curves,
           (long long)o->points, (long long)r->kink_hits, r->mean_residual, r->residual_coarse,
           r->residual_vs_lhs, r->residual, o->tol, r->pass ? "pass" : "fail");
}

/* The library's path check of c with the options of o, printing as it goes. */
static otg_status check(checker *c, const check_opts *o) {
    otg_ad_path_opts po = otg_ad_path_opts_default();
    po.curves = o->curves, po.points = o->points, po.through_origin = o->through_origin;
    po.radius = o->radius, po.tol = o->tol, po.seed = (uint64_t)o->seed;
    po.kinks = count_kinks, po.on_curve = print_curve, po.user = c;
    otg_ad_wrt wrt = {.params = c->move_params, .inputs = &c->x, .n_inputs = c->move_input};
    printf(
        "# otgen ad-check: %s %s, activation %s, loss %s, moving %s (%lld variables), relu'(0)=%g, "
        "%lld trapezoid intervals per segment\n",
        o->model, o->hidden, o->activation, o->loss, o->wrt, (long long)c->n_u, o->relu_prime,
        (long long)o->points);
    printf("%6s %8s %14s %14s %12s %12s %12s %10s\n", "curve", "origin", "lhs", "rhs", "residual",
           "coarse_M/8", "vs_lhs", "kinks");
    otg_ad_path_report r;
    otg_status st = otg_ad_check_path(c->g, c->f, &wrt, &po, &r);
    if (st == OTG_OK) print_report(o, &r);
    return st;
}

int cmd_ad_check(int argc, char **argv) {
    check_opts o;
    parse_args(&o, argc, argv);
    otg_threads_set((int)o.threads);
    checker c;
    int rc = OTG_EXIT_OK;
    if (build(&c, &o) != 0 || check(&c, &o) != OTG_OK) {
        fprintf(stderr, "otgen ad-check: %s\n", otg_last_error());
        rc = OTG_EXIT_FAIL;
    }
    release(&c);
    return rc;
}
