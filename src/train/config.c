/* The training config: one table of named parameters (core.h) gives the fields' names (the
 * flags of `otgen train` and the JSON keys of config files), ranges and help texts; the defaults
 * are those of the command; JSON in and out. */
#include "internal.h"
#include "otgen/train.h"

#include <cjson/cJSON.h>
#include <stddef.h>
#include <string.h>

#define C otg_train_config
#define OFF(f) offsetof(C, f), 0
#define STR(f) OTG_PARAM_STR_FIELD(C, f)
#define BIG 1e15

static const otg_param_def defs[] = {
    {"data", OTG_PARAM_STR, STR(data), "NAME",
     "target: moons, swiss-roll, gaussians8, rings, checkerboard, gaussian, uniform, grid, "
     "fashion-mnist, FILE.npy, FILE.csv",
     0, 0, 1},
    {"classes", OTG_PARAM_STR, STR(classes), "L,L", "fashion-mnist labels to keep (default all)", 0,
     0, 1},
    {"source", OTG_PARAM_STR, STR(source), "NAME", "latent law: gaussian, uniform or a 2-D law", 0,
     0, 1},
    {"latent", OTG_PARAM_INT, OFF(latent), "N",
     "latent dimension, 0 = 2 for 2-D data, 32 otherwise", 0, 65536, 1},
    {"model", OTG_PARAM_STR, STR(model), "NAME", "generator: mlp, cnn, rescnn, deq", 0, 0, 1},
    {"hidden", OTG_PARAM_STR, STR(hidden), "W,W", "mlp hidden widths", 0, 0, 1},
    {"activation", OTG_PARAM_STR, STR(activation), "F",
     "hidden activation: relu, leaky_relu, tanh, sigmoid, softplus, abs", 0, 0, 1},
    {"output", OTG_PARAM_STR, STR(output), "F",
     "output activation; auto = sigmoid for images in [0, 1], tanh for images in [-1, 1], none "
     "otherwise (a bounded activation must cover the data's range)",
     0, 0, 1},
    {"init", OTG_PARAM_STR, STR(init), "I",
     "initial weights and biases: torch (U(+-1/sqrt(fan_in)), as PyTorch's layers), he-normal "
     "(He-normal weights, Xavier before a linear output, zero biases: the old default), he, xavier",
     0, 0, 1},
    {"output-init-scale", OTG_PARAM_REAL, OFF(output_init_scale), "S",
     "mlp: factor on the initial weights of the last layer (its biases keep --init's); 0 = zero "
     "weights",
     0, 1, 1},
    {"output-blur", OTG_PARAM_REAL, OFF(output_blur), "S",
     "mlp on images: sigma (pixels) of a fixed 3x3 Gaussian blur of the last layer's output "
     "before the output activation, so that no pixel switches on alone (no salt-and-pepper); 0 = "
     "none",
     0, 100, 1},
    {"output-median", OTG_PARAM_FLAG, OFF(output_median), NULL,
     "mlp on images: each pixel of the last layer's output (after --output-blur) becomes the "
     "median of itself and its 4 neighbours before the output activation: removes isolated "
     "pixels (salt-and-pepper), keeps edges",
     0, 1, 1},
    {"sample-median", OTG_PARAM_FLAG, OFF(sample_median), NULL,
     "images: the samples (validation, pictures, otgen sample and eval) pass through the 5-point "
     "median of --output-median after the generator, whose loss sees its raw output: removes the "
     "isolated pixels the SW loss leaves, keeps edges",
     0, 1, 1},
    {"conditional", OTG_PARAM_FLAG, OFF(conditional), NULL,
     "fashion-mnist: a class-conditional generator (input: the latent and a class one-hot); each "
     "step trains one class, drawn as a random training image's label; samples draw classes as the "
     "data's labels",
     0, 1, 1},
    {"channels", OTG_PARAM_INT, OFF(channels), "C", "cnn/rescnn channels", 2, 4096, 1},
    {"loss", OTG_PARAM_STR, STR(loss), "NAME",
     "training loss: sw (SW_p^p) | energy (sliced energy distance; one process)", 0, 0, 1},
    {"p", OTG_PARAM_REAL, OFF(p), "P", "order of the SW loss SW_p^p", 1, 100, 1},
    {"projections", OTG_PARAM_INT, OFF(projections), "L", "directions per step (fresh each step)",
     1, 1 << 24, 1},
    {"directions-kind", OTG_PARAM_STR, STR(directions_kind), "K",
     "gaussian, orthogonal (a Haar basis per step), permuted (a fixed Haar basis, rows permuted "
     "and sign-flipped per step), axes (the coordinate axes: each coordinate's marginal), "
     "permuted+axes (the axes, then permuted bases: --projections > the dimension), rqmc (3-D "
     "data only) or hadamard (structured orthogonal blocks H D H D H D, fresh signs per step: "
     "projections by fast Walsh-Hadamard transforms, for images)",
     0, 0, 1},
    {"quantile-bank", OTG_PARAM_INT, OFF(quantile_bank), "K",
     "finite data: SW_2^2 against the whole training set along K directions of "
     "--directions-kind drawn once, --projections of them per step (no data batch; --p 2, one "
     "process; on Fashion-MNIST the generator overfits the fixed directions, docs/training.md); "
     "0 = a data batch per step",
     0, 1 << 20, 1},
    {"estimator", OTG_PARAM_STR, STR(estimator), "E",
     "SW estimator of the loss: mc (plain mean), lcv / ucv (control variates), ebsw "
     "(energy-based SW)",
     0, 0, 1},
    {"batch", OTG_PARAM_INT, OFF(batch), "N",
     "generated points per step (and target points, unless --data-batch)", 2, 1 << 24, 1},
    {"data-batch", OTG_PARAM_INT, OFF(data_batch), "M",
     "target points per step (the SW loss compares --batch generated points with M data points); "
     "0 = --batch",
     0, 1 << 24, 1},
    {"steps", OTG_PARAM_INT, OFF(steps), "N", "training steps", 1, BIG, 1},
    {"epochs", OTG_PARAM_INT, OFF(epochs), "E",
     "if > 0: steps = E x data size / batch (finite data)", 0, 1e9, 1},
    {"optimizer", OTG_PARAM_STR, STR(optimizer), "NAME",
     "sgd (fixed step), momentum, adam, npsgd (noised projected SGD)", 0, 0, 1},
    {"lr", OTG_PARAM_REAL, OFF(lr), "A", "step size alpha", 1e-12, 1e6, 1},
    {"momentum", OTG_PARAM_REAL, OFF(momentum), "MU", "momentum coefficient", 0, 0.999999, 1},
    {"radius", OTG_PARAM_REAL, OFF(radius), "R", "npsgd: radius of the ball in parameter space",
     1e-12, BIG, 1},
    {"noise", OTG_PARAM_REAL, OFF(noise), "A", "npsgd: noise level a (update noise lr * a * eps)",
     0, 1e6, 1},
    {"projection", OTG_PARAM_STR, STR(projection), "P",
     "npsgd ball: whole (all parameters, as the theorem) or per-tensor", 0, 0, 1},
    {"schedule", OTG_PARAM_STR, STR(schedule), "S",
     "learning rate: constant, step, plateau, cosine (to 0 over --steps), wsd (constant, then "
     "cosine to 0 over the last --decay-frac of --steps)",
     0, 0, 1},
    {"decay-frac", OTG_PARAM_REAL, OFF(decay_frac), "F",
     "wsd: fraction of --steps over which the rate decays", 1e-6, 1, 1},
    {"gamma", OTG_PARAM_REAL, OFF(gamma), "G", "step/plateau decay factor", 1e-9, 1, 1},
    {"sched-every", OTG_PARAM_INT, OFF(sched_every), "N", "step schedule period", 1, BIG, 1},
    {"patience", OTG_PARAM_INT, OFF(patience), "N", "plateau: validations without progress", 1, BIG,
     1},
    {"relu-prime", OTG_PARAM_REAL, OFF(relu_prime), "S", "relu'(0) used by backprop, in [0, 1]", 0,
     1, 1},
    {"seed", OTG_PARAM_INT, OFF(seed), "N", "seed of every random stream", 0, 9e15, 1},
    {"val-every", OTG_PARAM_INT, OFF(val_every), "N",
     "validation every N steps (held-out data, fixed directions)", 1, BIG, 1},
    {"val-n", OTG_PARAM_INT, OFF(val_n), "N",
     "validation points (rounded up to a multiple of --batch)", 2, 1 << 24, 1},
    {"val-projections", OTG_PARAM_INT, OFF(val_projections), "L", "fixed validation directions", 1,
     1 << 24, 1},
    {"val-data", OTG_PARAM_STR, STR(val_data), "NAME",
     "held-out data for val_sw (FILE.npy, FILE.csv or a name as --data); default: the data's "
     "test "
     "split, or for FILE data its last --val-split rows",
     0, 0, 1},
    {"val-split", OTG_PARAM_REAL, OFF(val_split), "F",
     "FILE data without --val-data: the last ceil(F x rows) rows validate and are never "
     "trained "
     "on; 0 = validate on the training rows",
     0, 0.9, 1},
    {"checkpoint-every", OTG_PARAM_INT, OFF(checkpoint_every), "N", "checkpoint every N steps", 1,
     BIG, 1},
    {"ema", OTG_PARAM_REAL, OFF(ema), "D",
     "average of the weights (decay D, warm-up (1+t)/(10+t)) for validation and samples; 0 = "
     "off",
     0, 0.999999, 1},
    {"val-fd", OTG_PARAM_FLAG, OFF(val_fd), NULL,
     "images: log val_fd, the feature Frechet distance to the test split, at validations", 0, 1, 1},
};
enum { N_DEFS = (int)(sizeof defs / sizeof defs[0]) };

