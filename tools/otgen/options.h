/* Table-driven options for the subcommands with many flags (train, sample, eval): one table
 * gives the GNU long flags, the JSON keys of --config files and config.json, range checks and
 * the --help text with the current defaults in brackets. */
#ifndef OTGEN_OPTIONS_H
#define OTGEN_OPTIONS_H

#include <cjson/cJSON.h>
#include <stddef.h>
#include <stdint.h>

typedef enum { OPT_INT, OPT_REAL, OPT_STR, OPT_FLAG } opt_kind;

typedef struct {
    const char *name;   /* flag without dashes, and the JSON key */
    opt_kind kind;
    size_t offset;      /* of the int64_t / double / char * / int field in the options struct */
    const char *meta;   /* "N", "A", "NAME" for the help text */
    const char *help;
    double lo, hi;      /* range of numbers */
    int in_config;      /* written to config.json and accepted in --config files */
} opt_def;

/* Replaces every string field by its own heap copy (so all can be freed alike). */
void opts_own_strings(const opt_def *defs, int n, void *o);
void opts_free(const opt_def *defs, int n, void *o);
/* Parses argv (after the subcommand); seen[i] is set for each flag given. Exits 2 on a bad flag
 * or value, prints help and exits 0 on --help. Positional arguments are refused. */
void opts_parse_argv(const char *cmd, const char *usage, const opt_def *defs, int n, void *o,
                     int argc, char **argv, int *seen);
/* The in_config options as a JSON object. */
cJSON *opts_to_json(const opt_def *defs, int n, const void *o);
/* Index of the option called name, -1 if none. */
int opts_find(const opt_def *defs, int n, const char *name);

/* ---- the same on the library's otg_param_def tables (core.h), whose strings are char arrays ---- */
#include "otgen/core.h"
/* Parses argv (after the subcommand) against defs; seen[i] is set for each flag given (seen may be
 * NULL). Exits 2 on a bad flag or value (the library's message), prints --help with the current
 * values as defaults and exits 0. Positional arguments are refused. */
void params_parse_argv(const char *cmd, const char *usage, const otg_param_def *defs, int n,
                       void *obj, int argc, char **argv, int *seen);
/* The --help text of defs with obj's values as defaults, on stdout. */
void params_print_help(const char *usage, const otg_param_def *defs, int n, const void *obj);
/* Reads a JSON file (at most 16 MiB) into a NUL-terminated string; exits 2 naming the file when
 * missing, empty, too large or unreadable. Caller frees. */
char *opts_read_text_file(const char *cmd, const char *path);

#endif
