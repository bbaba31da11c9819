/* The trainer: set-up from a config (sources, generator, SW loss, optimiser, schedule, fixed
 * validation set, random streams), one step (draw, forward, backward, update, with every status
 * checked), validation, and sampling from a graph of its own. */
#include "internal.h"
#include "train_internal.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

/* Prefixes the current error with what ("--data"), keeping its status. */
static otg_status wrap(otg_status st, const char *what) {
    return otgi_fail(st, "train: %s: %s", what, otg_last_error());
}

static otg_status open_target(otg_trainer *t) {
    otg_train_config *c = &t->c;
    otg_source_opts so = otg_source_opts_default();
    int64_t labels[10];
    int classes[10];
    if (c->classes[0]) {
        if (otg_parse_int_list(c->classes, "train: --classes", 0, 9, labels, 10, &so.n_classes))
            return OTG_EINVAL;
        for (int i = 0; i < so.n_classes; i++)
            classes[i] = (int)labels[i];
        so.classes = classes;
    }
    so.holdout = c->val_data[0] ? 0.0 : c->val_split; /* NPY/CSV: the last rows validate */
    if (!(t->target = otg_source_open(c->data, &so))) return wrap(OTG_EINVAL, "--data");
    t->dim = otg_source_dim(t->target);
    otg_source_is_image(t->target, &t->img_h, &t->img_w);
    if (c->val_data[0]) {
        so.split = "test";
        if (!(t->val_target = otg_source_open(c->val_data, &so)))
            return wrap(OTG_EINVAL, "--val-data");
        if (otg_source_dim(t->val_target) != t->dim)
            return otgi_fail(OTG_EINVAL, "train: --val-data %s has %lld-D points, --data %lld-D",
                             c->val_data, (long long)otg_source_dim(t->val_target),
                             (long long)t->dim);
    } else if (otg_source_has_test_split(t->target)) { /* held-out validation data */
        so.split = "test";
        if (!(t->val_target = otg_source_open(c->data, &so)))
            return wrap(OTG_EINVAL, "--data (test split)");
    }
    return OTG_OK;
}

static otg_status open_sources(otg_trainer *t) {
    otg_train_config *c = &t->c;
    otg_status st = open_target(t);
    if (st != OTG_OK) return st;
    if (c->latent == 0) c->latent = t->dim == 2 && t->img_h == 0 ? 2 : 32;
    otg_source_opts lo = otg_source_opts_default();
    lo.dim = c->latent;
    if (!(t->latent = otg_source_open(c->source, &lo))) return wrap(OTG_EINVAL, "--source");
    if (otg_source_size(t->latent) > 0 || otg_source_dim(t->latent) != c->latent)
        return otgi_fail(OTG_EINVAL,
                         "train: --source %s gives %lld-D points, --latent is %lld "
                         "(2-D laws need --latent 2)",
                         c->source, (long long)otg_source_dim(t->latent), (long long)c->latent);
    if (c->epochs > 0 && otg_source_size(t->target) == 0)
        return otgi_fail(OTG_EINVAL,
                         "train: --epochs needs a finite data set; %s is a law sampled afresh "
                         "each step (use --steps)",
                         c->data);
    if (c->epochs > 0)
        c->steps = (c->epochs * otg_source_size(t->target) + c->batch - 1) / c->batch;
    return OTG_OK;
}

/* [*lo, *hi]: the range of a finite data set's values (NaN for a law). */
static void data_range(const otg_source *src, double *lo, double *hi) {
    const otg_tensor *d = otg_source_data(src);
    *lo = d ? (double)INFINITY : (double)NAN, *hi = d ? -(double)INFINITY : (double)NAN;
    const int64_t k = d ? otg_source_size(src) * otg_source_dim(src) : 0;
    for (int64_t i = 0; i < k; i++)
        *lo = fmin(*lo, (double)d->data[i]), *hi = fmax(*hi, (double)d->data[i]);
}

/* --output: auto follows the data (sigmoid for images in [0, 1], tanh in [-1, 1], else none);
 * an activation whose range misses part of a finite data set's is refused. */
