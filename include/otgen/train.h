/* otgen train: the training run of `otgen train` as a library object. A config (every option of
 * the command, the same names as its flags), a trainer built from it (sources, generator, SW loss,
 * optimiser, schedule, validation set, random streams), one step at a time, validation,
 * checkpoints that resume bit-identically, sampling; and, on top, otg_train_run, which writes the
 * run directory exactly as the command does and uses only the public calls of this header (it
 * can be copied and adapted). docs/library.md shows a complete program. */
#ifndef OTGEN_TRAIN_H
#define OTGEN_TRAIN_H

#include "otgen/comm.h"
#include "otgen/core.h"
#include "otgen/data.h"
#include "otgen/nn.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- configuration ---------------------------------------------------------------------------
 * Every field is a plain value (strings are char arrays): copy the struct freely. Defaults are
 * those of `otgen train --help`, in brackets. String fields take the names of the CLI values. */
typedef struct {
    char data[4096];     /* target: a 2-D law, gaussian, uniform, grid, fashion-mnist, FILE.npy,
                          * FILE.csv ["moons"] */
    char classes[64];    /* fashion-mnist labels to keep, "0,7"; "" = all [""] */
    char source[64];     /* latent law: gaussian, uniform or a 2-D law ["gaussian"] */
    int64_t latent;      /* latent dimension; 0 = 2 for 2-D data, 32 otherwise [0] */
    char model[16];      /* mlp, cnn, rescnn, deq ["mlp"] */
    char hidden[128];    /* hidden widths ["512,512"] */
    char activation[16]; /* relu, leaky_relu, tanh, sigmoid, softplus, abs ["relu"] */
    char output[16];     /* output activation; auto = sigmoid for images, else none ["auto"] */
    char init[16];       /* weights and biases: torch, he-normal, he, xavier (otg_init_parse)
                          * ["torch"] */
    int64_t channels;    /* cnn/rescnn channels [32] */
    char loss[16];       /* "sw" (SW_p^p) or "energy" (the sliced energy distance, with
                          * --projections fresh directions; one process only) ["sw"] */
    double p;            /* order of the SW loss [2] */
    int64_t projections; /* fresh directions per step [128] */
    char directions_kind[16]; /* gaussian, orthogonal, permuted, axes, permuted+axes, rqmc or
                                 hadamard
                               * (3-D data) ["gaussian"] */
    char estimator[16];       /* SW estimator: mc, lcv, ucv, ebsw (otg_sw_estimate) ["mc"] */
    int64_t batch;            /* generated and target points per step [256] */
    int64_t steps;            /* training steps [2000] */
    int64_t epochs;           /* > 0: steps = epochs x data size / batch (finite data) [0] */
    char optimizer[16];       /* sgd, momentum, adam, npsgd ["adam"] */
    double lr;                /* step size [1e-3] */
    double momentum;          /* [0.9] */
    double radius;            /* npsgd ball radius [100] */
    double noise;             /* npsgd noise level [0.01] */
    char projection[16];      /* npsgd ball: whole or per-tensor ["whole"] */
    char schedule[16];        /* constant, step, plateau, cosine (over --steps), wsd (constant,
                               * then cosine over the last decay_frac of --steps) ["wsd"] */
    double decay_frac;        /* wsd: fraction of the steps that decay [0.2] */
    double gamma;             /* step/plateau decay [0.5] */
    int64_t sched_every;      /* step schedule period [1000] */
    int64_t patience;         /* plateau patience in validations [5] */
    double relu_prime;        /* relu'(0) in backprop, in [0, 1] [0] */
    int64_t seed;             /* seed of every random stream [0] */
    int64_t val_every;        /* validation period [100] */
    int64_t val_n;            /* validation points (rounded up to a multiple of batch) [2048] */
    int64_t val_projections;  /* fixed validation directions [256] */
    char val_data[4096];      /* held-out data for val_sw: a file or a name as data; "" = the
                               * data's test split, or its held-out rows [""] */
    double val_split;         /* NPY/CSV data without val_data: the last ceil(F n) rows are held
                               * out for val_sw, never trained on; 0 = validate on the training
                               * rows [0.1] */
    int64_t checkpoint_every; /* checkpoint period of otg_train_run [500] */
    double ema;               /* weight average e <- D e + (1 - D) u after each step, used by
                               * validation and sampling; 0 = off [0] */
    int val_fd;               /* images: also the feature Frechet distance at validations
                               * (val_fd, otgen/eval.h) [0] */
    double output_init_scale; /* mlp: factor in [0, 1] on the last layer's initial weights (the
                               * biases keep init's; otg_model_spec.output_shrink = 1 - it) [1] */
    int64_t data_batch;       /* target points per step (rows of y); 0 = batch. More than batch
                               * lowers the data side's sampling noise for the cost of their
                               * projections alone (the generator's cost stays that of batch) [0] */
    int64_t quantile_bank;    /* finite data: if > 0, the loss is SW_2^2 against the whole
                               * training set along a bank of K directions of directions_kind
                               * drawn once (stream 14), each step using projections of them
                               * drawn without replacement (otg_sw_quantiles); no data batch is
                               * drawn. p = 2, estimator mc, one process. 0 = off [0] */
    double output_blur;       /* mlp on images: sigma in pixels of the fixed 3 x 3 Gaussian blur
                               * between the last layer and the output activation
                               * (otg_model_spec.output_blur); 0 = none [0] */
    int output_median;        /* mlp on images: the 5-point median filter between the last layer
                               * (and output_blur) and the output activation
                               * (otg_model_spec.output_median) [0] */
    int sample_median;        /* images: the samples (validation, pictures, otg_trainer_sample)
                               * pass through the 5-point median of otg_median5 after the
                               * generator; the loss trains the raw output [0] */
    int conditional;          /* labelled data (fashion-mnist): a class-conditional generator whose
                               * input is [latent, one-hot of the class]; each step trains one
                               * class, the label of a random training row, with all its batch and
                               * data rows of that class; validation and sampling draw the classes
                               * as the training set's labels. One process, no quantile bank [0] */
} otg_train_config;

