/* otgen eval: feature-space quality of generated images (docs/training.md, "Judging images").
 * A small classifier trained by otgen itself on a labelled image set (Fashion-MNIST's training
 * split), deterministic for a seed and cached by a hash of its recipe; the Frechet distance of its
 * penultimate features between two sets of images; and the per-sample figures a reader needs
 * beside it: class coverage, the confidently classified fraction, and a memorisation ratio.
 * Images are rows of pixels in [0, 1] (the convention of otgen's data sources). */
#ifndef OTGEN_EVAL_H
#define OTGEN_EVAL_H

#include "otgen/core.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- the classifier ------------------------------------------------------------------------ */

typedef struct otg_classifier otg_classifier;

/* What determines a classifier's bits, defaults in brackets: an MLP in -> hidden1 -> hidden2 ->
 * classes with relu, He-initialised from (seed, 0), trained by Adam (lr cosine-decayed to 0 over
 * the run) on the softmax cross-entropy, mini-batches of a fresh permutation each epoch (stream
 * (seed, 1 + epoch)). Inputs are centred: x - 0.5. */
typedef struct {
    int64_t hidden1; /* [512] */
    int64_t hidden2; /* the feature dimension [256] */
    int64_t epochs;  /* [10] */
    int64_t batch;   /* [128] */
    double lr;       /* Adam's initial step [1e-3] */
    uint64_t seed;   /* [1] */
} otg_classifier_recipe;

otg_classifier_recipe otg_classifier_recipe_default(void);

/* A 64-bit FNV-1a hash of the recipe, the version of the training code, the training set
 * (x [n, d] bytes and labels) and the BLAS kernel's name (OpenBLAS's core name: the classifier's
 * bits depend on it): the cache key. */
uint64_t otg_classifier_key(const otg_classifier_recipe *r, const otg_tensor *x,
                            const uint8_t *labels);

/* Trains a classifier on x [n, d] with labels[n] in 0..classes-1 (classes <= 256). The bits depend
 * on the recipe and the data only (not the thread count). NULL with the reason on bad arguments
 * (a label out of range, n < batch) or out of memory. */
otg_classifier *otg_classifier_train(const otg_tensor *x, const uint8_t *labels, int classes,
                                     const otg_classifier_recipe *r);
void otg_classifier_free(otg_classifier *c);

/* Writes the parameters as an NPY file [P] (atomically, replacing path); reads them back into a
 * classifier of the recipe's shape (OTG_EFORMAT when the file's size does not fit it). */
OTG_NODISCARD otg_status otg_classifier_save(const otg_classifier *c, const char *path);
otg_classifier *otg_classifier_load(const char *path, const otg_classifier_recipe *r, int64_t dim,
                                    int classes);

/* The classifier of recipe r for (x, labels), from cache_dir/fd-classifier-<key>.npy when that
 * file exists and loads, else trained and written there (the directory is created; a failed
 * write is not an error: the classifier is still returned). cache_dir NULL or "": the default,
 * $XDG_CACHE_HOME/otgen, else $HOME/.cache/otgen. *trained (may be NULL) is set to 1 when it was
 * trained in this call. */
otg_classifier *otg_classifier_cached(const char *cache_dir, const otg_classifier_recipe *r,
                                      const otg_tensor *x, const uint8_t *labels, int classes,
                                      int *trained);
/* The default cache directory into path[cap] (OTG_EINVAL when neither variable is set). */
OTG_NODISCARD otg_status otg_classifier_cache_dir(char *path, size_t cap);

int64_t otg_classifier_dim(const otg_classifier *c);      /* input dimension d */
int64_t otg_classifier_features(const otg_classifier *c); /* hidden2 */
int otg_classifier_classes(const otg_classifier *c);

/* Runs the classifier on x [n, d]: the penultimate (relu) features into features[n, hidden2] and
 * the class probabilities into probs[n, classes] (either may be NULL). Not thread-safe on one c. */
OTG_NODISCARD otg_status otg_classifier_apply(otg_classifier *c, const otg_tensor *x,
                                              float *features, float *probs);
/* Fraction of the rows of x [n, d] whose most probable class is labels[i]. */
OTG_NODISCARD otg_status otg_classifier_accuracy(otg_classifier *c, const otg_tensor *x,
                                                 const uint8_t *labels, double *accuracy);

