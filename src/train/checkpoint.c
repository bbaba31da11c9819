/* The checkpoint schema of a training run, in one place: the JSON header (format, schema, step,
 * model spec, optimiser, schedule state, every random stream, the resolved config) beside the
 * flat parameters and optimiser state of src/io's container. Save, restore into a trainer of the
 * same config, and load (rebuild the trainer from the header's config alone). */
#include "internal.h"
#include "internal_state.h"
#include "otgen/io.h"
#include "train_internal.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#define FORMAT "otgen-train-checkpoint"
/* 1: otgen 0.1.0 before the library trainer (no "schema" member, no leaky_alpha: 0.2);
 * 2: + "schema" and the model's "leaky_alpha";
 * 3: + "config_hash" (the run's identity, checked on restore). Files written between the
 *    reliability and the GEMM work also hold "threads" (the count that wrote them), which is
 *    read but no longer written: results do not depend on the thread count. All are read. */
#define SCHEMA 3

/* The keys that do not change what a run computes up to a step: its length and its checkpoint
 * period. They may differ between a checkpoint and the run that resumes it. */
static int run_length_key(const char *k) {
    return !strcmp(k, "steps") || !strcmp(k, "epochs") || !strcmp(k, "checkpoint-every");
}

/* Keys added after schema 3, left out of the hash at their default value so that checkpoints
 * written before them (which computed that default) still resume: estimator "mc", ema 0,
 * decay-frac 0.2 (it matters only to wsd, added with it), output-init-scale 1, data-batch 0,
 * quantile-bank 0, output-blur 0, and
 * "val-fd" always (a metrics column, not the run's bits). */
static int later_key_at_default(const cJSON *v) {
    return !strcmp(v->string, "val-fd") ||
           (!strcmp(v->string, "decay-frac") && cJSON_IsNumber(v) && v->valuedouble == 0.2) ||
           (!strcmp(v->string, "estimator") && cJSON_IsString(v) &&
            !strcmp(v->valuestring, "mc")) ||
           (!strcmp(v->string, "ema") && cJSON_IsNumber(v) && v->valuedouble == 0) ||
           (!strcmp(v->string, "output-init-scale") && cJSON_IsNumber(v) && v->valuedouble == 1) ||
           (!strcmp(v->string, "data-batch") && cJSON_IsNumber(v) && v->valuedouble == 0) ||
           (!strcmp(v->string, "quantile-bank") && cJSON_IsNumber(v) && v->valuedouble == 0) ||
           (!strcmp(v->string, "output-blur") && cJSON_IsNumber(v) && v->valuedouble == 0) ||
           (!strcmp(v->string, "conditional") && cJSON_IsFalse(v)) ||
           (!strcmp(v->string, "output-median") && cJSON_IsFalse(v)) ||
           (!strcmp(v->string, "sample-median") && cJSON_IsFalse(v));
}

/* FNV-1a 64 of the unformatted config object without the run-length keys (and the later keys at
 * their default); 0 on out of memory. */
static uint64_t hash_config_cjson(const cJSON *cfg) {
    cJSON *c = cJSON_Duplicate(cfg, 1);
    for (cJSON *v = c ? c->child : NULL, *next; v; v = next) {
        next = v->next;
        if (run_length_key(v->string) || later_key_at_default(v))
            cJSON_Delete(cJSON_DetachItemViaPointer(c, v));
    }
    char *text = c ? cJSON_PrintUnformatted(c) : NULL;
    cJSON_Delete(c);
    if (!text) return 0;
    const uint64_t h = otgi_fnv1a(OTGI_KEY_HASH_BASIS, text, strlen(text));
    free(text);
    return h;
}

/* The config of c as a cJSON object without "version" and "resolved"; NULL on out of memory. */
static cJSON *config_cjson(const otg_train_config *c) {
    int n;
    const otg_param_def *defs = otg_train_config_params(&n);
    return otgi_params_to_cjson(defs, n, c);
}

static int add_hash(cJSON *h, const otg_train_config *c) {
    cJSON *cj = config_cjson(c);
    uint64_t v = cj ? hash_config_cjson(cj) : 0;
    cJSON_Delete(cj);
    char buf[24];
    snprintf(buf, sizeof buf, "%016" PRIx64, v);
    return v && cJSON_AddStringToObject(h, "config_hash", buf);
}

