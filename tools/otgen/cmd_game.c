/* otgen game: min-max methods (otg_minimax_type_at) on a game type (otg_game_type_at), R seeds
 * each. The common options are below; the game's knobs (--cond, --hidden, ...) come from the
 * chosen type's table, so this file names no game. Writes metrics.csv (or one
 * metrics-<series>.csv per series plus a combined metrics.csv), config.json and the charts of
 * game_charts.c; prints one key=value result line per series on stdout. */
#define _POSIX_C_SOURCE 200809L
#include "cli.h"
#include "game_charts.h"
#include "options.h"
#include "otgen/io.h"
#include "stop.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

typedef struct {
    char game[32], method[256], sweep[256], out[4096];
    int64_t steps, seed, repeat, every, refresh, checkpoint_every;
    double noise, lr, p, optimism, q, gamma, scale, init;
    int force, resume;
} common_opts;

/* the common options, then the game's knobs at KNOBS in the same buffer */
#define KNOBS ((sizeof(common_opts) + 15) / 16 * 16)
#define KNOB_PTR(o) ((char *)(o) + KNOBS)

#define OFF(f) offsetof(common_opts, f)
#define STR(f) OTG_PARAM_STR_FIELD(common_opts, f)
static const otg_param_def common_defs[] = {
    {"game", OTG_PARAM_STR, STR(game), "NAME", "the game (below)", 0, 0, 1},
    {"method", OTG_PARAM_STR, STR(method), "LIST", "comma-separated methods (below)", 0, 0, 1},
    {"steps", OTG_PARAM_INT, OFF(steps), 0, "N", "iterations", 1, 1e8, 1},
    {"seed", OTG_PARAM_INT, OFF(seed), 0, "S",
     "seed: the game's random parts; repeat r uses seed + r for z_0 and the noise", 0, 9e15, 1},
    {"repeat", OTG_PARAM_INT, OFF(repeat), 0, "R", "seeds to average (mean +- standard error)", 1,
     10000, 1},
    {"noise", OTG_PARAM_REAL, OFF(noise), 0, "SIGMA", "std of the Gaussian noise added to G(z)", 0,
     1e6, 1},
    {"lr", OTG_PARAM_REAL, OFF(lr), 0, "A", "learning rate alpha (all but anchored)", 1e-12, 1e6,
     1},
    {"p", OTG_PARAM_REAL, OFF(p), 0, "P",
     "anchored: p in (0,1), 2/3 unless given; others: alpha_k = alpha/(k+1)^p", 0, 10, 1},
    {"optimism", OTG_PARAM_REAL, OFF(optimism), 0, "B", "optimistic: optimism rate beta", 0, 1e6,
     1},
    {"q", OTG_PARAM_REAL, OFF(q), 0, "Q", "optimistic: beta_k = beta/(k+1)^q", 0, 10, 1},
    {"gamma", OTG_PARAM_REAL, OFF(gamma), 0, "G", "anchored: anchor pull gamma (theorem: >= 2)", 0,
     1e6, 1},
    {"scale", OTG_PARAM_REAL, OFF(scale), 0, "C", "anchored: step scale c of c(1-p)/(k+1)^p", 1e-12,
     1e6, 1},
    {"refresh", OTG_PARAM_INT, OFF(refresh), 0, "K",
     "anchored: reset the anchor to z_k every K steps, 0 = never", 0, 1e8, 1},
    {"init", OTG_PARAM_REAL, OFF(init), 0, "S",
     "z_0 = z* + S u with u uniform on the unit sphere, or the game's own initialisation "
     "scaled by S (docs/games.md)",
     1e-12, 1e6, 1},
    {"every", OTG_PARAM_INT, OFF(every), 0, "K",
     "write a metrics row every K steps (and the last); games with a row budget: steps/budget "
     "unless given",
     1, 1e8, 1},
    {"sweep", OTG_PARAM_STR, STR(sweep), "NAME=V1,V2,..",
     "one series per value of a numeric option or knob and method, drawn together; at most 8 "
     "series",
     0, 0, 1},
    {"out", OTG_PARAM_STR, STR(out), "DIR", "output directory (required)", 0, 0, 0},
    {"force", OTG_PARAM_FLAG, OFF(force), 0, NULL, "overwrite existing outputs", 0, 0, 0},
    {"checkpoint-every", OTG_PARAM_INT, OFF(checkpoint_every), 0, "N",
     "DIR/checkpoint.json every N steps of a repeat, 0 = every tenth", 0, 1e8, 0},
    {"resume", OTG_PARAM_FLAG, OFF(resume), 0, NULL,
     "continue the run in --out from its checkpoint (the same options)", 0, 0, 0},
};
#undef OFF
#undef STR
enum { N_COMMON = (int)(sizeof common_defs / sizeof common_defs[0]) };

