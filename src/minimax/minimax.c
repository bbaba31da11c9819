/* Min-max methods as type objects over one flat double buffer z = (x, y): simultaneous and
 * alternating gradient descent-ascent, optimistic simGD with its own optimism rate (Ryu, Yuan &
 * Yin 2019), anchored simGD, extragradient, and the Adam-preconditioned optimistic and anchored
 * variants used in the paper's GAN experiments. Each method is a type object {name, step, optional
 * check and init}; the registry at the end enumerates them. Serial loops in index order:
 * bit-reproducible. See docs/games.md. */
#include "otgen/minimax.h"
#include "internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The type object: a method is its step (given a_k) plus optional checks and set-up. */
struct otg_minimax_type {
    const char *name, *summary;
    int oracle_calls; /* per step */
    int uses_lr;      /* lr must be > 0 */
    /* optional: checks the type's own parameters (the common ones are checked by new) */
    otg_status (*check)(const otg_minimax_params *p);
    /* optional: allocates the type's own buffers (Adam moments) */
    otg_status (*init)(otg_minimax *m);
    otg_status (*step)(otg_minimax *m, double *z, otg_minimax_oracle f, void *ctx, otg_rng *rng,
                       double a);
};

struct otg_minimax {
    const otg_minimax_type *type;
    otg_minimax_params p;
    int64_t nx, n;
    int64_t k;       /* steps since new / reset */
    int64_t k_rel;   /* anchored: steps since the anchor was set */
    double *g;       /* [n] the oracle at z_k (then the direction d_k) */
    double *prev;    /* [n] optimistic: d_{k-1} */
    double *anchor;  /* [n] anchored: z_0 */
    double *w;       /* [n] extragradient half step */
    double *m1, *m2; /* [n] Adam moments (the -adam types only) */
};

otg_minimax_params otg_minimax_params_default(void) {
    otg_minimax_params p = {.lr = 0.1,
                            .lr_exp = 0.0,
                            .optimism = 0.1,
                            .opt_exp = 0.0,
                            .p = 2.0 / 3.0,
                            .gamma = 2.0,
                            .scale = 1.0,
                            .refresh = 0,
                            .beta1 = 0.9,
                            .beta2 = 0.999,
                            .eps = 1e-8};
    return p;
}

/* The parameters every method shares: schedule exponents and the optimism rate. */
static otg_status check_common(const otg_minimax_type *t, const otg_minimax_params *p) {
    if (t->uses_lr && !(p->lr > 0.0 && isfinite(p->lr)))
        return otgi_fail(OTG_EINVAL, "minimax: lr must be > 0 (got %g)", p->lr);
    if (!(p->lr_exp >= 0.0 && p->lr_exp <= 10.0) || !(p->opt_exp >= 0.0 && p->opt_exp <= 10.0))
        return otgi_fail(OTG_EINVAL, "minimax: schedule exponents must be in [0, 10] (got %g, %g)",
                         p->lr_exp, p->opt_exp);
    if (!(p->optimism >= 0.0 && isfinite(p->optimism)))
        return otgi_fail(OTG_EINVAL, "minimax: optimism must be >= 0 (got %g)", p->optimism);
    return t->check ? t->check(p) : OTG_OK;
}

static otg_status check_anchored(const otg_minimax_params *p) {
    if (!(p->p > 0.0 && p->p < 1.0))
        return otgi_fail(OTG_EINVAL, "minimax: anchored p must be in (0, 1) (got %g)", p->p);
    if (!(p->gamma >= 0.0 && isfinite(p->gamma)))
        return otgi_fail(OTG_EINVAL, "minimax: gamma must be >= 0 (got %g)", p->gamma);
    if (!(p->scale > 0.0 && isfinite(p->scale)))
        return otgi_fail(OTG_EINVAL, "minimax: step scale must be > 0 (got %g)", p->scale);
    if (p->refresh < 0)
        return otgi_fail(OTG_EINVAL, "minimax: refresh must be >= 0 (got %lld)",
                         (long long)p->refresh);
    return OTG_OK;
}

static otg_status check_adam(const otg_minimax_params *p) {
    if (!(p->beta1 >= 0.0 && p->beta1 < 1.0 && p->beta2 >= 0.0 && p->beta2 < 1.0 && p->eps > 0.0))
        return otgi_fail(OTG_EINVAL, "minimax: adam needs beta1, beta2 in [0, 1) and eps > 0");
    return OTG_OK;
}

