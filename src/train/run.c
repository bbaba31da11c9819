/* otg_train_run: the whole training run of `otgen train` (run directory, metrics, checkpoints,
 * pictures, resume). It uses only the public calls of otgen/train.h, io.h and plot.h, no private
 * header or struct, so it can be copied into a program and adapted (another checkpoint policy,
 * other files, early stopping). */
#define _POSIX_C_SOURCE 200809L
#include "otgen/eval.h"
#include "otgen/io.h"
#include "otgen/plot.h"
#include "otgen/train.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

typedef struct {
    otg_trainer *t;
    const otg_train_hooks *hooks;
    otg_metrics *m;
    char *ckpt, *path; /* run_dir/checkpoint.otg, and a scratch path */
    const char *dir;
    double t0;
    int64_t last_ckpt;
    int writer;          /* rank 0 (always, in one process): the only one that writes files */
    otg_fd_judge *judge; /* --val-fd: the feature classifier and the test split, else NULL */
} run_state;

static int exists(const char *path) {
    return access(path, F_OK) == 0 || errno != ENOENT;
}

static double now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static const char *join(run_state *r, const char *name) {
    snprintf(r->path, strlen(r->dir) + 32, "%s/%s", r->dir, name);
    return r->path;
}

static void warn(run_state *r, const char *what) {
    char msg[1024];
    snprintf(msg, sizeof msg, "%s: %s", what, otg_last_error());
    if (r->hooks && r->hooks->on_warning) r->hooks->on_warning(r->hooks->user, msg);
}

/* A failed write of the run's files: the message says what still holds and how to go on. */
static otg_status write_failed(run_state *r, otg_status st) {
    return otg_set_error(
        st == OTG_OK ? OTG_EIO : st,
        "train: %s; the run stopped, its last good checkpoint is %s (step %lld): "
        "fix the cause (a full disk, a deleted file) and continue with otgen train --resume %s",
        otg_last_error(), r->ckpt, (long long)r->last_ckpt, r->dir);
}

static otg_status emit(run_state *r, const otg_train_row *row) {
    if (!r->writer) return OTG_OK;
    otg_status st = otg_metrics_write(r->m, row);
    if (st != OTG_OK) return write_failed(r, st);
    if (r->hooks && r->hooks->on_row) r->hooks->on_row(r->hooks->user, row);
    return st;
}

static otg_status save(run_state *r) {
    otg_status st = r->writer ? otg_trainer_save(r->t, r->ckpt) : OTG_OK;
    if (st != OTG_OK) return write_failed(r, st);
    r->last_ckpt = otg_trainer_steps_done(r->t);
    return OTG_OK;
}

/* config.json: the resolved config, as the command writes it (with a final newline). */
static otg_status write_config(run_state *r) {
    if (!r->writer) return OTG_OK;
    char *text = otg_train_config_to_json(otg_trainer_config(r->t));
    if (!text) return OTG_ENOMEM;
    size_t len = strlen(text);
    char *line = malloc(len + 2);
    otg_status st = OTG_ENOMEM;
    if (line) {
        memcpy(line, text, len);
        line[len] = '\n', line[len + 1] = '\0';
        st = otg_write_file_atomic(join(r, "config.json"), line, len + 1, 1);
    }
    free(line), free(text);
    return st;
}

/* --val-fd: the feature Frechet distance of the validation samples of the validation just run
 * (fixed latents, the weight average if any) to the test split; NaN without --val-fd. Only at
 * validations on the val_every grid, so that a run extended past an off-grid final step matches an
 * uninterrupted one. */
static otg_status val_fd(run_state *r, double *fd) {
    *fd = NAN;
    if (!r->judge) return OTG_OK;
    const float *gen;
    int64_t n;
    otg_status st = otg_trainer_val_samples(r->t, &gen, NULL, &n); /* those just validated */
    otg_tensor x = otg_tensor_view((float *)gen, 2, (int64_t[]){n, otg_trainer_dim(r->t)});
    otg_fd_report rep;
    if (st == OTG_OK) st = otg_fd_judge_evaluate(r->judge, &x, 0, &rep);
    if (st == OTG_OK) *fd = rep.fd;
    return st;
}

/* Step 0: the initial generator's validation SW (the baseline) and a checkpoint, so that a run
 * diverging early still has a good one. */