#define USAGE                                                                                      \
    "usage: otgen game --game NAME --method LIST --out DIR [options] [game knobs]\n"               \
    "Run min-max methods on a test game; write metrics.csv, convergence.png and the game's "       \
    "charts."

static const common_opts defaults = {.game = "dirac",
                                     .method = "simgd",
                                     .steps = 1000,
                                     .repeat = 1,
                                     .every = 1,
                                     .lr = 0.1,
                                     .optimism = 0.1,
                                     .gamma = 2.0,
                                     .scale = 1.0,
                                     .init = 1.0};

static void *xcalloc(size_t n, size_t size) {
    void *p = calloc(n ? n : 1, size);
    if (!p) cli_usage_error("game", "out of memory");
    return p;
}

/* The common rows and t's knob rows (offsets moved past the common options). */
static otg_param_def *all_defs(const otg_game_type *t, int *n) {
    *n = N_COMMON + t->n_params;
    otg_param_def *d = xcalloc((size_t)*n, sizeof *d);
    memcpy(d, common_defs, sizeof common_defs);
    for (int i = 0; i < t->n_params; i++)
        d[N_COMMON + i] = t->params[i], d[N_COMMON + i].offset += KNOBS;
    return d;
}

/* The help text: the common options, then every game type with its knobs and their defaults. */
static _Noreturn void print_help(void) {
    params_print_help(USAGE, common_defs, N_COMMON, &defaults);
    printf("methods:\n");
    for (int i = 0; i < otg_minimax_type_count(); i++)
        printf("  %-26s %s\n", otg_minimax_type_name(otg_minimax_type_at(i)),
               otg_minimax_type_summary(otg_minimax_type_at(i)));
    for (int i = 0; i < otg_game_type_count(); i++) {
        const otg_game_type *t = otg_game_type_at(i);
        char head[256], *knobs = xcalloc(1, t->params_size);
        if (otg_game_type_defaults(t, knobs) != OTG_OK)
            cli_usage_error("game", "%s", otg_last_error());
        snprintf(head, sizeof head, "--game %s: %s%s", t->name, t->summary,
                 t->n_params ? "; knobs:" : "");
        params_print_help(head, t->params, t->n_params, knobs);
        free(knobs);
    }
    exit(OTG_EXIT_OK);
}

/* The value of --game in argv (default dirac); prints the help on --help. */
static const otg_game_type *find_game(int argc, char **argv) {
    const char *name = defaults.game;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) print_help();
        if (!strcmp(argv[i], "--game") && i + 1 < argc)
            name = argv[++i];
        else if (!strncmp(argv[i], "--game=", 7))
            name = argv[i] + 7;
    }
    const otg_game_type *t = otg_game_type_by_name(name);
    if (!t) cli_usage_error("game", "--game: %s", otg_last_error());
    return t;
}

/* A flag that is another game's knob gets a clear error rather than "unknown option". */
static void check_foreign_knobs(const otg_game_type *t, const otg_param_def *d, int n, int argc,
                                char **argv) {
    for (int i = 1; i < argc; i++) {
        if (strncmp(argv[i], "--", 2)) continue;
        char name[64];
        snprintf(name, sizeof name, "%s", argv[i] + 2);
        name[strcspn(name, "=")] = '\0';
        if (otg_params_find(d, n, name) >= 0 || !strcmp(name, "help")) continue;
        for (int j = 0; j < otg_game_type_count(); j++) {
            const otg_game_type *u = otg_game_type_at(j);
            if (otg_params_find(u->params, u->n_params, name) >= 0)
                cli_usage_error("game",
                                "--%s: game %s has no such knob (it is one of %s's; "
                                "otgen game --help)",
                                name, t->name, u->name);
        }
    }
}