static otg_status resolve_output(otg_trainer *t, otg_activation *out) {
    otg_train_config *c = &t->c;
    double lo, hi;
    data_range(t->target, &lo, &hi);
    if (!strcmp(c->output, "auto")) {
        const char *a = t->img_h == 0             ? "none"
                        : lo >= 0.0 && hi <= 1.0  ? "sigmoid"
                        : lo >= -1.0 && hi <= 1.0 ? "tanh"
                                                  : "none";
        snprintf(c->output, sizeof c->output, "%s", a);
    }
    if (otg_activation_parse(c->output, out) != OTG_OK) return wrap(OTG_EINVAL, "--output");
    const double a_lo = *out == OTG_ACT_TANH ? -1.0 : 0.0,
                 a_hi = *out == OTG_ACT_SIGMOID || *out == OTG_ACT_TANH ? 1.0 : (double)INFINITY;
    const int bounded = *out == OTG_ACT_SIGMOID || *out == OTG_ACT_TANH || *out == OTG_ACT_RELU ||
                        *out == OTG_ACT_SOFTPLUS || *out == OTG_ACT_ABS;
    if (bounded && (lo < a_lo || hi > a_hi))
        return otgi_fail(OTG_EINVAL,
                         "train: --output %s gives values in [%g, %g], the data lie in [%g, %g]: "
                         "use --output auto, none or an activation covering the data",
                         c->output, a_lo, a_hi, lo, hi);
    return OTG_OK;
}

static otg_status make_spec(otg_trainer *t) {
    otg_train_config *c = &t->c;
    otg_model_kind kind;
    if (otg_model_kind_parse(c->model, &kind) != OTG_OK) return wrap(OTG_EINVAL, "--model");
    otg_model_spec *s = &t->spec;
    *s = otg_model_spec_default(kind, t->zdim, t->dim);
    if (otg_parse_int_list(c->hidden, "train: --hidden", 1, 1000000, s->hidden, 8, &s->n_hidden))
        return OTG_EINVAL;
    if (otg_activation_parse(c->activation, &s->activation) != OTG_OK)
        return wrap(OTG_EINVAL, "--activation");
    if (resolve_output(t, &s->output) != OTG_OK) return OTG_EINVAL;
    if (otg_init_parse(c->init, &s->init) != OTG_OK) return wrap(OTG_EINVAL, "--init");
    if (c->output_init_scale != 1.0 && kind != OTG_MODEL_MLP)
        return otgi_fail(OTG_EINVAL, "train: --output-init-scale applies to --model mlp only");
    s->output_shrink = (float)(1.0 - c->output_init_scale);
    if (c->output_blur != 0.0 && (kind != OTG_MODEL_MLP || t->img_h < 1))
        return otgi_fail(OTG_EINVAL, "train: --output-blur applies to --model mlp on images only");
    s->output_blur = (float)c->output_blur;
    if (c->output_median && (kind != OTG_MODEL_MLP || t->img_h < 1))
        return otgi_fail(OTG_EINVAL,
                         "train: --output-median applies to --model mlp on images only");
    s->output_median = c->output_median;
    if (c->sample_median && t->img_h < 1)
        return otgi_fail(OTG_EINVAL, "train: --sample-median applies to images only");
    s->img_h = t->img_h, s->img_w = t->img_w, s->channels = c->channels;
    return OTG_OK;
}

int64_t otgi_trainer_data_rows(const otg_trainer *t) {
    return t->c.data_batch > 0 ? t->c.data_batch : t->c.batch;
}

