/* Table-driven option parsing: argv through getopt_long, JSON config files through cJSON, and the
 * generated --help text. Values are range-checked the same way from either source. */
#define _GNU_SOURCE
#include "options.h"

#include "cli.h"
#include "otgen/io.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FIELD(o, d, type) ((type *)((char *)(o) + (d)->offset))

void params_print_help(const char *usage, const otg_param_def *defs, int n, const void *obj) {
    printf("%s\n", usage);
    for (int i = 0; i < n; i++) {
        const otg_param_def *d = &defs[i];
        char left[64], val[256] = "", def[300] = "";
        snprintf(left, sizeof left, "--%s%s%s", d->name, d->meta ? " " : "",
                 d->meta ? d->meta : "");
        if (d->kind != OTG_PARAM_FLAG) otg_param_format(d, obj, val, sizeof val);
        if (*val) snprintf(def, sizeof def, " [%s]", val);
        printf("  %-26s %s%s\n", left, d->help, def);
    }
}

/* Parses the flags of argv into obj; returns the index of the first positional argument (getopt
 * moves them to the end). */
static int parse_flags(const char *cmd, const char *usage, const otg_param_def *defs, int n,
                       void *obj, int argc, char **argv, int *seen) {
    struct option *lo = calloc((size_t)n + 2, sizeof *lo);
    if (!lo) cli_usage_error(cmd, "out of memory");
    for (int i = 0; i < n; i++)
        lo[i] = (struct option){defs[i].name,
                                defs[i].kind == OTG_PARAM_FLAG ? no_argument : required_argument, 0,
                                1000 + i};
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
            cli_usage_error(cmd, "unknown or incomplete option '%s' (otgen %s --help)",
                            argv[optind - 1], cmd);
        }
        const otg_param_def *d = &defs[c - 1000];
        if (otg_param_set_text(d, obj, d->kind == OTG_PARAM_FLAG ? "1" : optarg) != OTG_OK) {
            free(lo);
            cli_usage_error(cmd, "%s", otg_last_error());
        }
        if (seen) seen[c - 1000] = 1;
    }
    free(lo);
    return optind;
}

void params_parse_argv(const char *cmd, const char *usage, const otg_param_def *defs, int n,
                       void *obj, int argc, char **argv, int *seen) {
    int first = parse_flags(cmd, usage, defs, n, obj, argc, argv, seen);
    if (first < argc) cli_usage_error(cmd, "unexpected argument '%s'", argv[first]);
}

void params_parse_argv_pos(const char *cmd, const char *usage, const otg_param_def *defs, int n,
                           void *obj, int argc, char **argv, int npos, char **pos,
                           const char *pos_error) {
    int first = parse_flags(cmd, usage, defs, n, obj, argc, argv, NULL);
    if (argc - first != npos) cli_usage_error(cmd, "%s", pos_error);
    for (int i = 0; i < npos; i++)
        pos[i] = argv[first + i];
}

int params_parse_argv_rest(const char *cmd, const char *usage, const otg_param_def *defs, int n,
                           void *obj, int argc, char **argv) {
    return parse_flags(cmd, usage, defs, n, obj, argc, argv, NULL);
}

char *opts_read_text_file(const char *cmd, const char *path) {
    char *text;
    size_t len;
    if (otg_file_read(path, 16 << 20, &text, &len) != OTG_OK)
        cli_usage_error(cmd, "%s", otg_last_error());
    if (len == 0) {
        free(text);
        cli_usage_error(cmd, "%s: empty file", path);
    }
    return text;
}
