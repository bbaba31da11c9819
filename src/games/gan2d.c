/* The 2-D GAN game: generator G_theta, an MLP 2 -> h -> h -> 2 with ReLU (latent N(0, I_2)),
 * against discriminator D_phi, an MLP 2 -> h -> h -> 1 with leaky ReLU (slope 0.2), on the
 * gaussians8 mixture (src/data). Losses, with a = D(y) on target points and D(G(x)) on fakes:
 *   standard     L = E log sigma(D(y)) + E log(1 - sigma(D(G(x))))      (the zero-sum minimax game)
 *   nonsat       the discriminator's part of standard, the generator minimising -E log
 * sigma(D(G(x))) (not zero-sum: G(z) is the pair of the two players' gradients) wasserstein  L = E
 * D(y) - E D(G(x)), the discriminator's parameters clipped to [-clip, clip] after every step
 * (gan2d_project, called by the loop's owner). Both MLPs run in double through cblas_dgemm;
 * selections relu'(0) = 0, leaky_relu'(0) = 0.2. MLP parameter layout: W1 [h, 2], b1 [h], W2 [h,
 * h], b2 [h], W3 [out, h], b3 [out]. */
#include "games_internal.h"
#include "internal.h"
#include "otgen/data.h"
#include "otgen/ot.h"

#include <cblas.h>
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#define LEAK 0.2
#define N_MODES 8

typedef enum { LOSS_STANDARD, LOSS_NONSAT, LOSS_WASSERSTEIN } loss_kind;
static const char *const loss_names[] = {"standard", "nonsat", "wasserstein"};

typedef struct {
    int64_t d0, h, d3;
    double leak; /* 0: relu */
} mlp_shape;

/* Activations of one forward pass, kept for the backward: [cap, h] each, out [cap, d3]. */
typedef struct {
    double *u1, *a1, *u2, *a2, *out;
} mlp_cache;

typedef struct {
    mlp_shape gs, ds;
    loss_kind loss;
    double clip, noise;
    int64_t batch, eval_n, dirs, cap; /* cap = max(batch, eval_n) */
    otg_source *target;
    double *elat, *etgt;               /* evaluation sets [eval_n, 2] */
    double *blat, *btgt;               /* minibatch buffers [batch, 2] */
    mlp_cache gc, dc;                  /* generator [cap], discriminator [2 cap] */
    double *dx, *ddx, *coef, *t1, *t2; /* [2 cap, 2], [2 cap, 2], [2 cap], [2 cap, h] x 2 */
    float *gen, *tgt, *theta;          /* SW metric: [eval_n, 2] x 2, directions [2, dirs] */
    otg_sw_workspace *ws;
} gan2d;

static int64_t mlp_count(const mlp_shape *s) {
    return s->h * s->d0 + s->h + s->h * s->h + s->h + s->d3 * s->h + s->d3;
}

static otg_status cache_alloc(mlp_cache *c, const mlp_shape *s, int64_t cap) {
    size_t n = (size_t)(cap * s->h);
    c->u1 = otgi_calloc(n, sizeof(double)), c->a1 = otgi_calloc(n, sizeof(double));
    c->u2 = otgi_calloc(n, sizeof(double)), c->a2 = otgi_calloc(n, sizeof(double));
    c->out = otgi_calloc((size_t)(cap * s->d3), sizeof(double));
    return c->u1 && c->a1 && c->u2 && c->a2 && c->out ? OTG_OK : OTG_ENOMEM;
}

static void cache_free(mlp_cache *c) {
    free(c->u1), free(c->a1), free(c->u2), free(c->a2), free(c->out);
}

/* out [n, o] = in [n, i] W^T + b, W [o, i] */
static void dense(const double *in, int64_t n, int64_t i, const double *w, const double *b,
                  int64_t o, double *out) {
    for (int64_t r = 0; r < n; r++)
        memcpy(out + r * o, b, (size_t)o * sizeof(double));
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, (int)n, (int)o, (int)i, 1.0, in, (int)i, w,
                (int)i, 1.0, out, (int)o);
}

static void activate(const mlp_shape *s, const double *u, int64_t n, double *a) {
    for (int64_t k = 0; k < n; k++)
        a[k] = u[k] > 0.0 ? u[k] : s->leak * u[k];
}

