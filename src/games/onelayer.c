/* The one-layer generator game (Kontonis, Liu & Tzamos 2020): target y = phi(W* x), x ~ N(0, I_d),
 * generator phi(W x), and otgen's discriminator D(y) = <V, y y^T> + <v, y>, linear in the first
 * and second moments, with L = E D(y*) - E D(phi(W x)) - lambda/2 (|V|^2 + |v|^2). The paper's
 * exact discriminator could not be retrieved; this one makes the inner max explicit
 * (V = (M* - M(W)) / lambda) so min_W is moment matching. docs/games.md. */
#include "games_internal.h"
#include "internal.h"
#include "otgen/ot.h"

#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

typedef enum { ACT_RELU, ACT_LEAKY_RELU, ACT_TANH } act_kind;
static const char *const act_names[] = {"relu", "leaky_relu", "tanh"};

typedef struct {
    int64_t d, batch, eval_n, dirs;
    act_kind act;
    double alpha, lambda;
    double *wstar;      /* W* [d, d] */
    double *cstar;      /* W* W*^T [d, d] */
    double *wsinv;      /* W*^-1 [d, d] (W* has condition number cond: invertible) */
    double cstar_norm;  /* |W* W*^T|_F */
    double *ex;         /* generator inputs of the evaluation set [eval_n, d] */
    float *ey;          /* target samples of the evaluation set [eval_n, d] */
    double *emt, *emt1; /* their moments: mean y y^T [d, d], mean y [d] */
    float *theta;       /* fixed SW directions [d, dirs] */
    /* scratch of every call (a game is not shared between threads) */
    double *mt, *mt1, *mg, *mg1, *vs, *x, *u, *yh, *s, *r; /* [d, d] or [d] */
    float *gen;                                            /* phi(W ex) [eval_n, d] */
    otg_sw_workspace *ws;
} onelayer;

static double phi(onelayer *o, double u) {
    switch (o->act) {
    case ACT_LEAKY_RELU:
        return u > 0.0 ? u : o->alpha * u;
    case ACT_TANH:
        return tanh(u);
    default:
        return u > 0.0 ? u : 0.0;
    }
}

/* phi' with the selections relu'(0) = 0, leaky_relu'(0) = alpha */
static double dphi(onelayer *o, double u) {
    switch (o->act) {
    case ACT_LEAKY_RELU:
        return u > 0.0 ? 1.0 : o->alpha;
    case ACT_TANH: {
        double t = tanh(u);
        return 1.0 - t * t;
    }
    default:
        return u > 0.0 ? 1.0 : 0.0;
    }
}

/* y [d] = phi(W x), u [d] = W x (u may be NULL) */
static void forward(onelayer *o, const double *w, const double *x, double *u, double *y) {
    int64_t d = o->d;
    for (int64_t i = 0; i < d; i++) {
        double a = 0.0;
        for (int64_t j = 0; j < d; j++)
            a += w[i * d + j] * x[j];
        if (u) u[i] = a;
        y[i] = phi(o, a);
    }
}

/* m [d, d] += y y^T, m1 [d] += y */
static void add_moments(int64_t d, const double *y, double *m, double *m1) {
    for (int64_t i = 0; i < d; i++) {
        m1[i] += y[i];
        for (int64_t j = 0; j < d; j++)
            m[i * d + j] += y[i] * y[j];
    }
}

static void onelayer_destroy(void *state);

/* The buffers of o (d, eval_n and dirs set). OTG_ENOMEM or OTG_OK. */
static otg_status onelayer_alloc(onelayer *o) {
    int64_t d = o->d, n = o->eval_n;
    size_t dd = (size_t)(d * d), du = (size_t)d;
    o->wstar = otgi_calloc(dd, sizeof(double)), o->cstar = otgi_calloc(dd, sizeof(double));
    o->wsinv = otgi_calloc(dd, sizeof(double));
    o->ex = otgi_calloc((size_t)n * du, sizeof(double));
    o->ey = otgi_calloc((size_t)n * du, sizeof(float));
    o->gen = otgi_calloc((size_t)n * du, sizeof(float));
    o->theta = otgi_calloc(du * (size_t)o->dirs, sizeof(float));
    o->emt = otgi_calloc(dd, sizeof(double)), o->emt1 = otgi_calloc(du, sizeof(double));
    o->mt = otgi_calloc(dd, sizeof(double)), o->mt1 = otgi_calloc(du, sizeof(double));
    o->mg = otgi_calloc(dd, sizeof(double)), o->mg1 = otgi_calloc(du, sizeof(double));
    o->vs = otgi_calloc(dd, sizeof(double));
    o->x = otgi_calloc(du, sizeof(double)), o->u = otgi_calloc(du, sizeof(double));
    o->yh = otgi_calloc(du, sizeof(double)), o->s = otgi_calloc(du, sizeof(double));
    o->r = otgi_calloc(du, sizeof(double));
    o->ws = otg_sw_workspace_new();
    if (!o->wstar || !o->cstar || !o->wsinv || !o->ex || !o->ey || !o->gen || !o->theta ||
        !o->emt || !o->emt1 || !o->mt || !o->mt1 || !o->mg || !o->mg1 || !o->vs || !o->x || !o->u ||
        !o->yh || !o->s || !o->r || !o->ws)
        return OTG_ENOMEM;
    return OTG_OK;
}

