/* Table-driven option parsing: argv through getopt_long, JSON config files through cJSON, and the
 * generated --help text. Values are range-checked the same way from either source. */
#define _GNU_SOURCE
#include "options.h"

#include "cli.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FIELD(o, d, type) ((type *)((char *)(o) + (d)->offset))

void opts_own_strings(const opt_def *defs, int n, void *o) {
    for (int i = 0; i < n; i++)
        if (defs[i].kind == OPT_STR && *FIELD(o, &defs[i], char *))
            *FIELD(o, &defs[i], char *) = strdup(*FIELD(o, &defs[i], char *));
}

void opts_free(const opt_def *defs, int n, void *o) {
    for (int i = 0; i < n; i++)
        if (defs[i].kind == OPT_STR) {
            free(*FIELD(o, &defs[i], char *));
            *FIELD(o, &defs[i], char *) = NULL;
        }
}

int opts_find(const opt_def *defs, int n, const char *name) {
    for (int i = 0; i < n; i++)
        if (!strcmp(defs[i].name, name)) return i;
    return -1;
}

/* Sets option d from text s (argv), exiting 2 on a bad value. */
static void set_from_text(const char *cmd, const opt_def *d, void *o, const char *s) {
    char flag[64];
    snprintf(flag, sizeof flag, "--%s", d->name);
    switch (d->kind) {
    case OPT_INT: *FIELD(o, d, int64_t) = cli_parse_int(cmd, flag, s, (int64_t)d->lo, (int64_t)d->hi); break;
    case OPT_REAL: *FIELD(o, d, double) = cli_parse_double(cmd, flag, s, d->lo, d->hi); break;
    case OPT_STR:
        free(*FIELD(o, d, char *));
        *FIELD(o, d, char *) = strdup(s);
        break;
    case OPT_FLAG: *FIELD(o, d, int) = 1; break;
    }
}

static void print_help(const char *usage, const opt_def *defs, int n, const void *o) {
    printf("%s\n", usage);
    for (int i = 0; i < n; i++) {
        const opt_def *d = &defs[i];
        char left[64], def[96] = "";
        snprintf(left, sizeof left, "--%s%s%s", d->name, d->meta ? " " : "", d->meta ? d->meta : "");
        if (d->kind == OPT_INT) snprintf(def, sizeof def, " [%lld]", (long long)*FIELD(o, d, const int64_t));
        if (d->kind == OPT_REAL) snprintf(def, sizeof def, " [%g]", *FIELD(o, d, const double));
        if (d->kind == OPT_STR && *FIELD(o, d, char *const)) snprintf(def, sizeof def, " [%s]", *FIELD(o, d, char *const));
        printf("  %-26s %s%s\n", left, d->help, def);
    }
}

void opts_parse_argv(const char *cmd, const char *usage, const opt_def *defs, int n, void *o,
                     int argc, char **argv, int *seen) {
    struct option *lo = calloc((size_t)n + 2, sizeof *lo);
    for (int i = 0; i < n; i++)
        lo[i] = (struct option){defs[i].name, defs[i].kind == OPT_FLAG ? no_argument : required_argument, 0, 1000 + i};
    lo[n] = (struct option){"help", no_argument, 0, 'h'};
    int c;
    opterr = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
        if (c == 'h') {
            print_help(usage, defs, n, o);
            free(lo);
            opts_free(defs, n, o);
            exit(OTG_EXIT_OK);
        }
        if (c < 1000) {
            free(lo);
            cli_usage_error(cmd, "unknown or incomplete option '%s' (otgen %s --help)", argv[optind - 1], cmd);
        }
        set_from_text(cmd, &defs[c - 1000], o, optarg);
        if (seen) seen[c - 1000] = 1;
    }
    free(lo);
    if (optind < argc) cli_usage_error(cmd, "unexpected argument '%s'", argv[optind]);
}

cJSON *opts_to_json(const opt_def *defs, int n, const void *o) {
    cJSON *obj = cJSON_CreateObject();
    for (int i = 0; i < n; i++) {
        const opt_def *d = &defs[i];
        if (!d->in_config) continue;
        if (d->kind == OPT_INT) cJSON_AddNumberToObject(obj, d->name, (double)*FIELD(o, d, const int64_t));
        if (d->kind == OPT_REAL) cJSON_AddNumberToObject(obj, d->name, *FIELD(o, d, const double));
        if (d->kind == OPT_FLAG) cJSON_AddBoolToObject(obj, d->name, *FIELD(o, d, const int));
        if (d->kind == OPT_STR) {
            const char *s = *FIELD(o, d, char *const);
            if (s) cJSON_AddStringToObject(obj, d->name, s);
            else cJSON_AddNullToObject(obj, d->name);
        }
    }
    return obj;
}

void params_print_help(const char *usage, const otg_param_def *defs, int n, const void *obj) {
    printf("%s\n", usage);
    for (int i = 0; i < n; i++) {
        const otg_param_def *d = &defs[i];
        char left[64], val[256] = "", def[300] = "";
        snprintf(left, sizeof left, "--%s%s%s", d->name, d->meta ? " " : "", d->meta ? d->meta : "");
        if (d->kind != OTG_PARAM_FLAG) otg_param_format(d, obj, val, sizeof val);
        if (*val) snprintf(def, sizeof def, " [%s]", val);
        printf("  %-26s %s%s\n", left, d->help, def);
    }
}

void params_parse_argv(const char *cmd, const char *usage, const otg_param_def *defs, int n,
                       void *obj, int argc, char **argv, int *seen) {
    struct option *lo = calloc((size_t)n + 2, sizeof *lo);
    if (!lo) cli_usage_error(cmd, "out of memory");
    for (int i = 0; i < n; i++)
        lo[i] = (struct option){defs[i].name, defs[i].kind == OTG_PARAM_FLAG ? no_argument : required_argument, 0, 1000 + i};
    lo[n] = (struct option){"help", no_argument, 0, 'h'};
    int c;
    opterr = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
        if (c == 'h') {
            params_print_help(usage, defs, n, obj);
            free(lo);
            exit(OTG_EXIT_OK);
        }
        if (c < 1000) {
            free(lo);
            cli_usage_error(cmd, "unknown or incomplete option '%s' (otgen %s --help)", argv[optind - 1], cmd);
        }
        const otg_param_def *d = &defs[c - 1000];
        if (otg_param_set_text(d, obj, d->kind == OTG_PARAM_FLAG ? "1" : optarg) != OTG_OK) {
            free(lo);
            cli_usage_error(cmd, "%s", otg_last_error());
        }
        if (seen) seen[c - 1000] = 1;
    }
    free(lo);
    if (optind < argc) cli_usage_error(cmd, "unexpected argument '%s'", argv[optind]);
}

char *opts_read_text_file(const char *cmd, const char *path) {
    enum { MAX_BYTES = 16 << 20 };
    FILE *f = fopen(path, "rb");
    if (!f) cli_usage_error(cmd, "%s: cannot open: %s", path, strerror(errno));
    char *text = malloc(MAX_BYTES + 1);
    size_t len = text ? fread(text, 1, MAX_BYTES + 1, f) : 0;
    int err = ferror(f);
    fclose(f);
    if (!text) cli_usage_error(cmd, "%s: out of memory", path);
    if (err || len == 0 || len > MAX_BYTES) {
        free(text);
        cli_usage_error(cmd, "%s: %s", path, err ? "read error" : len ? "larger than 16 MiB" : "empty file");
    }
    text[len] = '\0';
    return text;
}
