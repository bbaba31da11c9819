/* The deterministic test games of Ryu, Yuan & Yin (2019) as game types: the Dirac GAN L = xy,
 * the strictly convex-concave quadratic, a random bilinear game of chosen condition number and a
 * nonsmooth convex-concave game with |.| terms (subgradient sign(0) = 0). Each has a known saddle
 * and uses the dispatcher's defaults for the oracle (field + noise) and the initial point. */
#include "games_internal.h"
#include "internal.h"

#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    otg_game_classic_params p;
    int64_t d;     /* nx = ny = d */
    double *a;     /* bilinear: A [d, d] row-major */
    double *b, *c; /* bilinear: [d] each */
    double *zstar; /* [2 d] */
} classic;

#define OFF(f) offsetof(otg_game_classic_params, f)
static const otg_param_def dim1_knobs[] = {
    {"dim", OTG_PARAM_INT, OFF(dim), 0, "D", "size of x and of y (dirac: 1)", 1, 1, 1},
};
#define DIM_KNOB                                                                                   \
    { "dim", OTG_PARAM_INT, OFF(dim), 0, "D", "size of x and of y", 1, 4096, 1 }
static const otg_param_def quadratic_knobs[] = {
    DIM_KNOB,
    {"rho", OTG_PARAM_REAL, OFF(rho), 0, "R", "L = rho/2 |x|^2 + <x,y>", 0, 1e6, 1},
};
static const otg_param_def bilinear_knobs[] = {
    DIM_KNOB,
    {"cond", OTG_PARAM_REAL, OFF(cond), 0, "K", "condition number of A", 1, 1e12, 1},
};
static const otg_param_def nonsmooth_knobs[] = {DIM_KNOB};
#undef DIM_KNOB
#undef OFF

static void classic_defaults(void *params) {
    *(otg_game_classic_params *)params =
        (otg_game_classic_params){.dim = 1, .rho = 0.4, .cond = 10.0};
}

static void classic_destroy(void *state) {
    classic *c = state;
    if (!c) return;
    free(c->a), free(c->b), free(c->c), free(c->zstar);
    free(c);
}

/* The common state: knobs, dimensions and a zero saddle. */
static classic *classic_new(const void *params, int64_t *nx, int64_t *ny) {
    classic *c = otgi_calloc(1, sizeof *c);
    if (!c) return NULL;
    c->p = *(const otg_game_classic_params *)params, c->d = c->p.dim;
    if (!(c->zstar = otgi_calloc((size_t)(2 * c->d), sizeof(double)))) {
        classic_destroy(c);
        return NULL;
    }
    *nx = *ny = c->d;
    return c;
}

static void *classic_create(const void *params, uint64_t seed, int64_t *nx, int64_t *ny) {
    (void)seed;
    return classic_new(params, nx, ny);
}

/* A = U diag(s) V^T (otgi_game_random_conditioned); z* ~ N(0, I); b = -A y*, c = -A^T x*, all
 * from stream (seed, 0). */
static otg_status bilinear_init(classic *g, uint64_t seed) {
    int64_t d = g->d;
    otg_rng r = otg_rng_make(seed, 0);
    if (otgi_game_random_conditioned(d, g->p.cond, &r, g->a) != OTG_OK) return OTG_ENOMEM;
    for (int64_t i = 0; i < 2 * d; i++)
        g->zstar[i] = otg_rng_normal(&r);
    const double *xs = g->zstar, *ys = g->zstar + d;
    for (int64_t i = 0; i < d; i++) {
        double sb = 0.0, sc = 0.0;
        for (int64_t j = 0; j < d; j++)
            sb += g->a[i * d + j] * ys[j], sc += g->a[j * d + i] * xs[j];
        g->b[i] = -sb, g->c[i] = -sc;
    }
    return OTG_OK;
}

static void *bilinear_create(const void *params, uint64_t seed, int64_t *nx, int64_t *ny) {
    classic *c = classic_new(params, nx, ny);
    if (!c) return NULL;
    size_t d = (size_t)c->d;
    c->a = otgi_calloc(d * d, sizeof(double));
    c->b = otgi_calloc(d, sizeof(double));
    c->c = otgi_calloc(d, sizeof(double));
    if (!c->a || !c->b || !c->c || bilinear_init(c, seed) != OTG_OK) {
        classic_destroy(c);
        otgi_fail(OTG_ENOMEM, "games: bilinear: out of memory");
        return NULL;
    }
    return c;
}

static int classic_saddle(void *state, double *zstar) {
    const classic *c = state;
    memcpy(zstar, c->zstar, (size_t)(2 * c->d) * sizeof(double));
    return 1;
}

