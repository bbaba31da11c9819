/* otgen eval: distances between a generator's samples (from a checkpoint) or an NPY file of points
 * and a data set split: SW_p with many directions (and its standard error) and the energy
 * distance. */
#define _POSIX_C_SOURCE 200809L
#include "cli.h"
#include "eval_fd.h"
#include "options.h"
#include "otgen/otgen.h"
#include "otgen/train.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    char checkpoint[4096], samples[4096], data[4096], split[64], classes[64]; /* "" = not given */
    char metric[8], cache[4096];
    int64_t n, projections, seed, threads;
    double p;
} eval_opts;

#define OFF(f) offsetof(eval_opts, f), 0
#define STR(f) OTG_PARAM_STR_FIELD(eval_opts, f)
static const otg_param_def defs[] = {
    {"checkpoint", OTG_PARAM_STR, STR(checkpoint), "F", "generator checkpoint to sample from", 0, 0,
     0},
    {"samples", OTG_PARAM_STR, STR(samples), "F.npy", "or: points to evaluate [n, d]", 0, 0, 0},
    {"data", OTG_PARAM_STR, STR(data), "NAME",
     "reference data set (default: the checkpoint's training data)", 0, 0, 0},
    {"split", OTG_PARAM_STR, STR(split), "S", "split of the reference: test or train", 0, 0, 0},
    {"classes", OTG_PARAM_STR, STR(classes), "L,L",
     "fashion-mnist labels to keep (default: the checkpoint's)", 0, 0, 0},
    {"n", OTG_PARAM_INT, OFF(n), "N", "points on each side", 2, 1 << 24, 0},
    {"projections", OTG_PARAM_INT, OFF(projections), "L", "directions for SW", 1, 1 << 24, 0},
    {"p", OTG_PARAM_REAL, OFF(p), "P", "order of SW (default: the checkpoint's, else 2)", 1, 100,
     0},
    {"seed", OTG_PARAM_INT, OFF(seed), "S", "seed of the latent, data and direction streams", 0,
     9e15, 0},
    {"threads", OTG_PARAM_INT, OFF(threads), "N", "threads, 0 = all cores", 0, 1024, 0},
    {"metric", OTG_PARAM_STR, STR(metric), "M",
     "sw (SW_p and energy) or fd (feature Frechet distance, coverage, confident, memorisation; "
     "images, n default 10000)",
     0, 0, 0},
    {"cache", OTG_PARAM_STR, STR(cache), "DIR",
     "fd: classifier cache (default $XDG_CACHE_HOME/otgen or ~/.cache/otgen)", 0, 0, 0},
};
static const int n_defs = (int)(sizeof defs / sizeof defs[0]);

/* The points to evaluate [n, d] (x) from the checkpoint or the file; sets the defaults it knows. */
static otg_tensor *points(eval_opts *o) {
    if (o->samples[0]) {
        otg_tensor *t = cli_read_cloud("eval", o->samples);
        if (t->shape[0] < o->n) o->n = t->shape[0];
        return t;
    }
    otg_trainer *t = NULL;
    if (otg_trainer_load(o->checkpoint, &t) != OTG_OK)
        cli_usage_error("eval", "%s", otg_last_error());
    const otg_train_config *c = otg_trainer_config(t);
    if (!o->data[0]) snprintf(o->data, sizeof o->data, "%s", c->data);
    if (!o->classes[0]) snprintf(o->classes, sizeof o->classes, "%s", c->classes);
    if (o->p <= 0) o->p = c->p;
    otg_tensor *x = otg_tensor_new(2, (int64_t[]){o->n, otg_trainer_dim(t)});
    otg_status st = x ? otg_trainer_sample(t, (uint64_t)o->seed, o->n, x->data) : OTG_ENOMEM;
    otg_trainer_free(t);
    if (st != OTG_OK) {
        fprintf(stderr, "otgen eval: %s\n", otg_last_error());
        exit(OTG_EXIT_FAIL);
    }
    return x;
}