/* The defaults above. */
otg_train_config otg_train_config_default(void);
/* The table of the config's fields (name = flag = JSON key, kind, range, help), in the order of
 * `otgen train --help`; *n receives the row count (may be NULL). Static storage. */
const otg_param_def *otg_train_config_params(int *n);
/* Applies the members of a JSON object to c (fields not named keep their value). Keys "version"
 * and "resolved" (written by otg_train_config_to_json) are ignored. OTG_EFORMAT on malformed
 * JSON; OTG_EINVAL naming the key on an unknown key, a wrong type (null is accepted only for
 * strings, as ""), or a value out of range; c may then be partly updated. */
OTG_NODISCARD otg_status otg_train_config_from_json(const char *json, otg_train_config *c);
/* c as a pretty-printed JSON object (the run directory's config.json without its final newline):
 * every field, then "version" and "resolved" (what loss and val_sw mean). Caller frees with
 * free(); NULL on out of memory. */
char *otg_train_config_to_json(const otg_train_config *c);

/* ---- the trainer ------------------------------------------------------------------------------
 */
typedef struct otg_trainer otg_trainer;

/* Builds a trainer at step 0: opens the sources (the held-out validation points come from
 * val_data when given, else from the data's test split: fashion-mnist's, or the last val_split of
 * an NPY/CSV file's rows; a law validates on fresh points), resolves latent = 0, output = auto
 * (sigmoid for images in [0, 1], tanh for images in [-1, 1], none otherwise; OTG_EINVAL when an
 * output activation's range does not cover a finite data set's) and epochs into the stored
 * config, builds the generator (initialised from stream
 * (seed, 0)), the optimiser and the schedule, and draws the fixed validation set. NULL with the
 * reason (naming the option, "--data: ...") on a bad config or missing data. Does not change the
 * thread count (otg_threads_set is the caller's). Free with otg_trainer_free. */
