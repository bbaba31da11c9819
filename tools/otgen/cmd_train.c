/* otgen train: train a generator T(u, z) by minimising SW_p^p between its samples and a target,
 * with fixed-step SGD, noised projected SGD, momentum or Adam. Options (the library's config
 * table plus the command's own rows) -> config -> otg_train_run with a progress hook, then the
 * summary line. The run itself (files, checkpoints, resume) is the library's (src/train). */
#define _POSIX_C_SOURCE 200809L
#include "cli.h"
#include "options.h"
#include "otgen/comm.h"
#include "otgen/otgen.h"
#include "otgen/train.h"
#include "stop.h"

#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const char *USAGE =
    "usage: otgen train [options]\n"
    "Train a generator by minimising the Sliced-Wasserstein loss SW_p^p (mean over fresh "
    "directions\n"
    "each step; or the sliced energy distance with --loss energy) between its samples and the\n"
    "target. Writes DIR/config.json, metrics.csv (+ "
    ".jsonl),\n"
    "checkpoint.otg, samples.png and loss.png. Progress on stderr; a summary line on stdout.\n"
    "Example: otgen train --data moons --steps 2000 --out runs/moons\n";

/* The command's options: the library config plus rows of its own. */
typedef struct {
    otg_train_config c;
    int64_t threads;
    char out[4096], resume[4096], config[4096];
    int force;
} train_cli;

#define OFF(f) offsetof(train_cli, f), 0
#define STR(f) OTG_PARAM_STR_FIELD(train_cli, f)
static const otg_param_def cli_rows[] = {
    {"threads", OTG_PARAM_INT, OFF(threads), "N", "threads, 0 = all cores", 0, 1024, 0},
    {"out", OTG_PARAM_STR, STR(out), "DIR", "run directory (default runs/<UTC time>)", 0, 0, 0},
    {"resume", OTG_PARAM_STR, STR(resume), "DIR", "continue the run in DIR from its checkpoint", 0,
     0, 0},
    {"force", OTG_PARAM_FLAG, OFF(force), NULL, "overwrite an existing run directory's files", 0, 0,
     0},
    {"config", OTG_PARAM_STR, STR(config), "FILE",
     "JSON file with the same keys as the flags (flags win)", 0, 0, 0},
};
enum { N_CLI = (int)(sizeof cli_rows / sizeof cli_rows[0]), MAX_ROWS = 64 };
static otg_param_def defs[MAX_ROWS];
static int n_defs, n_lib;

/* The library's rows, moved to the config inside train_cli, then the command's rows. */
static void build_defs(void) {
    const otg_param_def *lib = otg_train_config_params(&n_lib);
    if (n_lib + N_CLI > MAX_ROWS) cli_usage_error("train", "internal: too many options");
    for (int i = 0; i < n_lib; i++) {
        defs[i] = lib[i];
        defs[i].offset += offsetof(train_cli, c);
    }
    memcpy(defs + n_lib, cli_rows, sizeof cli_rows);
    n_defs = n_lib + N_CLI;
}

static void apply_file(train_cli *o, const char *path, const int *seen) {
    static const char *const ignore[] = {"version", "resolved", NULL};
    char *text = opts_read_text_file("train", path);
    otg_status st = otg_params_apply_json(defs, n_lib, o, text, path, seen, ignore);
    free(text);
    if (st != OTG_OK) cli_usage_error("train", "%s", otg_last_error());
}

/* Row i holds the same value in a and b; the values the trainer resolves ("latent" 0, "output"
 * auto) match whatever they resolved to. */
static int same_value(int i, const train_cli *a, const train_cli *b) {
    const otg_param_def *d = &defs[i];
    const char *pa = (const char *)a + d->offset, *pb = (const char *)b + d->offset;
    switch (d->kind) {
    case OTG_PARAM_INT:
        return *(const int64_t *)pa == *(const int64_t *)pb ||
               (!strcmp(d->name, "latent") && *(const int64_t *)pa == 0);
    case OTG_PARAM_REAL:
        return *(const double *)pa == *(const double *)pb;
    case OTG_PARAM_FLAG:
        return *(const int *)pa == *(const int *)pb;
    case OTG_PARAM_STR:
        return !strcmp(pa, pb) || (!strcmp(d->name, "output") && !strcmp(pa, "auto"));
    }
    return 0;
}

/* Resume: the run's config.json; a flag (or --config key) may repeat the run's own value, so the
 * original command line with --resume added is accepted, but only --steps and --threads may
 * change. */