/* c->out [n, d3] = MLP_w(in [n, d0]) */
static void mlp_forward(const mlp_shape *s, const double *w, const double *in, int64_t n,
                        mlp_cache *c) {
    int64_t h = s->h;
    const double *w1 = w, *b1 = w1 + h * s->d0, *w2 = b1 + h, *b2 = w2 + h * h, *w3 = b2 + h;
    const double *b3 = w3 + s->d3 * h;
    dense(in, n, s->d0, w1, b1, h, c->u1);
    activate(s, c->u1, n * h, c->a1);
    dense(c->a1, n, h, w2, b2, h, c->u2);
    activate(s, c->u2, n * h, c->a2);
    dense(c->a2, n, h, w3, b3, s->d3, c->out);
}

/* One layer backward: given dout [n, o] of out = in W^T + b, adds dW [o, i] and db [o] (when gw is
 * not NULL) and writes din [n, i] = dout W (when din is not NULL). */
static void dense_back(const double *in, int64_t n, int64_t i, const double *w, int64_t o,
                       const double *dout, double *gw, double *din) {
    if (gw) {
        cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, (int)o, (int)i, (int)n, 1.0, dout,
                    (int)o, in, (int)i, 1.0, gw, (int)i);
        double *gb = gw + o * i;
        for (int64_t r = 0; r < n; r++)
            for (int64_t j = 0; j < o; j++)
                gb[j] += dout[r * o + j];
    }
    if (din)
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, (int)n, (int)i, (int)o, 1.0, dout,
                    (int)o, w, (int)i, 0.0, din, (int)i);
}

/* d [n h] *= act'(u), the selection at u = 0 being the negative side's slope */
static void activate_back(const mlp_shape *s, const double *u, int64_t n, double *d) {
    for (int64_t k = 0; k < n; k++)
        d[k] *= u[k] > 0.0 ? 1.0 : s->leak;
}

/* Backward of mlp_forward(in, n) with upstream dout [n, d3]: adds the parameter gradient into gw
 * (NULL: skipped) and writes din [n, d0] (NULL: skipped). t1, t2 scratch [n, h]. */
static void mlp_backward(const mlp_shape *s, const double *w, const double *in, int64_t n,
                         const mlp_cache *c, const double *dout, double *gw, double *din,
                         double *t1, double *t2) {
    int64_t h = s->h, o1 = h * s->d0 + h, o2 = o1 + h * h + h;
    dense_back(c->a2, n, h, w + o2, s->d3, dout, gw ? gw + o2 : NULL, t1);
    activate_back(s, c->u2, n * h, t1);
    dense_back(c->a1, n, h, w + o1, h, t1, gw ? gw + o1 : NULL, t2);
    activate_back(s, c->u1, n * h, t2);
    dense_back(in, n, s->d0, w, h, t2, gw, din);
}

static double softplus(double x) {
    return x > 0.0 ? x + log1p(exp(-x)) : log1p(exp(x));
}
static double sigmoid(double x) {
    return x >= 0.0 ? 1.0 / (1.0 + exp(-x)) : exp(x) / (1.0 + exp(x));
}

/* L at z on latent points lat [n, 2] and target points tgt [n, 2]; with out [nx + ny] also the
 * operator (d_theta L, -d_phi L) (nonsat: the generator's part from its own loss). Fakes are rows
 * 0..n-1 of the discriminator's batch, target points rows n..2n-1. */
static double evaluate(gan2d *q, const double *z, const double *lat, const double *tgt, int64_t n,
                       double *out) {
    int64_t nx = mlp_count(&q->gs), ny = mlp_count(&q->ds);
    const double *th = z, *ph = z + nx;
    mlp_forward(&q->gs, th, lat, n, &q->gc);
    memcpy(q->dx, q->gc.out, (size_t)(2 * n) * sizeof(double));
    memcpy(q->dx + 2 * n, tgt, (size_t)(2 * n) * sizeof(double));
    mlp_forward(&q->ds, ph, q->dx, 2 * n, &q->dc);
    const double *a = q->dc.out, inv = 1.0 / (double)n;
    int wgan = q->loss == LOSS_WASSERSTEIN;
    double l = 0.0;
    for (int64_t i = 0; i < n; i++) {
        l += wgan ? a[n + i] - a[i] : -softplus(-a[n + i]) - softplus(a[i]);
        q->coef[i] = wgan ? -inv : -inv * sigmoid(a[i]);        /* dL / dD(fake_i) */
        q->coef[n + i] = wgan ? inv : inv * sigmoid(-a[n + i]); /* dL / dD(target_i) */
    }
    if (!out) return l * inv;
    double *gth = out, *gph = out + nx;
    memset(out, 0, (size_t)(nx + ny) * sizeof(double));
    mlp_backward(&q->ds, ph, q->dx, 2 * n, &q->dc, q->coef, gph, q->ddx, q->t1, q->t2);
    if (q->loss == LOSS_NONSAT) { /* generator: d/dD(fake) of -mean log sigma(D) */
        for (int64_t i = 0; i < n; i++)
            q->coef[i] = -inv * sigmoid(-a[i]);
        mlp_backward(&q->ds, ph, q->dx, n, &q->dc, q->coef, NULL, q->ddx, q->t1, q->t2);
    }
    mlp_backward(&q->gs, th, lat, n, &q->gc, q->ddx, gth, NULL, q->t1, q->t2);
    for (int64_t i = 0; i < ny; i++)
        gph[i] = -gph[i];
    return l * inv;
}