otg_trainer *otg_trainer_new(const otg_train_config *c);
/* The distributed mode (docs/mpi.md): a trainer on one rank of comm (borrowed; it must outlive
 * the trainer; NULL = otg_trainer_new). Every rank builds one with the same config and calls the
 * same functions in the same order (step, validate, generate_val, restore are collective); each
 * generates its rows of the batch (otg_comm_rows) and every rank holds the same parameters, bit
 * for bit those of one process with the same thread count (1 thread per rank and 1 thread in one
 * process: OpenBLAS's multi-threaded GEMMs are not bit-stable across thread counts). Only
 * --model mlp; OTG_EINVAL (NULL, with the reason) for another model or a batch too small for
 * the ranks. otgen/mpi.h gives the MPI comm. */
otg_trainer *otg_trainer_new_comm(const otg_train_config *c, otg_comm *comm);
/* Hands comm to t: otg_trainer_free calls release(comm). */
void otg_trainer_adopt_comm(otg_trainer *t, void (*release)(otg_comm *c));
/* The rank of t in its comm (0 in one process): otg_train_run writes files on rank 0 only. */
int otg_trainer_rank(const otg_trainer *t);
/* Collective in a distributed trainer (every rank calls it): 1 on every rank when flag is nonzero
 * on any rank, -1 when the exchange failed; in one process, flag != 0. */
int otg_trainer_any(otg_trainer *t, int flag);
/* As otg_trainer_new, returning the status: OTG_ENOMEM when an allocation failed, OTG_EINVAL on a
 * bad config, OTG_EIO/OTG_EFORMAT from the data readers. *out is NULL on error. */
OTG_NODISCARD otg_status otg_trainer_create(const otg_train_config *c, otg_trainer **out);
/* Rebuilds a trainer from a checkpoint written by otg_trainer_save: the config stored in its
 * header (the data sources are opened again), then the saved state. OTG_EIO / OTG_EFORMAT naming
 * the file (missing, truncated, corrupted, not a training checkpoint, written by a newer otgen),
 * or otg_trainer_new's errors. *out is NULL on error. */
OTG_NODISCARD otg_status otg_trainer_load(const char *checkpoint_path, otg_trainer **out);
/* Loads the state of a checkpoint (parameters, optimiser state and steps, schedule state, step,
 * every random stream) into t, which must have been built with the same config (steps may
 * differ). OTG_EINVAL when the checkpoint's sizes do not match t's; t is unchanged on error. */
OTG_NODISCARD otg_status otg_trainer_restore(otg_trainer *t, const char *checkpoint_path);
/* Accepts NULL. */
void otg_trainer_free(otg_trainer *t);
/* The thread count recorded in a checkpoint's header by otgen builds whose results depended on
 * it; *threads = 0 when it does not record one (every checkpoint written now: results are the
 * same for any thread count, docs/design.md §5). Errors as otg_trainer_load's for an unreadable
 * or foreign file. */
OTG_NODISCARD otg_status otg_train_checkpoint_threads(const char *checkpoint_path, int *threads);

/* One row of metrics. A step fills every field but val_sw, val_fd (NaN) and time_s (0);
 * otg_train_run sets them. Step 0 of a run is the initial validation: loss, loss_stderr, grad_norm
 * and lr NaN. */
typedef struct {
    int64_t step;       /* steps done after this one */
    double loss;        /* the batch's SW_p^p */
    double val_sw;      /* validation SW_p, NaN when not validated at this step */
    double grad_norm;   /* Euclidean norm of the gradient */
    double lr;          /* step size used */
    int64_t kinks;      /* nonsmooth inputs exactly at a kink in the step (relu_kinks + ties
                         * + other ops' kinks) */
    int64_t relu_kinks; /* relu / leaky_relu inputs exactly 0 */
    int64_t sort_ties;  /* ties in the SW sorts */
    double loss_stderr; /* Monte-Carlo standard error of loss over the directions */
    double time_s;      /* seconds since the run started (otg_train_run) */
    double val_fd;      /* --val-fd: the feature Frechet distance of the validation samples to
                         * the test split (otgen/eval.h), NaN otherwise */
} otg_train_row;