const otg_param_def *otg_train_config_params(int *n) {
    if (n) *n = N_DEFS;
    return defs;
}

#define SET(field, text) snprintf(c.field, sizeof c.field, "%s", text)

otg_train_config otg_train_config_default(void) {
    otg_train_config c;
    memset(&c, 0, sizeof c);
    SET(data, "moons"), SET(source, "gaussian"), SET(model, "mlp"), SET(hidden, "512,512");
    SET(activation, "relu"), SET(output, "auto"), SET(init, "torch"),
        SET(directions_kind, "gaussian");
    SET(estimator, "mc");
    SET(optimizer, "adam"), SET(projection, "whole"), SET(schedule, "wsd"), SET(loss, "sw");
    c.latent = 0, c.channels = 32, c.projections = 128, c.batch = 256, c.steps = 2000;
    c.seed = 0, c.val_every = 100, c.val_n = 2048, c.val_projections = 256;
    c.checkpoint_every = 500, c.sched_every = 1000, c.patience = 5;
    c.p = 2.0, c.lr = 1e-3, c.momentum = 0.9, c.radius = 100.0, c.noise = 0.01, c.gamma = 0.5;
    c.relu_prime = 0.0, c.val_split = 0.1, c.decay_frac = 0.2, c.output_init_scale = 1.0;
    return c;
}