static void resume_options(train_cli *o, const int *seen) {
    static train_cli given, run;
    char path[4200];
    snprintf(path, sizeof path, "%s/config.json", o->resume);
    if (access(o->resume, F_OK) != 0)
        cli_usage_error("train", "--resume %s: cannot open the run directory: %s%s", o->resume,
                        strerror(errno),
                        errno == ENOENT ? " (a run killed before it started has none: run the "
                                          "original command again, without --resume)"
                                        : "");
    if (access(path, F_OK) != 0)
        cli_usage_error("train",
                        "%s: no config.json: the run stopped before it started; run the "
                        "original command again (without --resume)",
                        o->resume);
    given = *o; /* what this command line asks: its flags, then its --config file */
    if (o->config[0]) apply_file(&given, o->config, seen);
    run = *o;
    apply_file(&run, path, NULL);
    for (int i = 0; i < n_lib; i++) {
        int asked = seen[i] || !same_value(i, &given, o);
        if (asked && strcmp(defs[i].name, "steps") && !same_value(i, &given, &run)) {
            char a[160], b[160];
            otg_param_format(&defs[i], &given, a, sizeof a);
            otg_param_format(&defs[i], &run, b, sizeof b);
            cli_usage_error("train",
                            "--%s %s: a resumed run keeps its options (%s has %s; only --steps "
                            "and --threads may change)",
                            defs[i].name, a, path, b);
        }
    }
    if (o->out[0] && strcmp(o->out, o->resume))
        cli_usage_error("train", "--out %s: a resumed run stays in its directory (%s)", o->out,
                        o->resume);
    apply_file(o, path, seen);
}

/* Options: defaults, then --config or the resumed run's config.json, then flags (which win). */
static void resolve_options(train_cli *o, int argc, char **argv, int *seen) {
    memset(o, 0, sizeof *o);
    o->c = otg_train_config_default();
    build_defs();
    params_parse_argv("train", USAGE, defs, n_defs, o, argc, argv, seen);
    if (o->resume[0])
        resume_options(o, seen);
    else if (o->config[0])
        apply_file(o, o->config, seen);
}

/* The run directory: the resumed one, --out, or runs/<UTC time>, created and locked for the
 * command's life (a second writer is refused, naming this one's pid); refuses to overwrite. */
static otg_dir_lock *choose_dir(const train_cli *o, char *dir, size_t cap) {
    if (o->resume[0]) {
        snprintf(dir, cap, "%s", o->resume);
    } else if (o->out[0]) {
        snprintf(dir, cap, "%s", o->out);
    } else {
        time_t t = time(NULL);
        struct tm tmv;
        gmtime_r(&t, &tmv);
        strftime(dir, cap, "runs/%Y%m%d-%H%M%S", &tmv);
    }
    if (cli_rank() != 0) return NULL; /* under MPI, rank 0 checks, locks and writes the run */
    otg_dir_lock *lock = NULL;
    if (otg_mkdir_p(dir) != OTG_OK || otg_dir_lock_acquire(dir, &lock) != OTG_OK)
        cli_usage_error("train", "%s", otg_last_error());
    char p[4200];
    snprintf(p, sizeof p, "%s/config.json", dir);
    if (!o->resume[0] && access(p, F_OK) == 0 && !o->force)
        cli_usage_error("train",
                        "%s: a run exists there (pass --force to overwrite, --resume to "
                        "continue)",
                        dir);
    return lock;
}

/* Prints the failure's message; exit status 2 for a bad request (options, files, another run's
 * checkpoint), 1 for a failure of the run itself (a write, memory, divergence). */
static int fail(otg_status st) {
    const char *e = otg_last_error();
    if (cli_rank() == 0 || st != OTG_EINVAL) /* under MPI: config errors once, from rank 0 */
        fprintf(stderr, "otgen %s%s\n", strncmp(e, "train: ", 7) ? "train: " : "", e);
    return st == OTG_EINVAL || st == OTG_EFORMAT || st == OTG_ESHAPE ? OTG_EXIT_USAGE
                                                                     : OTG_EXIT_FAIL;
}

/* A trainer that cannot be built: out of memory is the machine's failure (1), anything else a
 * bad option or input (2). */
static int fail_setup(otg_status st) {
    if (st == OTG_ENOMEM || strstr(otg_last_error(), "out of memory")) return fail(OTG_ENOMEM);
    return fail(OTG_EINVAL);
}

static int should_stop(void *user) {
    (void)user;
    return stop_signal() != 0;
}

typedef struct {
    cli_progress pg;
    double loss, val;
    int64_t rows;
} progress;

static void on_row(void *user, const otg_train_row *row) {
    progress *p = user;
    if (row->step == 0) return; /* the initial validation */
    p->rows++;
    p->loss = row->loss;
    if (!isnan(row->val_sw)) p->val = row->val_sw;
    char status[96];
    snprintf(status, sizeof status, "loss %.4g  val_sw %.4g", p->loss, p->val);
    cli_progress_update(&p->pg, row->step, status);
}