/* sign with the selection sign(0) = 0 */
static double sgn0(double v) {
    return (v > 0.0) - (v < 0.0);
}

static double dirac_loss(void *state, const double *z) {
    (void)state;
    return 0.0 + z[0] * z[1];
}

static void dirac_field(void *state, const double *z, double *out) {
    (void)state;
    out[0] = z[1], out[1] = -z[0];
}

static double quadratic_loss(void *state, const double *z) {
    const classic *c = state;
    const double *x = z, *y = z + c->d;
    double l = 0.0;
    for (int64_t i = 0; i < c->d; i++)
        l += 0.5 * c->p.rho * x[i] * x[i] + x[i] * y[i];
    return l;
}

static void quadratic_field(void *state, const double *z, double *out) {
    const classic *c = state;
    const double *x = z, *y = z + c->d;
    for (int64_t i = 0; i < c->d; i++)
        out[i] = c->p.rho * x[i] + y[i], out[c->d + i] = -x[i];
}

static double nonsmooth_loss(void *state, const double *z) {
    const classic *c = state;
    const double *x = z, *y = z + c->d;
    double l = 0.0;
    for (int64_t i = 0; i < c->d; i++)
        l += fabs(x[i]) + x[i] * y[i] - fabs(y[i]);
    return l;
}

static void nonsmooth_field(void *state, const double *z, double *out) {
    const classic *c = state;
    const double *x = z, *y = z + c->d;
    for (int64_t i = 0; i < c->d; i++)
        out[i] = sgn0(x[i]) + y[i], out[c->d + i] = sgn0(y[i]) - x[i];
}

static double bilinear_loss(void *state, const double *z) {
    const classic *c = state;
    int64_t d = c->d;
    const double *x = z, *y = z + d;
    double l = 0.0;
    for (int64_t i = 0; i < d; i++) {
        for (int64_t j = 0; j < d; j++)
            l += x[i] * c->a[i * d + j] * y[j];
        l += c->b[i] * x[i] + c->c[i] * y[i];
    }
    return l;
}

/* (A y + b, -(A^T x + c)) */
static void bilinear_field(void *state, const double *z, double *out) {
    const classic *c = state;
    int64_t d = c->d;
    const double *x = z, *y = z + d;
    for (int64_t i = 0; i < d; i++) {
        double ay = c->b[i], atx = c->c[i];
        for (int64_t j = 0; j < d; j++)
            ay += c->a[i * d + j] * y[j], atx += c->a[j * d + i] * x[j];
        out[i] = ay, out[d + i] = -atx;
    }
}

#define CLASSIC(knobs)                                                                             \
    knobs, (int)(sizeof knobs / sizeof knobs[0]), sizeof(otg_game_classic_params), classic_defaults
static const otg_game_type dirac_type = {.name = "dirac",
                                         .summary = "the Dirac GAN L = x y (1 + 1, saddle 0)",
                                         .params = CLASSIC(dim1_knobs),
                                         .create = classic_create,
                                         .destroy = classic_destroy,
                                         .loss = dirac_loss,
                                         .field = dirac_field,
                                         .saddle = classic_saddle};
static const otg_game_type quadratic_type = {.name = "quadratic",
                                             .summary =
                                                 "L = rho/2 |x|^2 + <x, y> (dim + dim, saddle 0)",
                                             .params = CLASSIC(quadratic_knobs),
                                             .create = classic_create,
                                             .destroy = classic_destroy,
                                             .loss = quadratic_loss,
                                             .field = quadratic_field,
                                             .saddle = classic_saddle};
static const otg_game_type bilinear_type = {
    .name = "bilinear",
    .summary = "L = x^T A y + b^T x + c^T y, A of condition number cond",
    .params = CLASSIC(bilinear_knobs),
    .create = bilinear_create,
    .destroy = classic_destroy,
    .loss = bilinear_loss,
    .field = bilinear_field,
    .saddle = classic_saddle};
static const otg_game_type nonsmooth_type = {.name = "nonsmooth",
                                             .summary =
                                                 "L = sum |x_i| + <x, y> - sum |y_i| (sign(0) = 0)",
                                             .params = CLASSIC(nonsmooth_knobs),
                                             .create = classic_create,
                                             .destroy = classic_destroy,
                                             .loss = nonsmooth_loss,
                                             .field = nonsmooth_field,
                                             .saddle = classic_saddle,
                                             .field_jumps = 1};
#undef CLASSIC

const otg_game_type *const otg_game_dirac = &dirac_type;
const otg_game_type *const otg_game_quadratic = &quadratic_type;
const otg_game_type *const otg_game_bilinear = &bilinear_type;
const otg_game_type *const otg_game_nonsmooth = &nonsmooth_type;
