/* Number parsing with flag-naming errors, the usage-error exit and the progress display. */
#define _POSIX_C_SOURCE 200809L
#include "cli.h"

#include <errno.h>
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

int64_t cli_parse_int(const char *cmd, const char *flag, const char *s, int64_t lo, int64_t hi) {
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || end == s || *end != '\0')
        cli_usage_error(cmd, "%s: '%s' is not an integer", flag, s);
    if (v < lo || v > hi)
        cli_usage_error(cmd, "%s: %lld outside [%lld, %lld]", flag, v, (long long)lo,
                        (long long)hi);
    return v;
}

double cli_parse_double(const char *cmd, const char *flag, const char *s, double lo, double hi) {
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end != '\0' || !isfinite(v))
        cli_usage_error(cmd, "%s: '%s' is not a finite number", flag, s);
    if (v < lo || v > hi) cli_usage_error(cmd, "%s: %g outside [%g, %g]", flag, v, lo, hi);
    return v;
}

int cli_parse_int_list(const char *cmd, const char *flag, const char *s, int64_t *out, int max) {
    int n = 0;
    const char *p = s;
    while (*p) {
        char *end;
        errno = 0;
        long long v = strtoll(p, &end, 10);
        if (errno || end == p || (*end != ',' && *end != '\0') || v <= 0 || v > 1000000)
            cli_usage_error(cmd, "%s: '%s' is not a comma-separated list of positive widths", flag,
                            s);
        if (n == max) cli_usage_error(cmd, "%s: more than %d entries", flag, max);
        out[n++] = v;
        p = *end == ',' ? end + 1 : end;
    }
    if (n == 0) cli_usage_error(cmd, "%s: empty list", flag);
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
        fprintf(stderr, "step %lld/%lld  %.0f steps/s  ETA %.0fs  %s\n", (long long)step,
                (long long)p->total, rate, eta, status);
    }
}

void cli_progress_end(cli_progress *p) {
    if (p->tty) fputc('\n', stderr);
}