/* inv [d, d] = a^-1 by Gauss-Jordan elimination with partial pivoting; a [d, d] is destroyed.
 * 0 when a is singular to working precision. */
static int invert(int64_t d, double *a, double *inv) {
    for (int64_t i = 0; i < d * d; i++)
        inv[i] = i % (d + 1) == 0 ? 1.0 : 0.0;
    for (int64_t c = 0; c < d; c++) {
        int64_t piv = c;
        for (int64_t r = c + 1; r < d; r++)
            if (fabs(a[r * d + c]) > fabs(a[piv * d + c])) piv = r;
        if (!(fabs(a[piv * d + c]) > 1e-300)) return 0;
        for (int64_t j = 0; j < d; j++) {
            double t = a[c * d + j];
            a[c * d + j] = a[piv * d + j], a[piv * d + j] = t;
            t = inv[c * d + j], inv[c * d + j] = inv[piv * d + j], inv[piv * d + j] = t;
        }
        double f = 1.0 / a[c * d + c];
        for (int64_t j = 0; j < d; j++)
            a[c * d + j] *= f, inv[c * d + j] *= f;
        for (int64_t r = 0; r < d; r++) {
            double g = a[r * d + c];
            if (r == c || g == 0.0) continue;
            for (int64_t j = 0; j < d; j++)
                a[r * d + j] -= g * a[c * d + j], inv[r * d + j] -= g * inv[c * d + j];
        }
    }
    return 1;
}

/* W* from stream (seed, 0), the evaluation sets from (seed, 3), the SW directions from (seed, 4).
 * NULL on ENOMEM. */
static onelayer *onelayer_new(const otg_game_onelayer_params *p, act_kind act, uint64_t seed) {
    onelayer *o = otgi_calloc(1, sizeof *o);
    if (!o) return NULL;
    int64_t d = p->dim, n = p->eval_n;
    size_t dd = (size_t)(d * d), du = (size_t)d;
    o->d = d, o->batch = p->batch, o->eval_n = n, o->dirs = p->sw_dirs;
    o->act = act, o->alpha = p->leaky_alpha, o->lambda = p->lambda;
    if (onelayer_alloc(o) != OTG_OK) goto fail;
    /* W* = U diag(s) V^T, s_l = cond^(-l/(d-1)), from stream (seed, 0) */
    otg_rng r = otg_rng_make(seed, 0);
    if (otgi_game_random_conditioned(d, p->cond, &r, o->wstar) != OTG_OK) goto fail;
    double nrm = 0.0;
    for (int64_t i = 0; i < d; i++)
        for (int64_t j = 0; j < d; j++) {
            double a = 0.0;
            for (int64_t l = 0; l < d; l++)
                a += o->wstar[i * d + l] * o->wstar[j * d + l];
            o->cstar[i * d + j] = a, nrm += a * a;
        }
    o->cstar_norm = sqrt(nrm);
    memcpy(o->mg, o->wstar, dd * sizeof(double)); /* scratch copy: invert destroys its input */
    if (!invert(d, o->mg, o->wsinv)) goto fail;
    /* evaluation sets from stream (seed, 3): n generator inputs, then n target samples */
    r = otg_rng_make(seed, 3);
    for (int64_t i = 0; i < n * d; i++)
        o->ex[i] = otg_rng_normal(&r);
    for (int64_t k = 0; k < n; k++) {
        for (int64_t j = 0; j < d; j++)
            o->x[j] = otg_rng_normal(&r);
        forward(o, o->wstar, o->x, NULL, o->yh);
        add_moments(d, o->yh, o->emt, o->emt1);
        for (int64_t j = 0; j < d; j++)
            o->ey[k * d + j] = (float)o->yh[j];
    }
    for (size_t i = 0; i < dd; i++)
        o->emt[i] /= (double)n;
    for (size_t i = 0; i < du; i++)
        o->emt1[i] /= (double)n;
    r = otg_rng_make(seed, 4);
    if (otg_sw_directions(&r, OTG_DIR_GAUSSIAN, d, o->dirs, o->theta) != OTG_OK) goto fail;
    return o;
fail:
    onelayer_destroy(o);
    otgi_fail(OTG_ENOMEM, "games: onelayer: out of memory");
    return NULL;
}

