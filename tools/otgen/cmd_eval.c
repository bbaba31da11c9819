/* otgen eval: distances between a generator's samples (from a checkpoint) or an NPY file of points
 * and a data set split: SW_p with many directions and the energy distance, each with a standard
 * error that covers the sampling of the points (SW: a bootstrap, plus the directions' error). */
#define _POSIX_C_SOURCE 200809L
#include "cli.h"
#include "eval_fd.h"
#include "options.h"
#include "otgen/otgen.h"
#include "otgen/train.h"

#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { EVAL_REPLICATES = 100 }; /* bootstrap replicates of sw_stderr's point part */

typedef struct {
    char checkpoint[4096], samples[4096], data[4096], split[64], classes[64]; /* "" = not given */
    char metric[8], cache[4096];
    int64_t n, projections, seed, threads;
    double p;
    double holdout; /* the checkpoint's held-out rows of its NPY/CSV data (otg_source_opts) */
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
static otg_tensor *points(eval_opts *o, double **f64) {
    *f64 = NULL;
    if (o->samples[0]) {
        otg_tensor *t = cli_read_cloud_f64("eval", o->samples, f64);
        if (t->shape[0] < o->n) o->n = t->shape[0];
        return t;
    }
    otg_trainer *t = NULL;
    if (otg_trainer_load(o->checkpoint, &t) != OTG_OK)
        cli_usage_error("eval", "%s", otg_last_error());
    const otg_train_config *c = otg_trainer_config(t);
    if (!o->data[0]) { /* the run's data: its held-out rows are the test split */
        snprintf(o->data, sizeof o->data, "%s", c->data);
        o->holdout = c->val_data[0] ? 0.0 : c->val_split;
    }
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

/* The float64 rows [n, d] of a float64 NPY --data file that otg_source_sample drew from a copy
 * of r (the same indices), or NULL (a law, CSV, float32 file). */
static double *reference_f64(const eval_opts *o, otg_source *s, otg_rng r, int64_t d) {
    size_t len = strlen(o->data);
    if (len < 4 || strcmp(o->data + len - 4, ".npy")) return NULL;
    otg_tensor *t = NULL;
    double *all = NULL, *rows = NULL;
    int64_t *idx = malloc((size_t)o->n * sizeof *idx);
    if (idx && otg_npy_read_f64(o->data, 1, &t, &all) == OTG_OK && all &&
        otg_tensor_numel(t) == otg_source_size(s) * d &&
        otg_source_sample_index(s, &r, o->n, idx) == OTG_OK &&
        (rows = malloc((size_t)(o->n * d) * sizeof *rows)))
        for (int64_t i = 0; i < o->n; i++)
            memcpy(rows + i * d, all + idx[i] * d, (size_t)d * sizeof *rows);
    otg_tensor_free(t);
    free(all), free(idx);
    return rows;
}

static otg_tensor *reference(const eval_opts *o, int64_t d, double **f64) {
    otg_source_opts so = otg_source_opts_default();
    int classes[10];
    int64_t labels[10];
    so.split = o->split, so.holdout = o->holdout;
    if (o->classes[0]) {
        if (otg_parse_int_list(o->classes, "--classes", 0, 9, labels, 10, &so.n_classes))
            cli_usage_error("eval", "%s", otg_last_error());
        for (int i = 0; i < so.n_classes; i++)
            classes[i] = (int)labels[i];
        so.classes = classes;
    }
    otg_source *s = otg_source_open(o->data, &so);
    if (!s) cli_usage_error("eval", "--data: %s", otg_last_error());
    if (otg_source_dim(s) != d)
        cli_usage_error("eval", "--data %s has dimension %lld, the points have %lld", o->data,
                        (long long)otg_source_dim(s), (long long)d);
    otg_tensor *y = otg_tensor_new(2, (int64_t[]){o->n, d});
    otg_rng r = otg_rng_make((uint64_t)o->seed, 2);
    *f64 = reference_f64(o, s, r, d);
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
        "SW_p (many fixed directions), the energy distance (exact, O(n^2)) and its sliced\n"
        "estimate (energy_sliced, along the same directions, with its Monte-Carlo stderr) between\n"
        "points and a data set. float64 samples or --data NPY files are shifted with the other\n"
        "side by their common mean (in double) before float32, which leaves every distance\n"
        "unchanged but the rounding.",
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
    double *wide[2] = {NULL, NULL};
    otg_tensor *x = points(&o, &wide[0]);
    if (fd) {
        otg_tensor xv;
        otg_tensor_view_rows(x, 0, o.n, &xv);
        int rc = eval_fd_report(&xv, o.data, o.cache, o.samples[0] ? o.samples : o.checkpoint);
        otg_tensor_free(x);
        free(wide[0]);
        return rc;
    }
    if (o.p <= 0) o.p = 2.0;
    otg_tensor xv, *y = reference(&o, x->shape[1], &wide[1]);
    cli_centre_clouds((otg_tensor *[]){x, y}, wide, 2); /* float64 inputs: a common shift */
    otg_tensor_view_rows(x, 0, o.n, &xv);
    otg_tensor *th = otg_tensor_new(2, (int64_t[]){x->shape[1], o.projections});
    otg_rng rd = otg_rng_make((uint64_t)o.seed, 3);
    otg_sw_workspace *ws = otg_sw_workspace_new();
    otg_sw_opts so = otg_sw_opts_default();
    so.p = o.p;
    otg_sw_result r;
    otg_sliced_energy_result se;
    double energy = 0, energy_se = 0, boot_se = 0;
    otg_rng rb = otg_rng_make((uint64_t)o.seed, 4);
    otg_status st = th && ws ? OTG_OK : OTG_ENOMEM;
    if (st == OTG_OK)
        st = otg_sw_directions(&rd, OTG_DIR_GAUSSIAN, x->shape[1], o.projections, th->data);
    if (st == OTG_OK) st = otg_sw(ws, &xv, NULL, y, NULL, th, &so, &r, NULL, NULL);
    if (st == OTG_OK) st = otg_sw_bootstrap(&xv, y, th, o.p, EVAL_REPLICATES, &rb, &boot_se);
    if (st == OTG_OK) st = otg_energy_distance_se(&xv, y, &energy, &energy_se);
    if (st == OTG_OK) st = otg_sliced_energy(&xv, y, th, &se, NULL); /* the same directions */
    /* bad points (one row, shapes) are the request's fault: 2; memory and the rest: 1 */
    int rc = st == OTG_OK                           ? 0
             : st == OTG_EINVAL || st == OTG_ESHAPE ? OTG_EXIT_USAGE
                                                    : OTG_EXIT_FAIL;
    if (rc)
        fprintf(stderr, "otgen eval: %s\n", otg_last_error());
    else {
        /* the directions' error on the distance's scale (delta method), then the points' */
        const double dir_se = r.stderr_value * (r.value > 0 ? r.distance / (o.p * r.value) : 0);
        printf("sw=%.6g sw_stderr=%.3g energy=%.6g energy_stderr=%.3g energy_sliced=%.6g "
               "energy_sliced_stderr=%.3g p=%g projections=%lld n=%lld data=%s split=%s "
               "source=%s\n",
               r.distance, sqrt(dir_se * dir_se + boot_se * boot_se), energy, energy_se, se.value,
               se.stderr_value, o.p, (long long)o.projections, (long long)o.n, o.data, o.split,
               o.samples[0] ? o.samples : o.checkpoint);
    }
    otg_sw_workspace_free(ws);
    otg_tensor_free(x), otg_tensor_free(y), otg_tensor_free(th);
    return rc;
}
