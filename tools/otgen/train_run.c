/* The training run: set-up from resolved options, one step, validation, and the checkpoint that
 * captures everything a resumed run needs to end bit-identical (parameters, optimiser state,
 * schedule state, step, and the counters of every random stream). */
#define _POSIX_C_SOURCE 200809L /* strdup */
#include "cli.h"
#include "train.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Streams: (seed, id). Training draws advance; validation streams restart at 0 every time. */
enum { S_LATENT = 1, S_DATA = 2, S_DIRS = 3, S_NOISE = 5, S_INIT = 0, S_VAL_Z = 10, S_VAL_Y = 11, S_VAL_DIRS = 12 };

static int fail_input(const char *what) {
    fprintf(stderr, "otgen train: %s%s%s\n", what ? what : "", what ? ": " : "", otg_last_error());
    return OTG_EXIT_USAGE;
}

/* "0,7" -> labels; returns count or -1. */
static int parse_classes(const char *s, int *out, int max) {
    int n = 0;
    for (const char *p = s; *p;) {
        char *end;
        long v = strtol(p, &end, 10);
        if (end == p || v < 0 || v > 9 || n == max || (*end != ',' && *end)) return -1;
        out[n++] = (int)v;
        p = *end == ',' ? end + 1 : end;
    }
    return n;
}

static int setup_sources(train_run *r, train_opts *o) {
    otg_source_opts so = otg_source_opts_default();
    int classes[10];
    if (o->classes) {
        so.n_classes = parse_classes(o->classes, classes, 10);
        if (so.n_classes <= 0) cli_usage_error("train", "--classes: '%s' is not a list of labels 0..9", o->classes);
        so.classes = classes;
    }
    if (!(r->target = otg_source_open(o->data, &so))) return fail_input("--data");
    r->dim = otg_source_dim(r->target);
    r->is_image = otg_source_is_image(r->target, &r->img_h, &r->img_w);
    so.split = "test"; /* held-out validation data where the data set has a test split */
    r->val_target = !strcmp(o->data, "fashion-mnist") ? otg_source_open(o->data, &so) : NULL;
    if (!strcmp(o->data, "fashion-mnist") && !r->val_target) return fail_input("--data (test split)");
    if (o->latent == 0) o->latent = r->dim == 2 && !r->is_image ? 2 : 32;
    otg_source_opts lo = otg_source_opts_default();
    lo.dim = o->latent;
    if (!(r->latent = otg_source_open(o->source, &lo))) return fail_input("--source");
    if (otg_source_size(r->latent) > 0 || otg_source_dim(r->latent) != o->latent)
        cli_usage_error("train", "--source %s gives %lld-D points, --latent is %lld (2-D laws need --latent 2)",
                        o->source, (long long)otg_source_dim(r->latent), (long long)o->latent);
    if (o->epochs > 0 && otg_source_size(r->target) > 0)
        o->steps = (o->epochs * otg_source_size(r->target) + o->batch - 1) / o->batch;
    return 0;
}

static int setup_spec(train_run *r, train_opts *o) {
    otg_model_spec *s = &r->spec;
    memset(s, 0, sizeof *s);
    if (otg_model_kind_parse(o->model, &s->kind) != OTG_OK) return fail_input("--model");
    s->n_hidden = cli_parse_int_list("train", "--hidden", o->hidden, s->hidden, 8);
    if (otg_activation_parse(o->activation, &s->activation) != OTG_OK) return fail_input("--activation");
    if (!strcmp(o->output, "auto")) {
        free(o->output);
        o->output = strdup(r->is_image ? "sigmoid" : "none");
    }
    if (otg_activation_parse(o->output, &s->output) != OTG_OK) return fail_input("--output");
    s->latent = o->latent, s->out_dim = r->dim, s->leaky_alpha = 0.2f;
    s->img_h = r->img_h, s->img_w = r->img_w, s->channels = o->channels;
    return 0;
}

