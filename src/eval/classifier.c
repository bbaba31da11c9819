/* The feature classifier of the FD metric: an MLP in -> hidden1 -> hidden2 -> classes (relu)
 * built on the ad tape, trained with Adam on the softmax cross-entropy (otg_softmax_xent), applied
 * in chunks to read its penultimate features and class probabilities, and saved as an NPY of its
 * flat parameters. Everything is deterministic for a recipe and a data set: the permutations come
 * from (seed, 1 + epoch), the initialisation from (seed, 0), and every GEMM has the bits of one
 * thread. */
#include "eval/eval_internal.h"
#include "otgen/io.h"
#include "otgen/nn.h"
#include "otgen/optim.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define APPLY_ROWS 1000 /* rows per forward of the apply graph */

/* The tape of one batch size: x [rows, d] -> h1 -> features [rows, hidden2] -> logits. */
typedef struct {
    otg_graph *g;
    otg_node *x, *features, *logits, *targets, *loss;
} net;

struct otg_classifier {
    otg_classifier_recipe recipe;
    int64_t dim;
    int classes;
    net apply; /* APPLY_ROWS rows, no loss */
};

otg_classifier_recipe otg_classifier_recipe_default(void) {
    return (otg_classifier_recipe){
        .hidden1 = 512, .hidden2 = 256, .epochs = 10, .batch = 128, .lr = 1e-3, .seed = 1};
}

/* Builds the network for `rows` rows; with_loss adds the targets and the loss. Parameters are
 * He-initialised from (seed, 0), biases zero, so two nets of one recipe start equal. */
static otg_status net_build(net *n, const otg_classifier_recipe *r, int64_t dim, int classes,
                            int64_t rows, int with_loss) {
    memset(n, 0, sizeof *n);
    otg_rng init = otg_rng_make(r->seed, 0);
    if (!(n->g = otg_graph_new())) return otgi_fail(OTG_ENOMEM, "classifier: out of memory");
    otg_graph *g = n->g;
    n->x = otg_input(g, 2, (int64_t[]){rows, dim}, 0);
    otg_node *h = otg_relu(g, otg_nn_dense(g, n->x, r->hidden1, OTG_INIT_HE, &init));
    n->features = otg_relu(g, otg_nn_dense(g, h, r->hidden2, OTG_INIT_HE, &init));
    n->logits = otg_nn_dense(g, n->features, classes, OTG_INIT_HE, &init);
    if (with_loss) {
        n->targets = otg_input(g, 2, (int64_t[]){rows, classes}, 0);
        n->loss = otg_softmax_xent(g, n->logits, n->targets);
    }
    if (!n->logits || (with_loss && !n->loss)) return OTG_EINVAL;
    return otg_graph_compile(g);
}

/* Writes rows idx[0..rows) of x (centred: x - 0.5) into the net's input. */
static void net_write_rows(net *n, const float *x, int64_t dim, const int64_t *idx, int64_t rows) {
    float *in = otg_node_data(n->x);
    for (int64_t i = 0; i < rows; i++) {
        const float *src = x + idx[i] * dim;
        for (int64_t j = 0; j < dim; j++)
            in[i * dim + j] = src[j] - 0.5f;
    }
}

static otg_status check_args(const otg_tensor *x, const uint8_t *labels, int classes,
                             const otg_classifier_recipe *r) {
    if (!x || !labels || !r || x->ndim != 2)
        return otgi_fail(OTG_EINVAL, "classifier: needs images [n, d], labels and a recipe");
    if (classes < 2 || classes > 16)
        return otgi_fail(OTG_EINVAL, "classifier: %d classes (2 to 16)", classes);
    if (r->hidden1 < 1 || r->hidden2 < 1 || r->epochs < 1 || r->batch < 1 || !(r->lr > 0))
        return otgi_fail(OTG_EINVAL, "classifier: bad recipe (widths, epochs, batch, lr > 0)");
    if (x->shape[0] < r->batch)
        return otgi_fail(OTG_EINVAL, "classifier: %lld images, fewer than a batch of %lld",
                         (long long)x->shape[0], (long long)r->batch);
    for (int64_t i = 0; i < x->shape[0]; i++)
        if (labels[i] >= classes)
            return otgi_fail(OTG_EINVAL, "classifier: label %d of row %lld outside 0..%d",
                             labels[i], (long long)i, classes - 1);
    return OTG_OK;
}