/* ---- Frechet distance ------------------------------------------------------------------------ */

/* Eigen-decomposition of the symmetric a [d, d] (row-major, double; destroyed) by cyclic Jacobi
 * rotations: eigenvalues w[d] (ascending) and orthonormal eigenvectors in the columns of v [d, d].
 * OTG_ENOCONV when 100 sweeps do not bring the off-diagonal mass below 1e-15 of the total. */
OTG_NODISCARD otg_status otg_eigen_symmetric(int64_t d, double *a, double *w, double *v);

/* Mean mu[d] and covariance cov[d, d] (divisor n - 1) of the rows of f [n, d], in double. */
OTG_NODISCARD otg_status otg_feature_stats(const float *f, int64_t n, int64_t d, double *mu,
                                           double *cov);

/* The Frechet distance between N(mu1, cov1) and N(mu2, cov2) (d-dimensional):
 * |mu1 - mu2|^2 + tr(cov1 + cov2 - 2 (cov1^1/2 cov2 cov1^1/2)^1/2), the matrix square roots from
 * otg_eigen_symmetric with negative eigenvalues (rounding) clamped to 0 (the result too). */
OTG_NODISCARD otg_status otg_frechet_distance(int64_t d, const double *mu1, const double *cov1,
                                              const double *mu2, const double *cov2, double *fd);

/* ---- the quality report of a set of images ----------------------------------------------------
 */

typedef struct {
    double fd;              /* Frechet distance of the features, samples vs the reference */
    int coverage;           /* classes holding >= 5% of the samples' predicted labels */
    double confident;       /* fraction of samples with max probability >= 0.9 */
    double memorisation;    /* median distance of samples to their nearest training image over the
                             * same for reference images (~1: no copying; 0: copies); NaN if not
                             * asked */
    double class_share[16]; /* fraction of samples predicted as each class (first `classes`) */
} otg_fd_report;

/* The report of samples x [n, d] against the reference images ref [m, d] (a held-out split).
 * train [t, d] (may be NULL: memorisation NaN): the training images, searched exhaustively for
 * nearest neighbours of the first memo_n samples and memo_n reference rows (Euclidean, pixels).
 * OTG_ESHAPE when the dimensions differ from the classifier's, OTG_EINVAL when n or m < 2. */
OTG_NODISCARD otg_status otg_fd_evaluate(otg_classifier *c, const otg_tensor *x,
                                         const otg_tensor *ref, const otg_tensor *train,
                                         int64_t memo_n, otg_fd_report *report);

/* ---- the judge of a labelled image data set ---------------------------------------------------
 * The pieces above put together for a data set with a train and a test split (Fashion-MNIST):
 * its cached classifier (trained on the train split, its accuracy measured on the test split),
 * the test split as the reference and the train split for the memorisation search. */

typedef struct otg_fd_judge otg_fd_judge;

/* Opens the data set `data` ("fashion-mnist"; root NULL: OTG_FASHION_MNIST_DIR), gets the
 * classifier of recipe r (NULL: the default) from cache_dir (NULL: the default cache, see
 * otg_classifier_cached), training it when absent, and measures its test accuracy. NULL with the
 * reason when the data set has no labelled test split or cannot be read. */
otg_fd_judge *otg_fd_judge_open(const char *data, const char *root, const char *cache_dir,
                                const otg_classifier_recipe *r);
void otg_fd_judge_free(otg_fd_judge *j);
double otg_fd_judge_accuracy(const otg_fd_judge *j); /* on the test split */
int otg_fd_judge_trained(const otg_fd_judge *j);     /* 1: trained by open, 0: from the cache */
otg_classifier *otg_fd_judge_classifier(otg_fd_judge *j);
/* The test split [10000, 784] and the train split [60000, 784] (borrowed). */
const otg_tensor *otg_fd_judge_test(const otg_fd_judge *j);
const otg_tensor *otg_fd_judge_train(const otg_fd_judge *j);
/* otg_fd_evaluate of x against the test split, searching the train split for memo_n rows (0: no
 * memorisation ratio). */
OTG_NODISCARD otg_status otg_fd_judge_evaluate(otg_fd_judge *j, const otg_tensor *x, int64_t memo_n,
                                               otg_fd_report *report);

#ifdef __cplusplus
}
#endif
#endif
