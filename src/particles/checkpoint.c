/* particles: the checkpoint of a run (docs/particles.md, "Checkpoints"): a JSON header (format,
 * schema, the hash of the run's key, the step, the batch stream, the caller's rows and objective)
 * beside the particles [m, dim] and the caller's trajectory snapshots [n, m, 2] in src/io's
 * container, written atomically. Built only on public calls. */
#include "internal.h"
#include "internal_state.h"
#include "otgen/io.h"
#include "otgen/particles.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define FORMAT "otgen-particles-checkpoint"
#define SCHEMA 1

/* parent["stream"] = r, "buf" first (the member order of the files written since schema 1). */
static int add_stream(cJSON *parent, const otg_rng *r) {
    cJSON *o = cJSON_AddObjectToObject(parent, "stream"),
          *b = o ? cJSON_AddArrayToObject(o, "buf") : NULL;
    int ok = b && otgi_cjson_add_u64(o, "seed", r->seed) &&
             otgi_cjson_add_u64(o, "stream", r->stream) &&
             otgi_cjson_add_u64(o, "counter", r->counter) &&
             cJSON_AddNumberToObject(o, "buf_left", r->buf_left);
    for (int i = 0; ok && i < 4; i++) {
        cJSON *x = cJSON_CreateNumber((double)r->buf[i]);
        ok = x && cJSON_AddItemToArray(b, x);
    }
    return ok;
}

otg_status otg_particles_checkpoint_save(const char *path, otg_particles *s, const char *key,
                                         const otg_particles_checkpoint *c) {
    if (!path || !s || !key || !c || c->steps_done < 0 || c->n_snapshots < 0 ||
        (c->n_snapshots && !c->snapshots))
        return otgi_fail(OTG_EINVAL, "particles: checkpoint_save: bad argument");
    char hash[17];
    otgi_key_hash(key, hash);
    const int64_t m = otg_particles_count(s), dim = otg_particles_dim(s);
    cJSON *h = cJSON_CreateObject();
    int ok = h && cJSON_AddStringToObject(h, "format", FORMAT) &&
             cJSON_AddNumberToObject(h, "schema", SCHEMA) &&
             cJSON_AddStringToObject(h, "otgen", otg_version()) &&
             cJSON_AddStringToObject(h, "options_hash", hash) &&
             otgi_cjson_add_u64(h, "step", (uint64_t)c->steps_done) &&
             cJSON_AddNumberToObject(h, "threads", otg_threads_get()) &&
             add_stream(h, otg_particles_stream(s)) &&
             cJSON_AddStringToObject(h, "metrics", c->metrics ? c->metrics : "") &&
             cJSON_AddNumberToObject(h, "snapshots", (double)c->n_snapshots) &&
             cJSON_AddNumberToObject(h, "objective", isfinite(c->objective) ? c->objective : 0.0);
    char *text = ok ? cJSON_PrintUnformatted(h) : NULL;
    cJSON_Delete(h);
    if (!text) return otgi_fail(OTG_ENOMEM, "particles: checkpoint: out of memory");
    otg_status st = otg_checkpoint_write(path, text, otg_particles_data(s), m * dim, c->snapshots,
                                         c->n_snapshots * m * 2);
    free(text);
    return st;
}

/* Checks the header h of path against key and steps and fills out (not its arrays). */
static otg_status read_header(const char *path, const cJSON *h, const char *key, int64_t steps,
                              otg_rng *stream, otg_particles_checkpoint *out) {
    const cJSON *f = cJSON_GetObjectItemCaseSensitive(h, "format");
    const cJSON *hs = cJSON_GetObjectItemCaseSensitive(h, "options_hash");
    const cJSON *mt = cJSON_GetObjectItemCaseSensitive(h, "metrics");
    const cJSON *ns = cJSON_GetObjectItemCaseSensitive(h, "snapshots");
    const cJSON *F = cJSON_GetObjectItemCaseSensitive(h, "objective");
    const cJSON *th = cJSON_GetObjectItemCaseSensitive(h, "threads");
    if (!cJSON_IsString(f) || strcmp(f->valuestring, FORMAT))
        return otgi_fail(OTG_EFORMAT, "%s is not a particles checkpoint", path);
    if (key) {
        char hash[17];
        otgi_key_hash(key, hash);
        if (!cJSON_IsString(hs) || strcmp(hs->valuestring, hash))
            return otgi_fail(OTG_EINVAL,
                             "%s belongs to another run (its options differ from these: resume "
                             "with the run's own command line)",
                             path);
    }
    int64_t step = 0;
    if (otgi_cjson_get_i64(h, "step", &step) || step < 1 || (steps > 0 && step > steps) ||
        otgi_rng_state_read(h, "stream", stream) != OTG_OK || !cJSON_IsString(mt) ||
        !otgi_cjson_int_in(ns, 0, 9e15) || !cJSON_IsNumber(F))
        return otgi_fail(OTG_EFORMAT, "%s: malformed checkpoint header", path);
    out->steps_done = step;
    out->n_snapshots = (int64_t)ns->valuedouble;
    out->objective = F->valuedouble;
    out->threads = otgi_cjson_int_in(th, 1, 1024) ? (int)th->valuedouble : 0;
    size_t len = strlen(mt->valuestring) + 1;
    if ((out->metrics = malloc(len))) memcpy(out->metrics, mt->valuestring, len);
    return out->metrics ? OTG_OK : otgi_fail(OTG_ENOMEM, "%s: out of memory", path);
}

otg_status otg_particles_checkpoint_load(const char *path, otg_particles *s, const char *key,
                                         int64_t steps, otg_particles_checkpoint *out) {
    if (!path || !out) return otgi_fail(OTG_EINVAL, "particles: checkpoint_load: NULL argument");
    memset(out, 0, sizeof *out);
    otg_checkpoint ck;
    otg_status st = otg_checkpoint_read(path, &ck);
    if (st != OTG_OK) return st;
    cJSON *h = cJSON_Parse(ck.header);
    otg_rng stream;
    st = h ? read_header(path, h, key, steps, &stream, out)
           : otgi_fail(OTG_EFORMAT, "%s: malformed checkpoint header", path);
    cJSON_Delete(h);
    const int64_t m = s ? otg_particles_count(s) : 0, dim = s ? otg_particles_dim(s) : 0;
    if (st == OTG_OK && s &&
        (ck.n_params != m * dim || out->n_snapshots > INT64_MAX / 2 / m ||
         ck.n_state != out->n_snapshots * m * 2))
        st = otgi_fail(OTG_ESHAPE,
                       "%s: holds %lld particle floats and %lld snapshot floats; this system "
                       "has [m, dim] = [%lld, %lld]",
                       path, (long long)ck.n_params, (long long)ck.n_state, (long long)m,
                       (long long)dim);
    if (st == OTG_OK && s) {
        memcpy(otg_particles_data(s), ck.params, (size_t)ck.n_params * sizeof(float));
        *otg_particles_stream(s) = stream;
        out->snapshots = ck.state, ck.state = NULL; /* handed over */
    }
    otg_checkpoint_release(&ck);
    if (st != OTG_OK) otg_particles_checkpoint_release(out);
    return st;
}

void otg_particles_checkpoint_release(otg_particles_checkpoint *c) {
    if (!c) return;
    free(c->metrics), free(c->snapshots);
    memset(c, 0, sizeof *c);
}