/* One epoch of Adam steps over full batches of a fresh permutation (the remainder is dropped);
 * *step counts the steps of the whole run for the cosine schedule. */
static otg_status train_epoch(net *n, otg_optim *opt, const otg_tensor *x, const uint8_t *labels,
                              int classes, const otg_classifier_recipe *r, int64_t epoch,
                              int64_t *perm, int64_t *step, int64_t total) {
    const int64_t rows = x->shape[0], dim = x->shape[1], b = r->batch;
    otg_rng rng = otg_rng_make(r->seed, (uint64_t)(1 + epoch));
    otgi_rng_permutation(&rng, perm, rows);
    int64_t np;
    float *u = otg_graph_params(n->g, &np), *gr = otg_graph_grads(n->g, &np);
    float *t = otg_node_data(n->targets);
    for (int64_t s = 0; s + b <= rows; s += b, (*step)++) {
        net_write_rows(n, x->data, dim, perm + s, b);
        memset(t, 0, (size_t)(b * classes) * sizeof *t);
        for (int64_t i = 0; i < b; i++)
            t[i * classes + labels[perm[s + i]]] = 1.0f;
        otg_status st = otg_graph_forward(n->g);
        if (st != OTG_OK) return st;
        otg_graph_zero_grad(n->g);
        if ((st = otg_graph_backward(n->g, n->loss)) != OTG_OK) return st;
        const double lr =
            0.5 * r->lr * (1.0 + cos(3.14159265358979323846 * (double)*step / (double)total));
        if ((st = otg_optim_step(opt, u, gr, lr > 0 ? lr : 1e-12, NULL)) != OTG_OK) return st;
    }
    return OTG_OK;
}

static void net_free(net *n) {
    otg_graph_free(n->g);
}

/* An untrained classifier of recipe r (its apply net built and initialised). */
static otg_classifier *classifier_new(const otg_classifier_recipe *r, int64_t dim, int classes) {
    otg_classifier *c = calloc(1, sizeof *c);
    if (!c) return otgi_fail(OTG_ENOMEM, "classifier: out of memory"), NULL;
    c->recipe = *r, c->dim = dim, c->classes = classes;
    if (net_build(&c->apply, r, dim, classes, APPLY_ROWS, 0) != OTG_OK) {
        otg_classifier_free(c);
        return NULL;
    }
    return c;
}

otg_classifier *otg_classifier_train(const otg_tensor *x, const uint8_t *labels, int classes,
                                     const otg_classifier_recipe *r) {
    if (check_args(x, labels, classes, r) != OTG_OK) return NULL;
    const int64_t rows = x->shape[0];
    otg_classifier *c = classifier_new(r, x->shape[1], classes);
    net tr = {0};
    int64_t *perm = malloc((size_t)rows * sizeof *perm), np = 0, step = 0;
    otg_optim *opt = NULL;
    otg_status st = c && perm ? net_build(&tr, r, x->shape[1], classes, r->batch, 1) : OTG_ENOMEM;
    if (st == OTG_OK) {
        otg_graph_params(tr.g, &np);
        if (!(opt = otg_optim_new(otg_optim_adam, np, NULL))) st = OTG_ENOMEM;
    }
    const int64_t total = r->epochs * (rows / r->batch);
    /* one thread: at batch 128 the GEMMs are small and OpenMP's barriers cost more than a second
     * core gains (measured: 4x the CPU time on 2 busy cores); the bits are the same anyway */
    const int threads = otg_threads_get();
    if (st == OTG_OK) st = otg_threads_set(1);
    for (int64_t e = 0; st == OTG_OK && e < r->epochs; e++)
        st = train_epoch(&tr, opt, x, labels, classes, r, e, perm, &step, total);
    otg_status ts = otg_threads_set(threads);
    if (st == OTG_OK) st = ts;
    if (st == OTG_OK)
        memcpy(otg_graph_params(c->apply.g, &np), otg_graph_params(tr.g, &np),
               (size_t)np * sizeof(float));
    otg_optim_free(opt);
    net_free(&tr);
    free(perm);
    if (st != OTG_OK) {
        if (st == OTG_ENOMEM) otgi_fail(OTG_ENOMEM, "classifier: out of memory");
        otg_classifier_free(c);
        return NULL;
    }
    return c;
}

void otg_classifier_free(otg_classifier *c) {
    if (!c) return;
    net_free(&c->apply);
    free(c);
}

