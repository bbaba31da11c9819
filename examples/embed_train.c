/* embed_train: otgen's training run from a C program. Trains a small 2-D generator (moons) with
 * otg_train_run into the directory given on the command line (config.json, metrics, checkpoint,
 * pictures), then rebuilds it from its checkpoint with otg_trainer_load and draws samples.
 * Build against an installed otgen:  cc embed_train.c $(pkg-config --cflags --libs otgen)
 * Run:  ./embed_train /tmp/embed-run      (a few seconds; exit status 0 on success) */
#include <otgen/otgen.h>
#include <otgen/train.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

static void on_row(void *user, const otg_train_row *row) {
    if (row->step % 100 == 0) *(double *)user = row->val_sw;
}

static int fail(const char *what) {
    fprintf(stderr, "embed_train: %s: %s\n", what, otg_last_error());
    return 1;
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: %s RUN_DIR\n", argv[0]);
        return 1;
    }
    otg_train_config c = otg_train_config_default(); /* moons, an MLP, Adam, SW_2^2 */
    snprintf(c.hidden, sizeof c.hidden, "64,64");
    c.steps = 300, c.batch = 128, c.projections = 32, c.val_n = 512, c.val_every = 100;
    otg_trainer *t = otg_trainer_new(&c);
    if (!t) return fail("config");
    double val = NAN;
    otg_train_hooks hooks = {.on_row = on_row, .user = &val};
    otg_status st = otg_train_run(t, argv[1], 0, &hooks);
    otg_trainer_free(t);
    if (st != OTG_OK) return fail("train");

    char path[4096];
    snprintf(path, sizeof path, "%s/checkpoint.otg", argv[1]);
    if (otg_trainer_load(path, &t) != OTG_OK) return fail("load");
    enum { N = 1000 };
    float *x = malloc(2 * N * sizeof *x);
    st = x ? otg_trainer_sample(t, 7, N, x) : OTG_ENOMEM;
    if (st != OTG_OK) {
        free(x), otg_trainer_free(t);
        return fail("sample");
    }
    double mx = 0, my = 0;
    for (int i = 0; i < N; i++)
        mx += (double)x[2 * i] / N, my += (double)x[2 * i + 1] / N;
    printf("embed_train: steps=%lld val_sw=%.4g samples=%d mean=(%.3f, %.3f) dir=%s\n",
           (long long)otg_trainer_steps_done(t), val, N, mx, my, argv[1]);
    free(x);
    otg_trainer_free(t);
    return isfinite(val) && isfinite(mx) && isfinite(my) ? 0 : 1;
}