static otg_status build_graph(otg_trainer *t) {
    const otg_train_config *c = &t->c;
    otg_rng init = otg_rng_make((uint64_t)c->seed, OTGI_S_INIT);
    if (!(t->g = otg_graph_new())) return OTG_ENOMEM;
    if (otg_graph_set_relu_prime(t->g, (float)c->relu_prime) != OTG_OK)
        return wrap(OTG_EINVAL, "--relu-prime");
    const int64_t rows = t->comm ? t->rows : c->batch; /* this rank's rows of the batch */
    t->z = otg_input(t->g, 2, (int64_t[]){rows, t->zdim}, 0);
    t->y = otg_input(t->g, 2, (int64_t[]){otgi_trainer_data_rows(t), t->dim}, 0);
    t->out = otg_model_build(t->g, t->z, &t->spec, &init);
    if (!t->out) return wrap(OTG_EINVAL, "--model");
    t->sw.ws = otg_sw_workspace_new();
    t->sw.opts = otg_sw_opts_default();
    t->sw.opts.p = c->p;
    t->sw.est = otg_sw_estimator_opts_default();
    t->sw.est.kind = t->est;
    t->theta = otg_tensor_new(2, (int64_t[]){t->dim, c->projections});
    t->sw.theta = t->theta;
    if (!t->sw.ws || !t->theta) return OTG_ENOMEM;
    t->energy.theta = t->theta;
    t->swq = (otg_sw_quantile_loss_ctx){
        .ws = t->sw.ws, .theta = t->theta, .q = t->step_q, .c = t->step_c, .opts = t->sw.opts};
    /* hadamard directions: the one-process MC loss projects them by fast transforms */
    if (t->dirs == OTG_DIR_HADAMARD && !t->comm && t->est == OTG_SW_EST_MC && !c->quantile_bank) {
        t->sw.opts.fast = &t->had; /* h must be drawn before the first step's draw, since
                                    * validation runs the graph: a draw of its own stream */
        otg_rng r0 = otg_rng_make((uint64_t)c->seed, OTGI_S_BASIS);
        otg_status st = otg_sw_hadamard_draw(&r0, t->dim, c->projections, &t->had, t->theta->data);
        if (st != OTG_OK) return wrap(st, "--directions-kind hadamard");
    }
    t->loss = t->comm          ? otgi_trainer_comm_loss(t)
              : t->energy_loss ? otg_sliced_energy_loss(t->g, t->out, t->y, &t->energy)
              : t->bank_q      ? otg_sw_quantile_loss(t->g, t->out, &t->swq)
                               : otg_sw_loss(t->g, t->out, t->y, &t->sw);
    if (!t->loss) return wrap(OTG_EINVAL, "loss");
    otg_status st = otg_graph_compile(t->g);
    if (st != OTG_OK) return st;
    otg_graph_params(t->g, &t->n_params);
    return OTG_OK;
}

static otg_status set_segments(otg_trainer *t) {
    int64_t k = otg_graph_param_sizes(t->g, NULL, 0);
    int64_t *sizes = otgi_calloc((size_t)k, sizeof *sizes);
    if (!sizes) return OTG_ENOMEM;
    otg_graph_param_sizes(t->g, sizes, k);
    otg_status st = otg_optim_set_segments(t->opt, (int)k, sizes);
    free(sizes);
    return st == OTG_OK ? st : wrap(st, "--projection");
}

static otg_status make_optim(otg_trainer *t) {
    const otg_train_config *c = &t->c;
    if (!(t->optim_type = otg_optim_type_by_name(c->optimizer)))
        return wrap(OTG_EINVAL, "--optimizer");
    otg_optim_params p = otg_optim_params_default();
    p.momentum = c->momentum, p.radius = c->radius, p.noise = c->noise;
    if (strcmp(c->projection, "whole") && strcmp(c->projection, "per-tensor"))
        return otgi_fail(OTG_EINVAL, "train: --projection: '%s' (whole or per-tensor)",
                         c->projection);
    p.per_tensor = !strcmp(c->projection, "per-tensor");
    if (!(t->opt = otg_optim_new(t->optim_type, t->n_params, &p)))
        return wrap(OTG_EINVAL, "optimizer");
    otg_status st = p.per_tensor ? set_segments(t) : OTG_OK;
    if (st != OTG_OK) return st;
    otg_sched_kind sk;
    if (otg_sched_parse(c->schedule, &sk) != OTG_OK) return wrap(OTG_EINVAL, "--schedule");
    t->sched = otg_schedule_make(sk, c->lr);
    t->sched.gamma = c->gamma, t->sched.every = c->sched_every, t->sched.patience = c->patience;
    if (sk == OTG_SCHED_COSINE) t->sched.every = c->steps; /* decays over the whole run */
    if (sk == OTG_SCHED_WSD) { /* decays over the last decay_frac of the run */
        t->sched.every = (int64_t)ceil(c->decay_frac * (double)c->steps);
        if (t->sched.every < 1) t->sched.every = 1;
        t->sched.start = c->steps - t->sched.every;
    }
    if (c->ema > 0) { /* the average starts at the initial weights */
        if (!(t->ema = otgi_calloc((size_t)t->n_params, sizeof *t->ema))) return OTG_ENOMEM;
        memcpy(t->ema, otg_graph_params(t->g, NULL), (size_t)t->n_params * sizeof *t->ema);
    }
    return OTG_OK;
}

