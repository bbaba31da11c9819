/* Table-driven options for every subcommand, on the library's otg_param_def tables (core.h): one
 * table gives the GNU long flags, the JSON keys of --config files and config.json, range checks and
 * the --help text with the current defaults in brackets. */
#ifndef OTGEN_OPTIONS_H
#define OTGEN_OPTIONS_H

#include "otgen/core.h"

#include <stddef.h>
#include <stdint.h>

/* Parses argv (after the subcommand) against defs; seen[i] is set for each flag given (seen may be
 * NULL). Exits 2 on a bad flag or value (the library's message), prints --help with the current
 * values as defaults and exits 0. Positional arguments are refused. */
void params_parse_argv(const char *cmd, const char *usage, const otg_param_def *defs, int n,
                       void *obj, int argc, char **argv, int *seen);
/* As params_parse_argv, for commands with exactly npos positional arguments (otgen sw A.npy
 * B.npy): their argv pointers go to pos[]; exits 2 with pos_error when the count differs. */
void params_parse_argv_pos(const char *cmd, const char *usage, const otg_param_def *defs, int n,
                           void *obj, int argc, char **argv, int npos, char **pos,
                           const char *pos_error);
/* As params_parse_argv, for any number of positional arguments: returns the index of the first
 * (getopt moves them to the end of argv, in their order). */
int params_parse_argv_rest(const char *cmd, const char *usage, const otg_param_def *defs, int n,
                           void *obj, int argc, char **argv);
/* The --help text of defs with obj's values as defaults, on stdout. */
void params_print_help(const char *usage, const otg_param_def *defs, int n, const void *obj);
/* Reads a JSON file (at most 16 MiB) into a NUL-terminated string; exits 2 naming the file when
 * missing, empty, too large or unreadable. Caller frees. */
char *opts_read_text_file(const char *cmd, const char *path);

#endif