static otg_minimax_params method_params(const common_opts *o, const otg_minimax_type *t,
                                        int p_given) {
    otg_minimax_params mp = otg_minimax_params_default();
    mp.lr = o->lr, mp.optimism = o->optimism, mp.opt_exp = o->q;
    mp.gamma = o->gamma, mp.scale = o->scale, mp.refresh = o->refresh;
    if (!otg_minimax_type_uses_lr(t))
        mp.p = p_given ? o->p : 2.0 / 3.0; /* anchored */
    else
        mp.lr_exp = p_given ? o->p : 0.0;
    return mp;
}

typedef struct {
    cli_progress *pg;
    const game_series *s;
    int64_t base, steps;
} progress;

static void on_step(void *user, int rep, int64_t k) {
    progress *p = user;
    cli_progress_update(p->pg, p->base + rep * p->steps + k, p->s->label);
}

static void on_diverge(void *user, int rep, int64_t k, uint64_t seed) {
    (void)rep;
    fprintf(stderr, "otgen game: %s diverged at step %lld (seed %llu): %s\n",
            ((progress *)user)->s->label, (long long)k, (unsigned long long)seed, otg_last_error());
}

/* ---- checkpoints: DIR/checkpoint.json (otg_game_checkpoint_*) holds the options' hash and the
 * state of every series begun (finished ones whole), as the study writes it ---- */

static struct {
    char path[4200];
    char *key;                    /* the options as JSON: the run's identity (owned) */
    char *state[GAME_MAX_SERIES]; /* the last state of each series begun (owned) */
    int current;                  /* the series running */
} ck;

static otg_status write_checkpoint(void) {
    return otg_game_checkpoint_save(ck.path, ck.key, (const char *const *)ck.state, ck.current + 1);
}

static otg_status on_checkpoint(void *user, const char *state) {
    (void)user;
    char *copy = strdup(state);
    if (!copy) return otg_set_error(OTG_ENOMEM, "checkpoint: out of memory");
    free(ck.state[ck.current]);
    ck.state[ck.current] = copy;
    return write_checkpoint();
}

static int should_stop(void *user) {
    (void)user;
    return stop_signal() != 0;
}

/* --resume: the states of checkpoint.json (none when it does not exist yet); exits 2 on another
 * run's checkpoint or a malformed one. */
static void load_checkpoint(int n) {
    if (access(ck.path, F_OK) != 0) {
        fprintf(stderr, "otgen game: --resume: no %s yet: starting at step 0\n", ck.path);
        return;
    }
    int got;
    if (otg_game_checkpoint_load(ck.path, ck.key, n, ck.state, &got) != OTG_OK)
        cli_usage_error("game", "--resume: %s", otg_last_error());
}

/* Runs one series for all repeats, reporting step base + rep * steps + k to pg. */
static int run_series(game_series *s, cli_progress *pg, int64_t base, int index) {
    const common_opts *o = s->opts;
    otg_minimax_params mp = method_params(o, s->type, s->p_given);
    progress p = {pg, s, base, o->steps};
    ck.current = index;
    otg_game_study_opts so = {.steps = o->steps,
                              .every = o->every,
                              .repeat = o->repeat,
                              .seed = (uint64_t)o->seed,
                              .init = o->init,
                              .on_step = on_step,
                              .on_diverge = on_diverge,
                              .user = &p,
                              .checkpoint_every =
                                  o->checkpoint_every ? o->checkpoint_every : (o->steps + 9) / 10,
                              .on_checkpoint = on_checkpoint,
                              .should_stop = should_stop,
                              .resume = ck.state[index]};
    otg_status st = otg_game_study_run(s->g, s->type, &mp, &so, &s->res);
    if (st == OTG_OK && stop_signal()) st = OTG_CONTINUE; /* between two series */
    if (st == OTG_CONTINUE) {
        fprintf(stderr,
                "otgen game: signal %d: stopped; %s written: continue with the same command and "
                "--resume\n",
                stop_signal(), ck.path);
        return 128 + stop_signal();
    }
    if (st != OTG_OK) fprintf(stderr, "otgen game: %s\n", otg_last_error());
    return st == OTG_OK ? 0 : st == OTG_EFORMAT ? OTG_EXIT_USAGE : OTG_EXIT_FAIL;
}

