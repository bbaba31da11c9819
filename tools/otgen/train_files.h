/* Metrics files and pictures of a run directory (see train_files.c). */
#ifndef OTGEN_TRAIN_FILES_H
#define OTGEN_TRAIN_FILES_H

#include "otgen/otgen.h"

#include <stdio.h>

typedef struct {
    FILE *csv, *jsonl;
    char csv_path[4200], jsonl_path[4200];
    double time_offset; /* time_s of the last row kept on resume */
} metrics_files;

typedef struct {
    int64_t step, kinks;
    double time_s, loss, loss_stderr, val_sw, grad_norm, lr;
    int64_t relu_kinks, sort_ties; /* the parts of kinks: relu/leaky_relu inputs exactly 0 (where
                                      --relu-prime is used) and ties in the SW sorts */
} metrics_values;

extern const char *const METRICS_HEADER;

/* Opens dir/metrics.csv and .jsonl: new (resume_step < 0) or truncated to rows <= resume_step. */
otg_status metrics_open(metrics_files *m, const char *dir, int64_t resume_step);
void metrics_row(metrics_files *m, const metrics_values *v);
void metrics_close(metrics_files *m);
/* dir/loss.png from dir/metrics.csv: training loss and validation SW against step, log scale. */
otg_status draw_loss_chart(const char *dir, double p);

#endif