static const char *const IGNORED[] = {"version", "resolved", NULL};

otg_status otg_train_config_from_json(const char *json, otg_train_config *c) {
    if (!json || !c) return otgi_fail(OTG_EINVAL, "train: config_from_json: NULL argument");
    return otg_params_apply_json(defs, N_DEFS, c, json, "config", NULL, IGNORED);
}

char *otg_train_config_to_json(const otg_train_config *c) {
    if (!c) return otgi_fail(OTG_EINVAL, "train: config_to_json: NULL config"), NULL;
    cJSON *o = otgi_params_to_cjson(defs, N_DEFS, c), *r = NULL;
    int ok = o && cJSON_AddStringToObject(o, "version", otg_version()) &&
             (r = cJSON_AddObjectToObject(o, "resolved")) &&
             cJSON_AddStringToObject(
                 r, "loss",
                 !strcmp(c->loss, "energy")
                     ? "sliced energy distance: c_d (1/L) sum_l ED_1 (1-D energy distances, "
                       "within-sample pairs i != j) along --projections fresh directions, on each "
                       "batch; --p applies to val_sw only"
                 : c->quantile_bank > 0
                     ? "SW_2^2: (1/L) sum_l W_2^2 between the batch and the whole training set "
                       "along --projections directions drawn each step from a fixed bank of "
                       "--quantile-bank directions"
                     : "SW_p^p: (1/L) sum_l W_p^p along --projections fresh "
                       "gaussian/orthogonal directions, on each batch") &&
             cJSON_AddStringToObject(
                 r, "val_sw",
                 "SW_p = (SW_p^p)^(1/p) between --val-n generated points (fixed latents) and "
                 "--val-n held-out points, along --val-projections fixed directions");
    char *text = ok ? cJSON_Print(o) : NULL;
    cJSON_Delete(o);
    if (!text) otgi_fail(OTG_ENOMEM, "train: out of memory writing the config");
    return text;
}
