/* Rebuilds a generator from a training checkpoint's header (model spec and config) and loads its
 * parameters; then draws samples batch by batch from a latent stream. */
#include "generator.h"

#include "cli.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <string.h>

static int64_t num(const cJSON *o, const char *k) {
    const cJSON *x = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsNumber(x) ? (int64_t)x->valuedouble : -1;
}

static const char *str(const cJSON *o, const char *k) {
    const cJSON *x = cJSON_GetObjectItemCaseSensitive(o, k);
    return cJSON_IsString(x) ? x->valuestring : NULL;
}

/* Model spec and latent law from the header; -1 when a field is missing. */
static int parse_header(generator *gen, const cJSON *h, const char **source) {
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(h, "model"), *c = cJSON_GetObjectItemCaseSensitive(h, "config");
    const cJSON *hid = cJSON_GetObjectItemCaseSensitive(m, "hidden");
    otg_model_spec *s = &gen->spec;
    memset(s, 0, sizeof *s);
    if (!m || !c || !cJSON_IsArray(hid) || cJSON_GetArraySize(hid) > 8) return -1;
    if (otg_model_kind_parse(str(m, "kind"), &s->kind) != OTG_OK ||
        otg_activation_parse(str(m, "activation"), &s->activation) != OTG_OK ||
        otg_activation_parse(str(m, "output"), &s->output) != OTG_OK)
        return -1;
    s->n_hidden = cJSON_GetArraySize(hid);
    for (int i = 0; i < s->n_hidden; i++) s->hidden[i] = (int64_t)cJSON_GetArrayItem(hid, i)->valuedouble;
    s->latent = num(m, "latent"), s->out_dim = num(m, "out_dim"), s->img_h = num(m, "img_h");
    s->img_w = num(m, "img_w"), s->channels = num(m, "channels"), s->leaky_alpha = 0.2f;
    *source = str(c, "source");
    const cJSON *p = cJSON_GetObjectItemCaseSensitive(c, "p");
    gen->p = cJSON_IsNumber(p) ? p->valuedouble : 2.0;
    snprintf(gen->data, sizeof gen->data, "%s", str(c, "data") ? str(c, "data") : "");
    snprintf(gen->classes, sizeof gen->classes, "%s", str(c, "classes") ? str(c, "classes") : "");
    return s->latent > 0 && s->out_dim > 0 && *source ? 0 : -1;
}

int generator_load(generator *gen, const char *cmd, const char *path, int64_t batch) {
    memset(gen, 0, sizeof *gen);
    otg_checkpoint ck;
    if (otg_checkpoint_read(path, &ck) != OTG_OK) {
        fprintf(stderr, "otgen %s: %s\n", cmd, otg_last_error());
        return OTG_EXIT_USAGE;
    }
    cJSON *h = cJSON_Parse(ck.header);
    const char *source = NULL;
    int rc = h && !parse_header(gen, h, &source) ? 0 : OTG_EXIT_USAGE;
    if (rc) fprintf(stderr, "otgen %s: %s: not a training checkpoint (header lacks the model or config)\n", cmd, path);
    otg_source_opts so = otg_source_opts_default();
    so.dim = gen->spec.latent;
    if (!rc && !(gen->latent = otg_source_open(source, &so))) {
        fprintf(stderr, "otgen %s: %s: latent law: %s\n", cmd, path, otg_last_error());
        rc = OTG_EXIT_USAGE;
    }
    otg_rng unused = otg_rng_make(0, 0);
    gen->batch = batch;
    if (!rc) {
        gen->g = otg_graph_new();
        gen->z = otg_input(gen->g, 2, (int64_t[]){batch, gen->spec.latent}, 0);
        gen->out = otg_model_build(gen->g, gen->z, &gen->spec, &unused);
        int64_t n = 0;
        float *u = otg_graph_params(gen->g, &n);
        if (!gen->out || n != ck.n_params || otg_graph_compile(gen->g) != OTG_OK) {
            fprintf(stderr, "otgen %s: %s: the model does not match its %lld parameters\n", cmd, path, (long long)ck.n_params);
            rc = OTG_EXIT_USAGE;
        } else {
            memcpy(u, ck.params, (size_t)n * sizeof(float));
        }
    }
    cJSON_Delete(h);
    otg_checkpoint_release(&ck);
    if (rc) generator_free(gen);
    return rc;
}

void generator_sample(generator *gen, uint64_t seed, int64_t n, float *out) {
    otg_rng r = otg_rng_make(seed, 1);
    const int64_t b = gen->batch, d = gen->spec.out_dim;
    for (int64_t i0 = 0; i0 < n; i0 += b) {
        otg_source_sample(gen->latent, &r, b, otg_node_data(gen->z));
        otg_graph_forward(gen->g);
        int64_t k = n - i0 < b ? n - i0 : b;
        memcpy(out + i0 * d, otg_node_data(gen->out), (size_t)(k * d) * sizeof(float));
    }
}

void generator_free(generator *gen) {
    otg_graph_free(gen->g);
    otg_source_free(gen->latent);
    memset(gen, 0, sizeof *gen);
}