static void on_warning(void *user, const char *msg) {
    (void)user;
    fprintf(stderr, "otgen train: %s\n", msg);
}

/* The model as the progress line names it: the widths of an mlp or deq, the channels of a CNN. */
static void model_text(const otg_train_config *c, char *buf, size_t cap) {
    if (!strcmp(c->model, "cnn") || !strcmp(c->model, "rescnn"))
        snprintf(buf, cap, "%s %lld channels", c->model, (long long)c->channels);
    else
        snprintf(buf, cap, "%s %s", c->model, c->hidden);
}

static int train(otg_trainer *t, const train_cli *o, const char *dir) {
    const otg_train_config *c = otg_trainer_config(t);
    if (cli_rank() != 0) { /* under MPI: the other ranks compute (and agree on stops) */
        otg_train_hooks quiet = {.should_stop = should_stop};
        otg_status st = otg_train_run(t, dir, o->resume[0] != 0, &quiet);
        if (st == OTG_CONTINUE) return 128 + (stop_signal() ? stop_signal() : 15);
        return st == OTG_OK ? OTG_EXIT_OK : fail(st);
    }
    char model[200];
    model_text(c, model, sizeof model);
    fprintf(stderr, "otgen train: %s -> %s, %s, %lld parameters, %s, %lld steps%s\n",
            otg_source_name(otg_trainer_data(t)), dir, model, (long long)otg_trainer_n_params(t),
            c->optimizer, (long long)c->steps, o->resume[0] ? " (resumed)" : "");
    double val_cost = (double)c->val_n * (double)c->val_projections;
    if (val_cost > (double)(1 << 28)) /* ~ a second or more per validation on 2 cores */
        fprintf(stderr,
                "otgen train: note: each validation projects and sorts %.3g values (--val-n %lld x "
                "--val-projections %lld, every %lld steps): it will dominate the run\n",
                2 * val_cost, (long long)c->val_n, (long long)c->val_projections,
                (long long)c->val_every);
    progress p = {.loss = (double)NAN, .val = (double)NAN};
    cli_progress_start(&p.pg, c->steps, c->val_every);
    otg_train_hooks hooks = {
        .on_row = on_row, .user = &p, .on_warning = on_warning, .should_stop = should_stop};
    /* a signal before the run: stop at once, unless other ranks wait in the run's collectives */
    otg_status st = stop_signal() && !cli_comm() ? OTG_CONTINUE
                                                 : otg_train_run(t, dir, o->resume[0] != 0, &hooks);
    cli_progress_end(&p.pg);
    if (st == OTG_CONTINUE) {
        if (otg_trainer_steps_done(t) > 0 || o->resume[0])
            fprintf(stderr, "otgen train: signal %d: %s\n", stop_signal(), otg_last_error());
        else
            fprintf(stderr, "otgen train: signal %d before the run started\n", stop_signal());
        return 128 + stop_signal();
    }
    if (st != OTG_OK) return fail(st);
    if (!p.rows) {
        fprintf(stderr, "otgen train: %s is at step %lld already: nothing to do\n", dir,
                (long long)otg_trainer_steps_done(t));
        return OTG_EXIT_OK;
    }
    printf("run=%s steps=%lld loss=%.6g val_sw=%.6g p=%g optimizer=%s samples=%s/samples.png "
           "loss_chart=%s/loss.png\n",
           dir, (long long)otg_trainer_steps_done(t), p.loss, p.val, c->p, c->optimizer, dir, dir);
    return OTG_EXIT_OK;
}

int cmd_train(int argc, char **argv) {
    static train_cli o; /* 16 KiB of paths: not on the stack */
    int seen[MAX_ROWS] = {0};
    /* the handlers after the options: a signal while --config waits on a FIFO ends the process
     * (the default action, as for cat) instead of a stop request nothing would act on */
    resolve_options(&o, argc, argv, seen);
    stop_catch_signals();
    char dir[4096];
    otg_dir_lock *lock = choose_dir(&o, dir, sizeof dir);
    otg_comm *comm = cli_comm(); /* under mpirun: --threads 0 means 1 thread per rank */
    otg_threads_set(comm && o.threads == 0 ? 1 : (int)o.threads); /* any count: the same bits */
    otg_trainer *t = NULL;
    otg_status st = OTG_OK;
    if (comm)
        st = (t = otg_trainer_new_comm(&o.c, comm)) ? OTG_OK : OTG_EINVAL;
    else
        st = otg_trainer_create(&o.c, &t);
    int rc = st == OTG_OK ? train(t, &o, dir) : fail_setup(st);
    otg_trainer_free(t);
    otg_dir_lock_release(lock);
    return rc;
}
