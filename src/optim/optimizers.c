/* Optimisers as type objects over flat float buffers: sgd, momentum (heavy ball), adam (Kingma & Ba
 * with bias correction from the step count) and npsgd (Tanguy 2023: noised step, then projection
 * onto the ball B(0, r) of the whole vector, or of each segment when asked). Updates are computed
 * per element in double and stored as float; loops are elementwise (the threads never change a
 * bit) and the projection norm is a serial sum in index order. See docs/algorithms.md section 2. */
#include "internal.h"
#include "otgen/optim.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PAR_MIN 65536 /* elements below which the elementwise loops stay serial */

struct otg_optim_type {
    const char *name, *summary;
    int state_per_param; /* floats of checkpointed state per parameter */
    int needs_rng;       /* step draws noise: rng must not be NULL */
    /* validates o->p and allocates the type's private buffers */
    otg_status (*init)(otg_optim *o);
    /* one update; generic checks (pointers, lr, rng) are done by otg_optim_step */
    otg_status (*step)(otg_optim *o, float *u, const float *g, double lr, otg_rng *rng);
};

struct otg_optim {
    const otg_optim_type *type;
    otg_optim_params p;
    int64_t n;
    int64_t steps;  /* successful steps taken (Adam's bias correction) */
    float *state;   /* [state_per_param * n]: momentum v, or Adam m then v */
    float *noise;   /* npsgd: eps [n], reused every step */
    int n_segments; /* npsgd per-tensor projection: sizes [n_segments], summing to n */
    int64_t *segments;
};

otg_optim_params otg_optim_params_default(void) {
    otg_optim_params p = {.momentum = 0.9,
                          .beta1 = 0.9,
                          .beta2 = 0.999,
                          .eps = 1e-8,
                          .radius = 10.0,
                          .noise = 0.01,
                          .per_tensor = 0};
    return p;
}

/* u - lr d rounded once to float: the one descent expression shared by sgd, momentum and npsgd,
 * so that momentum with mu = 0 and npsgd with no noise and no active ball equal sgd bit for bit. */
static inline float descend(float u, double lr, double d) {
    return (float)((double)u - lr * d);
}

/* ---- sgd ------------------------------------------------------------------------------------ */

static otg_status init_none(otg_optim *o) {
    return OTG_OK;
}

/* u <- u - lr g */
static void sgd_loop(int64_t n, float *u, const float *g, double lr) {
#pragma omp parallel for if (n > PAR_MIN)
    for (int64_t i = 0; i < n; i++)
        u[i] = descend(u[i], lr, (double)g[i]);
}

static otg_status sgd_step(otg_optim *o, float *u, const float *g, double lr, otg_rng *rng) {
    sgd_loop(o->n, u, g, lr);
    return OTG_OK;
}

/* ---- momentum ------------------------------------------------------------------------------- */

static otg_status momentum_init(otg_optim *o) {
    double mu = o->p.momentum;
    if (!(mu >= 0.0 && mu < 1.0))
        return otgi_fail(OTG_EINVAL, "optim: momentum must be in [0, 1) (got %g)", mu);
    return OTG_OK;
}

/* v <- mu v + g; u <- u - lr v (PyTorch's convention, no dampening) */
static otg_status momentum_step(otg_optim *o, float *u, const float *g, double lr, otg_rng *rng) {
    const int64_t n = o->n;
    const double mu = o->p.momentum;
    float *v = o->state;
#pragma omp parallel for if (n > PAR_MIN)
    for (int64_t i = 0; i < n; i++) {
        v[i] = (float)(mu * (double)v[i] + (double)g[i]);
        u[i] = descend(u[i], lr, (double)v[i]);
    }
    return OTG_OK;
}

/* ---- adam ----------------------------------------------------------------------------------- */

static otg_status adam_init(otg_optim *o) {
    const otg_optim_params *p = &o->p;
    if (!(p->beta1 >= 0.0 && p->beta1 < 1.0))
        return otgi_fail(OTG_EINVAL, "optim: adam beta1 must be in [0, 1) (got %g)", p->beta1);
    if (!(p->beta2 >= 0.0 && p->beta2 < 1.0))
        return otgi_fail(OTG_EINVAL, "optim: adam beta2 must be in [0, 1) (got %g)", p->beta2);
    if (!(p->eps > 0.0 && isfinite(p->eps)))
        return otgi_fail(OTG_EINVAL, "optim: adam eps must be finite and > 0 (got %g)", p->eps);
    return OTG_OK;
}

/* m <- b1 m + (1-b1) g; v <- b2 v + (1-b2) g^2; u <- u - lr mhat / (sqrt(vhat) + eps) with
 * mhat = m / (1 - b1^t), vhat = v / (1 - b2^t), t = steps + 1: state m [n] then v [n].
 * adam_block updates n elements (vectorised: per element the same IEEE operations in double,
 * so the same bits as a scalar loop); the step runs it on blocks of BLOCK across the threads. */
typedef struct {
    double b1, b2, bc1, bc2, eps, lr;
} adam_coef;

