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
    int64_t dim;        /* gaussian / uniform: dimension [2]; the 2-D laws are 2-D (ignored) */
    const char *split;  /* "train" or "test" ["train"] (OTG_EINVAL otherwise, for every source;
                         * a law ignores it); NPY/CSV: see holdout */
    const int *classes; /* fashion-mnist: keep these labels only (NULL: all); OTG_EINVAL if a
                         * label is outside 0..9, n_classes <= 0, or nothing is left */
    int n_classes;
    int64_t grid_side; /* grid: k x k points [5], k in 1..4096 */
    double noise;      /* sd of the N(0, I_2) added to a 2-D law's points (final coordinates);
                        * < 0 selects the law's default [-1]: moons 0.05, swiss-roll 0.025,
                        * gaussians8 0.02, rings 0.02, checkerboard 0, grid 0; gaussian and
                        * uniform ignore it */
    const char *root;  /* fashion-mnist directory [OTG_FASHION_MNIST_DIR] */
    double holdout;    /* NPY/CSV with n rows: in (0, 1), the last k = ceil(holdout n) rows are
                        * the test split and the first n - k the train split (which then has a
                        * test split); 0: one split, all rows [0]. OTG_EINVAL outside [0, 1) or
                        * when a split would be empty */
} otg_source_opts;

/* The defaults above, in brackets. */
otg_source_opts otg_source_opts_default(void);

/* Opens a source by name: "moons", "swiss-roll", "gaussians8", "rings", "checkerboard",
 * "gaussian", "uniform", "grid", "fashion-mnist", or a path ending in .npy or .csv. NULL with a
 * one-line reason naming the file and the problem (missing, truncated, mislabelled, non-finite).
 * The laws and their parameters are listed at the top of src/data/laws.c: moons and swiss-roll
 * are scaled into [-1, 1]^2, gaussians8 lies on the circle of radius 2, rings has radii 1/3, 2/3
 * and 1, checkerboard is the 8 filled squares of a 4 x 4 board on [-1, 1]^2, grid the k x k
 * points of [-1, 1]^2, gaussian N(0, I_dim), uniform U[-1, 1]^dim (closed).
 * opts NULL: otg_source_opts_default(). Files: NPY must be finite, 1-D becomes [n, 1], trailing
 * dimensions are flattened and [n, h, w] / [n, 1, h, w] are images; CSV is comma-separated
 * numbers, the same count per row, an optional non-numeric header line, blank lines only at the
 * end. Fashion-MNIST reads <root>/{train,t10k}-{images-idx3,labels-idx1}-ubyte.gz. The source
 * owns its data; free with otg_source_free (accepts NULL). */
otg_source *otg_source_open(const char *spec, const otg_source_opts *opts);
void otg_source_free(otg_source *s);

/* The dimension of a point (784 for fashion-mnist). */
int64_t otg_source_dim(const otg_source *s);
/* Rows of a finite data set; 0 for a law. */
int64_t otg_source_size(const otg_source *s);
/* The data [size, dim] of a finite source (borrowed), NULL for a law. Fashion-MNIST pixels in
 * [0, 1]. */
const otg_tensor *otg_source_data(const otg_source *s);
/* Labels [size] of fashion-mnist (borrowed), NULL otherwise. */
const uint8_t *otg_source_labels(const otg_source *s);
/* 1 when points are images (fashion-mnist: 28 x 28), with *h, *w set (0 otherwise; either may
 * be NULL). */
int otg_source_is_image(const otg_source *s, int64_t *h, int64_t *w);
/* 1 when the source is the train split of a data set that also has a held-out test split
 * (fashion-mnist; NPY/CSV opened with a holdout), which otg_source_open(spec, opts with
 * .split = "test") opens; 0 otherwise. */
int otg_source_has_test_split(const otg_source *s);
/* A short name ("moons", "fashion-mnist[train]", "data.npy"). */
const char *otg_source_name(const otg_source *s);

/* n i.i.d. points into out[n, dim]: fresh draws of a law, or rows drawn uniformly with replacement
 * from a finite set (an unbiased 32-bit index per row). The draws consume rng only (never a
 * global state) and do not depend on the thread count. OTG_EINVAL on NULL arguments or n < 0. */
OTG_NODISCARD otg_status otg_source_sample(otg_source *s, otg_rng *rng, int64_t n, float *out);
/* The row indices rows [n] that otg_source_sample would copy from a finite source, drawing the
 * same numbers from rng (so the two calls on copies of one stream agree): for callers that keep
 * the rows in another precision (otgen eval's float64 data files). OTG_EINVAL for a law. */
OTG_NODISCARD otg_status otg_source_sample_index(otg_source *s, otg_rng *rng, int64_t n,
                                                 int64_t *rows);

#ifdef __cplusplus
}
#endif
#endif
