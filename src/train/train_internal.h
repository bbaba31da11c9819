/* The trainer's state, shared by trainer.c (set-up, step, validation, sampling) and checkpoint.c
 * (save, restore, load). Never installed. */
#ifndef OTGEN_TRAIN_INTERNAL_H
#define OTGEN_TRAIN_INTERNAL_H

#include "otgen/ad.h"
#include "otgen/optim.h"
#include "otgen/ot.h"
#include "otgen/train.h"

/* Streams: (seed, id). Training draws advance; validation streams restart at 0 every time. */
enum {
    OTGI_S_INIT = 0,
    OTGI_S_LATENT = 1,
    OTGI_S_DATA = 2,
    OTGI_S_DIRS = 3,
    OTGI_S_NOISE = 5,
    OTGI_S_VAL_Z = 10,
    OTGI_S_VAL_Y = 11,
    OTGI_S_VAL_DIRS = 12
};

struct otg_trainer {
    otg_train_config c; /* resolved: latent, output, steps */
    otg_source *target, *val_target, *latent;
    int64_t dim, img_h, img_w, val_n, n_params;
    otg_dir_kind dirs;
    otg_model_spec spec;
    const otg_optim_type *optim_type;
    otg_graph *g;
    otg_node *z, *y, *out, *loss;
    otg_sw_loss_ctx sw;
    otg_tensor *theta;
    otg_optim *opt;
    otg_schedule sched;
    otg_rng r_latent, r_data, r_dirs, r_noise;
    int64_t step;
    otg_tensor *val_z, *val_y, *val_x, *val_theta; /* [val_n, latent], [val_n, dim] x2, [dim, L] */
    otg_sw_workspace *val_ws;
    otg_graph *sg; /* sampling graph of batch sb (otg_trainer_sample), built on demand */
    otg_node *sz, *sout;
    int64_t sb;
};

#endif