/* One step: draws latents (stream 1), data (stream 2) and directions (stream 3), forward,
 * backward, optimiser update (npsgd noise: stream 5). row (may be NULL) is filled in every case
 * where the forward ran. OTG_ENONFINITE when the loss or the gradient is not finite: the update
 * is not applied and the step count does not advance (the random streams have advanced: restore
 * a checkpoint to continue). Other statuses from the sources, the graph or the optimiser. */
OTG_NODISCARD otg_status otg_trainer_step(otg_trainer *t, otg_train_row *row);
/* SW_p between the generator's samples of the fixed validation latents and the fixed held-out
 * points along the fixed validation directions. Also feeds the plateau schedule. */
OTG_NODISCARD otg_status otg_trainer_validate(otg_trainer *t, double *val_sw);
/* The same SW without feeding the schedule (otg_train_run's extra validation at a final step
 * that is not a multiple of val_every, so that extending the run later stays bit-identical). */
OTG_NODISCARD otg_status otg_trainer_measure(otg_trainer *t, double *val_sw);
/* Generates the samples of the fixed validation latents; *gen and *target (either may be NULL)
 * then point to [*n, dim] generated and held-out points, borrowed until the next call on t. */
OTG_NODISCARD otg_status otg_trainer_generate_val(otg_trainer *t, const float **gen,
                                                  const float **target, int64_t *n);
/* The points of the last otg_trainer_validate, otg_trainer_measure or otg_trainer_generate_val,
 * without running the generator again (borrowed as there); OTG_EINVAL before the first. */
OTG_NODISCARD otg_status otg_trainer_val_samples(const otg_trainer *t, const float **gen,
                                                 const float **target, int64_t *n);
/* Writes a checkpoint (src/io's container; header: docs/training.md) atomically. */
OTG_NODISCARD otg_status otg_trainer_save(const otg_trainer *t, const char *path);
/* n samples of the generator into out [n, dim]: latents from stream (seed, 1), drawn in batches
 * of min(n, 1024) rows (the same numbers as `otgen sample --seed`). Does not touch the training
 * streams. */
OTG_NODISCARD otg_status otg_trainer_sample(otg_trainer *t, uint64_t seed, int64_t n, float *out);
/* The same for a --conditional generator with every row of class `label` (a label of the data:
 * 0..9 for fashion-mnist; -1: each row's class drawn as the training labels, which is
 * otg_trainer_sample). OTG_EINVAL for a label the generator was not trained on, or for an
 * unconditional generator (label >= 0). */
OTG_NODISCARD otg_status otg_trainer_sample_class(otg_trainer *t, uint64_t seed, int64_t n,
                                                  int label, float *out);

int64_t otg_trainer_dim(const otg_trainer *t);        /* dimension of a generated point */
int64_t otg_trainer_steps_done(const otg_trainer *t); /* steps applied */
int64_t otg_trainer_n_params(const otg_trainer *t);   /* generator parameters */
/* The flat parameters [*n] (borrowed; n may be NULL). */
const float *otg_trainer_params(const otg_trainer *t, int64_t *n);
/* The resolved config (latent, output and steps as used), borrowed. */
const otg_train_config *otg_trainer_config(const otg_trainer *t);
/* The generator's model spec, borrowed. */
const otg_model_spec *otg_trainer_spec(const otg_trainer *t);
/* The training data source, borrowed (otg_source_name, otg_source_is_image, ...). */
const otg_source *otg_trainer_data(const otg_trainer *t);

/* ---- the run directory's metrics files -------------------------------------------------------
 * dir/metrics.csv (header step,time_s,loss,loss_stderr,val_sw,grad_norm,lr,kinks,relu_kinks,
 * sort_ties; empty cells for non-finite values) and dir/metrics.jsonl (the same rows, null for
 * non-finite), flushed row by row. */