static otg_status check_anchored_adam(const otg_minimax_params *p) {
    otg_status st = check_anchored(p);
    return st == OTG_OK ? check_adam(p) : st;
}

static otg_status init_adam(otg_minimax *m) {
    m->m1 = otgi_calloc((size_t)m->n, sizeof(double));
    m->m2 = otgi_calloc((size_t)m->n, sizeof(double));
    return m->m1 && m->m2 ? OTG_OK : OTG_ENOMEM;
}

otg_minimax *otg_minimax_new(const otg_minimax_type *t, int64_t nx, int64_t ny,
                             const otg_minimax_params *p) {
    if (!t || !p || nx < 1 || ny < 1 || nx > (INT64_C(1) << 40) || ny > (INT64_C(1) << 40)) {
        otgi_fail(OTG_EINVAL, "minimax: need a method, parameters and nx, ny >= 1");
        return NULL;
    }
    if (check_common(t, p) != OTG_OK) return NULL;
    otg_minimax *m = otgi_calloc(1, sizeof *m);
    if (!m) return NULL;
    m->type = t, m->p = *p, m->nx = nx, m->n = nx + ny;
    size_t n = (size_t)m->n;
    m->g = otgi_calloc(n, sizeof(double));
    m->prev = otgi_calloc(n, sizeof(double));
    m->anchor = otgi_calloc(n, sizeof(double));
    m->w = otgi_calloc(n, sizeof(double));
    if (!m->g || !m->prev || !m->anchor || !m->w) goto fail;
    if (t->init && t->init(m) != OTG_OK) goto fail;
    return m;
fail:
    otg_minimax_free(m);
    return NULL;
}

void otg_minimax_free(otg_minimax *m) {
    if (!m) return;
    free(m->g), free(m->prev), free(m->anchor), free(m->w), free(m->m1), free(m->m2);
    free(m);
}

void otg_minimax_reset(otg_minimax *m) {
    if (!m) return;
    m->k = m->k_rel = 0;
    if (m->m1) memset(m->m1, 0, (size_t)m->n * sizeof(double));
    if (m->m2) memset(m->m2, 0, (size_t)m->n * sizeof(double));
}

int64_t otg_minimax_steps(const otg_minimax *m) {
    return m ? m->k : 0;
}

/* Replaces g by Adam's bias-corrected direction m_hat / (sqrt(v_hat) + eps); t = k + 1. */
static void adam_direction(otg_minimax *m, double *g) {
    const otg_minimax_params *p = &m->p;
    double t = (double)(m->k + 1);
    double c1 = 1.0 - pow(p->beta1, t), c2 = 1.0 - pow(p->beta2, t);
    for (int64_t i = 0; i < m->n; i++) {
        m->m1[i] = p->beta1 * m->m1[i] + (1.0 - p->beta1) * g[i];
        m->m2[i] = p->beta2 * m->m2[i] + (1.0 - p->beta2) * g[i] * g[i];
        g[i] = (m->m1[i] / c1) / (sqrt(m->m2[i] / c2) + p->eps);
    }
}

/* z <- z - a_k g(z) */
static otg_status step_simgd(otg_minimax *m, double *z, otg_minimax_oracle f, void *ctx,
                             otg_rng *rng, double a) {
    otg_status st = f(ctx, z, m->g, rng);
    if (st != OTG_OK) return st;
    for (int64_t i = 0; i < m->n; i++)
        z[i] -= a * m->g[i];
    return OTG_OK;
}

/* x first, then the oracle again at (x_{k+1}, y_k) for y */
static otg_status step_altgda(otg_minimax *m, double *z, otg_minimax_oracle f, void *ctx,
                              otg_rng *rng, double a) {
    otg_status st = f(ctx, z, m->g, rng);
    if (st != OTG_OK) return st;
    for (int64_t i = 0; i < m->nx; i++)
        z[i] -= a * m->g[i];
    if ((st = f(ctx, z, m->g, rng)) != OTG_OK) return st;
    for (int64_t i = m->nx; i < m->n; i++)
        z[i] -= a * m->g[i];
    return OTG_OK;
}