static void to_double(const float *in, int64_t n, double *out) {
    for (int64_t i = 0; i < n; i++)
        out[i] = (double)in[i];
}

/* n target points [n, 2] from rng */
static otg_status draw_target(gan2d *q, otg_rng *rng, int64_t n, double *out) {
    float *tmp = q->gen; /* [eval_n, 2] scratch, filled in chunks */
    for (int64_t done = 0; done < n; done += q->eval_n) {
        int64_t k = n - done < q->eval_n ? n - done : q->eval_n;
        otg_status st = otg_source_sample(q->target, rng, k, tmp);
        if (st != OTG_OK) return st;
        to_double(tmp, 2 * k, out + 2 * done);
    }
    return OTG_OK;
}

static otg_status gan2d_alloc(gan2d *q) {
    size_t e = (size_t)(2 * q->eval_n), b = (size_t)(2 * q->batch), c2 = (size_t)(2 * q->cap);
    q->elat = otgi_calloc(e, sizeof(double)), q->etgt = otgi_calloc(e, sizeof(double));
    q->blat = otgi_calloc(b, sizeof(double)), q->btgt = otgi_calloc(b, sizeof(double));
    q->dx = otgi_calloc(2 * c2, sizeof(double)), q->ddx = otgi_calloc(2 * c2, sizeof(double));
    q->coef = otgi_calloc(c2, sizeof(double));
    q->t1 = otgi_calloc(c2 * (size_t)q->ds.h, sizeof(double));
    q->t2 = otgi_calloc(c2 * (size_t)q->ds.h, sizeof(double));
    q->gen = otgi_calloc(e, sizeof(float)), q->tgt = otgi_calloc(e, sizeof(float));
    q->theta = otgi_calloc((size_t)(2 * q->dirs), sizeof(float));
    q->ws = otg_sw_workspace_new();
    if (!q->elat || !q->etgt || !q->blat || !q->btgt || !q->dx || !q->ddx || !q->coef || !q->t1 ||
        !q->t2 || !q->gen || !q->tgt || !q->theta || !q->ws)
        return OTG_ENOMEM;
    if (cache_alloc(&q->gc, &q->gs, q->cap) != OTG_OK) return OTG_ENOMEM;
    return cache_alloc(&q->dc, &q->ds, 2 * q->cap);
}

static void gan2d_destroy(void *state);

/* The target source, the fixed evaluation sets (latent and target, stream (seed, 3)) and the SW
 * directions (stream (seed, 4)); NULL on ENOMEM. */
static gan2d *gan2d_new(const otg_game_gan2d_params *p, loss_kind loss, uint64_t seed) {
    gan2d *q = otgi_calloc(1, sizeof *q);
    if (!q) return NULL;
    q->gs = (mlp_shape){2, p->hidden, 2, 0.0}, q->ds = (mlp_shape){2, p->hidden, 1, LEAK};
    q->loss = loss, q->clip = p->clip, q->noise = p->target_noise;
    q->batch = p->batch, q->eval_n = p->eval_n, q->dirs = p->sw_dirs;
    q->cap = p->batch > p->eval_n ? p->batch : p->eval_n;
    otg_source_opts so = otg_source_opts_default();
    so.noise = p->target_noise;
    if (!(q->target = otg_source_open("gaussians8", &so)) || gan2d_alloc(q) != OTG_OK) goto fail;
    otg_rng ev = otg_rng_make(seed, 3), dr = otg_rng_make(seed, 4);
    for (int64_t i = 0; i < 2 * q->eval_n; i++)
        q->elat[i] = otg_rng_normal(&ev);
    if (draw_target(q, &ev, q->eval_n, q->etgt) != OTG_OK) goto fail;
    for (int64_t i = 0; i < 2 * q->eval_n; i++)
        q->tgt[i] = (float)q->etgt[i];
    if (otg_sw_directions(&dr, OTG_DIR_GAUSSIAN, 2, q->dirs, q->theta) != OTG_OK) goto fail;
    return q;
fail:
    gan2d_destroy(q);
    return NULL;
}