/* Fixed validation latents, held-out points and directions. */
static otg_status make_validation(otg_trainer *t) {
    const otg_train_config *c = &t->c;
    t->val_n = (c->val_n + c->batch - 1) / c->batch * c->batch;
    t->val_z = otg_tensor_new(2, (int64_t[]){t->val_n, t->zdim});
    t->val_y = otg_tensor_new(2, (int64_t[]){t->val_n, t->dim});
    t->val_x = otg_tensor_new(2, (int64_t[]){t->val_n, t->dim});
    t->val_theta = otg_tensor_new(2, (int64_t[]){t->dim, c->val_projections});
    t->val_ws = otg_sw_workspace_new();
    if (!t->val_z || !t->val_y || !t->val_x || !t->val_theta || !t->val_ws) return OTG_ENOMEM;
    otg_rng rz = otg_rng_make((uint64_t)c->seed, OTGI_S_VAL_Z);
    otg_rng ry = otg_rng_make((uint64_t)c->seed, OTGI_S_VAL_Y);
    otg_rng rd = otg_rng_make((uint64_t)c->seed, OTGI_S_VAL_DIRS);
    otg_source *vt = t->val_target ? t->val_target : t->target;
    otg_status st = otgi_trainer_latents(t, &rz, t->val_n, -1, t->val_z->data);
    if (st == OTG_OK) st = otg_source_sample(vt, &ry, t->val_n, t->val_y->data);
    if (st == OTG_OK)
        st = otg_sw_directions(&rd, OTG_DIR_GAUSSIAN, t->dim, c->val_projections,
                               t->val_theta->data);
    return st == OTG_OK ? st : wrap(st, "validation");
}

/* --directions-kind permuted: one Haar-distributed orthonormal basis [dim, dim] drawn from
 * (seed, 13) at set-up; each step then uses it with its rows permuted and sign-flipped at random
 * (stream 3), an exactly orthonormal basis per block of dim directions for O(dim L) work instead
 * of a QR per step. */
static otg_status make_basis(otg_trainer *t) {
    const int64_t d = t->dim;
    t->basis = otgi_calloc((size_t)(d * d), sizeof *t->basis);
    t->perm = otgi_calloc((size_t)d, sizeof *t->perm);
    if (!t->basis || !t->perm) return OTG_ENOMEM;
    otg_rng r = otg_rng_make((uint64_t)t->c.seed, OTGI_S_BASIS);
    otg_status st = otg_sw_directions(&r, OTG_DIR_ORTHOGONAL, d, d, t->basis);
    return st == OTG_OK ? st : wrap(st, "--directions-kind permuted");
}

/* Columns b0 .. b0 + w - 1 of theta [d, L] := the coordinate axes e_1 .. e_w (no draws). */
static void axes_block(int64_t d, int64_t L, int64_t b0, int64_t w, float *theta) {
    for (int64_t i = 0; i < d; i++)
        for (int64_t l = 0; l < w; l++)
            theta[i * L + b0 + l] = i == l ? 1.0f : 0.0f;
}

/* theta [d, L]: blocks of d columns, block b = S_b P_b basis[:, :width] (P_b a row permutation,
 * S_b random signs, both fresh from rng); with t->axes the first block (axes alone: every block)
 * holds the coordinate axes instead: the SW terms of the per-coordinate marginals (for images,
 * each pixel's law of values). */
static void permuted_directions(otg_trainer *t, otg_rng *rng, int64_t L, float *theta) {
    const int64_t d = t->dim;
    int64_t *perm = t->perm;
    for (int64_t b0 = 0; b0 < L; b0 += d) {
        const int64_t w = L - b0 < d ? L - b0 : d;
        if (t->axes && (b0 == 0 || !t->basis)) {
            axes_block(d, L, b0, w, theta);
            continue;
        }
        otgi_rng_permutation(rng, perm, d);
        for (int64_t i = 0; i < d; i++) {
            const float s = (otg_rng_u32(rng) & 1u) ? -1.0f : 1.0f;
            const float *src = t->basis + perm[i] * d;
            float *dst = theta + i * L + b0;
            for (int64_t l = 0; l < w; l++)
                dst[l] = s * src[l];
        }
    }
}

otg_status otgi_trainer_directions(otg_trainer *t, otg_rng *rng, int64_t L, float *theta) {
    if (!t->basis && !t->axes && t->dirs == OTG_DIR_HADAMARD)
        return otg_sw_hadamard_draw(rng, t->dim, L, &t->had, /* the loss needs h alone */
                                    t->sw.opts.fast && theta == t->theta->data ? NULL : theta);
    if (!t->basis && !t->axes) return otg_sw_directions(rng, t->dirs, t->dim, L, theta);
    permuted_directions(t, rng, L, theta);
    return OTG_OK;
}

