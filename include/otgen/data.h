/* otgen data: where points come from. A source is either a law sampled afresh (the synthetic 2-D
 * laws, Gaussian and uniform latents) or a finite data set whose rows are drawn (Fashion-MNIST from
 * Debian's dataset-fashion-mnist, NPY or CSV files). Every draw takes an explicit RNG stream. */
#ifndef OTGEN_DATA_H
#define OTGEN_DATA_H

#include "otgen/core.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct otg_source otg_source;

#define OTG_FASHION_MNIST_DIR "/usr/share/datasets/fashion-mnist"

typedef struct {
    int64_t dim;          /* gaussian / uniform: dimension [2]; the 2-D laws are 2-D */
    const char *split;    /* finite data: "train" or "test" ["train"]; NPY/CSV have one split */
    const int *classes;   /* fashion-mnist: keep these labels only (NULL: all) */
    int n_classes;
    int64_t grid_side;    /* grid: k x k points [5] */
    double noise;         /* moons, swiss-roll, ...: the law's noise; < 0 selects its default [-1] */
    const char *root;     /* fashion-mnist directory [OTG_FASHION_MNIST_DIR] */
} otg_source_opts;

otg_source_opts otg_source_opts_default(void);

/* Opens a source by name: "moons", "swiss-roll", "gaussians8", "rings", "checkerboard",
 * "gaussian", "uniform", "grid", "fashion-mnist", or a path ending in .npy or .csv. NULL with a
 * one-line reason naming the file and the problem (missing, truncated, mislabelled, non-finite). */
otg_source *otg_source_open(const char *spec, const otg_source_opts *opts);
void otg_source_free(otg_source *s);

/* The dimension of a point (784 for fashion-mnist). */
int64_t otg_source_dim(const otg_source *s);
/* Rows of a finite data set; 0 for a law. */
int64_t otg_source_size(const otg_source *s);
/* The data [size, dim] of a finite source (borrowed), NULL for a law. Fashion-MNIST pixels in [0, 1]. */
const otg_tensor *otg_source_data(const otg_source *s);
/* Labels [size] of fashion-mnist (borrowed), NULL otherwise. */
const uint8_t *otg_source_labels(const otg_source *s);
/* 1 when points are images (fashion-mnist: 28 x 28), with *h, *w set. */
int otg_source_is_image(const otg_source *s, int64_t *h, int64_t *w);
/* A short name ("moons", "fashion-mnist[train]", "data.npy"). */
const char *otg_source_name(const otg_source *s);

/* n i.i.d. points into out[n, dim]: fresh draws of a law, or rows drawn uniformly with replacement
 * from a finite set. The draws consume rng only (never a global state). */
otg_status otg_source_sample(otg_source *s, otg_rng *rng, int64_t n, float *out);

#ifdef __cplusplus
}
#endif
#endif