static int add_model(cJSON *h, const otg_trainer *t) {
    const otg_model_spec *s = &t->spec;
    cJSON *m = cJSON_AddObjectToObject(h, "model"), *hid = NULL;
    int ok = m && cJSON_AddStringToObject(m, "kind", otg_model_kind_name(s->kind)) &&
             cJSON_AddNumberToObject(m, "latent", (double)s->latent) &&
             cJSON_AddNumberToObject(m, "out_dim", (double)s->out_dim) &&
             (hid = cJSON_AddArrayToObject(m, "hidden"));
    for (int i = 0; ok && i < s->n_hidden; i++) {
        cJSON *x = cJSON_CreateNumber((double)s->hidden[i]);
        ok = x && cJSON_AddItemToArray(hid, x);
    }
    return ok && cJSON_AddStringToObject(m, "activation", otg_activation_name(s->activation)) &&
           cJSON_AddStringToObject(m, "output", otg_activation_name(s->output)) &&
           cJSON_AddNumberToObject(m, "leaky_alpha", (double)s->leaky_alpha) &&
           cJSON_AddNumberToObject(m, "img_h", (double)s->img_h) &&
           cJSON_AddNumberToObject(m, "img_w", (double)s->img_w) &&
           cJSON_AddNumberToObject(m, "channels", (double)s->channels) &&
           cJSON_AddNumberToObject(m, "params", (double)t->n_params);
}

static int add_run_state(cJSON *h, const otg_trainer *t) {
    cJSON *op = cJSON_AddObjectToObject(h, "optimizer"), *rng = NULL;
    return op && cJSON_AddStringToObject(op, "name", t->c.optimizer) &&
           otgi_cjson_add_u64(op, "steps", (uint64_t)otg_optim_steps(t->opt)) &&
           cJSON_AddNumberToObject(op, "state_size", (double)otg_optim_state_size(t->opt)) &&
           otgi_schedule_state_write(h, "schedule", &t->sched) &&
           (rng = cJSON_AddObjectToObject(h, "rng")) &&
           otgi_rng_state_write(rng, "latent", &t->r_latent) &&
           otgi_rng_state_write(rng, "data", &t->r_data) &&
           otgi_rng_state_write(rng, "directions", &t->r_dirs) &&
           otgi_rng_state_write(rng, "noise", &t->r_noise);
}

/* The header as text (caller frees); NULL on out of memory. */
static char *header_text(const otg_trainer *t) {
    char *config = otg_train_config_to_json(&t->c), *text = NULL;
    cJSON *h = cJSON_CreateObject(), *cj = config ? cJSON_Parse(config) : NULL;
    int ok = h && cj && cJSON_AddStringToObject(h, "format", FORMAT) &&
             cJSON_AddNumberToObject(h, "schema", SCHEMA) &&
             cJSON_AddStringToObject(h, "otgen", otg_version()) &&
             otgi_cjson_add_u64(h, "step", (uint64_t)t->step) && add_hash(h, &t->c) &&
             add_model(h, t) && add_run_state(h, t) && cJSON_AddItemToObject(h, "config", cj);
    if (ok)
        text = cJSON_PrintUnformatted(h);
    else
        cJSON_Delete(cj);
    cJSON_Delete(h);
    free(config);
    if (!text) otgi_fail(OTG_ENOMEM, "train: out of memory writing the checkpoint header");
    return text;
}

otg_status otg_trainer_save(const otg_trainer *t, const char *path) {
    if (!t || !path) return otgi_fail(OTG_EINVAL, "train: save: NULL argument");
    char *text = header_text(t);
    if (!text) return OTG_ENOMEM;
    otg_optim *opt = t->opt;
    /* the state section: the optimiser's state, then the weight average (--ema) */
    const int64_t ns = otg_optim_state_size(opt), ne = t->ema ? t->n_params : 0;
    float *state = ne ? malloc((size_t)(ns + ne) * sizeof *state) : otg_optim_state(opt);
    if (ne && !state) {
        free(text);
        return otgi_fail(OTG_ENOMEM, "train: out of memory writing the checkpoint");
    }
    if (ne) {
        if (ns) memcpy(state, otg_optim_state(opt), (size_t)ns * sizeof *state);
        memcpy(state + ns, t->ema, (size_t)ne * sizeof *state);
    }
    otg_status st =
        otg_checkpoint_write(path, text, otg_graph_params(t->g, NULL), t->n_params, state, ns + ne);
    if (ne) free(state);
    free(text);
    return st;
}