/* The trainer on comm (NULL: one process), or the status with the reason. */
static otg_status create(const otg_train_config *c, otg_comm *comm, otg_trainer **out) {
    if (!out) return otgi_fail(OTG_EINVAL, "train: NULL output");
    *out = NULL;
    if (!c) return otgi_fail(OTG_EINVAL, "train: NULL config");
    otg_trainer *t = otgi_calloc(1, sizeof *t);
    if (!t) return OTG_ENOMEM;
    t->c = *c;
    t->comm = comm;
    otg_status st = OTG_OK;
    t->energy_loss = !strcmp(c->loss, "energy");
    if (strcmp(c->loss, "sw") && !t->energy_loss)
        st = otgi_fail(OTG_EINVAL,
                       "train: --loss: '%s' (sw: Sliced-Wasserstein, energy: sliced energy)",
                       c->loss);
    if (st == OTG_OK && t->energy_loss && comm)
        st = otgi_fail(OTG_EINVAL, "train: --loss energy: one process only (not under mpirun)");
    const char *kind = c->directions_kind;
    const int permuted = !strcmp(kind, "permuted") || !strcmp(kind, "permuted+axes");
    t->axes = !strcmp(kind, "axes") || !strcmp(kind, "permuted+axes");
    if (st == OTG_OK && !permuted && !t->axes && otg_dir_parse(kind, &t->dirs) != OTG_OK)
        st = otgi_fail(OTG_EINVAL,
                       "train: --directions-kind: '%s' (gaussian, orthogonal, permuted, axes, "
                       "permuted+axes, rqmc, hadamard)",
                       kind);
    if (st == OTG_OK && otg_sw_estimator_parse(c->estimator, &t->est) != OTG_OK)
        st = wrap(OTG_EINVAL, "--estimator");
    if (st == OTG_OK && comm && t->est != OTG_SW_EST_MC)
        st = otgi_fail(OTG_EINVAL, "train: --estimator %s: one process only (mc under mpirun)",
                       c->estimator);
    if (st == OTG_OK) st = open_sources(t);
    if (st == OTG_OK && permuted) st = make_basis(t);
    if (st == OTG_OK && t->axes && (permuted ? c->projections <= t->dim : c->projections != t->dim))
        st = otgi_fail(OTG_EINVAL,
                       "train: --directions-kind %s needs --projections %s the data's dimension "
                       "%lld, got %lld",
                       kind, permuted ? "above" : "equal to", (long long)t->dim,
                       (long long)c->projections);
    if (st == OTG_OK && c->quantile_bank > 0) st = otgi_trainer_bank_make(t);
    if (st == OTG_OK) st = otgi_trainer_classes_make(t);
    if (st == OTG_OK) st = make_spec(t);
    if (st == OTG_OK && t->dirs == OTG_DIR_RQMC && t->dim != 3)
        st = otgi_fail(OTG_EINVAL, "train: --directions-kind rqmc needs 3-D data, got %lld-D",
                       (long long)t->dim);
    if (st == OTG_OK && comm) st = otgi_trainer_comm_setup(t);
    if (st == OTG_OK) st = build_graph(t);
    if (st == OTG_OK) st = make_optim(t);
    if (st == OTG_OK) st = make_validation(t);
    if (st != OTG_OK) {
        otg_trainer_free(t);
        return st;
    }
    const uint64_t seed = (uint64_t)c->seed;
    t->r_latent = otg_rng_make(seed, OTGI_S_LATENT), t->r_data = otg_rng_make(seed, OTGI_S_DATA);
    t->r_dirs = otg_rng_make(seed, OTGI_S_DIRS), t->r_noise = otg_rng_make(seed, OTGI_S_NOISE);
    *out = t;
    return OTG_OK;
}

otg_status otg_trainer_create(const otg_train_config *c, otg_trainer **out) {
    return create(c, NULL, out);
}

otg_trainer *otg_trainer_new_comm(const otg_train_config *c, otg_comm *comm) {
    otg_trainer *t = NULL;
    return create(c, comm, &t) == OTG_OK ? t : NULL;
}

otg_trainer *otg_trainer_new(const otg_train_config *c) {
    return otg_trainer_new_comm(c, NULL);
}

