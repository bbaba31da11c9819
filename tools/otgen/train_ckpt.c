/* Checkpoint header of a training run: everything besides the flat buffers that a resumed run
 * needs to continue bit-identically. Integers that may exceed 2^53 (seeds, counters) are stored
 * as decimal strings; doubles through cJSON, which prints them so that they read back exactly. */
#include "cli.h"
#include "train.h"

#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static void add_u64(cJSON *o, const char *key, uint64_t v) {
    char buf[32];
    snprintf(buf, sizeof buf, "%" PRIu64, v);
    cJSON_AddStringToObject(o, key, buf);
}

static int get_u64(const cJSON *o, const char *key, uint64_t *v) {
    const cJSON *x = cJSON_GetObjectItemCaseSensitive(o, key);
    if (!cJSON_IsString(x)) return -1;
    char *end;
    *v = strtoull(x->valuestring, &end, 10);
    return *end ? -1 : 0;
}

static void add_rng(cJSON *parent, const char *key, const otg_rng *r) {
    cJSON *o = cJSON_AddObjectToObject(parent, key);
    add_u64(o, "seed", r->seed), add_u64(o, "stream", r->stream), add_u64(o, "counter", r->counter);
    cJSON_AddNumberToObject(o, "buf_left", r->buf_left);
    cJSON *b = cJSON_AddArrayToObject(o, "buf");
    for (int i = 0; i < 4; i++) cJSON_AddItemToArray(b, cJSON_CreateNumber((double)r->buf[i]));
}

static int get_rng(const cJSON *parent, const char *key, otg_rng *r) {
    const cJSON *o = cJSON_GetObjectItemCaseSensitive(parent, key);
    const cJSON *bl = cJSON_GetObjectItemCaseSensitive(o, "buf_left"), *b = cJSON_GetObjectItemCaseSensitive(o, "buf");
    if (!o || get_u64(o, "seed", &r->seed) || get_u64(o, "stream", &r->stream) ||
        get_u64(o, "counter", &r->counter) || !cJSON_IsNumber(bl) || cJSON_GetArraySize(b) != 4)
        return -1;
    r->buf_left = bl->valueint;
    for (int i = 0; i < 4; i++) r->buf[i] = (uint32_t)cJSON_GetArrayItem(b, i)->valuedouble;
    return r->buf_left < 0 || r->buf_left > 4 ? -1 : 0;
}

static cJSON *header_json(const train_run *r) {
    cJSON *h = cJSON_CreateObject();
    cJSON_AddStringToObject(h, "format", "otgen-train-checkpoint");
    cJSON_AddStringToObject(h, "otgen", otg_version());
    add_u64(h, "step", (uint64_t)r->step);
    cJSON *m = cJSON_AddObjectToObject(h, "model");
    cJSON_AddStringToObject(m, "kind", otg_model_kind_name(r->spec.kind));
    cJSON_AddNumberToObject(m, "latent", (double)r->spec.latent);
    cJSON_AddNumberToObject(m, "out_dim", (double)r->spec.out_dim);
    cJSON *hid = cJSON_AddArrayToObject(m, "hidden");
    for (int i = 0; i < r->spec.n_hidden; i++) cJSON_AddItemToArray(hid, cJSON_CreateNumber((double)r->spec.hidden[i]));
    cJSON_AddStringToObject(m, "activation", otg_activation_name(r->spec.activation));
    cJSON_AddStringToObject(m, "output", otg_activation_name(r->spec.output));
    cJSON_AddNumberToObject(m, "img_h", (double)r->spec.img_h);
    cJSON_AddNumberToObject(m, "img_w", (double)r->spec.img_w);
    cJSON_AddNumberToObject(m, "channels", (double)r->spec.channels);
    cJSON_AddNumberToObject(m, "params", (double)r->n_params);
    cJSON *op = cJSON_AddObjectToObject(h, "optimizer");
    cJSON_AddStringToObject(op, "name", r->o->optimizer);
    add_u64(op, "steps", (uint64_t)otg_optim_steps(r->opt));
    cJSON_AddNumberToObject(op, "state_size", (double)otg_optim_state_size(r->opt));
    cJSON *sc = cJSON_AddObjectToObject(h, "schedule");
    cJSON_AddNumberToObject(sc, "lr", r->sched.lr);
    cJSON_AddNumberToObject(sc, "best", isinf(r->sched.best) ? 1e308 : r->sched.best);
    add_u64(sc, "bad", (uint64_t)r->sched.bad);
    cJSON *rng = cJSON_AddObjectToObject(h, "rng");
    add_rng(rng, "latent", &r->r_latent), add_rng(rng, "data", &r->r_data);
    add_rng(rng, "directions", &r->r_dirs), add_rng(rng, "noise", &r->r_noise);
    cJSON_AddItemToObject(h, "config", train_config_json(r->o));
    return h;
}

