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
    "each step) between its samples and the target. Writes DIR/config.json, metrics.csv (+ "
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

/* Options: defaults, then --config or the resumed run's config.json, then flags (which win). */
static void resolve_options(train_cli *o, int argc, char **argv) {
    memset(o, 0, sizeof *o);
    o->c = otg_train_config_default();
    build_defs();
    int seen[MAX_ROWS] = {0};
    params_parse_argv("train", USAGE, defs, n_defs, o, argc, argv, seen);
    if (o->resume[0]) {
        for (int i = 0; i < n_defs; i++)
            if (seen[i] && strcmp(defs[i].name, "resume") && strcmp(defs[i].name, "steps") &&
                strcmp(defs[i].name, "threads"))
                cli_usage_error("train",
                                "--%s: a resumed run keeps its options (only --steps and "
                                "--threads may change)",
                                defs[i].name);
        char path[4200];
        snprintf(path, sizeof path, "%s/config.json", o->resume);
        apply_file(o, path, seen);
    } else if (o->config[0]) {
        apply_file(o, o->config, seen);
    }
}

/* The run directory: the resumed one, --out, or runs/<UTC time>; refuses to overwrite. */
static void choose_dir(const train_cli *o, char *dir, size_t cap) {
    if (o->resume[0]) {
        snprintf(dir, cap, "%s", o->resume);
        return;
    }
    if (o->out[0]) {
        snprintf(dir, cap, "%s", o->out);
    } else {
        time_t t = time(NULL);
        struct tm tmv;
        gmtime_r(&t, &tmv);
        strftime(dir, cap, "runs/%Y%m%d-%H%M%S", &tmv);
    }
    if (cli_rank() != 0) return; /* under MPI, rank 0 checks and writes the run directory */
    char p[4200];
    snprintf(p, sizeof p, "%s/config.json", dir);
    if (access(p, F_OK) == 0 && !o->force)
        cli_usage_error("train",
                        "%s: a run exists there (pass --force to overwrite, --resume to "
                        "continue)",
                        dir);
    if (otg_mkdir_p(dir) != OTG_OK) cli_usage_error("train", "%s", otg_last_error());
}

/* Exit status for a library failure, after printing its message. */
static int fail(otg_status st) {
    const char *e = otg_last_error();
    if (cli_rank() == 0 || st != OTG_EINVAL) /* under MPI: config errors once, from rank 0 */
        fprintf(stderr, "otgen %s%s\n", strncmp(e, "train: ", 7) ? "train: " : "", e);
    return st == OTG_EINVAL || st == OTG_EFORMAT || st == OTG_ESHAPE || st == OTG_EIO
               ? OTG_EXIT_USAGE
               : OTG_EXIT_FAIL;
}

typedef struct {
    cli_progress pg;
    double loss, val;
} progress;

static void on_row(void *user, const otg_train_row *row) {
    progress *p = user;
    if (row->step == 0) return; /* the initial validation */
    p->loss = row->loss;
    if (!isnan(row->val_sw)) p->val = row->val_sw;
    char status[96];
    snprintf(status, sizeof status, "loss %.4g  val_sw %.4g", p->loss, p->val);
    cli_progress_update(&p->pg, row->step, status);
}

static void on_warning(void *user, const char *msg) {
    fprintf(stderr, "otgen train: %s\n", msg);
}

static int train(otg_trainer *t, const train_cli *o, const char *dir) {
    const otg_train_config *c = otg_trainer_config(t);
    if (cli_rank() != 0) { /* under MPI: the other ranks compute, rank 0 reports */
        otg_status st = otg_train_run(t, dir, o->resume[0] != 0, NULL);
        return st == OTG_OK ? OTG_EXIT_OK : fail(st);
    }
    fprintf(stderr, "otgen train: %s -> %s, %s %s, %lld parameters, %s, %lld steps%s\n",
            otg_source_name(otg_trainer_data(t)), dir, c->model, c->hidden,
            (long long)otg_trainer_n_params(t), c->optimizer, (long long)c->steps,
            o->resume[0] ? " (resumed)" : "");
    progress p = {.loss = 0.0, .val = (double)NAN};
    cli_progress_start(&p.pg, c->steps, c->val_every);
    otg_train_hooks hooks = {.on_row = on_row, .user = &p, .on_warning = on_warning};
    otg_status st = otg_train_run(t, dir, o->resume[0] != 0, &hooks);
    cli_progress_end(&p.pg);
    if (st != OTG_OK) return fail(st);
    printf("run=%s steps=%lld loss=%.6g val_sw=%.6g p=%g optimizer=%s samples=%s/samples.png "
           "loss_chart=%s/loss.png\n",
           dir, (long long)otg_trainer_steps_done(t), p.loss, p.val, c->p, c->optimizer, dir, dir);
    return OTG_EXIT_OK;
}

int cmd_train(int argc, char **argv) {
    static train_cli o; /* 16 KiB of paths: not on the stack */
    resolve_options(&o, argc, argv);
    char dir[4096];
    choose_dir(&o, dir, sizeof dir);
    otg_comm *comm = cli_comm(); /* under mpirun: --threads 0 means 1 thread per rank */
    otg_threads_set(comm && o.threads == 0 ? 1 : (int)o.threads);
    otg_trainer *t = comm ? otg_trainer_new_comm(&o.c, comm) : otg_trainer_new(&o.c);
    int rc = t ? train(t, &o, dir) : fail(OTG_EINVAL);
    otg_trainer_free(t);
    return rc;
}