void otg_trainer_free(otg_trainer *t) {
    if (!t) return;
    otg_graph_free(t->g);
    otg_graph_free(t->sg);
    otg_sw_loss_release(&t->sw);
    otg_sliced_energy_loss_release(&t->energy);
    otg_sw_workspace_free(t->sw.ws);
    otg_sw_workspace_free(t->val_ws);
    otg_optim_free(t->opt);
    free(t->ema), free(t->basis), free(t->perm);
    otg_sw_hadamard_free(&t->had);
    otgi_trainer_bank_free(t);
    otgi_trainer_classes_free(t);
    otg_source_free(t->target), otg_source_free(t->val_target), otg_source_free(t->latent);
    otg_tensor_free(t->theta), otg_tensor_free(t->val_z), otg_tensor_free(t->val_y);
    otg_tensor_free(t->val_x), otg_tensor_free(t->val_theta);
    otgi_trainer_comm_free(t);
    free(t);
}

/* Draws the step's latents, data and directions, and runs the forward pass. */
static otg_status forward(otg_trainer *t) {
    const otg_train_config *c = &t->c;
    float *z = t->comm ? t->z_full : otg_node_data(t->z); /* distributed: take this rank's rows */
    const int cls = t->n_cls ? otgi_trainer_class_draw(t, &t->r_data) : -1; /* the step's class */
    otg_status st = otgi_trainer_latents(t, &t->r_latent, c->batch, cls, z);
    if (st == OTG_OK && t->comm)
        memcpy(otg_node_data(t->z), z + t->r0 * t->zdim,
               (size_t)(t->rows * t->zdim) * sizeof(float));
    if (st == OTG_OK && t->bank_q) /* --quantile-bank: the whole training set, no batch */
        otgi_trainer_bank_pick(t, &t->r_dirs);
    else if (st == OTG_OK && cls >= 0)
        otgi_trainer_class_rows(t, &t->r_data, cls, otgi_trainer_data_rows(t), otg_node_data(t->y));
    else if (st == OTG_OK)
        st = otg_source_sample(t->target, &t->r_data, otgi_trainer_data_rows(t),
                               otg_node_data(t->y));
    if (st == OTG_OK && !t->bank_q)
        st = otgi_trainer_directions(t, &t->r_dirs, c->projections, t->theta->data);
    return st == OTG_OK ? otg_graph_forward(t->g) : st;
}

static void fill_row(const otg_trainer *t, otg_train_row *row, double loss, double lr) {
    const otg_sw_result *sw = t->bank_q ? &t->swq.result : &t->sw.result;
    const int64_t ties = t->energy_loss ? 0 : sw->ties; /* energy: ties not counted */
    *row = (otg_train_row){
        .step = t->step + 1,
        .loss = loss,
        .val_sw = (double)NAN,
        .val_fd = (double)NAN,
        .grad_norm = (double)NAN,
        .lr = lr,
        .kinks = otg_graph_kink_count(t->g) + ties,
        .relu_kinks = otg_graph_kink_count_op(t->g, OTG_OP_RELU) +
                      otg_graph_kink_count_op(t->g, OTG_OP_LEAKY_RELU),
        .sort_ties = ties,
        .loss_stderr = t->energy_loss ? t->energy.result.stderr_value : sw->stderr_value,
        .time_s = 0.0,
    };
}

/* sum g[i]^2 in double: 8 interleaved partial sums (lane j takes i = j mod 8) added in a fixed
 * order, so the compiler can vectorise it without reassociating anything; one thread, the same
 * bits on every run. (One serial sum was a chain of dependent adds, about 1 ns per parameter:
 * 0.7 ms of an fmnist step.) */
static double sum_squares(const float *g, int64_t n) {
    double a0 = 0, a1 = 0, a2 = 0, a3 = 0, a4 = 0, a5 = 0, a6 = 0, a7 = 0; /* in registers */
    int64_t i = 0;
#define SQ(k) ((double)g[i + (k)] * (double)g[i + (k)])
    for (; i + 8 <= n; i += 8) {
        a0 += SQ(0), a1 += SQ(1), a2 += SQ(2), a3 += SQ(3);
        a4 += SQ(4), a5 += SQ(5), a6 += SQ(6), a7 += SQ(7);
    }
    double *tail[7] = {&a0, &a1, &a2, &a3, &a4, &a5, &a6};
    for (int j = 0; i < n; i++, j++)
        *tail[j] += SQ(0);
#undef SQ
    return ((a0 + a1) + (a2 + a3)) + ((a4 + a5) + (a6 + a7));
}

/* e <- D e + (1 - D) u with D = min(ema, (1 + k) / (10 + k)) at step k (the warm-up keeps the
 * average from remembering the initial weights for 1 / (1 - ema) steps). */
