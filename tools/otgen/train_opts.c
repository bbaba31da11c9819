/* The options of `otgen train`: one table for the flags, --config files, config.json and --help. */
#define _POSIX_C_SOURCE 200809L /* strdup */
#include "train.h"

#include <stddef.h>
#include <string.h>

#define OFF(f) offsetof(train_opts, f)
#define BIG 1e15

const opt_def train_opt_defs[] = {
    {"data", OPT_STR, OFF(data), "NAME", "target: moons, swiss-roll, gaussians8, rings, checkerboard, gaussian, uniform, grid, fashion-mnist, FILE.npy, FILE.csv", 0, 0, 1},
    {"classes", OPT_STR, OFF(classes), "L,L", "fashion-mnist labels to keep (default all)", 0, 0, 1},
    {"source", OPT_STR, OFF(source), "NAME", "latent law: gaussian, uniform or a 2-D law", 0, 0, 1},
    {"latent", OPT_INT, OFF(latent), "N", "latent dimension, 0 = 2 for 2-D data, 32 otherwise", 0, 65536, 1},
    {"model", OPT_STR, OFF(model), "NAME", "generator: mlp, cnn, rescnn, deq", 0, 0, 1},
    {"hidden", OPT_STR, OFF(hidden), "W,W", "mlp hidden widths", 0, 0, 1},
    {"activation", OPT_STR, OFF(activation), "F", "hidden activation: relu, leaky_relu, tanh, sigmoid, softplus, abs", 0, 0, 1},
    {"output", OPT_STR, OFF(output), "F", "output activation; auto = sigmoid for images, none otherwise", 0, 0, 1},
    {"channels", OPT_INT, OFF(channels), "C", "cnn/rescnn channels", 2, 4096, 1},
    {"loss", OPT_STR, OFF(loss), "NAME", "training loss: sw (SW_p^p; the only one so far)", 0, 0, 1},
    {"p", OPT_REAL, OFF(p), "P", "order of the SW loss SW_p^p", 1, 100, 1},
    {"projections", OPT_INT, OFF(projections), "L", "directions per step (fresh each step)", 1, 1 << 24, 1},
    {"directions-kind", OPT_STR, OFF(directions_kind), "K", "gaussian or orthogonal", 0, 0, 1},
    {"batch", OPT_INT, OFF(batch), "N", "generated and target points per step", 2, 1 << 24, 1},
    {"steps", OPT_INT, OFF(steps), "N", "training steps", 1, BIG, 1},
    {"epochs", OPT_INT, OFF(epochs), "E", "if > 0: steps = E x data size / batch (finite data)", 0, 1e9, 1},
    {"optimizer", OPT_STR, OFF(optimizer), "NAME", "sgd (fixed step), momentum, adam, npsgd (noised projected SGD)", 0, 0, 1},
    {"lr", OPT_REAL, OFF(lr), "A", "step size alpha", 1e-12, 1e6, 1},
    {"momentum", OPT_REAL, OFF(momentum), "MU", "momentum coefficient", 0, 0.999999, 1},
    {"radius", OPT_REAL, OFF(radius), "R", "npsgd: radius of the ball in parameter space", 1e-12, BIG, 1},
    {"noise", OPT_REAL, OFF(noise), "A", "npsgd: noise level a (update noise lr * a * eps)", 0, 1e6, 1},
    {"projection", OPT_STR, OFF(projection), "P", "npsgd ball: whole (all parameters, as the theorem) or per-tensor", 0, 0, 1},
    {"schedule", OPT_STR, OFF(schedule), "S", "learning rate: constant, step, plateau", 0, 0, 1},
    {"gamma", OPT_REAL, OFF(gamma), "G", "step/plateau decay factor", 1e-9, 1, 1},
    {"sched-every", OPT_INT, OFF(sched_every), "N", "step schedule period", 1, BIG, 1},
    {"patience", OPT_INT, OFF(patience), "N", "plateau: validations without progress", 1, BIG, 1},
    {"relu-prime", OPT_REAL, OFF(relu_prime), "S", "relu'(0) used by backprop, in [0, 1]", 0, 1, 1},
    {"seed", OPT_INT, OFF(seed), "N", "seed of every random stream", 0, 9e15, 1},
    {"val-every", OPT_INT, OFF(val_every), "N", "validation every N steps (held-out data, fixed directions)", 1, BIG, 1},
    {"val-n", OPT_INT, OFF(val_n), "N", "validation points (rounded up to a multiple of --batch)", 2, 1 << 24, 1},
    {"val-projections", OPT_INT, OFF(val_projections), "L", "fixed validation directions", 1, 1 << 24, 1},
    {"checkpoint-every", OPT_INT, OFF(checkpoint_every), "N", "checkpoint every N steps", 1, BIG, 1},
    {"threads", OPT_INT, OFF(threads), "N", "threads, 0 = all cores", 0, 1024, 0},
    {"out", OPT_STR, OFF(out), "DIR", "run directory (default runs/<UTC time>)", 0, 0, 0},
    {"resume", OPT_STR, OFF(resume), "DIR", "continue the run in DIR from its checkpoint", 0, 0, 0},
    {"force", OPT_FLAG, OFF(force), NULL, "overwrite an existing run directory's files", 0, 0, 0},
    {"config", OPT_STR, OFF(config), "FILE", "JSON file with the same keys as the flags (flags win)", 0, 0, 0},
};
const int train_n_opts = (int)(sizeof train_opt_defs / sizeof train_opt_defs[0]);

train_opts train_opts_default(void) {
    train_opts o = {0};
    o.data = strdup("moons"), o.source = strdup("gaussian"), o.model = strdup("mlp");
    o.hidden = strdup("512,512"), o.activation = strdup("relu"), o.output = strdup("auto");
    o.directions_kind = strdup("gaussian"), o.optimizer = strdup("adam");
    o.projection = strdup("whole"), o.schedule = strdup("constant"), o.loss = strdup("sw");
    o.latent = 0, o.channels = 32, o.projections = 128, o.batch = 256, o.steps = 2000;
    o.seed = 0, o.threads = 0, o.val_every = 100, o.val_n = 2048, o.val_projections = 256;
    o.checkpoint_every = 500, o.sched_every = 1000, o.patience = 5;
    o.p = 2.0, o.lr = 1e-3, o.momentum = 0.9, o.radius = 100.0, o.noise = 0.01, o.gamma = 0.5;
    return o;
}

cJSON *train_config_json(const train_opts *o) {
    cJSON *c = opts_to_json(train_opt_defs, train_n_opts, o);
    cJSON_AddStringToObject(c, "version", otg_version());
    cJSON *r = cJSON_AddObjectToObject(c, "resolved");
    cJSON_AddStringToObject(r, "loss", "SW_p^p: (1/L) sum_l W_p^p along --projections fresh gaussian/orthogonal directions, on each batch");
    cJSON_AddStringToObject(r, "val_sw", "SW_p = (SW_p^p)^(1/p) between --val-n generated points (fixed latents) and --val-n held-out points, along --val-projections fixed directions");
    return c;
}