static otg_status initial_row(run_state *r) {
    otg_train_row row = {.step = 0,
                         .loss = NAN,
                         .val_sw = NAN,
                         .val_fd = NAN,
                         .grad_norm = NAN,
                         .lr = NAN,
                         .loss_stderr = NAN,
                         .time_s = 0.0};
    otg_status st = otg_trainer_validate(r->t, &row.val_sw);
    if (st == OTG_OK) st = val_fd(r, &row.val_fd);
    if (st == OTG_OK) st = emit(r, &row);
    return st == OTG_OK ? save(r) : st;
}

static otg_status diverged(run_state *r, const otg_train_row *row) {
    return otg_set_error(
        OTG_ENONFINITE,
        "train: diverged at step %lld (loss %g, gradient norm %g); the last good "
        "checkpoint is %s (step %lld); try a smaller --lr, or rescale the data if its "
        "values are large",
        (long long)row->step, isnan(row->loss) ? fabs(row->loss) : row->loss,
        isnan(row->grad_norm) ? fabs(row->grad_norm) : row->grad_norm, r->ckpt,
        (long long)r->last_ckpt);
}

/* A stop asked on any rank stops every rank after the same step. */
static int stop_asked(const run_state *r) {
    int local = r->hooks && r->hooks->should_stop && r->hooks->should_stop(r->hooks->user);
    return otg_trainer_any(r->t, local) != 0; /* -1: the exchange failed; stop too */
}

/* The steps. The validation of a final step off the val_every grid does not feed the schedule,
 * so a run extended later computes what an uninterrupted longer run does. A stop asked through
 * the hooks ends the run after the current step with a checkpoint (OTG_CONTINUE). */
static otg_status loop(run_state *r) {
    const otg_train_config *c = otg_trainer_config(r->t);
    otg_status st = OTG_OK;
    while (st == OTG_OK && otg_trainer_steps_done(r->t) < c->steps) {
        otg_train_row row;
        st = otg_trainer_step(r->t, &row);
        if (st == OTG_ENONFINITE) return diverged(r, &row);
        if (st != OTG_OK) return st;
        int64_t k = otg_trainer_steps_done(r->t);
        row.time_s = otg_metrics_time_offset(r->m) + now() - r->t0;
        if (k % c->val_every == 0) {
            st = otg_trainer_validate(r->t, &row.val_sw);
            if (st == OTG_OK) st = val_fd(r, &row.val_fd);
        } else if (k == c->steps)
            st = otg_trainer_measure(r->t, &row.val_sw);
        if (st == OTG_OK) st = emit(r, &row);
        if (st == OTG_OK && (k % c->checkpoint_every == 0 || k == c->steps)) st = save(r);
        if (st == OTG_OK && stop_asked(r)) {
            if (r->last_ckpt != k) st = save(r);
            return st == OTG_OK ? otg_set_error(OTG_CONTINUE,
                                                "train: stopped at step %lld; checkpoint %s "
                                                "written: continue with otgen train --resume %s",
                                                (long long)k, r->ckpt, r->dir)
                                : st;
        }
    }
    return st;
}

/* A grid of k images [k, h * w] of a generator with output `output`: tanh's [-1, 1] is shown as
 * (x + 1) / 2, the others as they are (clamped to [0, 1]). */
static otg_status write_grid(const char *path, const float *x, int64_t k, int64_t h, int64_t w,
                             const char *output) {
    if (strcmp(output, "tanh")) return otg_png_write_grid(path, x, k, h, w, 8, 2, 1);
    float *v = malloc((size_t)(k * h * w) * sizeof *v);
    if (!v) return OTG_ENOMEM;
    for (int64_t i = 0; i < k * h * w; i++)
        v[i] = 0.5f * (x[i] + 1.0f);
    otg_status st = otg_png_write_grid(path, v, k, h, w, 8, 2, 1);
    free(v);
    return st;
}

/* samples.png: a grid of 64 images, or generated points over held-out points (2-D data). */
static void draw_samples(run_state *r) {
    const float *gen, *target;
    int64_t n, h, w;
    if (otg_trainer_generate_val(r->t, &gen, &target, &n) != OTG_OK) return warn(r, "samples.png");
    otg_status st = OTG_OK;
    if (!r->writer) return;
    if (otg_source_is_image(otg_trainer_data(r->t), &h, &w))
        st = write_grid(join(r, "samples.png"), gen, n < 64 ? n : 64, h, w,
                        otg_trainer_config(r->t)->output);
    else if (otg_trainer_dim(r->t) == 2)
        st = otg_plot_scatter(join(r, "samples.png"), gen, n, "generated", target, n, "target",
                              "Generated samples over the target", 1);
    if (st != OTG_OK) warn(r, "samples.png");
}

