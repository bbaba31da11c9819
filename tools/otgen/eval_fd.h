/* otgen eval --metric fd: the feature-space report of image samples (eval_fd.c). */
#ifndef OTGEN_TOOL_EVAL_FD_H
#define OTGEN_TOOL_EVAL_FD_H

#include "otgen/core.h"

/* Judges x [n, 784] against data's test split with the cached classifier (cache: its directory,
 * "" = the default) and prints one key=value line; returns the exit status. */
int eval_fd_report(const otg_tensor *x, const char *data, const char *cache, const char *source);

#endif