static void onelayer_destroy(void *state) {
    onelayer *o = state;
    if (!o) return;
    free(o->wstar), free(o->cstar), free(o->wsinv), free(o->ex), free(o->ey), free(o->gen),
        free(o->theta);
    free(o->emt), free(o->emt1), free(o->mt), free(o->mt1), free(o->mg), free(o->mg1);
    free(o->vs), free(o->x), free(o->u), free(o->yh), free(o->s), free(o->r);
    otg_sw_workspace_free(o->ws);
    free(o);
}

/* One generator sample x [d]: mg += yh yh^T, mg1 += yh, gw [d, d] += ((V + V^T) yh + v) .
 * phi'(W x) x^T, the gradient of D(phi(W x)) in W (vs = V + V^T precomputed). */
static void generator_sample(onelayer *o, const double *w, const double *v, const double *x,
                             double *gw) {
    int64_t d = o->d;
    forward(o, w, x, o->u, o->yh);
    add_moments(d, o->yh, o->mg, o->mg1);
    for (int64_t i = 0; i < d; i++) {
        double a = v[i];
        for (int64_t j = 0; j < d; j++)
            a += o->vs[i * d + j] * o->yh[j];
        a *= dphi(o, o->u[i]);
        for (int64_t j = 0; j < d; j++)
            gw[i * d + j] += a * x[j];
    }
}

/* Zeroes the generator accumulators and out's W block; vs = V + V^T. */
static void begin(onelayer *o, const double *z, double *out) {
    int64_t d = o->d;
    const double *vm = z + d * d;
    memset(o->mg, 0, (size_t)(d * d) * sizeof(double));
    memset(o->mg1, 0, (size_t)d * sizeof(double));
    memset(out, 0, (size_t)(d * d) * sizeof(double));
    for (int64_t i = 0; i < d; i++)
        for (int64_t j = 0; j < d; j++)
            o->vs[i * d + j] = vm[i * d + j] + vm[j * d + i];
}

/* G = (-(1/n) sum grad_W D, Mg - Mt + lambda V, mg - mt + lambda v) from the sums over n
 * generator samples (out's W block, o->mg, o->mg1) and the target moments mt, mt1. */
static void finish(onelayer *o, const double *z, double n, const double *mt, const double *mt1,
                   double *out) {
    int64_t d = o->d, dd = d * d;
    const double *vm = z + dd, *v = z + 2 * dd;
    for (int64_t i = 0; i < dd; i++)
        out[i] = -out[i] / n;
    for (int64_t i = 0; i < dd; i++)
        out[dd + i] = o->mg[i] / n - mt[i] + o->lambda * vm[i];
    for (int64_t i = 0; i < d; i++)
        out[2 * dd + i] = o->mg1[i] / n - mt1[i] + o->lambda * v[i];
}

static void onelayer_field(void *state, const double *z, double *out) {
    onelayer *o = state;
    int64_t d = o->d;
    begin(o, z, out);
    for (int64_t k = 0; k < o->eval_n; k++)
        generator_sample(o, z, z + 2 * d * d, o->ex + k * d, out);
    finish(o, z, (double)o->eval_n, o->emt, o->emt1, out);
}