int64_t otg_classifier_dim(const otg_classifier *c) {
    return c ? c->dim : 0;
}
int64_t otg_classifier_features(const otg_classifier *c) {
    return c ? c->recipe.hidden2 : 0;
}
int otg_classifier_classes(const otg_classifier *c) {
    return c ? c->classes : 0;
}

/* probs[k] = softmax(z[k]) in double. */
static void softmax_row(int k, const float *z, float *probs) {
    double m = (double)z[0], s = 0.0;
    for (int j = 1; j < k; j++)
        m = (double)z[j] > m ? (double)z[j] : m;
    for (int j = 0; j < k; j++)
        s += exp((double)z[j] - m);
    for (int j = 0; j < k; j++)
        probs[j] = (float)(exp((double)z[j] - m) / s);
}

otg_status otg_classifier_apply(otg_classifier *c, const otg_tensor *x, float *features,
                                float *probs) {
    if (!c || !x || x->ndim != 2) return otgi_fail(OTG_EINVAL, "classifier: needs images [n, d]");
    if (x->shape[1] != c->dim)
        return otgi_fail(OTG_ESHAPE, "classifier: images of dimension %lld, it takes %lld",
                         (long long)x->shape[1], (long long)c->dim);
    const int64_t n = x->shape[0], f = c->recipe.hidden2, k = c->classes;
    int64_t idx[APPLY_ROWS];
    for (int64_t s = 0; s < n; s += APPLY_ROWS) {
        const int64_t rows = n - s < APPLY_ROWS ? n - s : APPLY_ROWS;
        for (int64_t i = 0; i < APPLY_ROWS; i++)
            idx[i] = s + (i < rows ? i : 0); /* pad the last chunk with its first row */
        net_write_rows(&c->apply, x->data, c->dim, idx, APPLY_ROWS);
        otg_status st = otg_graph_forward(c->apply.g);
        if (st != OTG_OK) return st;
        if (features)
            memcpy(features + s * f, otg_node_data(c->apply.features),
                   (size_t)(rows * f) * sizeof(float));
        const float *z = otg_node_data(c->apply.logits);
        for (int64_t i = 0; probs && i < rows; i++)
            softmax_row((int)k, z + i * k, probs + (s + i) * k);
    }
    return OTG_OK;
}

otg_status otg_classifier_accuracy(otg_classifier *c, const otg_tensor *x, const uint8_t *labels,
                                   double *accuracy) {
    if (!c || !x || !labels || !accuracy || x->ndim != 2)
        return otgi_fail(OTG_EINVAL, "classifier accuracy: NULL argument");
    const int64_t n = x->shape[0], k = c->classes;
    float *p = malloc((size_t)(n * k) * sizeof *p);
    if (!p) return otgi_fail(OTG_ENOMEM, "classifier: out of memory");
    otg_status st = otg_classifier_apply(c, x, NULL, p);
    int64_t right = 0;
    for (int64_t i = 0; st == OTG_OK && i < n; i++)
        right += otgi_argmax(p + i * k, k) == labels[i];
    *accuracy = (double)right / (double)n;
    free(p);
    return st;
}

otg_status otg_classifier_save(const otg_classifier *c, const char *path) {
    if (!c || !path) return otgi_fail(OTG_EINVAL, "classifier save: NULL argument");
    int64_t np;
    float *u = otg_graph_params(c->apply.g, &np);
    otg_tensor t = otg_tensor_view(u, 1, (int64_t[]){np});
    return otg_npy_write(path, &t, 1);
}

otg_classifier *otg_classifier_load(const char *path, const otg_classifier_recipe *r, int64_t dim,
                                    int classes) {
    if (!path || !r) return otgi_fail(OTG_EINVAL, "classifier load: NULL argument"), NULL;
    otg_tensor *t = NULL;
    if (otg_npy_read(path, 1, &t) != OTG_OK) return NULL;
    otg_classifier *c = classifier_new(r, dim, classes);
    int64_t np = 0;
    float *u = c ? otg_graph_params(c->apply.g, &np) : NULL;
    if (c && (t->ndim != 1 || t->shape[0] != np)) {
        otgi_fail(OTG_EFORMAT, "%s: %lld parameters, the recipe has %lld", path,
                  (long long)otg_tensor_numel(t), (long long)np);
        otg_classifier_free(c);
        c = NULL;
    }
    if (c) memcpy(u, t->data, (size_t)np * sizeof(float));
    otg_tensor_free(t);
    return c;
}