static otg_tensor *reference(const eval_opts *o, int64_t d) {
    otg_source_opts so = otg_source_opts_default();
    int classes[10];
    so.split = o->split;
    if (o->classes[0]) {
        so.n_classes = 0;
        for (const char *c = o->classes; *c && so.n_classes < 10; c++)
            if (*c >= '0' && *c <= '9') classes[so.n_classes++] = *c - '0';
        so.classes = classes;
    }
    otg_source *s = otg_source_open(o->data, &so);
    if (!s) cli_usage_error("eval", "--data: %s", otg_last_error());
    if (otg_source_dim(s) != d)
        cli_usage_error("eval", "--data %s has dimension %lld, the points have %lld", o->data,
                        (long long)otg_source_dim(s), (long long)d);
    otg_tensor *y = otg_tensor_new(2, (int64_t[]){o->n, d});
    otg_rng r = otg_rng_make((uint64_t)o->seed, 2);
    otg_status st = y ? otg_source_sample(s, &r, o->n, y->data) : OTG_ENOMEM;
    otg_source_free(s);
    if (st != OTG_OK) {
        fprintf(stderr, "otgen eval: %s\n", otg_last_error());
        exit(OTG_EXIT_FAIL);
    }
    return y;
}

int cmd_eval(int argc, char **argv) {
    eval_opts o = {.split = "test", .n = 2000, .projections = 1000, .metric = "sw"};
    int seen[sizeof defs / sizeof defs[0]] = {0};
    params_parse_argv(
        "eval",
        "usage: otgen eval (--checkpoint F | --samples F.npy) [--data NAME] [options]\n"
        "SW_p (many fixed directions) and energy distance between points and a data set.",
        defs, n_defs, &o, argc, argv, seen);
    if (!o.checkpoint[0] == !o.samples[0])
        cli_usage_error("eval", "give exactly one of --checkpoint and --samples");
    const int fd = strcmp(o.metric, "fd") == 0;
    if (!fd && strcmp(o.metric, "sw") != 0)
        cli_usage_error("eval", "--metric: '%s' unknown (sw or fd)", o.metric);
    if (fd && !seen[otg_params_find(defs, n_defs, "n")]) o.n = 10000;
    if (fd && o.samples[0] && !o.data[0]) snprintf(o.data, sizeof o.data, "fashion-mnist");
    if (o.samples[0] && !o.data[0]) cli_usage_error("eval", "--samples needs --data");
    otg_threads_set((int)o.threads);
    otg_tensor *x = points(&o);
    if (fd) {
        otg_tensor xv;
        otg_tensor_view_rows(x, 0, o.n, &xv);
        int rc = eval_fd_report(&xv, o.data, o.cache, o.samples[0] ? o.samples : o.checkpoint);
        otg_tensor_free(x);
        return rc;
    }
    if (o.p <= 0) o.p = 2.0;
    otg_tensor xv, *y = reference(&o, x->shape[1]);
    otg_tensor_view_rows(x, 0, o.n, &xv);
    otg_tensor *th = otg_tensor_new(2, (int64_t[]){x->shape[1], o.projections});
    otg_rng rd = otg_rng_make((uint64_t)o.seed, 3);
    otg_sw_workspace *ws = otg_sw_workspace_new();
    otg_sw_opts so = otg_sw_opts_default();
    so.p = o.p;
    otg_sw_result r;
    double energy = 0;
    otg_status st = th && ws ? OTG_OK : OTG_ENOMEM;
    if (st == OTG_OK)
        st = otg_sw_directions(&rd, OTG_DIR_GAUSSIAN, x->shape[1], o.projections, th->data);
    if (st == OTG_OK) st = otg_sw(ws, &xv, NULL, y, NULL, th, &so, &r, NULL, NULL);
    if (st == OTG_OK) st = otg_energy_distance(&xv, y, &energy);
    /* bad points (one row, shapes) are the request's fault: 2; memory and the rest: 1 */
    int rc = st == OTG_OK                           ? 0
             : st == OTG_EINVAL || st == OTG_ESHAPE ? OTG_EXIT_USAGE
                                                    : OTG_EXIT_FAIL;
    if (rc)
        fprintf(stderr, "otgen eval: %s\n", otg_last_error());
    else
        printf("sw=%.6g sw_stderr=%.3g energy=%.6g p=%g projections=%lld n=%lld data=%s split=%s "
               "source=%s\n",
               r.distance, r.stderr_value * (r.value > 0 ? r.distance / (o.p * r.value) : 0),
               energy, o.p, (long long)o.projections, (long long)o.n, o.data, o.split,
               o.samples[0] ? o.samples : o.checkpoint);
    otg_sw_workspace_free(ws);
    otg_tensor_free(x), otg_tensor_free(y), otg_tensor_free(th);
    return rc;
}