static void gan2d_destroy(void *state) {
    gan2d *q = state;
    if (!q) return;
    otg_source_free(q->target);
    free(q->elat), free(q->etgt), free(q->blat), free(q->btgt), free(q->dx), free(q->ddx);
    free(q->coef), free(q->t1), free(q->t2), free(q->gen), free(q->tgt), free(q->theta);
    otg_sw_workspace_free(q->ws);
    cache_free(&q->gc), cache_free(&q->dc);
    free(q);
}

static double gan2d_loss(void *state, const double *z) {
    gan2d *q = state;
    return evaluate(q, z, q->elat, q->etgt, q->eval_n, NULL);
}

static void gan2d_field(void *state, const double *z, double *out) {
    gan2d *q = state;
    evaluate(q, z, q->elat, q->etgt, q->eval_n, out);
}

static otg_status gan2d_oracle(void *state, const double *z, double *out, otg_rng *rng) {
    gan2d *q = state;
    for (int64_t i = 0; i < 2 * q->batch; i++)
        q->blat[i] = otg_rng_normal(rng);
    otg_status st = draw_target(q, rng, q->batch, q->btgt);
    if (st != OTG_OK) return st;
    evaluate(q, z, q->blat, q->btgt, q->batch, out);
    return OTG_OK;
}

/* He initialisation of one MLP's weights (std scale sqrt(2 / fan_in)); biases 0. */
static void mlp_init(const mlp_shape *s, double scale, otg_rng *rng, double *w) {
    int64_t h = s->h, fan[3] = {s->d0, h, h}, rows[3] = {h, h, s->d3};
    for (int l = 0; l < 3; l++) {
        double sd = scale * sqrt(2.0 / (double)fan[l]);
        for (int64_t i = 0; i < rows[l] * fan[l]; i++)
            *w++ = sd * otg_rng_normal(rng);
        for (int64_t i = 0; i < rows[l]; i++)
            *w++ = 0.0;
    }
}

static void gan2d_project(void *state, double *z) {
    const gan2d *q = state;
    if (q->loss != LOSS_WASSERSTEIN) return;
    double *phi = z + mlp_count(&q->gs), c = q->clip;
    for (int64_t i = 0; i < mlp_count(&q->ds); i++)
        phi[i] = phi[i] > c ? c : phi[i] < -c ? -c : phi[i];
}

static void gan2d_initial_point(void *state, double scale, otg_rng *rng, double *z) {
    const gan2d *q = state;
    mlp_init(&q->gs, scale, rng, z);
    mlp_init(&q->ds, scale, rng, z + mlp_count(&q->gs));
    gan2d_project(state, z);
}

static otg_status gan2d_samples(void *state, const double *z, int64_t n, float *gen,
                                float *target) {
    gan2d *q = state;
    n = n < q->eval_n ? n : q->eval_n;
    mlp_forward(&q->gs, z, q->elat, n, &q->gc);
    for (int64_t i = 0; gen && i < 2 * n; i++)
        gen[i] = (float)q->gc.out[i];
    for (int64_t i = 0; target && i < 2 * n; i++)
        target[i] = q->tgt[i];
    return OTG_OK;
}

/* A generated point is of high quality when it lies within 3 sd (at least 0.05) of a mode
 * centre 2 (cos k pi/4, sin k pi/4); a mode is covered when it holds at least a fifth of its
 * share (n / 8) of the high-quality points. */
static void mode_metrics(gan2d *q, const float *x, int64_t n, double *modes, double *hq) {
    int64_t count[N_MODES] = {0}, good = 0;
    double r = fmax(3.0 * q->noise, 0.05), cx[N_MODES], cy[N_MODES];
    for (int k = 0; k < N_MODES; k++) {
        double a = (double)k * (3.14159265358979323846 / 4.0);
        cx[k] = 2.0 * cos(a), cy[k] = 2.0 * sin(a);
    }
    for (int64_t i = 0; i < n; i++)
        for (int k = 0; k < N_MODES; k++) {
            double dx = (double)x[2 * i] - cx[k], dy = (double)x[2 * i + 1] - cy[k];
            if (dx * dx + dy * dy <= r * r) count[k]++, good++;
        }
    *modes = 0.0;
    for (int k = 0; k < N_MODES; k++)
        *modes += (double)(5 * N_MODES * count[k] >= n);
    *hq = (double)good / (double)n;
}