static int setup_graph(train_run *r, train_opts *o) {
    otg_rng init = otg_rng_make((uint64_t)o->seed, S_INIT);
    r->g = otg_graph_new();
    if (otg_graph_set_relu_prime(r->g, (float)o->relu_prime) != OTG_OK) return fail_input("--relu-prime");
    r->z = otg_input(r->g, 2, (int64_t[]){o->batch, o->latent}, 0);
    r->y = otg_input(r->g, 2, (int64_t[]){o->batch, r->dim}, 0);
    r->out = otg_model_build(r->g, r->z, &r->spec, &init);
    if (!r->out) return fail_input("--model");
    r->sw.ws = otg_sw_workspace_new();
    r->sw.opts = otg_sw_opts_default();
    r->sw.opts.p = o->p;
    r->theta = otg_tensor_new(2, (int64_t[]){r->dim, o->projections});
    r->sw.theta = r->theta;
    r->loss = otg_sw_loss(r->g, r->out, r->y, &r->sw);
    if (!r->loss || !r->theta || otg_graph_compile(r->g) != OTG_OK) {
        fprintf(stderr, "otgen train: %s\n", otg_last_error());
        return OTG_EXIT_FAIL;
    }
    otg_graph_params(r->g, &r->n_params);
    return 0;
}

static int setup_optim(train_run *r, train_opts *o) {
    const otg_optim_type *t = otg_optim_type_by_name(o->optimizer);
    if (!t) return fail_input("--optimizer");
    otg_optim_params p = otg_optim_params_default();
    p.momentum = o->momentum, p.radius = o->radius, p.noise = o->noise;
    if (strcmp(o->projection, "whole") && strcmp(o->projection, "per-tensor"))
        cli_usage_error("train", "--projection: '%s' (whole or per-tensor)", o->projection);
    p.per_tensor = !strcmp(o->projection, "per-tensor");
    if (!(r->opt = otg_optim_new(t, r->n_params, &p))) return fail_input("optimizer");
    if (p.per_tensor) {
        int64_t k = otg_graph_param_sizes(r->g, NULL, 0), *sizes = malloc((size_t)k * sizeof *sizes);
        otg_graph_param_sizes(r->g, sizes, k);
        otg_status st = otg_optim_set_segments(r->opt, (int)k, sizes);
        free(sizes);
        if (st != OTG_OK) return fail_input("--projection");
    }
    otg_sched_kind sk;
    if (otg_sched_parse(o->schedule, &sk) != OTG_OK) return fail_input("--schedule");
    r->sched = otg_schedule_make(sk, o->lr);
    r->sched.gamma = o->gamma, r->sched.every = o->sched_every, r->sched.patience = o->patience;
    return 0;
}

/* Fixed validation latents, held-out points and directions. */
static int setup_validation(train_run *r, train_opts *o) {
    r->val_n = (o->val_n + o->batch - 1) / o->batch * o->batch;
    r->val_z = otg_tensor_new(2, (int64_t[]){r->val_n, o->latent});
    r->val_y = otg_tensor_new(2, (int64_t[]){r->val_n, r->dim});
    r->val_x = otg_tensor_new(2, (int64_t[]){r->val_n, r->dim});
    r->val_theta = otg_tensor_new(2, (int64_t[]){r->dim, o->val_projections});
    r->val_ws = otg_sw_workspace_new();
    if (!r->val_z || !r->val_y || !r->val_x || !r->val_theta || !r->val_ws) return fail_input("validation");
    otg_rng rz = otg_rng_make((uint64_t)o->seed, S_VAL_Z), ry = otg_rng_make((uint64_t)o->seed, S_VAL_Y);
    otg_rng rd = otg_rng_make((uint64_t)o->seed, S_VAL_DIRS);
    otg_source *vt = r->val_target ? r->val_target : r->target;
    if (otg_source_sample(r->latent, &rz, r->val_n, r->val_z->data) != OTG_OK ||
        otg_source_sample(vt, &ry, r->val_n, r->val_y->data) != OTG_OK ||
        otg_sw_directions(&rd, OTG_DIR_GAUSSIAN, r->dim, o->val_projections, r->val_theta->data) != OTG_OK)
        return fail_input("validation");
    return 0;
}

