/* The usage-error exit, the list-flag parser, the median of timings and the progress display. */
#define _POSIX_C_SOURCE 200809L
#include "cli.h"
#include "otgen/core.h"
#include "otgen/io.h"
#include "otgen/ot.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

_Noreturn void cli_usage_error(const char *cmd, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "otgen %s: ", cmd);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(OTG_EXIT_USAGE);
}

otg_tensor *cli_read_cloud(const char *cmd, const char *path) {
    return cli_read_cloud_f64(cmd, path, NULL);
}

otg_tensor *cli_read_cloud_f64(const char *cmd, const char *path, double **f64) {
    otg_tensor *t = NULL;
    if (otg_npy_read_f64(path, 1, &t, f64) != OTG_OK) cli_usage_error(cmd, "%s", otg_last_error());
    if (t->ndim == 1 && otg_tensor_reshape(t, 2, (int64_t[]){t->shape[0], 1}) != OTG_OK)
        cli_usage_error(cmd, "%s", otg_last_error());
    if (t->ndim != 2)
        cli_usage_error(cmd, "%s: need a 2-D array [n, d], got %d dimensions", path, t->ndim);
    return t;
}

int cli_centre_clouds(otg_tensor **t, double **f64, int k) {
    int shifted = 0;
    if (otg_clouds_centre_f64(t, (const double *const *)f64, k, &shifted) != OTG_OK) {
        fprintf(stderr, "otgen: %s\n", otg_last_error());
        exit(OTG_EXIT_FAIL);
    }
    for (int c = 0; c < k; c++)
        free(f64[c]), f64[c] = NULL;
    return shifted;
}

int cli_parse_int_list(const char *cmd, const char *flag, const char *s, int64_t *out, int max) {
    int n;
    if (otg_parse_int_list(s, flag, 1, 1000000, out, max, &n) != OTG_OK)
        cli_usage_error(cmd, "%s", otg_last_error());
    return n;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

double cli_sort_median(double *t, int64_t n) {
    qsort(t, (size_t)n, sizeof *t, cmp_double);
    return n % 2 ? t[n / 2] : 0.5 * (t[n / 2 - 1] + t[n / 2]);
}

double cli_now(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

void cli_progress_start(cli_progress *p, int64_t total, int64_t every) {
    p->total = total;
    p->every = every > 0 ? every : 1;
    p->t0 = p->last_draw = cli_now();
    p->tty = isatty(STDERR_FILENO);
    p->last_tenth = 0;
}

void cli_progress_update(cli_progress *p, int64_t step, const char *status) {
    double now = cli_now(), el = now - p->t0;
    double rate = el > 0 ? (double)step / el : 0.0,
           eta = rate > 0 ? (double)(p->total - step) / rate : 0.0;
    if (p->tty) {
        if (now - p->last_draw < 0.1 && step != p->total) return;
        p->last_draw = now;
        const int width = 30;
        int fill = (int)((double)width * (double)step / (double)p->total);
        fprintf(stderr, "\r[%.*s%*s] %lld/%lld  %.0f steps/s  ETA %.0fs  %s\033[K", fill,
                "##############################", width - fill, "", (long long)step,
                (long long)p->total, rate, eta, status);
    } else if (step % p->every == 0 || step == p->total) {
        const int tenth = p->total > 0 ? (int)(10 * step / p->total) : 10;
        if (step != p->total && tenth == p->last_tenth && now - p->last_draw < 10.0) return;
        p->last_tenth = tenth, p->last_draw = now;
        fprintf(stderr, "step %lld/%lld  %.0f steps/s  ETA %.0fs  %s\n", (long long)step,
                (long long)p->total, rate, eta, status);
    }
}

void cli_progress_end(cli_progress *p) {
    if (p->tty) fputc('\n', stderr);
}

otg_tensor *cli_sw_directions(const char *cmd, const char *dir_path, otg_dir_kind kind, int64_t d,
                              int64_t L, int64_t seed) {
    otg_tensor *t = NULL;
    if (dir_path && dir_path[0]) {
        if (otg_npy_read(dir_path, 1, &t) != OTG_OK) cli_usage_error(cmd, "%s", otg_last_error());
        if (t->ndim == 1 && d == 1 &&
            otg_tensor_reshape(t, 2, (int64_t[]){1, t->shape[0]}) != OTG_OK)
            cli_usage_error(cmd, "%s", otg_last_error());
        if (t->ndim != 2 || t->shape[0] != d)
            cli_usage_error(cmd, "%s: directions must be [d, L] = [%lld, L] (one per column)",
                            dir_path, (long long)d);
        return t;
    }
    otg_rng r = otg_rng_make((uint64_t)seed, 1);
    if (!(t = otg_tensor_new(2, (int64_t[]){d, L}))) {
        fprintf(stderr, "otgen %s: out of memory for the directions [%lld, %lld] (--projections)\n",
                cmd, (long long)d, (long long)L);
        exit(OTG_EXIT_FAIL);
    }
    otg_status st = otg_sw_directions(&r, kind, d, L, t->data);
    if (st == OTG_ENOMEM) {
        fprintf(stderr, "otgen %s: %s\n", cmd, otg_last_error());
        exit(OTG_EXIT_FAIL);
    }
    if (st != OTG_OK) cli_usage_error(cmd, "--kind: %s", otg_last_error());
    return t;
}