/* The parsed header of a training checkpoint, checked for its format and schema. */
static otg_status parse_header(const char *path, const otg_checkpoint *ck, cJSON **out) {
    cJSON *h = cJSON_Parse(ck->header);
    const cJSON *f = cJSON_GetObjectItemCaseSensitive(h, "format");
    const cJSON *sc = cJSON_GetObjectItemCaseSensitive(h, "schema");
    *out = NULL;
    if (!cJSON_IsString(f) || strcmp(f->valuestring, FORMAT)) {
        cJSON_Delete(h);
        return otgi_fail(OTG_EFORMAT, "%s: not a training checkpoint (header format is not \"%s\")",
                         path, FORMAT);
    }
    int schema = !sc ? 1
                 : cJSON_IsNumber(sc) && sc->valuedouble >= 1 && sc->valuedouble < 1e6
                     ? (int)sc->valuedouble
                     : 0;
    if (schema < 1 || schema > SCHEMA) {
        if (schema == 0) {
            cJSON_Delete(h);
            return otgi_fail(OTG_EFORMAT, "%s: malformed checkpoint header (schema)", path);
        }
        cJSON_Delete(h);
        return otgi_fail(OTG_EFORMAT,
                         "%s: training checkpoint schema %d (this otgen %s reads 1 "
                         "to %d): written by a newer otgen",
                         path, schema, otg_version(), SCHEMA);
    }
    *out = h;
    return OTG_OK;
}

/* The checkpoint file and its parsed header (*h, freed with cJSON_Delete), or the reader's or
 * parse_header's error with nothing held. */
static otg_status read_checkpoint(const char *path, otg_checkpoint *ck, cJSON **h) {
    *h = NULL;
    otg_status st = otg_checkpoint_read(path, ck);
    if (st != OTG_OK) return st;
    st = parse_header(path, ck, h);
    if (st != OTG_OK) otg_checkpoint_release(ck);
    return st;
}

/* Applies the header's run state and the buffers of ck to t, or changes nothing. */
static otg_status apply(otg_trainer *t, const char *path, const otg_checkpoint *ck,
                        const cJSON *h) {
    const int64_t ns = otg_optim_state_size(t->opt), ne = t->ema ? t->n_params : 0;
    if (ck->n_params != t->n_params || ck->n_state != ns + ne)
        return otgi_fail(OTG_EINVAL,
                         "train: %s: holds %lld parameters and %lld optimiser values, "
                         "this model has %lld and %lld",
                         path, (long long)ck->n_params, (long long)ck->n_state,
                         (long long)t->n_params, (long long)(ns + ne));
    otg_trainer s = *t; /* the new state is built on a copy, then committed */
    int64_t step, osteps;
    const cJSON *op = cJSON_GetObjectItemCaseSensitive(h, "optimizer");
    const cJSON *rng = cJSON_GetObjectItemCaseSensitive(h, "rng");
    if (otgi_cjson_get_i64(h, "step", &step) || otgi_cjson_get_i64(op, "steps", &osteps) ||
        otgi_schedule_state_read(h, "schedule", &s.sched) != OTG_OK ||
        otgi_rng_state_read(rng, "latent", &s.r_latent) != OTG_OK ||
        otgi_rng_state_read(rng, "data", &s.r_data) != OTG_OK ||
        otgi_rng_state_read(rng, "directions", &s.r_dirs) != OTG_OK ||
        otgi_rng_state_read(rng, "noise", &s.r_noise) != OTG_OK)
        return otgi_fail(OTG_EFORMAT, "train: %s: malformed checkpoint header", path);
    t->step = step, t->sched = s.sched;
    t->r_latent = s.r_latent, t->r_data = s.r_data, t->r_dirs = s.r_dirs, t->r_noise = s.r_noise;
    otg_optim_set_steps(t->opt, osteps);
    memcpy(otg_graph_params(t->g, NULL), ck->params, (size_t)ck->n_params * sizeof(float));
    if (ns) memcpy(otg_optim_state(t->opt), ck->state, (size_t)ns * sizeof(float));
    if (ne) memcpy(t->ema, ck->state + ns, (size_t)ne * sizeof(float));
    return OTG_OK;
}

/* The config stored in the header. */
static otg_status header_config(const char *path, const cJSON *h, otg_train_config *c) {
    const cJSON *cj = cJSON_GetObjectItemCaseSensitive(h, "config");
    char *text = cJSON_IsObject(cj) ? cJSON_PrintUnformatted(cj) : NULL;
    if (!text) return otgi_fail(OTG_EFORMAT, "%s: not a training checkpoint (no config)", path);
    *c = otg_train_config_default();
    otg_status st = otg_train_config_from_json(text, c);
    free(text);
    if (st != OTG_OK)
        return otgi_fail(OTG_EFORMAT, "%s: checkpoint config: %s", path, otg_last_error());
    return OTG_OK;
}