static int parse_methods(const common_opts *o, game_series *s) {
    char list[sizeof o->method], *save = NULL;
    int n = 0;
    memcpy(list, o->method, sizeof list);
    for (char *t = strtok_r(list, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        if (n == GAME_MAX_SERIES)
            cli_usage_error("game", "--method: at most %d methods", GAME_MAX_SERIES);
        const otg_minimax_type *mt = otg_minimax_type_by_name(t);
        if (!mt) cli_usage_error("game", "--method: %s", otg_last_error());
        for (int i = 0; i < n; i++)
            if (s[i].type == mt) cli_usage_error("game", "--method: '%s' given twice", t);
        s[n++].type = mt;
    }
    if (n == 0) cli_usage_error("game", "--method: empty list");
    return n;
}

/* The row of a sweepable option (numeric, not one that shapes the run); exits 2 otherwise. */
static const otg_param_def *sweep_def(const otg_param_def *d, int n, const char *name) {
    int i = otg_params_find(d, n, name);
    if (i >= 0 && (d[i].kind == OTG_PARAM_INT || d[i].kind == OTG_PARAM_REAL) &&
        strcmp(name, "steps") && strcmp(name, "every") && strcmp(name, "repeat"))
        return &d[i];
    char list[512] = "";
    for (int j = 0; j < n; j++)
        if ((d[j].kind == OTG_PARAM_INT || d[j].kind == OTG_PARAM_REAL) &&
            strcmp(d[j].name, "steps") && strcmp(d[j].name, "every") && strcmp(d[j].name, "repeat"))
            snprintf(list + strlen(list), sizeof list - strlen(list), "%s%s", *list ? ", " : "",
                     d[j].name);
    cli_usage_error("game", "--sweep: cannot sweep '%s' (expected %s)", name, list);
}

/* The values of --sweep NAME=V1,V2,... into vals; returns their count. */
static int sweep_values(const common_opts *o, const otg_param_def *d, int nm, double *vals) {
    char spec[sizeof o->sweep], *save = NULL;
    memcpy(spec, o->sweep, sizeof spec);
    int nv = 0;
    for (char *t = strtok_r(strchr(spec, '=') + 1, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
        char *end;
        double v = strtod(t, &end);
        if (*end || end == t || !(v >= d->lo && v <= d->hi) ||
            (d->kind == OTG_PARAM_INT && v != floor(v)))
            cli_usage_error("game", "--sweep %s: bad value '%s' (range [%g, %g])", d->name, t,
                            d->lo, d->hi);
        if (nv == GAME_MAX_SERIES || nv * nm >= GAME_MAX_SERIES)
            cli_usage_error("game", "--sweep: at most %d series (methods x values)",
                            GAME_MAX_SERIES);
        vals[nv++] = v;
    }
    if (nv == 0) cli_usage_error("game", "--sweep %s: no values", d->name);
    return nv;
}

/* Gives each method's series its own copy of the options and, with --sweep NAME=V1,V2,..., makes
 * one series per (method, value); returns the number of series. Exits 2 on a bad sweep. */
static int expand_sweep(const void *o, size_t size, const otg_param_def *d, int n, game_series *s,
                        int nm, int p_given) {
    const common_opts *c = o;
    for (int i = 0; i < nm; i++) {
        s[i].opts = memcpy(xcalloc(1, size), o, size), s[i].p_given = p_given;
        snprintf(s[i].label, sizeof s[i].label, "%s", otg_minimax_type_name(s[i].type));
    }
    if (!c->sweep[0]) return nm;
    char name[sizeof c->sweep];
    memcpy(name, c->sweep, sizeof name);
    if (!strchr(name, '='))
        cli_usage_error("game", "--sweep: expected NAME=V1,V2,... (got '%s')", c->sweep);
    *strchr(name, '=') = '\0';
    const otg_param_def *sd = sweep_def(d, n, name);
    double vals[GAME_MAX_SERIES];
    int nv = sweep_values(c, sd, nm, vals);
    game_series base[GAME_MAX_SERIES];
    memcpy(base, s, sizeof base);
    for (int i = 0; i < nm; i++)
        for (int j = 0; j < nv; j++) {
            game_series *t = &s[i * nv + j];
            *t = base[i];
            if (j > 0) t->opts = memcpy(xcalloc(1, size), base[i].opts, size);
            char *field = (char *)t->opts + sd->offset;
            if (sd->kind == OTG_PARAM_INT)
                *(int64_t *)field = (int64_t)vals[j];
            else
                *(double *)field = vals[j];
            if (!strcmp(name, "p")) t->p_given = 1;
            snprintf(t->label, sizeof t->label, "%s %s=%g", otg_minimax_type_name(t->type),
                     sd->name, vals[j]);
        }
    return nm * nv;
}

static void check_output(const common_opts *o, const char *name) {
    char path[4200];
    struct stat sb;
    snprintf(path, sizeof path, "%s/%s", o->out, name);
    if (!o->force && stat(path, &sb) == 0)
        cli_usage_error("game", "--out %s: %s exists (use --force to overwrite)", o->out, name);
}

/* metrics.csv, or one file per series plus the combined metrics.csv with a method column */
static int write_csvs(const common_opts *o, game_series *s, int n) {
    const int64_t *steps = s[0].res.steps;
    otg_game *g = s[0].g;
    const otg_series_stats *st[GAME_MAX_SERIES];
    const int64_t *samples[GAME_MAX_SERIES];
    const char *labels[GAME_MAX_SERIES], *cols[64] = {"grad_sq", "dist", "loss"};
    unsigned char blank[64] = {0};
    double *zs = xcalloc((size_t)(otg_game_nx(g) + otg_game_ny(g)), sizeof(double));
    blank[1] = !otg_game_saddle(g, zs);
    free(zs);
    for (int c = 0; c < otg_game_n_metrics(g); c++)
        cols[3 + c] = otg_game_metric_name(g, c);
    for (int i = 0; i < n; i++)
        st[i] = s[i].res.stats, samples[i] = s[i].res.samples, labels[i] = s[i].label;
    otg_series_csv spec = {cols, steps, otg_game_samples_per_call(g) > 0 ? samples : NULL, NULL,
                           blank};
    char path[4400];
    otg_status rc = OTG_OK;
    for (int i = 0; n > 1 && i < n && rc == OTG_OK; i++) {
        int len = snprintf(path, sizeof path, "%s/metrics-", o->out);
        snprintf(path + len, sizeof path - (size_t)len, "%s.csv", s[i].label);
        for (char *c = path + len; *c; c++)
            if (*c == ' ' || *c == '=') *c = *c == ' ' ? '-' : '_'; /* anchored-p_0.6 */
        otg_series_csv one = spec;
        one.samples = spec.samples ? &samples[i] : NULL;
        rc = otg_series_stats_write_csv_ex(&st[i], 1, &one, path, o->force);
    }
    snprintf(path, sizeof path, "%s/metrics.csv", o->out);
    spec.labels = n > 1 ? labels : NULL;
    if (rc == OTG_OK) rc = otg_series_stats_write_csv_ex(st, n, &spec, path, o->force);
    if (rc != OTG_OK) fprintf(stderr, "otgen game: %s\n", otg_last_error());
    return rc == OTG_OK ? 0 : OTG_EXIT_FAIL;
}

static int write_config(const common_opts *o, const otg_param_def *d, int n) {
    char *text = otg_params_to_json(d, n, o), path[4200];
    cJSON *cfg = text ? cJSON_Parse(text) : NULL;
    free(text);
    text = cfg && cJSON_AddStringToObject(cfg, "version", otg_version()) ? cJSON_Print(cfg) : NULL;
    cJSON_Delete(cfg);
    snprintf(path, sizeof path, "%s/config.json", o->out);
    otg_status st = text ? otg_write_file_atomic(path, text, strlen(text), o->force) : OTG_ENOMEM;
    if (st != OTG_OK)
        fprintf(stderr, "otgen game: config.json: %s\n", text ? otg_last_error() : "out of memory");
    free(text);
    return st == OTG_OK ? 0 : OTG_EXIT_FAIL;
}

static void print_results(const common_opts *o, const game_series *s, int n) {
    const int64_t *steps = s[0].res.steps, rows = s[0].res.rows, last = rows - 1;
    double *kk = xcalloc((size_t)(2 * rows), sizeof(double)), *gm = kk + rows;
    for (int i = 0; i < n; i++) {
        otg_game *gi = s[i].g;
        double gk, dk, g0, d0, se,
            *zs = xcalloc((size_t)(otg_game_nx(gi) + otg_game_ny(gi)), sizeof(double));
        int ok = otg_series_stats_count(s[i].res.stats, last) > 0, sad = otg_game_saddle(gi, zs);
        free(zs);
        otg_series_stats_get(s[i].res.stats, 0, last, &gk, &se);
        otg_series_stats_get(s[i].res.stats, 1, last, &dk, &se);
        otg_series_stats_get(s[i].res.stats, 0, 0, &g0, &se);
        otg_series_stats_get(s[i].res.stats, 1, 0, &d0, &se);
        int on_dist = game_rate_on_dist(gi); /* the slope of log dist, not of log |G|^2 */
        for (int64_t r = 0; r < rows; r++)
            kk[r] = (double)steps[r], otg_series_stats_get(s[i].res.stats, on_dist, r, &gm[r], &se);
        printf("game=%s method=%s steps=%lld repeat=%lld noise=%g grad_sq_0=%.6g grad_sq=%.6g "
               "dist_0=%.6g dist=%.6g slope=%.4f slope_of=%s diverged_at=%lld",
               otg_game_name(gi), otg_minimax_type_name(s[i].type), (long long)o->steps,
               (long long)o->repeat, o->noise, g0, ok ? gk : (double)INFINITY,
               sad ? d0 : (double)NAN,
               !sad ? (double)NAN
               : ok ? dk
                    : (double)INFINITY,
               otg_loglog_slope(kk, gm, rows, o->steps / 100.0), on_dist ? "dist" : "grad_sq",
               (long long)s[i].res.diverged_at);
        if (strchr(s[i].label, '=')) printf(" sweep=%s", strchr(s[i].label, ' ') + 1);
        if (otg_game_samples_per_call(gi) > 0)
            printf(" samples=%lld", (long long)s[i].res.samples[last]);
        for (int c = 0; c < otg_game_n_metrics(s[0].g); c++) {
            double m0, mk;
            const char *name = otg_game_metric_name(s[0].g, c);
            otg_series_stats_get(s[i].res.stats, 3 + c, 0, &m0, &se);
            otg_series_stats_get(s[i].res.stats, 3 + c, last, &mk, &se);
            printf(" %s_0=%.6g %s=%.6g", name, m0, name, ok ? mk : (double)INFINITY);
        }
        printf(" out=%s\n", o->out);
    }
    free(kk);
}

/* The game's STR knobs and the knobs given on the command line, except the swept one, for chart
 * titles: " gan-loss=standard batch=128". */
static void knob_text(const otg_game_type *t, const void *o, const int *seen, char *buf,
                      size_t cap) {
    const char *swept = ((const common_opts *)o)->sweep;
    buf[0] = '\0';
    for (int i = 0; i < t->n_params; i++) {
        const otg_param_def *d = &t->params[i];
        size_t len = strlen(d->name), at = strlen(buf);
        if (!(d->kind == OTG_PARAM_STR || seen[N_COMMON + i]) ||
            (!strncmp(swept, d->name, len) && swept[len] == '='))
            continue;
        char val[64];
        otg_param_format(d, KNOB_PTR(o), val, sizeof val);
        snprintf(buf + at, cap - at, " %s=%s", d->name, val);
    }
}

/* Games, statistics and row buffers of every series; exits 2 on bad parameters. */
static void setup_series(game_series *s, int n, const otg_game_type *t) {
    for (int i = 0; i < n; i++) { /* parameter errors before any work */
        const common_opts *o = s[i].opts;
        otg_minimax_params mp = method_params(o, s[i].type, s[i].p_given);
        otg_minimax *m = otg_minimax_new(s[i].type, 1, 1, &mp);
        if (!m) cli_usage_error("game", "--method %s: %s", s[i].label, otg_last_error());
        otg_minimax_free(m);
    }
    for (int i = 0; i < n; i++) {
        const common_opts *o = s[i].opts;
        s[i].g = otg_game_new(t, KNOB_PTR(o), (uint64_t)o->seed, o->noise);
        if (!s[i].g) cli_usage_error("game", "--game %s: %s", t->name, otg_last_error());
    }
}

static void free_series(game_series *s, int n) {
    for (int i = 0; i < n; i++) {
        otg_game_study_free(&s[i].res), otg_game_free(s[i].g);
        free(s[i].opts);
    }
}

/* Runs the series and writes the outputs; 0 or an exit status. */
static int run_all(const common_opts *o, game_series *s, int nm, const otg_param_def *d, int nd,
                   const int *seen) {
    int rc = 0;
    cli_progress pg;
    int64_t per = o->repeat * o->steps; /* steps of one series, over its repeats */
    cli_progress_start(&pg, nm * per, (nm * per + 19) / 20);
    for (int i = 0; i < nm && !rc; i++)
        rc = run_series(&s[i], &pg, i * per, i);
    cli_progress_end(&pg);
    game_run r = {o->out,        otg_game_name(s[0].g), o->force, o->steps, o->repeat, o->seed,
                  s[0].res.rows, s[0].res.steps,        o->noise, o->init,  ""};
    knob_text(otg_game_type_of(s[0].g), o, seen, r.knobs, sizeof r.knobs);
    if (!rc) rc = write_csvs(o, s, nm);
    if (!rc) rc = game_charts_write(&r, s, nm);
    if (!rc) rc = write_config(o, d, nd);
    if (!rc) print_results(o, s, nm);
    return rc;
}

int cmd_game(int argc, char **argv) {
    const otg_game_type *t = find_game(argc, argv);
    int nd;
    otg_param_def *d = all_defs(t, &nd);
    size_t size = KNOBS + t->params_size;
    common_opts *o = xcalloc(1, size);
    *o = defaults;
    if (otg_game_type_defaults(t, KNOB_PTR(o)) != OTG_OK)
        cli_usage_error("game", "%s", otg_last_error());
    int *seen = xcalloc((size_t)nd, sizeof(int));
    check_foreign_knobs(t, d, nd, argc, argv);
    params_parse_argv("game", USAGE, d, nd, o, argc, argv, seen);
    if (!o->out[0]) cli_usage_error("game", "--out DIR is required");
    if (!seen[otg_params_find(d, nd, "every")] && t->max_rows)
        o->every = o->steps >= 2 * t->max_rows ? o->steps / t->max_rows : 1;
    game_series s[GAME_MAX_SERIES] = {{0}};
    int nm = parse_methods(o, s);
    nm = expand_sweep(o, size, d, nd, s, nm, seen[otg_params_find(d, nd, "p")]);
    setup_series(s, nm, t);
    if (o->resume) o->force = 1; /* the outputs are this run's */
    char *cfg = otg_params_to_json(d, nd, o);
    if (!cfg) cli_usage_error("game", "out of memory");
    ck.key = cfg;
    snprintf(ck.path, sizeof ck.path, "%s/checkpoint.json", o->out);
    if (o->resume) load_checkpoint(nm);
    stop_catch_signals();
    check_output(o, "metrics.csv");
    check_output(o, "convergence.png");
    if (otg_mkdir_p(o->out) != OTG_OK)
        cli_usage_error("game", "--out %s: %s", o->out, otg_last_error());
    int rc = run_all(o, s, nm, d, nd, seen);
    free_series(s, nm);
    for (int i = 0; i < GAME_MAX_SERIES; i++)
        free(ck.state[i]);
    free(ck.key);
    free(seen), free(d), free(o);
    return rc;
}
