/* The training run behind `otgen train` (and `otgen bench train`): its options, its state, and
 * the pieces the command's loop calls — set-up, one SGD-type step, validation, checkpoint
 * save/restore, metrics rows and the final pictures. */
#ifndef OTGEN_TRAIN_H
#define OTGEN_TRAIN_H

#include "options.h"
#include "otgen/otgen.h"

#include <stdio.h>

typedef struct {
    char *data, *source, *model, *hidden, *activation, *output, *directions_kind, *optimizer,
        *projection, *schedule, *classes, *out, *resume, *config, *loss;
    int64_t latent, channels, projections, batch, steps, epochs, seed, threads, val_every, val_n,
        val_projections, checkpoint_every, sched_every, patience;
    double p, lr, momentum, radius, noise, gamma, relu_prime;
    int force;
} train_opts;

extern const opt_def train_opt_defs[];
extern const int train_n_opts;
/* Defaults (strings on the heap, freed by opts_free). */
train_opts train_opts_default(void);

typedef struct {
    train_opts *o;
    otg_source *target, *val_target, *latent;
    int64_t dim, img_h, img_w, val_n;
    int is_image;
    otg_model_spec spec;
    otg_graph *g;
    otg_node *z, *y, *out, *loss;
    otg_sw_loss_ctx sw;
    otg_tensor *theta;
    otg_optim *opt;
    otg_schedule sched;
    otg_rng r_latent, r_data, r_dirs, r_noise;
    int64_t step, n_params;
    otg_tensor *val_z, *val_y, *val_x, *val_theta;
    otg_sw_workspace *val_ws;
    double last_loss, last_stderr, last_grad_norm, last_lr, last_val;
    int64_t last_kinks, last_relu_kinks, last_ties; /* kink hits of the last step: all, relu and
                                                       leaky_relu inputs exactly 0, SW sort ties */
} train_run;

/* Builds everything from resolved options; returns 0, or prints the reason and returns the exit
 * status (2 bad input, 1 internal). */
int train_setup(train_run *r, train_opts *o);
void train_release(train_run *r);
/* One step: draw latents, data and directions, forward, backward, update. Returns 0, or 1 when
 * the loss or gradient is not finite (the step is not applied). */
int train_step(train_run *r);
/* SW_p between samples of fixed latents and the fixed validation set, along fixed directions. */
double train_validate(train_run *r);
/* Checkpoint of the current state (atomic). */
otg_status train_save(train_run *r, const char *path);
/* Restores a checkpoint written by train_save for the same options. */
int train_restore(train_run *r, const char *path);
/* Generated samples for the fixed validation latents, into r->val_x [val_n, dim]. */
void train_generate_val(train_run *r);

/* The resolved options as JSON (config.json). */
cJSON *train_config_json(const train_opts *o);

#endif