/* The checkpoint belongs to t's run: the config hash of its header (schema 3; the hash of its
 * config before) equals that of t's config. A mismatch names the first options that differ. */
static otg_status check_identity(const otg_trainer *t, const char *path, const cJSON *h) {
    otg_train_config theirs;
    otg_status st = header_config(path, h, &theirs);
    if (st != OTG_OK) return st;
    cJSON *mine = config_cjson(&t->c), *other = config_cjson(&theirs);
    const cJSON *stored = cJSON_GetObjectItemCaseSensitive(h, "config_hash");
    uint64_t want = mine ? hash_config_cjson(mine) : 0, have = 0;
    if (cJSON_IsString(stored))
        have = strtoull(stored->valuestring, NULL, 16);
    else if (other)
        have = hash_config_cjson(other);
    cJSON_Delete(mine), cJSON_Delete(other);
    if (!want || (!have && !cJSON_IsString(stored)))
        return otgi_fail(OTG_ENOMEM, "train: out of memory checking %s", path);
    if (want == have) return OTG_OK;
    int n;
    const otg_param_def *defs = otg_train_config_params(&n);
    char diff[640] = "", a[160], b[160];
    size_t k = 0;
    for (int i = 0, shown = 0; i < n && shown < 3; i++) {
        if (run_length_key(defs[i].name)) continue;
        otg_param_format(&defs[i], &theirs, a, sizeof a);
        otg_param_format(&defs[i], &t->c, b, sizeof b);
        if (!strcmp(a, b)) continue;
        k += (size_t)snprintf(diff + k, sizeof diff - k, "%s--%s %s (this run: %s)",
                              shown++ ? ", " : " in ", defs[i].name, a, b);
        if (k >= sizeof diff) k = sizeof diff - 1;
    }
    return otgi_fail(OTG_EINVAL,
                     "train: %s belongs to another run: its config differs from this run's%s; "
                     "resume with the run's own config.json (only --steps and --threads may "
                     "change), or start a new run elsewhere",
                     path, diff[0] ? diff : " (config hash)");
}

otg_status otg_trainer_restore(otg_trainer *t, const char *path) {
    if (!t || !path) return otgi_fail(OTG_EINVAL, "train: restore: NULL argument");
    otg_checkpoint ck;
    cJSON *h;
    otg_status st = read_checkpoint(path, &ck, &h);
    if (st != OTG_OK) return st;
    st = check_identity(t, path, h);
    if (st == OTG_OK) st = apply(t, path, &ck, h);
    cJSON_Delete(h);
    otg_checkpoint_release(&ck);
    return st;
}

otg_status otg_trainer_load(const char *path, otg_trainer **out) {
    if (!out) return otgi_fail(OTG_EINVAL, "train: load: NULL output");
    *out = NULL;
    if (!path) return otgi_fail(OTG_EINVAL, "train: load: NULL path");
    otg_checkpoint ck;
    cJSON *h;
    otg_status st = read_checkpoint(path, &ck, &h);
    if (st != OTG_OK) return st;
    otg_train_config c;
    otg_trainer *t = NULL;
    st = header_config(path, h, &c);
    if (st == OTG_OK) {
        otgi_param_budget = ck.n_params > 0 ? ck.n_params : 1; /* a crafted header cannot ask for
                                                                * a larger model */
        t = otg_trainer_new(&c);
        otgi_param_budget = 0;
        if (!t) st = otgi_fail(OTG_EFORMAT, "%s: checkpoint config: %s", path, otg_last_error());
    }
    if (st == OTG_OK) st = apply(t, path, &ck, h);
    cJSON_Delete(h);
    otg_checkpoint_release(&ck);
    if (st != OTG_OK) {
        otg_trainer_free(t);
        return st;
    }
    *out = t;
    return OTG_OK;
}

otg_status otg_train_checkpoint_threads(const char *path, int *threads) {
    if (!path || !threads) return otgi_fail(OTG_EINVAL, "train: checkpoint_threads: NULL argument");
    *threads = 0;
    otg_checkpoint ck;
    cJSON *h;
    otg_status st = read_checkpoint(path, &ck, &h);
    if (st != OTG_OK) return st;
    const cJSON *n = cJSON_GetObjectItemCaseSensitive(h, "threads");
    if (cJSON_IsNumber(n) && n->valuedouble >= 1 && n->valuedouble <= 1024)
        *threads = (int)n->valuedouble;
    cJSON_Delete(h);
    otg_checkpoint_release(&ck);
    return st;
}
