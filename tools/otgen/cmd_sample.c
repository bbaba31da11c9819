/* otgen sample: draw N points from a trained generator's checkpoint into an NPY array (images as
 * flattened pixel rows in [0, 1]) or a PNG picture (an image grid, or a 2-D scatter). */
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
    char checkpoint[4096], out[4096]; /* "" = not given */
    int64_t n, seed, threads;
    int force;
} sample_opts;

#define OFF(f) offsetof(sample_opts, f), 0
#define STR(f) OTG_PARAM_STR_FIELD(sample_opts, f)
static const otg_param_def defs[] = {
    {"checkpoint", OTG_PARAM_STR, STR(checkpoint), "F",
     "checkpoint.otg of a training run (required)", 0, 0, 0},
    {"n", OTG_PARAM_INT, OFF(n), "N", "number of samples", 1, 1 << 26, 0},
    {"out", OTG_PARAM_STR, STR(out), "F",
     "output: F.npy (array [n, d]) or F.png (picture) (required)", 0, 0, 0},
    {"seed", OTG_PARAM_INT, OFF(seed), "S", "seed of the latent stream", 0, 9e15, 0},
    {"threads", OTG_PARAM_INT, OFF(threads), "N", "threads, 0 = all cores", 0, 1024, 0},
    {"force", OTG_PARAM_FLAG, OFF(force), NULL, "overwrite the output file", 0, 0, 0},
};
static const int n_defs = (int)(sizeof defs / sizeof defs[0]);

static int ends_with(const char *s, const char *suf) {
    size_t a = strlen(s), b = strlen(suf);
    return a >= b && !strcmp(s + a - b, suf);
}

static otg_status write_picture(const otg_model_spec *s, const sample_opts *o, const float *x) {
    if (s->img_h > 0 && s->img_w > 0) {
        int64_t cols = (int64_t)ceil(sqrt((double)o->n));
        return otg_png_write_grid(o->out, x, o->n, s->img_h, s->img_w, cols, 2, o->force);
    }
    if (s->out_dim == 2)
        return otg_plot_scatter(o->out, x, o->n, "samples", NULL, 0, NULL, "Generated samples",
                                o->force);
    return OTG_EINVAL;
}

int cmd_sample(int argc, char **argv) {
    sample_opts o = {.n = 1000};
    params_parse_argv("sample",
                      "usage: otgen sample --checkpoint F --n N --out F.npy|F.png [options]\n"
                      "Draw samples from a trained generator.",
                      defs, n_defs, &o, argc, argv, NULL);
    if (!o.checkpoint[0] || !o.out[0])
        cli_usage_error("sample", "--checkpoint and --out are required");
    if (!ends_with(o.out, ".npy") && !ends_with(o.out, ".png"))
        cli_usage_error("sample", "--out %s: must end in .npy or .png", o.out);
    otg_threads_set((int)o.threads);
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
    if (!rc && (st = otg_trainer_sample(t, (uint64_t)o.seed, o.n, x->data)) != OTG_OK)
        rc = OTG_EXIT_FAIL;
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