static void update_ema(otg_trainer *t, const float *u) {
    if (!t->ema) return;
    const double k = (double)t->step, w = (1.0 + k) / (10.0 + k);
    const float dk = (float)(t->c.ema < w ? t->c.ema : w), rest = 1.0f - dk;
    float *e = t->ema;
#pragma omp parallel for if (t->n_params > 65536)
    for (int64_t i = 0; i < t->n_params; i++)
        e[i] = dk * e[i] + rest * u[i];
}

otg_status otg_trainer_step(otg_trainer *t, otg_train_row *row) {
    if (!t) return otgi_fail(OTG_EINVAL, "train: step: NULL trainer");
    otg_train_row local;
    row = row ? row : &local;
    double lr = otg_schedule_lr(&t->sched, t->step, (double)NAN);
    otg_status st = forward(t);
    if (st != OTG_OK) return wrap(st, "forward");
    fill_row(t, row, (double)otg_node_data(t->loss)[0], lr);
    if (t->comm && (st = otgi_trainer_comm_kinks(t, row)) != OTG_OK) return wrap(st, "forward");
    if (!isfinite(row->loss))
        return otgi_fail(OTG_ENONFINITE, "train: loss %g at step %lld", row->loss,
                         (long long)row->step);
    otg_graph_zero_grad(t->g);
    if ((st = otg_graph_backward(t->g, t->loss)) != OTG_OK) return wrap(st, "backward");
    int64_t n;
    float *u = otg_graph_params(t->g, &n), *g = otg_graph_grads(t->g, NULL);
    double gn = sum_squares(g, n);
    row->grad_norm = sqrt(gn);
    if (!isfinite(gn))
        return otgi_fail(OTG_ENONFINITE, "train: gradient norm %g at step %lld", row->grad_norm,
                         (long long)row->step);
    if ((st = otg_optim_step(t->opt, u, g, lr, &t->r_noise)) != OTG_OK)
        return wrap(st, "optimizer");
    update_ema(t, u);
    t->step++;
    return OTG_OK;
}

/* The generator alone for batches of b rows (sampling and validation), with the trainer's
 * current parameters, or their average under --ema. */
static otg_status sampling_graph(otg_trainer *t, int64_t b) {
    if (!t->sg || t->sb != b) {
        otg_graph_free(t->sg);
        otg_rng unused = otg_rng_make(0, 0);
        t->sb = b;
        t->sg = otg_graph_new();
        t->sz = t->sg ? otg_input(t->sg, 2, (int64_t[]){b, t->zdim}, 0) : NULL;
        t->sout = t->sz ? otg_model_build(t->sg, t->sz, &t->spec, &unused) : NULL;
        otg_status st = t->sout ? otg_graph_compile(t->sg) : OTG_ENOMEM;
        if (st != OTG_OK) {
            otg_graph_free(t->sg);
            t->sg = NULL;
            return wrap(st, "sampling graph");
        }
    }
    int64_t n;
    memcpy(otg_graph_params(t->sg, &n), t->ema ? t->ema : otg_graph_params(t->g, NULL),
           (size_t)t->n_params * sizeof(float));
    return OTG_OK;
}

otg_status otg_trainer_generate_val(otg_trainer *t, const float **gen, const float **target,
                                    int64_t *n) {
    if (!t) return otgi_fail(OTG_EINVAL, "train: generate_val: NULL trainer");
    const int64_t b = t->c.batch, lat = t->zdim, r0 = t->comm ? t->r0 : 0;
    const int64_t rows = t->comm ? t->rows : b;
    /* the generator alone (no loss), with the average of the weights if any */
    otg_status st = sampling_graph(t, rows);
    for (int64_t i0 = 0; st == OTG_OK && i0 < t->val_n; i0 += b) {
        memcpy(otg_node_data(t->sz), t->val_z->data + (i0 + r0) * lat,
               (size_t)(rows * lat) * sizeof(float));
        if ((st = otg_graph_forward(t->sg)) != OTG_OK) {
            wrap(st, "validation forward");
            break;
        }
        memcpy(t->val_x->data + (i0 + r0) * t->dim, otg_node_data(t->sout),
               (size_t)(rows * t->dim) * sizeof(float));
        if (t->comm && (st = otgi_trainer_comm_gather_val(t, i0)) != OTG_OK) wrap(st, "validation");
    }
    if (st == OTG_OK && t->c.sample_median)
        st = otgi_median5_rows(t->val_x->data, t->val_n, t->img_h, t->img_w);
    if (st != OTG_OK) return st;
    t->val_generated = 1;
    return otg_trainer_val_samples(t, gen, target, n);
}

