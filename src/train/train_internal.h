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
    OTGI_S_VAL_DIRS = 12,
    OTGI_S_BASIS = 13, /* --directions-kind permuted: the fixed orthonormal basis; hadamard: the
                        * set-up draw the validation pass sees before the first step */
    OTGI_S_BANK = 14   /* --quantile-bank: the bank's directions */
};

struct otg_trainer {
    otg_train_config c; /* resolved: latent, output, steps */
    otg_source *target, *val_target, *latent;
    int64_t dim, img_h, img_w, val_n, n_params;
    otg_dir_kind dirs;
    otg_sw_estimator est; /* the loss estimator (--estimator) */
    otg_model_spec spec;
    const otg_optim_type *optim_type;
    otg_graph *g;
    otg_node *z, *y, *out, *loss;
    otg_sw_loss_ctx sw;
    otg_sliced_energy_loss_ctx energy; /* --loss energy */
    int energy_loss;
    otg_tensor *theta;
    otg_optim *opt;
    otg_schedule sched;
    otg_rng r_latent, r_data, r_dirs, r_noise;
    int64_t step;
    float *ema;          /* [n_params] the weight average (c.ema > 0), else NULL */
    float *basis;        /* [dim, dim] --directions-kind permuted: a fixed Haar basis, else NULL */
    int axes;            /* directions of the first block (axes: of every block) are the coordinate
                          * axes e_1..e_dim (--directions-kind axes, permuted+axes) */
    int64_t *perm;       /* [dim] its row permutation of the step */
    otg_sw_hadamard had; /* --directions-kind hadamard: the step's signs (the loss's opts.fast) */
    /* --quantile-bank K (bank.c): the bank's directions and quantile data, the step's picks */
    float *bank_theta, *bank_q; /* [dim, K], [K, batch] */
    double *bank_c, *step_c;    /* [K], [L] */
    float *step_q;              /* [L, batch] */
    int64_t *bank_pick;         /* [K] scratch of the draw without replacement */
    otg_sw_quantile_loss_ctx swq;
    /* --conditional (classes.c): the generator's input is [latent, one-hot of n_cls classes] */
    int n_cls;            /* 0: unconditional */
    int64_t zdim;         /* the generator's input columns: latent + n_cls */
    int64_t *cls_rows;    /* [training rows] their indices, class by class */
    int64_t cls_off[11];  /* class k's rows: cls_rows[cls_off[k] .. cls_off[k + 1]) */
    int cls_of_label[10]; /* label -> class index, -1 if not kept */
    otg_tensor *val_z, *val_y, *val_x, *val_theta; /* [val_n, zdim], [val_n, dim] x2, [dim, L] */
    int val_generated; /* val_x holds the samples of the last validation */
    otg_sw_workspace *val_ws;
    otg_graph *sg; /* the generator alone, batch sb (sampling, validation), built on demand */
    otg_node *sz, *sout;
    int64_t sb;
    /* the distributed mode (trainer_comm.c); comm NULL: one process, rows = batch */
    otg_comm *comm;
    void (*comm_release)(otg_comm *c);
    int64_t *row_off; /* [size + 1]: the batch rows of each rank */
    int64_t r0, rows; /* this rank's rows [r0, r0 + rows) */
    float *z_full;    /* [batch, latent]: the whole batch's latents */
    float *x_full;    /* [batch, dim]: the gathered generator output */
};

/* Target rows per step: --data-batch, or --batch when it is 0. */
int64_t otgi_trainer_data_rows(const otg_trainer *t);
/* L directions of --directions-kind into theta [dim, L] (columns) from rng. */
otg_status otgi_trainer_directions(otg_trainer *t, otg_rng *rng, int64_t L, float *theta);
/* --quantile-bank: checks the options, draws the bank and computes its quantile data. */
otg_status otgi_trainer_bank_make(otg_trainer *t);
/* --quantile-bank: the step's directions (into t->theta) and their quantile data, from rng. */
void otgi_trainer_bank_pick(otg_trainer *t, otg_rng *rng);
void otgi_trainer_bank_free(otg_trainer *t);

/* --conditional: checks the data (labelled, one process, no bank) and groups the training rows by
 * class; without it, zdim = latent and n_cls = 0. */
otg_status otgi_trainer_classes_make(otg_trainer *t);
void otgi_trainer_classes_free(otg_trainer *t);
/* The class index of a data label, -1 if the generator has no such class (or none). */
int otgi_trainer_class_of(const otg_trainer *t, int label);
/* A class index: the label of a training row drawn uniformly from rng (the data's frequencies). */
int otgi_trainer_class_draw(otg_trainer *t, otg_rng *rng);
/* z [n, zdim]: n latents from the latent source (rng), each followed by the one-hot of class cls
 * (cls < 0: each row's own class_draw, from rng after the latents). Unconditional: the latents. */
otg_status otgi_trainer_latents(otg_trainer *t, otg_rng *rng, int64_t n, int cls, float *z);
/* y [m, dim]: m training rows of class cls, drawn uniformly with replacement from rng. */
void otgi_trainer_class_rows(otg_trainer *t, otg_rng *rng, int cls, int64_t m, float *y);

/* Checks the config for the distributed mode and sets the row partition (before the graph). */
otg_status otgi_trainer_comm_setup(otg_trainer *t);
/* The SW loss node over the ranks: x [rows, dim] this rank's generated rows, y [batch, dim]. */
otg_node *otgi_trainer_comm_loss(otg_trainer *t);
/* Sums the graph's kink counts over the ranks into row (kinks, relu_kinks). */
otg_status otgi_trainer_comm_kinks(otg_trainer *t, otg_train_row *row);
/* Gathers the rows [i0 + row_off[r], ...) of every rank into val_x + i0 dim. */
otg_status otgi_trainer_comm_gather_val(otg_trainer *t, int64_t i0);
void otgi_trainer_comm_free(otg_trainer *t);

#endif
