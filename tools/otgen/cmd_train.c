/* otgen train: train a generator T(u, z) by minimising SW_p^p between its samples and a target,
 * with fixed-step SGD, noised projected SGD, momentum or Adam. The command owns the loop: it
 * calls the run's step, validates, checkpoints atomically, writes one metrics row per step, and
 * draws the pictures at the end. Resumed runs end bit-identical to uninterrupted ones. */
#define _POSIX_C_SOURCE 200809L
#include "cli.h"
#include "train.h"
#include "train_files.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static const char *USAGE =
    "usage: otgen train [options]\n"
    "Train a generator by minimising the Sliced-Wasserstein loss SW_p^p (mean over fresh directions\n"
    "each step) between its samples and the target. Writes DIR/config.json, metrics.csv (+ .jsonl),\n"
    "checkpoint.otg, samples.png and loss.png. Progress on stderr; a summary line on stdout.\n"
    "Example: otgen train --data moons --steps 2000 --out runs/moons\n";

static int path_exists(const char *p) { return access(p, F_OK) == 0; }

/* mkdir -p */
static int make_dirs(const char *dir) {
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s", dir);
    for (char *p = tmp + 1; *p; p++)
        if (*p == '/') {
            *p = '\0';
            if (mkdir(tmp, 0755) && errno != EEXIST) return -1;
            *p = '/';
        }
    return mkdir(tmp, 0755) && errno != EEXIST ? -1 : 0;
}

static void join(char *out, size_t cap, const char *dir, const char *name) { snprintf(out, cap, "%s/%s", dir, name); }

/* Options: defaults, then --config or the resumed run's config.json, then flags (which win). */
static void resolve_options(train_opts *o, int argc, char **argv) {
    *o = train_opts_default();
    int seen[64] = {0};
    opts_parse_argv("train", USAGE, train_opt_defs, train_n_opts, o, argc, argv, seen);
    if (o->resume) {
        for (int i = 0; i < train_n_opts; i++)
            if (seen[i] && strcmp(train_opt_defs[i].name, "resume") && strcmp(train_opt_defs[i].name, "steps") &&
                strcmp(train_opt_defs[i].name, "threads"))
                cli_usage_error("train", "--%s: a resumed run keeps its options (only --steps and --threads may change)",
                                train_opt_defs[i].name);
        char path[4200];
        join(path, sizeof path, o->resume, "config.json");
        cJSON *c = opts_read_json_file("train", path);
        opts_apply_json("train", train_opt_defs, train_n_opts, o, c, path, seen);
        cJSON_Delete(c);
    } else if (o->config) {
        cJSON *c = opts_read_json_file("train", o->config);
        opts_apply_json("train", train_opt_defs, train_n_opts, o, c, o->config, seen);
        cJSON_Delete(c);
    }
}

/* The run directory: the resumed one, --out, or runs/<UTC time>; refuses to overwrite. */
static void choose_dir(train_opts *o, char *dir, size_t cap) {
    if (o->resume) {
        snprintf(dir, cap, "%s", o->resume);
        return;
    }
    if (o->out) snprintf(dir, cap, "%s", o->out);
    else {
        time_t t = time(NULL);
        struct tm tmv;
        gmtime_r(&t, &tmv);
        strftime(dir, cap, "runs/%Y%m%d-%H%M%S", &tmv);
    }
    char p[4200];
    join(p, sizeof p, dir, "config.json");
    if (path_exists(p) && !o->force) cli_usage_error("train", "%s: a run exists there (pass --force to overwrite, --resume to continue)", dir);
    if (make_dirs(dir)) cli_usage_error("train", "%s: cannot create: %s", dir, strerror(errno));
}

static void write_config(const train_opts *o, const char *dir) {
    char p[4200];
    join(p, sizeof p, dir, "config.json");
    cJSON *c = train_config_json(o);
    char *text = cJSON_Print(c);
    size_t len = strlen(text);
    text = realloc(text, len + 2);
    text[len] = '\n', text[len + 1] = '\0';
    if (otg_write_file_atomic(p, text, len + 1, 1) != OTG_OK) cli_usage_error("train", "%s", otg_last_error());
    free(text);
    cJSON_Delete(c);
}