/* Resume: the checkpoint's state, checked against the requested steps. A run killed before its
 * first checkpoint (config.json written, no checkpoint.otg) starts again at step 0. */
static otg_status restore(run_state *r, int *resume) {
    if (!exists(r->ckpt) && otg_trainer_steps_done(r->t) == 0) {
        *resume = 0;
        return OTG_OK;
    }
    otg_status st = otg_trainer_restore(r->t, r->ckpt);
    if (st != OTG_OK) return st;
    int64_t k = otg_trainer_steps_done(r->t), n = otg_trainer_config(r->t)->steps;
    if (n < k)
        return otg_set_error(OTG_EINVAL,
                             "train: --steps %lld is below the checkpoint's step %lld (%s): give "
                             "a larger --steps to continue the run",
                             (long long)n, (long long)k, r->ckpt);
    char *csv = malloc(strlen(r->dir) + 16);
    if (!csv) return OTG_ENOMEM;
    sprintf(csv, "%s/metrics.csv", r->dir);
    if (!exists(csv)) {
        otg_set_error(OTG_EIO,
                      "metrics.csv was missing: it now holds only the rows after step %lld",
                      (long long)k);
        warn(r, "resume");
    }
    free(csv);
    return OTG_OK;
}

static otg_status run(run_state *r, int resume) {
    otg_status st = r->writer ? otg_mkdir_p(r->dir) : OTG_OK;
    otg_dir_lock *lock = NULL;
    if (st == OTG_OK && r->writer) st = otg_dir_lock_acquire(r->dir, &lock);
    if (st == OTG_OK && r->writer) otg_remove_stale_temps(r->dir);
    if (st == OTG_OK && resume) st = restore(r, &resume);
    if (st == OTG_OK && resume) st = write_config(r);
    const otg_train_config *c = otg_trainer_config(r->t);
    int64_t k = otg_trainer_steps_done(r->t);
    if (st == OTG_OK && r->writer && resume && k % c->val_every != 0 && k < c->steps)
        st = otg_metrics_forget_val(r->dir, k); /* the extra validation of a former final step */
    if (st == OTG_OK && r->writer)
        st = otg_metrics_open(r->dir, resume ? otg_trainer_steps_done(r->t) : -1, &r->m);
    r->t0 = now();
    r->last_ckpt = otg_trainer_steps_done(r->t);
    if (st == OTG_OK && !resume && otg_trainer_steps_done(r->t) == 0) st = initial_row(r);
    /* a new run's config.json comes after its first checkpoint: a directory with config.json
     * always has a checkpoint to resume from */
    if (st == OTG_OK && !resume) st = write_config(r);
    if (st == OTG_OK) st = loop(r);
    otg_metrics_close(r->m);
    r->m = NULL;
    if (st == OTG_OK) {
        draw_samples(r);
        if (r->writer && otg_metrics_plot_loss(r->dir, otg_trainer_config(r->t)->p,
                                               otg_trainer_config(r->t)->loss) != OTG_OK)
            warn(r, "loss.png");
    }
    otg_dir_lock_release(lock);
    return st;
}

otg_status otg_train_run(otg_trainer *t, const char *run_dir, int resume,
                         const otg_train_hooks *hooks) {
    if (!t || !run_dir || !*run_dir) return otg_set_error(OTG_EINVAL, "train: run: NULL argument");
    run_state r = {.t = t, .hooks = hooks, .dir = run_dir, .writer = otg_trainer_rank(t) == 0};
    size_t cap = strlen(run_dir) + 32;
    r.ckpt = malloc(cap), r.path = malloc(cap);
    otg_status st = r.ckpt && r.path ? OTG_OK : OTG_ENOMEM;
    if (st == OTG_OK && otg_trainer_config(t)->val_fd) {
        r.judge = otg_fd_judge_open(otg_trainer_config(t)->data, NULL, NULL, NULL);
        if (!r.judge) st = otg_set_error(OTG_EINVAL, "train: --val-fd: %s", otg_last_error());
    }
    if (st == OTG_OK) {
        snprintf(r.ckpt, cap, "%s/checkpoint.otg", run_dir);
        st = run(&r, resume);
    }
    otg_fd_judge_free(r.judge);
    free(r.ckpt), free(r.path);
    return st;
}