static otg_status onelayer_oracle(void *state, const double *z, double *out, otg_rng *rng) {
    onelayer *o = state;
    int64_t d = o->d, b = o->batch;
    memset(o->mt, 0, (size_t)(d * d) * sizeof(double));
    memset(o->mt1, 0, (size_t)d * sizeof(double));
    for (int64_t k = 0; k < b; k++) { /* target samples phi(W* x') */
        for (int64_t j = 0; j < d; j++)
            o->x[j] = otg_rng_normal(rng);
        forward(o, o->wstar, o->x, NULL, o->yh);
        add_moments(d, o->yh, o->mt, o->mt1);
    }
    for (int64_t i = 0; i < d * d; i++)
        o->mt[i] /= (double)b;
    for (int64_t i = 0; i < d; i++)
        o->mt1[i] /= (double)b;
    begin(o, z, out);
    for (int64_t k = 0; k < b; k++) { /* generator samples phi(W x) */
        for (int64_t j = 0; j < d; j++)
            o->x[j] = otg_rng_normal(rng);
        generator_sample(o, z, z + 2 * d * d, o->x, out);
    }
    finish(o, z, (double)b, o->mt, o->mt1, out);
    return OTG_OK;
}

static double onelayer_loss(void *state, const double *z) {
    onelayer *o = state;
    int64_t d = o->d, dd = d * d;
    const double *vm = z + dd, *v = z + 2 * dd;
    memset(o->mg, 0, (size_t)dd * sizeof(double));
    memset(o->mg1, 0, (size_t)d * sizeof(double));
    for (int64_t k = 0; k < o->eval_n; k++) {
        forward(o, z, o->ex + k * d, NULL, o->yh);
        add_moments(d, o->yh, o->mg, o->mg1);
    }
    double n = (double)o->eval_n, l = 0.0, pen = 0.0;
    for (int64_t i = 0; i < dd; i++)
        l += vm[i] * (o->emt[i] - o->mg[i] / n), pen += vm[i] * vm[i];
    for (int64_t i = 0; i < d; i++)
        l += v[i] * (o->emt1[i] - o->mg1[i] / n), pen += v[i] * v[i];
    return l - 0.5 * o->lambda * pen;
}

static void onelayer_initial_point(void *state, double scale, otg_rng *rng, double *z) {
    const onelayer *o = state;
    int64_t d = o->d;
    for (int64_t i = 0; i < d * d; i++)
        z[i] = scale * otg_rng_normal(rng) / sqrt((double)d);
    memset(z + d * d, 0, (size_t)(d * d + d) * sizeof(double));
}

/* |A A^T - I|_F with A = W*^-1 W: the distance of the covariances W W^T and Sigma* = W* W*^T in
 * Sigma*'s geometry, |Sigma*^-1/2 W W^T Sigma*^-1/2 - I|_F (A A^T is orthogonally similar to
 * it). TV(N(0, W W^T), N(0, Sigma*)) lies within constant factors of min(1, this) (Devroye,
 * Mehrabian & Reddad 2018), and TV(phi(W x), phi(W* x)) <= TV(W x, W* x): the paper's TV error,
 * bounded above up to a constant. Uses o->mt as scratch. */
static double whitened_dist(onelayer *o, const double *w) {
    int64_t d = o->d;
    double *a = o->mt; /* A [d, d] */
    for (int64_t i = 0; i < d; i++)
        for (int64_t j = 0; j < d; j++) {
            double s = 0.0;
            for (int64_t l = 0; l < d; l++)
                s += o->wsinv[i * d + l] * w[l * d + j];
            a[i * d + j] = s;
        }
    double num = 0.0;
    for (int64_t i = 0; i < d; i++)
        for (int64_t j = 0; j < d; j++) {
            double s = i == j ? -1.0 : 0.0;
            for (int64_t l = 0; l < d; l++)
                s += a[i * d + l] * a[j * d + l];
            num += s * s;
        }
    return sqrt(num);
}

static otg_status onelayer_metrics(void *state, const double *z, double *out) {
    onelayer *o = state;
    int64_t d = o->d;
    double num = 0.0;
    for (int64_t i = 0; i < d; i++)
        for (int64_t j = 0; j < d; j++) {
            double a = 0.0;
            for (int64_t l = 0; l < d; l++)
                a += z[i * d + l] * z[j * d + l];
            num += (a - o->cstar[i * d + j]) * (a - o->cstar[i * d + j]);
        }
    out[0] = sqrt(num) / o->cstar_norm;
    out[2] = whitened_dist(o, z);
    for (int64_t k = 0; k < o->eval_n; k++) {
        forward(o, z, o->ex + k * d, NULL, o->yh);
        for (int64_t j = 0; j < d; j++)
            o->gen[k * d + j] = (float)o->yh[j];
    }
    int64_t shape[2] = {o->eval_n, d}, tshape[2] = {d, o->dirs};
    otg_tensor x = otg_tensor_view(o->gen, 2, shape), y = otg_tensor_view(o->ey, 2, shape);
    otg_tensor th = otg_tensor_view(o->theta, 2, tshape);
    otg_sw_opts opts = otg_sw_opts_default();
    otg_sw_result res;
    otg_status st = otg_sw(o->ws, &x, NULL, &y, NULL, &th, &opts, &res, NULL, NULL);
    out[1] = st == OTG_OK ? res.distance : (double)NAN;
    return st;
}