otg_status train_save(train_run *r, const char *path) {
    cJSON *h = header_json(r);
    char *text = cJSON_PrintUnformatted(h);
    cJSON_Delete(h);
    int64_t n;
    const float *u = otg_graph_params(r->g, &n);
    otg_status st = otg_checkpoint_write(path, text, u, n, otg_optim_state(r->opt), otg_optim_state_size(r->opt));
    free(text);
    return st;
}

/* Applies the header's run state to r; -1 on a missing or malformed field. */
static int apply_header(train_run *r, const cJSON *h) {
    uint64_t step, osteps, bad;
    const cJSON *op = cJSON_GetObjectItemCaseSensitive(h, "optimizer"), *sc = cJSON_GetObjectItemCaseSensitive(h, "schedule");
    const cJSON *rng = cJSON_GetObjectItemCaseSensitive(h, "rng");
    const cJSON *lr = cJSON_GetObjectItemCaseSensitive(sc, "lr"), *best = cJSON_GetObjectItemCaseSensitive(sc, "best");
    if (get_u64(h, "step", &step) || get_u64(op, "steps", &osteps) || get_u64(sc, "bad", &bad) ||
        !cJSON_IsNumber(lr) || !cJSON_IsNumber(best) || get_rng(rng, "latent", &r->r_latent) ||
        get_rng(rng, "data", &r->r_data) || get_rng(rng, "directions", &r->r_dirs) || get_rng(rng, "noise", &r->r_noise))
        return -1;
    r->step = (int64_t)step;
    otg_optim_set_steps(r->opt, (int64_t)osteps);
    r->sched.lr = lr->valuedouble, r->sched.best = best->valuedouble >= 1e308 ? (double)INFINITY : best->valuedouble;
    r->sched.bad = (int64_t)bad;
    return 0;
}

int train_restore(train_run *r, const char *path) {
    otg_checkpoint c;
    if (otg_checkpoint_read(path, &c) != OTG_OK) {
        fprintf(stderr, "otgen train: %s\n", otg_last_error());
        return OTG_EXIT_USAGE;
    }
    int64_t n;
    float *u = otg_graph_params(r->g, &n);
    int rc = 0;
    cJSON *h = cJSON_Parse(c.header);
    if (c.n_params != n || c.n_state != otg_optim_state_size(r->opt)) {
        fprintf(stderr, "otgen train: %s: holds %lld parameters and %lld optimiser values, this model has %lld and %lld\n",
                path, (long long)c.n_params, (long long)c.n_state, (long long)n, (long long)otg_optim_state_size(r->opt));
        rc = OTG_EXIT_USAGE;
    } else if (!h || apply_header(r, h)) {
        fprintf(stderr, "otgen train: %s: malformed checkpoint header\n", path);
        rc = OTG_EXIT_USAGE;
    } else {
        memcpy(u, c.params, (size_t)n * sizeof(float));
        memcpy(otg_optim_state(r->opt), c.state, (size_t)c.n_state * sizeof(float));
    }
    cJSON_Delete(h);
    otg_checkpoint_release(&c);
    return rc;
}
