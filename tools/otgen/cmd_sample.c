/* otgen sample: draw N points from a trained generator's checkpoint (or, with --data, from a data
 * set: a law's fresh points or a file's rows) into an NPY array (images as flattened pixel rows in
 * [0, 1]) or a PNG picture (an image grid, or a 2-D scatter). */
#define _POSIX_C_SOURCE 200809L
#include "cli.h"
#include "options.h"
#include "otgen/otgen.h"
#include "otgen/train.h"

#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    char checkpoint[4096], data[4096], split[64], out[4096]; /* "" = not given */
    int64_t n, seed, threads, label;
    int force;
} sample_opts;

#define OFF(f) offsetof(sample_opts, f), 0
#define STR(f) OTG_PARAM_STR_FIELD(sample_opts, f)
static const otg_param_def defs[] = {
    {"checkpoint", OTG_PARAM_STR, STR(checkpoint), "F", "checkpoint.otg of a training run", 0, 0,
     0},
    {"data", OTG_PARAM_STR, STR(data), "NAME",
     "or: a data set (otgen train --data) whose points to draw (stream (seed, 2))", 0, 0, 0},
    {"split", OTG_PARAM_STR, STR(split), "S", "with --data: train or test", 0, 0, 0},
    {"n", OTG_PARAM_INT, OFF(n), "N", "number of samples", 1, 1 << 26, 0},
    {"out", OTG_PARAM_STR, STR(out), "F",
     "output: F.npy (array [n, d]) or F.png (picture) (required)", 0, 0, 0},
    {"seed", OTG_PARAM_INT, OFF(seed), "S", "seed of the latent stream", 0, 9e15, 0},
    {"class", OTG_PARAM_INT, OFF(label), "K",
     "a --conditional generator's samples of class K alone (a data label, 0..9 for "
     "fashion-mnist); -1 = classes drawn as the training labels",
     -1, 9, 0},
    {"threads", OTG_PARAM_INT, OFF(threads), "N", "threads, 0 = all cores", 0, 1024, 0},
    {"force", OTG_PARAM_FLAG, OFF(force), NULL, "overwrite the output file", 0, 0, 0},
};
static const int n_defs = (int)(sizeof defs / sizeof defs[0]);

static int ends_with(const char *s, const char *suf) {
    size_t a = strlen(s), b = strlen(suf);
    return a >= b && !strcmp(s + a - b, suf);
}

/* x [n, dim]: an image grid (a tanh generator's [-1, 1] shown as (x + 1) / 2, so x is changed)
 * or a 2-D scatter. */
static otg_status write_picture(const otg_model_spec *s, const sample_opts *o, float *x) {
    if (s->img_h > 0 && s->img_w > 0) {
        int64_t cols = (int64_t)ceil(sqrt((double)o->n));
        for (int64_t i = 0; s->output == OTG_ACT_TANH && i < o->n * s->out_dim; i++)
            x[i] = 0.5f * (x[i] + 1.0f);
        return otg_png_write_grid(o->out, x, o->n, s->img_h, s->img_w, cols, 2, o->force);
    }
    if (s->out_dim == 2)
        return otg_plot_scatter(o->out, x, o->n, "samples", NULL, 0, NULL, "Generated samples",
                                o->force);
    return OTG_EINVAL;
}

/* --data: n points of the data set into an NPY file (or a picture of them). */
static int sample_data(const sample_opts *o, int png) {
    otg_source_opts so = otg_source_opts_default();
    so.split = o->split;
    otg_source *src = otg_source_open(o->data, &so);
    if (!src) cli_usage_error("sample", "--data: %s", otg_last_error());
    int64_t d = otg_source_dim(src), h = 0, w = 0;
    otg_source_is_image(src, &h, &w);
    otg_model_spec s = otg_model_spec_default(OTG_MODEL_MLP, 1, d);
    s.img_h = h, s.img_w = w;
    if (png && !(h > 0 || d == 2))
        cli_usage_error("sample", "--out %s: pictures are for images or 2-D data (use .npy)",
                        o->out);
    otg_tensor *x = otg_tensor_new(2, (int64_t[]){o->n, d});
    otg_rng r = otg_rng_make((uint64_t)o->seed, 2);
    otg_status st = x ? otg_source_sample(src, &r, o->n, x->data) : OTG_ENOMEM;
    if (st == OTG_OK) st = png ? write_picture(&s, o, x->data) : otg_npy_write(o->out, x, o->force);
    int rc = st == OTG_OK ? 0 : st == OTG_EIO ? OTG_EXIT_USAGE : OTG_EXIT_FAIL;
    if (rc)
        fprintf(stderr, "otgen sample: %s\n", otg_last_error());
    else
        printf("samples=%s n=%lld d=%lld seed=%lld data=%s split=%s\n", o->out, (long long)o->n,
               (long long)d, (long long)o->seed, o->data, o->split);
    otg_tensor_free(x);
    otg_source_free(src);
    return rc;
}

int cmd_sample(int argc, char **argv) {
    sample_opts o = {.n = 1000, .split = "train", .label = -1};
    params_parse_argv("sample",
                      "usage: otgen sample (--checkpoint F | --data NAME) --n N --out F.npy|F.png "
                      "[options]\n"
                      "Draw samples from a trained generator, or points of a data set.",
                      defs, n_defs, &o, argc, argv, NULL);
    if (!o.checkpoint[0] == !o.data[0] || !o.out[0])
        cli_usage_error("sample", "give --out and exactly one of --checkpoint and --data");
    if (!ends_with(o.out, ".npy") && !ends_with(o.out, ".png"))
        cli_usage_error("sample", "--out %s: must end in .npy or .png", o.out);
    otg_threads_set((int)o.threads);
    if (o.data[0] && o.label >= 0) cli_usage_error("sample", "--class applies to --checkpoint");
    if (o.data[0]) return sample_data(&o, ends_with(o.out, ".png"));
    otg_trainer *t = NULL;
    otg_tensor *x = NULL;
    otg_status st = otg_trainer_load(o.checkpoint, &t);
    int rc = st == OTG_OK ? 0 : st == OTG_ENOMEM ? OTG_EXIT_FAIL : OTG_EXIT_USAGE;
    const otg_model_spec *s = otg_trainer_spec(t);
    int png = ends_with(o.out, ".png");
    if (!rc && png && !(s->img_h > 0 || s->out_dim == 2))
        cli_usage_error("sample",
                        "--out %s: pictures are for images or 2-D data (this model gives %lld-D "
                        "points; use .npy)",
                        o.out, (long long)s->out_dim);
    if (!rc && !(x = otg_tensor_new(2, (int64_t[]){o.n, s->out_dim})))
        st = OTG_ENOMEM, rc = OTG_EXIT_FAIL;
    if (!rc &&
        (st = otg_trainer_sample_class(t, (uint64_t)o.seed, o.n, (int)o.label, x->data)) != OTG_OK)
        rc = st == OTG_EINVAL ? OTG_EXIT_USAGE : OTG_EXIT_FAIL;
    if (!rc &&
        (st = png ? write_picture(s, &o, x->data) : otg_npy_write(o.out, x, o.force)) != OTG_OK)
        rc = st == OTG_EIO ? OTG_EXIT_USAGE : OTG_EXIT_FAIL;
    if (rc)
        fprintf(stderr, "otgen sample: %s\n", otg_last_error());
    else
        printf("samples=%s n=%lld d=%lld seed=%lld checkpoint=%s\n", o.out, (long long)o.n,
               (long long)s->out_dim, (long long)o.seed, o.checkpoint);
    otg_tensor_free(x);
    otg_trainer_free(t);
    return rc;
}