static otg_status gan2d_metrics(void *state, const double *z, double *out) {
    gan2d *q = state;
    gan2d_samples(q, z, q->eval_n, q->gen, NULL);
    mode_metrics(q, q->gen, q->eval_n, &out[0], &out[1]);
    int64_t shape[2] = {q->eval_n, 2}, tshape[2] = {2, q->dirs};
    otg_tensor x = otg_tensor_view(q->gen, 2, shape), y = otg_tensor_view(q->tgt, 2, shape);
    otg_tensor th = otg_tensor_view(q->theta, 2, tshape);
    otg_sw_opts opts = otg_sw_opts_default();
    otg_sw_result res;
    for (int64_t i = 0; i < 2 * q->eval_n; i++)
        if (!isfinite(q->gen[i])) return out[2] = (double)NAN, OTG_ENONFINITE;
    otg_status st = otg_sw(q->ws, &x, NULL, &y, NULL, &th, &opts, &res, NULL, NULL);
    out[2] = st == OTG_OK ? res.distance : (double)NAN;
    return st;
}

static int64_t gan2d_samples_per_call(void *state) {
    return ((const gan2d *)state)->batch;
}

static void *gan2d_create(const void *params, uint64_t seed, int64_t *nx, int64_t *ny) {
    const otg_game_gan2d_params *p = params;
    for (int i = 0; i < 3; i++)
        if (!strcmp(p->gan_loss, loss_names[i])) {
            gan2d *q = gan2d_new(p, (loss_kind)i, seed);
            if (!q) return otgi_fail(OTG_ENOMEM, "games: gan2d: out of memory"), NULL;
            *nx = mlp_count(&q->gs), *ny = mlp_count(&q->ds);
            return q;
        }
    otgi_fail(OTG_EINVAL, "games: unknown gan loss '%s' (expected standard, nonsat, wasserstein)",
              p->gan_loss);
    return NULL;
}

static void gan2d_defaults(void *params) {
    *(otg_game_gan2d_params *)params = (otg_game_gan2d_params){.hidden = 32,
                                                               .gan_loss = "standard",
                                                               .clip = 0.1,
                                                               .target_noise = 0.05,
                                                               .batch = 64,
                                                               .eval_n = 1024,
                                                               .sw_dirs = 64};
}

#define OFF(f) offsetof(otg_game_gan2d_params, f)
static const otg_param_def knobs[] = {
    {"hidden", OTG_PARAM_INT, OFF(hidden), 0, "H", "hidden width of both MLPs (2 hidden layers)", 1,
     1024, 1},
    {"gan-loss", OTG_PARAM_STR, OTG_PARAM_STR_FIELD(otg_game_gan2d_params, gan_loss), "NAME",
     "standard (zero-sum), nonsat (non-saturating generator) or wasserstein (clipped critic)", 0, 0,
     1},
    {"clip", OTG_PARAM_REAL, OFF(clip), 0, "C",
     "wasserstein: clip the discriminator's parameters to [-C, C] after each step", 1e-12, 1e6, 1},
    {"target-noise", OTG_PARAM_REAL, OFF(target_noise), 0, "S",
     "sd of each of the 8 modes on the circle of radius 2", 1e-6, 10, 1},
    {"batch", OTG_PARAM_INT, OFF(batch), 0, "B", "latent and target samples per oracle call", 1,
     1e8, 1},
    {"eval-n", OTG_PARAM_INT, OFF(eval_n), 0, "N",
     "size of the fixed evaluation sets (loss, G, metrics)", 2, 1e7, 1},
    {"sw-dirs", OTG_PARAM_INT, OFF(sw_dirs), 0, "L", "fixed directions of the sw metric", 1, 1e5,
     1},
};
#undef OFF

static const otg_game_metric metric_info[] = {
    {"modes", "modes covered (of 8)", 0},
    {"hq", NULL, 0},
    {"sw", NULL, 0},
};

static const otg_game_type gan2d_type = {
    .name = "gan2d",
    .summary = "MLP generator against MLP discriminator on 8 Gaussians in the plane",
    .params = knobs,
    .n_params = (int)(sizeof knobs / sizeof knobs[0]),
    .params_size = sizeof(otg_game_gan2d_params),
    .defaults = gan2d_defaults,
    .create = gan2d_create,
    .destroy = gan2d_destroy,
    .loss = gan2d_loss,
    .field = gan2d_field,
    .oracle = gan2d_oracle,
    .initial_point = gan2d_initial_point,
    .n_metrics = 3,
    .metric_info = metric_info,
    .metrics = gan2d_metrics,
    .project = gan2d_project,
    .samples_per_call = gan2d_samples_per_call,
    .samples = gan2d_samples,
    .max_rows = 500,
};

const otg_game_type *const otg_game_gan2d = &gan2d_type;