OTGI_WIDE_SIMD static void adam_block(float *u, const float *g, float *m, float *v, int64_t n,
                                      adam_coef c) {
#pragma omp simd
    for (int64_t i = 0; i < n; i++) {
        const double gi = (double)g[i];
        m[i] = (float)(c.b1 * (double)m[i] + (1.0 - c.b1) * gi);
        v[i] = (float)(c.b2 * (double)v[i] + (1.0 - c.b2) * gi * gi);
        const double mhat = (double)m[i] / c.bc1, vhat = (double)v[i] / c.bc2;
        u[i] = descend(u[i], c.lr, mhat / (sqrt(vhat) + c.eps));
    }
}

#define BLOCK 4096 /* elements per adam_block call */

static otg_status adam_step(otg_optim *o, float *u, const float *g, double lr, otg_rng *rng) {
    const int64_t n = o->n, nb = (n + BLOCK - 1) / BLOCK;
    const double b1 = o->p.beta1, b2 = o->p.beta2, t = (double)(o->steps + 1);
    const adam_coef c = {b1, b2, 1.0 - pow(b1, t), 1.0 - pow(b2, t), o->p.eps, lr};
    float *m = o->state, *v = o->state + n;
#pragma omp parallel for if (n > PAR_MIN)
    for (int64_t b = 0; b < nb; b++) {
        const int64_t i = b * BLOCK, len = n - i < BLOCK ? n - i : BLOCK;
        adam_block(u + i, g + i, m + i, v + i, len, c);
    }
    return OTG_OK;
}

/* ---- npsgd ---------------------------------------------------------------------------------- */

static otg_status npsgd_init(otg_optim *o) {
    const otg_optim_params *p = &o->p;
    if (!(p->radius > 0.0 && isfinite(p->radius)))
        return otgi_fail(OTG_EINVAL, "optim: npsgd radius must be finite and > 0 (got %g)",
                         p->radius);
    if (!(p->noise >= 0.0 && isfinite(p->noise)))
        return otgi_fail(OTG_EINVAL, "optim: npsgd noise must be finite and >= 0 (got %g)",
                         p->noise);
    o->noise = otgi_calloc((size_t)o->n, sizeof *o->noise);
    return o->noise ? OTG_OK : OTG_ENOMEM;
}

/* Projects x [n] onto the ball B(0, r): x <- x r / |x| when |x| > r. The norm is a serial double
 * sum in index order, so the result never depends on the thread count. */
static void project_ball(float *x, int64_t n, double r) {
    double s = 0.0;
    for (int64_t i = 0; i < n; i++)
        s += (double)x[i] * (double)x[i];
    const double norm = sqrt(s);
    if (!(norm > r)) return;
    const double scale = r / norm;
    for (int64_t i = 0; i < n; i++)
        x[i] = (float)((double)x[i] * scale);
}

/* u <- u - lr g + lr a eps, eps [n] ~ N(0, I) from rng; with a = 0 no draw is made and the step
 * is exactly sgd's. */
static void noised_descent(otg_optim *o, float *u, const float *g, double lr, otg_rng *rng) {
    const int64_t n = o->n;
    const double a = o->p.noise;
    if (a == 0.0) {
        sgd_loop(n, u, g, lr);
        return;
    }
    float *eps = o->noise;
    otg_rng_fill_normal(rng, n, eps);
#pragma omp parallel for if (n > PAR_MIN)
    for (int64_t i = 0; i < n; i++)
        u[i] = descend(u[i], lr, (double)g[i] - a * (double)eps[i]);
}

static otg_status npsgd_step(otg_optim *o, float *u, const float *g, double lr, otg_rng *rng) {
    if (o->p.per_tensor && !o->segments)
        return otgi_fail(OTG_EINVAL, "optim: npsgd per_tensor needs segments "
                                     "(otg_optim_set_segments)");
    noised_descent(o, u, g, lr, rng);
    if (!o->p.per_tensor) {
        project_ball(u, o->n, o->p.radius);
        return OTG_OK;
    }
    int64_t off = 0;
    for (int s = 0; s < o->n_segments; s++) {
        project_ball(u + off, o->segments[s], o->p.radius);
        off += o->segments[s];
    }
    return OTG_OK;
}

/* ---- the type objects ----------------------------------------------------------------------- */

static const otg_optim_type sgd_type = {"sgd", "u <- u - lr g", 0, 0, init_none, sgd_step};
static const otg_optim_type momentum_type = {
    "momentum", "heavy ball v <- mu v + g, u <- u - lr v", 1, 0, momentum_init, momentum_step};
static const otg_optim_type adam_type = {"adam",   "Adam with bias correction", 2, 0, adam_init,
                                         adam_step};
static const otg_optim_type npsgd_type = {
    "npsgd", "noised projected SGD onto the ball B(0, r)", 0, 1, npsgd_init, npsgd_step};

const otg_optim_type *const otg_optim_sgd = &sgd_type;
const otg_optim_type *const otg_optim_momentum = &momentum_type;
const otg_optim_type *const otg_optim_adam = &adam_type;
const otg_optim_type *const otg_optim_npsgd = &npsgd_type;