/* samples.png: an image grid of 64 samples, or generated points over target points (2-D). */
static void draw_samples(train_run *r, const char *dir) {
    char p[4200];
    join(p, sizeof p, dir, "samples.png");
    train_generate_val(r);
    otg_status st;
    if (r->is_image) {
        int64_t n = r->val_n < 64 ? r->val_n : 64;
        st = otg_png_write_grid(p, r->val_x->data, n, r->img_h, r->img_w, 8, 2, 1);
    } else if (r->dim == 2) {
        st = otg_plot_scatter(p, r->val_x->data, r->val_n, "generated", r->val_y->data, r->val_n, "target",
                              "Generated samples over the target", 1);
    } else {
        return; /* no picture for other dimensions */
    }
    if (st != OTG_OK) fprintf(stderr, "otgen train: samples.png: %s\n", otg_last_error());
}

/* The loop. Returns the exit status. */
static int run_loop(train_run *r, const char *dir, metrics_files *m) {
    const train_opts *o = r->o;
    char ckpt[4200];
    join(ckpt, sizeof ckpt, dir, "checkpoint.otg");
    cli_progress pg;
    cli_progress_start(&pg, o->steps, o->val_every);
    double t0 = cli_now();
    int64_t last_ckpt = r->step;
    if (r->step == 0 && !o->resume) { /* step 0: the initial generator's validation SW (the
                                         baseline) and a checkpoint, so that a run diverging early
                                         still has a good one (a resumed run already has both) */
        metrics_values v0 = {0, 0, 0.0, (double)NAN, (double)NAN, train_validate(r), (double)NAN, (double)NAN, 0, 0};
        metrics_row(m, &v0);
        if (train_save(r, ckpt) != OTG_OK) {
            fprintf(stderr, "otgen train: %s\n", otg_last_error());
            return OTG_EXIT_FAIL;
        }
    }
    while (r->step < o->steps) {
        if (train_step(r)) {
            cli_progress_end(&pg);
            fprintf(stderr, "otgen train: diverged at step %lld (loss %g, gradient norm %g); the last good "
                    "checkpoint is %s (step %lld); try a smaller --lr\n", (long long)(r->step + 1), r->last_loss,
                    r->last_grad_norm, ckpt, (long long)last_ckpt);
            return OTG_EXIT_FAIL;
        }
        double val = r->step % o->val_every == 0 || r->step == o->steps ? train_validate(r) : (double)NAN;
        metrics_values v = {r->step, r->last_kinks, m->time_offset + cli_now() - t0, r->last_loss, r->last_stderr,
                            val, r->last_grad_norm, r->last_lr, r->last_relu_kinks, r->last_ties};
        metrics_row(m, &v);
        if (r->step % o->checkpoint_every == 0 || r->step == o->steps) {
            if (train_save(r, ckpt) != OTG_OK) {
                fprintf(stderr, "otgen train: %s\n", otg_last_error());
                return OTG_EXIT_FAIL;
            }
            last_ckpt = r->step;
        }
        char status[96];
        snprintf(status, sizeof status, "loss %.4g  val_sw %.4g", r->last_loss, r->last_val);
        cli_progress_update(&pg, r->step, status);
    }
    cli_progress_end(&pg);
    return OTG_EXIT_OK;
}

int cmd_train(int argc, char **argv) {
    train_opts o;
    resolve_options(&o, argc, argv);
    char dir[4096];
    choose_dir(&o, dir, sizeof dir);
    train_run r;
    int rc = train_setup(&r, &o);
    char ckpt[4200];
    join(ckpt, sizeof ckpt, dir, "checkpoint.otg");
    if (!rc && o.resume) rc = train_restore(&r, ckpt);
    metrics_files m = {0};
    if (!rc) {
        write_config(&o, dir);
        if (metrics_open(&m, dir, o.resume ? r.step : -1) != OTG_OK) {
            fprintf(stderr, "otgen train: %s: cannot write metrics: %s\n", dir, otg_last_error());
            rc = OTG_EXIT_FAIL;
        }
    }
    if (!rc) {
        fprintf(stderr, "otgen train: %s -> %s, %s %s, %lld parameters, %s, %lld steps%s\n", otg_source_name(r.target), dir,
                o.model, o.hidden, (long long)r.n_params, o.optimizer, (long long)o.steps,
                o.resume ? " (resumed)" : "");
        rc = run_loop(&r, dir, &m);
    }
    metrics_close(&m);
    if (!rc) {
        draw_samples(&r, dir);
        if (draw_loss_chart(dir, o.p) != OTG_OK) fprintf(stderr, "otgen train: loss.png: %s\n", otg_last_error());
        printf("run=%s steps=%lld loss=%.6g val_sw=%.6g p=%g optimizer=%s samples=%s/samples.png loss_chart=%s/loss.png\n",
               dir, (long long)r.step, r.last_loss, r.last_val, o.p, o.optimizer, dir, dir);
    }
    train_release(&r);
    opts_free(train_opt_defs, train_n_opts, &o);
    return rc;
}