int train_setup(train_run *r, train_opts *o) {
    memset(r, 0, sizeof *r);
    r->o = o;
    otg_threads_set((int)o->threads);
    otg_dir_kind dk;
    if (strcmp(o->loss, "sw")) cli_usage_error("train", "--loss: '%s' (only sw, the Sliced-Wasserstein loss)", o->loss);
    if (otg_dir_parse(o->directions_kind, &dk) != OTG_OK) return fail_input("--directions-kind");
    int rc = setup_sources(r, o);
    if (!rc) rc = setup_spec(r, o);
    if (!rc) rc = setup_graph(r, o);
    if (!rc) rc = setup_optim(r, o);
    if (!rc) rc = setup_validation(r, o);
    r->r_latent = otg_rng_make((uint64_t)o->seed, S_LATENT), r->r_data = otg_rng_make((uint64_t)o->seed, S_DATA);
    r->r_dirs = otg_rng_make((uint64_t)o->seed, S_DIRS), r->r_noise = otg_rng_make((uint64_t)o->seed, S_NOISE);
    r->last_val = (double)NAN;
    return rc;
}

void train_release(train_run *r) {
    otg_graph_free(r->g);
    otg_sw_loss_release(&r->sw);
    otg_sw_workspace_free(r->sw.ws);
    otg_sw_workspace_free(r->val_ws);
    otg_optim_free(r->opt);
    otg_source_free(r->target), otg_source_free(r->val_target), otg_source_free(r->latent);
    otg_tensor_free(r->theta), otg_tensor_free(r->val_z), otg_tensor_free(r->val_y);
    otg_tensor_free(r->val_x), otg_tensor_free(r->val_theta);
    memset(r, 0, sizeof *r);
}

int train_step(train_run *r) {
    const train_opts *o = r->o;
    otg_dir_kind dk = !strcmp(o->directions_kind, "orthogonal") ? OTG_DIR_ORTHOGONAL : OTG_DIR_GAUSSIAN;
    double lr = otg_schedule_lr(&r->sched, r->step, (double)NAN);
    otg_source_sample(r->latent, &r->r_latent, o->batch, otg_node_data(r->z));
    otg_source_sample(r->target, &r->r_data, o->batch, otg_node_data(r->y));
    otg_sw_directions(&r->r_dirs, dk, r->dim, o->projections, r->theta->data);
    otg_status st = otg_graph_forward(r->g);
    r->last_loss = st == OTG_OK ? (double)otg_node_data(r->loss)[0] : (double)NAN;
    r->last_stderr = r->sw.result.stderr_value;
    r->last_relu_kinks = otg_graph_kink_count_op(r->g, OTG_OP_RELU) + otg_graph_kink_count_op(r->g, OTG_OP_LEAKY_RELU);
    r->last_ties = r->sw.result.ties;
    r->last_kinks = otg_graph_kink_count(r->g) + r->last_ties;
    if (!isfinite(r->last_loss)) return 1;
    otg_graph_zero_grad(r->g);
    otg_graph_backward(r->g, r->loss);
    int64_t n;
    float *u = otg_graph_params(r->g, &n), *g = otg_graph_grads(r->g, NULL);
    double gn = 0.0;
    for (int64_t i = 0; i < n; i++) gn += (double)g[i] * (double)g[i];
    r->last_grad_norm = sqrt(gn);
    r->last_lr = lr;
    if (!isfinite(gn)) return 1;
    if (otg_optim_step(r->opt, u, g, lr, &r->r_noise) != OTG_OK) return 1;
    r->step++;
    return 0;
}

void train_generate_val(train_run *r) {
    const int64_t b = r->o->batch, lat = r->o->latent;
    for (int64_t i0 = 0; i0 < r->val_n; i0 += b) {
        memcpy(otg_node_data(r->z), r->val_z->data + i0 * lat, (size_t)(b * lat) * sizeof(float));
        otg_graph_forward(r->g);
        memcpy(r->val_x->data + i0 * r->dim, otg_node_data(r->out), (size_t)(b * r->dim) * sizeof(float));
    }
}

double train_validate(train_run *r) {
    train_generate_val(r);
    otg_sw_opts so = otg_sw_opts_default();
    so.p = r->o->p;
    otg_sw_result res;
    if (otg_sw(r->val_ws, r->val_x, NULL, r->val_y, NULL, r->val_theta, &so, &res, NULL, NULL) != OTG_OK) return (double)NAN;
    r->last_val = res.distance;
    otg_schedule_lr(&r->sched, r->step, res.distance); /* the plateau schedule reads it */
    return res.distance;
}