typedef struct otg_metrics otg_metrics;
/* New files (resume_step < 0), or the existing ones cut to their rows of step <= resume_step and
 * opened for appending. NULL-safe close. */
OTG_NODISCARD otg_status otg_metrics_open(const char *dir, int64_t resume_step, otg_metrics **out);
OTG_NODISCARD otg_status otg_metrics_write(otg_metrics *m, const otg_train_row *row);
/* Empties the val_sw of the row of `step` in dir's metrics files (CSV cell, JSONL null): a run
 * extended past a final step off the validation grid then has the rows of an uninterrupted
 * longer run. Absent files are fine. */
OTG_NODISCARD otg_status otg_metrics_forget_val(const char *dir, int64_t step);
/* time_s of the last row kept on resume (0 for new files). */
double otg_metrics_time_offset(const otg_metrics *m);
void otg_metrics_close(otg_metrics *m);
/* dir/loss.png from dir/metrics.csv: the batch loss as SW_p (loss^(1/p)) and the validation SW_p
 * against step, log y (one quantity on the axis). */
OTG_NODISCARD otg_status otg_metrics_plot(const char *dir, double p);
/* As otg_metrics_plot for the config's --loss: "sw" draws the same chart; "energy" (a batch loss
 * that is not an SW) draws the validation SW_p alone. OTG_EINVAL on another name. */
OTG_NODISCARD otg_status otg_metrics_plot_loss(const char *dir, double p, const char *loss);

/* ---- the whole run: built only on the calls above; copy and adapt it (src/train/run.c) ---- */
typedef struct {
    void (*on_row)(void *user, const otg_train_row *row); /* after each metrics row (row 0 too) */
    void *user;
    void (*on_warning)(void *user, const char *message); /* a picture could not be drawn */
    /* Asked after each step (may be NULL): nonzero ends the run there with a checkpoint, and
     * otg_train_run returns OTG_CONTINUE (the CLI's answer to SIGTERM, SIGINT, SIGHUP). */
    int (*should_stop)(void *user);
} otg_train_hooks;

/* Trains t to its config's steps in run_dir (created if missing) and writes there config.json,
 * metrics.csv/.jsonl, checkpoint.otg (every checkpoint_every steps and at the end), samples.png
 * (64 images or a 2-D scatter; none for other data) and loss.png.
 * resume = 0: a new run; the files in run_dir are replaced without asking (`otgen train` refuses
 * an existing run without --force: check first if that matters). A trainer at step 0 first writes
 * row 0 (initial validation) and a checkpoint. resume = 1: t (built with the run's config, steps
 * may be larger) takes the state of run_dir/checkpoint.otg, the metrics rows after its step are
 * dropped, and the run continues: it ends bit-identical to an uninterrupted one (with the same
 * thread count). A run_dir with no checkpoint yet (killed before its first) starts at step 0.
 * Resume refuses (OTG_EINVAL) a checkpoint of another config (its header's config hash) and a
 * config whose steps are below the checkpoint's. hooks may be NULL.
 * While it runs, run_dir is locked (otg_dir_lock_acquire: OTG_EINVAL naming the other writer's
 * pid), and temporary files left by interrupted writes are removed first.
 * OTG_ENONFINITE when a step diverges (the message names the step and the last good checkpoint);
 * a failed metrics or checkpoint write stops the run with its status (OTG_EIO) and a message
 * naming the last good checkpoint, leaving no partial row (resume rewrites the rows after it);
 * OTG_CONTINUE when hooks->should_stop asked; otherwise the first failing call's status. Pictures
 * that cannot be drawn are reported through on_warning and do not fail the run. A distributed
 * trainer (otg_trainer_new_comm): every rank calls it; rank 0 alone writes the files and calls
 * on_row and on_warning; should_stop is asked on every rank and a stop on any stops all. */
OTG_NODISCARD otg_status otg_train_run(otg_trainer *t, const char *run_dir, int resume,
                                       const otg_train_hooks *hooks);

#ifdef __cplusplus
}
#endif
#endif
