/* A trained generator loaded from a checkpoint, for `otgen sample` and `otgen eval`. */
#ifndef OTGEN_GENERATOR_H
#define OTGEN_GENERATOR_H

#include "otgen/otgen.h"

typedef struct {
    otg_graph *g;
    otg_node *z, *out;
    otg_source *latent;
    otg_model_spec spec;
    int64_t batch;
    char data[256];   /* the training data's name (config "data") */
    char classes[64]; /* its --classes, "" for all */
    double p;
} generator;

/* Loads the checkpoint at path and builds its model for batches of `batch`; 0, or the exit status
 * after printing the reason. */
int generator_load(generator *gen, const char *cmd, const char *path, int64_t batch);
/* n samples into out[n, out_dim], latents from stream (seed, 1). */
void generator_sample(generator *gen, uint64_t seed, int64_t n, float *out);
void generator_free(generator *gen);

#endif