/* w = z - a_k g(z); z <- z - a_k g(w) */
static otg_status step_extragradient(otg_minimax *m, double *z, otg_minimax_oracle f, void *ctx,
                                     otg_rng *rng, double a) {
    otg_status st = f(ctx, z, m->g, rng);
    if (st != OTG_OK) return st;
    for (int64_t i = 0; i < m->n; i++)
        m->w[i] = z[i] - a * m->g[i];
    if ((st = f(ctx, m->w, m->g, rng)) != OTG_OK) return st;
    for (int64_t i = 0; i < m->n; i++)
        z[i] -= a * m->g[i];
    return OTG_OK;
}

/* z <- z - a_k d_k - b_k (d_k - d_{k-1}), d_{-1} = d_0 (d = g, or Adam's direction) */
static otg_status optimistic_update(otg_minimax *m, double *z, otg_minimax_oracle f, void *ctx,
                                    otg_rng *rng, double a, int adam) {
    otg_status st = f(ctx, z, m->g, rng);
    if (st != OTG_OK) return st;
    if (adam) adam_direction(m, m->g);
    if (m->k == 0) memcpy(m->prev, m->g, (size_t)m->n * sizeof(double));
    double b = m->p.optimism / pow((double)(m->k + 1), m->p.opt_exp);
    for (int64_t i = 0; i < m->n; i++) {
        z[i] -= a * m->g[i] + b * (m->g[i] - m->prev[i]);
        m->prev[i] = m->g[i];
    }
    return OTG_OK;
}

static otg_status step_optimistic(otg_minimax *m, double *z, otg_minimax_oracle f, void *ctx,
                                  otg_rng *rng, double a) {
    return optimistic_update(m, z, f, ctx, rng, a, 0);
}

static otg_status step_optimistic_adam(otg_minimax *m, double *z, otg_minimax_oracle f, void *ctx,
                                       otg_rng *rng, double a) {
    return optimistic_update(m, z, f, ctx, rng, a, 1);
}

/* z <- z - c (1-p)/(k+1)^p d_k + (1-p) gamma/(k+1) (z_0 - z), k counted from the anchor */
static otg_status anchored_update(otg_minimax *m, double *z, otg_minimax_oracle f, void *ctx,
                                  otg_rng *rng, int adam) {
    const otg_minimax_params *p = &m->p;
    if (m->k == 0 || (p->refresh > 0 && m->k_rel == p->refresh)) {
        memcpy(m->anchor, z, (size_t)m->n * sizeof(double));
        m->k_rel = 0;
    }
    otg_status st = f(ctx, z, m->g, rng);
    if (st != OTG_OK) return st;
    if (adam) adam_direction(m, m->g);
    double k1 = (double)(m->k_rel + 1);
    double step = p->scale * (1.0 - p->p) / pow(k1, p->p);
    double pull = (1.0 - p->p) * p->gamma / k1;
    for (int64_t i = 0; i < m->n; i++)
        z[i] += -step * m->g[i] + pull * (m->anchor[i] - z[i]);
    m->k_rel++;
    return OTG_OK;
}

static otg_status step_anchored(otg_minimax *m, double *z, otg_minimax_oracle f, void *ctx,
                                otg_rng *rng, double a) {
    (void)a;
    return anchored_update(m, z, f, ctx, rng, 0);
}

static otg_status step_anchored_adam(otg_minimax *m, double *z, otg_minimax_oracle f, void *ctx,
                                     otg_rng *rng, double a) {
    (void)a;
    return anchored_update(m, z, f, ctx, rng, 1);
}

otg_status otg_minimax_step(otg_minimax *m, double *z, otg_minimax_oracle oracle, void *ctx,
                            otg_rng *rng) {
    if (!m || !z || !oracle) return otgi_fail(OTG_EINVAL, "minimax: step needs m, z and an oracle");
    double a = m->p.lr / pow((double)(m->k + 1), m->p.lr_exp);
    otg_status st = m->type->step(m, z, oracle, ctx, rng, a);
    if (st != OTG_OK) return st;
    m->k++;
    for (int64_t i = 0; i < m->n; i++)
        if (!isfinite(z[i]))
            return otgi_fail(OTG_ENONFINITE, "minimax: %s: z is not finite after step %lld",
                             m->type->name, (long long)m->k);
    return OTG_OK;
}

/* ---- the type objects and their registry ------------------------------------------------- */