static int64_t onelayer_samples_per_call(void *state) {
    return ((const onelayer *)state)->batch;
}

static void *onelayer_create(const void *params, uint64_t seed, int64_t *nx, int64_t *ny) {
    const otg_game_onelayer_params *p = params;
    for (int i = 0; i < 3; i++)
        if (!strcmp(p->act, act_names[i])) {
            onelayer *o = onelayer_new(p, (act_kind)i, seed);
            if (o) *nx = p->dim * p->dim, *ny = *nx + p->dim;
            return o;
        }
    otgi_fail(OTG_EINVAL, "games: unknown activation '%s' (expected relu, leaky_relu, tanh)",
              p->act);
    return NULL;
}

static void onelayer_defaults(void *params) {
    otg_game_onelayer_params *p = params;
    *p = (otg_game_onelayer_params){.dim = 1,
                                    .cond = 10.0,
                                    .act = "relu",
                                    .leaky_alpha = 0.2,
                                    .lambda = 1.0,
                                    .batch = 64,
                                    .eval_n = 1024,
                                    .sw_dirs = 64};
}

#define OFF(f) offsetof(otg_game_onelayer_params, f)
static const otg_param_def knobs[] = {
    {"dim", OTG_PARAM_INT, OFF(dim), 0, "D", "d: W, V are d x d, v has d entries", 1, 64, 1},
    {"cond", OTG_PARAM_REAL, OFF(cond), 0, "K", "condition number of W*", 1, 1e12, 1},
    {"act", OTG_PARAM_STR, OTG_PARAM_STR_FIELD(otg_game_onelayer_params, act), "NAME",
     "phi = relu, leaky_relu (slope --leaky-alpha) or tanh", 0, 0, 1},
    {"leaky-alpha", OTG_PARAM_REAL, OFF(leaky_alpha), 0, "A",
     "slope of leaky_relu for negative inputs", 0, 0.999999, 1},
    {"lambda", OTG_PARAM_REAL, OFF(lambda), 0, "L",
     "L2 penalty (L/2)(|V|^2 + |v|^2) on the discriminator", 1e-12, 1e6, 1},
    {"batch", OTG_PARAM_INT, OFF(batch), 0, "B", "target (and generator) samples per oracle call",
     1, 1e8, 1},
    {"eval-n", OTG_PARAM_INT, OFF(eval_n), 0, "N",
     "size of the fixed evaluation sets (loss, G, metrics)", 2, 1e7, 1},
    {"sw-dirs", OTG_PARAM_INT, OFF(sw_dirs), 0, "L", "fixed directions of the sw metric", 1, 1e5,
     1},
};
#undef OFF

static const otg_game_metric metric_info[] = {
    {"cov_err", "|WW^T - W*W*^T|_F / |W*W*^T|_F", 1},
    {"sw", NULL, 0},
    {"tv_dist", "|S*^-1/2 WW^T S*^-1/2 - I|_F", 1},
};

static const otg_game_type onelayer_type = {
    .name = "onelayer",
    .summary = "one-layer generator phi(W x) against a moment-matching discriminator",
    .params = knobs,
    .n_params = (int)(sizeof knobs / sizeof knobs[0]),
    .params_size = sizeof(otg_game_onelayer_params),
    .defaults = onelayer_defaults,
    .create = onelayer_create,
    .destroy = onelayer_destroy,
    .loss = onelayer_loss,
    .field = onelayer_field,
    .oracle = onelayer_oracle,
    .initial_point = onelayer_initial_point,
    .n_metrics = 3,
    .metric_info = metric_info,
    .metrics = onelayer_metrics,
    .samples_per_call = onelayer_samples_per_call,
};

const otg_game_type *const otg_game_onelayer = &onelayer_type;