otg_status otg_trainer_val_samples(const otg_trainer *t, const float **gen, const float **target,
                                   int64_t *n) {
    if (!t || !t->val_generated)
        return otgi_fail(OTG_EINVAL, "train: val_samples: no validation samples generated yet");
    if (gen) *gen = t->val_x->data;
    if (target) *target = t->val_y->data;
    if (n) *n = t->val_n;
    return OTG_OK;
}

otg_status otg_trainer_measure(otg_trainer *t, double *val_sw) {
    otg_status st = otg_trainer_generate_val(t, NULL, NULL, NULL);
    if (st != OTG_OK) return st;
    otg_sw_opts so = otg_sw_opts_default();
    so.p = t->c.p;
    otg_sw_result res;
    st = otg_sw_comm(t->val_ws, t->val_x, NULL, t->val_y, NULL, t->val_theta, &so, &res, NULL, NULL,
                     NULL, t->comm);
    if (st != OTG_OK) return wrap(st, "validation");
    if (val_sw) *val_sw = res.distance;
    return OTG_OK;
}

otg_status otg_trainer_validate(otg_trainer *t, double *val_sw) {
    double v;
    otg_status st = otg_trainer_measure(t, &v);
    if (st != OTG_OK) return st;
    otg_schedule_lr(&t->sched, t->step, v); /* the plateau schedule reads it */
    if (val_sw) *val_sw = v;
    return OTG_OK;
}

otg_status otg_trainer_sample(otg_trainer *t, uint64_t seed, int64_t n, float *out) {
    return otg_trainer_sample_class(t, seed, n, -1, out);
}

otg_status otg_trainer_sample_class(otg_trainer *t, uint64_t seed, int64_t n, int label,
                                    float *out) {
    if (!t || !out || n < 1) return otgi_fail(OTG_EINVAL, "train: sample: bad argument");
    const int cls = label < 0 ? -1 : otgi_trainer_class_of(t, label);
    if (label >= 0 && cls < 0)
        return otgi_fail(OTG_EINVAL,
                         t->n_cls ? "train: sample: class %d is not among the generator's "
                                    "(--classes)"
                                  : "train: sample: class %d: the generator is not conditional "
                                    "(train with --conditional)",
                         label);
    const int64_t b = n < 1024 ? n : 1024, d = t->dim;
    otg_status st = sampling_graph(t, b);
    otg_rng r = otg_rng_make(seed, OTGI_S_LATENT);
    for (int64_t i0 = 0; st == OTG_OK && i0 < n; i0 += b) {
        st = otgi_trainer_latents(t, &r, b, cls, otg_node_data(t->sz));
        if (st == OTG_OK) st = otg_graph_forward(t->sg);
        int64_t k = n - i0 < b ? n - i0 : b;
        if (st == OTG_OK)
            memcpy(out + i0 * d, otg_node_data(t->sout), (size_t)(k * d) * sizeof(float));
        if (st == OTG_OK && t->c.sample_median)
            st = otgi_median5_rows(out + i0 * d, k, t->img_h, t->img_w);
    }
    return st == OTG_OK ? st : wrap(st, "sample");
}

int otg_trainer_rank(const otg_trainer *t) {
    return t && t->comm ? t->comm->rank : 0;
}
int otg_trainer_any(otg_trainer *t, int flag) {
    if (!t || !t->comm) return flag != 0;
    int64_t v = flag != 0;
    return t->comm->sum_i64(t->comm->ctx, &v, 1) == OTG_OK ? v > 0 : -1;
}
int64_t otg_trainer_dim(const otg_trainer *t) {
    return t ? t->dim : 0;
}
int64_t otg_trainer_steps_done(const otg_trainer *t) {
    return t ? t->step : 0;
}
int64_t otg_trainer_n_params(const otg_trainer *t) {
    return t ? t->n_params : 0;
}
const otg_train_config *otg_trainer_config(const otg_trainer *t) {
    return t ? &t->c : NULL;
}
const otg_model_spec *otg_trainer_spec(const otg_trainer *t) {
    return t ? &t->spec : NULL;
}
const otg_source *otg_trainer_data(const otg_trainer *t) {
    return t ? t->target : NULL;
}

const float *otg_trainer_params(const otg_trainer *t, int64_t *n) {
    if (n) *n = t ? t->n_params : 0;
    return t ? otg_graph_params(t->g, NULL) : NULL;
}