static const otg_minimax_type types[] = {
    {"simgd", "simultaneous gradient descent-ascent z <- z - a_k g(z)", 1, 1, NULL, NULL,
     step_simgd},
    {"altgda", "alternating GDA: x first, then y at the new x", 2, 1, NULL, NULL, step_altgda},
    {"optimistic", "optimistic simGD with its own optimism rate b_k", 1, 1, NULL, NULL,
     step_optimistic},
    {"anchored", "anchored simGD: step c(1-p)/(k+1)^p plus a pull to z_0", 1, 0, check_anchored,
     NULL, step_anchored},
    {"extragradient", "extragradient: a half step, then the step from its gradient", 2, 1, NULL,
     NULL, step_extragradient},
    {"optimistic-adam", "optimistic with Adam's preconditioned direction", 1, 1, check_adam,
     init_adam, step_optimistic_adam},
    {"anchored-adam", "anchored with Adam's preconditioned direction", 1, 0, check_anchored_adam,
     init_adam, step_anchored_adam},
};
#define N_TYPES ((int)(sizeof types / sizeof types[0]))

const otg_minimax_type *const otg_minimax_simgd = &types[0];
const otg_minimax_type *const otg_minimax_altgda = &types[1];
const otg_minimax_type *const otg_minimax_optimistic = &types[2];
const otg_minimax_type *const otg_minimax_anchored = &types[3];
const otg_minimax_type *const otg_minimax_extragradient = &types[4];
const otg_minimax_type *const otg_minimax_optimistic_adam = &types[5];
const otg_minimax_type *const otg_minimax_anchored_adam = &types[6];

int otg_minimax_type_count(void) {
    return N_TYPES;
}

const otg_minimax_type *otg_minimax_type_at(int i) {
    return i >= 0 && i < N_TYPES ? &types[i] : NULL;
}

const otg_minimax_type *otg_minimax_type_by_name(const char *name) {
    char list[256] = "";
    for (int i = 0; i < N_TYPES; i++) {
        if (name && !strcmp(name, types[i].name)) return &types[i];
        size_t len = strlen(list);
        snprintf(list + len, sizeof list - len, "%s%s", i ? ", " : "", types[i].name);
    }
    otgi_fail(OTG_EINVAL, "minimax: unknown method '%s' (expected one of %s)", name ? name : "",
              list);
    return NULL;
}

const char *otg_minimax_type_name(const otg_minimax_type *t) {
    return t ? t->name : "";
}

const char *otg_minimax_type_summary(const otg_minimax_type *t) {
    return t ? t->summary : "";
}

int otg_minimax_oracle_calls(const otg_minimax_type *t) {
    return t ? t->oracle_calls : 0;
}

int otg_minimax_type_uses_lr(const otg_minimax_type *t) {
    return t ? t->uses_lr : 0;
}

/* ---- run state, for checkpoints: k, k_rel, then every allocated vector in a fixed order ---- */

static int state_vectors(const otg_minimax *m, double *v[6]) {
    int c = 0;
    double *all[6] = {m->g, m->prev, m->anchor, m->w, m->m1, m->m2};
    for (int i = 0; i < 6; i++)
        if (all[i]) v[c++] = all[i];
    return c;
}

int64_t otg_minimax_state_size(const otg_minimax *m) {
    if (!m) return 0;
    double *v[6];
    return 2 + state_vectors(m, v) * m->n;
}

void otg_minimax_state_get(const otg_minimax *m, double *out) {
    if (!m || !out) return;
    double *v[6];
    int c = state_vectors(m, v);
    out[0] = (double)m->k, out[1] = (double)m->k_rel;
    for (int i = 0; i < c; i++)
        memcpy(out + 2 + i * m->n, v[i], (size_t)m->n * sizeof(double));
}

otg_status otg_minimax_state_set(otg_minimax *m, const double *in, int64_t n) {
    if (!m || !in) return otgi_fail(OTG_EINVAL, "minimax: state_set: NULL argument");
    if (n != otg_minimax_state_size(m))
        return otgi_fail(OTG_EINVAL, "minimax: state of %lld values, this method has %lld",
                         (long long)n, (long long)otg_minimax_state_size(m));
    if (!(in[0] >= 0 && in[0] <= 9e15 && in[0] == floor(in[0]) && in[1] >= 0 && in[1] <= 9e15 &&
          in[1] == floor(in[1])))
        return otgi_fail(OTG_EINVAL, "minimax: state_set: bad step counts");
    double *v[6];
    int c = state_vectors(m, v);
    m->k = (int64_t)in[0], m->k_rel = (int64_t)in[1];
    for (int i = 0; i < c; i++)
        memcpy(v[i], in + 2 + i * m->n, (size_t)m->n * sizeof(double));
    return OTG_OK;
}