static const otg_optim_type *const all_types[] = {&sgd_type, &momentum_type, &adam_type,
                                                  &npsgd_type};

#define N_TYPES ((int)(sizeof all_types / sizeof all_types[0]))

int otg_optim_type_count(void) {
    return N_TYPES;
}

const otg_optim_type *otg_optim_type_at(int i) {
    return i >= 0 && i < N_TYPES ? all_types[i] : NULL;
}

const otg_optim_type *otg_optim_type_by_name(const char *name) {
    char list[128] = "";
    for (int i = 0; i < N_TYPES; i++) {
        if (name && !strcmp(name, all_types[i]->name)) return all_types[i];
        size_t len = strlen(list);
        snprintf(list + len, sizeof list - len, "%s%s", i ? ", " : "", all_types[i]->name);
    }
    otgi_fail(OTG_EINVAL, "optim: unknown optimiser '%s' (%s)", name ? name : "(null)", list);
    return NULL;
}

const char *otg_optim_type_summary(const otg_optim_type *t) {
    return t ? t->summary : "";
}

const char *otg_optim_type_name(const otg_optim_type *t) {
    return t ? t->name : "(null)";
}

/* ---- the optimiser -------------------------------------------------------------------------- */

otg_optim *otg_optim_new(const otg_optim_type *t, int64_t n, const otg_optim_params *p) {
    if (!t) {
        otgi_fail(OTG_EINVAL, "optim: type is NULL");
        return NULL;
    }
    if (n < 1) {
        otgi_fail(OTG_EINVAL, "optim: %s needs n >= 1 parameters (got %lld)", t->name,
                  (long long)n);
        return NULL;
    }
    otg_optim *o = otgi_calloc(1, sizeof *o);
    if (!o) return NULL;
    o->type = t;
    o->n = n;
    o->p = p ? *p : otg_optim_params_default();
    if (t->init(o) != OTG_OK) goto fail;
    int64_t size;
    if (otgi_mul_i64(n, t->state_per_param, &size) || (uint64_t)size > SIZE_MAX / sizeof(float)) {
        otgi_fail(OTG_ENOMEM, "optim: state of %lld parameters overflows", (long long)n);
        goto fail;
    }
    if (size > 0 && !(o->state = otgi_calloc((size_t)size, sizeof *o->state))) goto fail;
    return o;
fail:
    otg_optim_free(o);
    return NULL;
}

void otg_optim_free(otg_optim *o) {
    if (!o) return;
    free(o->state);
    free(o->noise);
    free(o->segments);
    free(o);
}

otg_status otg_optim_set_segments(otg_optim *o, int n_segments, const int64_t *sizes) {
    if (!o || !sizes || n_segments < 1)
        return otgi_fail(OTG_EINVAL,
                         "optim: segments need an optimiser, sizes and n_segments >= 1");
    int64_t sum = 0;
    for (int s = 0; s < n_segments; s++) {
        if (sizes[s] < 1 || sizes[s] > o->n - sum)
            return otgi_fail(OTG_EINVAL,
                             "optim: segment %d has size %lld (sizes must be >= 1 "
                             "and sum to n = %lld)",
                             s, (long long)sizes[s], (long long)o->n);
        sum += sizes[s];
    }
    if (sum != o->n)
        return otgi_fail(OTG_EINVAL, "optim: segment sizes sum to %lld, not n = %lld",
                         (long long)sum, (long long)o->n);
    int64_t *copy = otgi_calloc((size_t)n_segments, sizeof *copy);
    if (!copy) return OTG_ENOMEM;
    memcpy(copy, sizes, (size_t)n_segments * sizeof *copy);
    free(o->segments);
    o->segments = copy;
    o->n_segments = n_segments;
    return OTG_OK;
}

otg_status otg_optim_step(otg_optim *o, float *u, const float *g, double lr, otg_rng *rng) {
    if (!o || !u || !g) return otgi_fail(OTG_EINVAL, "optim: step needs an optimiser, u and g");
    if (!(lr > 0.0 && isfinite(lr)))
        return otgi_fail(OTG_EINVAL, "optim: %s lr must be finite and > 0 (got %g)", o->type->name,
                         lr);
    if (o->type->needs_rng && !rng)
        return otgi_fail(OTG_EINVAL, "optim: %s needs an rng stream for its noise (rng is NULL)",
                         o->type->name);
    otg_status s = o->type->step(o, u, g, lr, rng);
    if (s == OTG_OK) o->steps++;
    return s;
}

int64_t otg_optim_state_size(const otg_optim *o) {
    return o ? o->type->state_per_param * o->n : 0;
}

float *otg_optim_state(otg_optim *o) {
    return o ? o->state : NULL;
}

int64_t otg_optim_steps(const otg_optim *o) {
    return o ? o->steps : 0;
}

void otg_optim_set_steps(otg_optim *o, int64_t steps) {
    if (o) o->steps = steps > 0 ? steps : 0;
}
