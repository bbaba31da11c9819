/* The deterministic and noisy test games of Ryu, Yuan & Yin (2019): the Dirac GAN L = xy, the
 * strictly convex-concave quadratic, a random bilinear game of chosen condition number and a
 * nonsmooth convex-concave game with |.| terms (subgradient sign(0) = 0); the oracle adds Gaussian
 * noise from the caller's stream. Dispatches the one-layer generator game to onelayer.c and the
 * 2-D GAN to gan2d.c. See
 * docs/algorithms.md section 5. */
#include "internal.h"
#include "gan2d.h"
#include "onelayer.h"
#include "otgen/games.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

typedef enum { G_DIRAC, G_QUADRATIC, G_BILINEAR, G_NONSMOOTH, G_ONELAYER, G_GAN2D } game_kind;

struct otg_game_type {
    const char *name;
    game_kind kind;
};

struct otg_game {
    const otg_game_type *type;
    otg_game_params p;
    int64_t d;      /* nx = ny = d */
    double *a;      /* bilinear: A [d, d] row-major */
    double *b, *c;  /* bilinear: [d] each */
    double *zstar;  /* [2 d] */
    int64_t nx, ny; /* d + d; onelayer: d^2 + (d^2 + d) */
    otgi_onelayer *ol;
    otgi_gan2d *gan;
};

static const otg_game_type types[] = {
    {"dirac", G_DIRAC},
    {"quadratic", G_QUADRATIC},
    {"bilinear", G_BILINEAR},
    {"nonsmooth", G_NONSMOOTH},
    {"onelayer", G_ONELAYER},
    {"gan2d", G_GAN2D},
};
#define N_TYPES ((int)(sizeof types / sizeof types[0]))

const otg_game_type *const otg_game_dirac = &types[0];
const otg_game_type *const otg_game_quadratic = &types[1];
const otg_game_type *const otg_game_bilinear = &types[2];
const otg_game_type *const otg_game_nonsmooth = &types[3];
const otg_game_type *const otg_game_onelayer = &types[4];
const otg_game_type *const otg_game_gan2d = &types[5];

const char *otg_game_names(void) {
    return "dirac, quadratic, bilinear, nonsmooth, onelayer, gan2d";
}

static const char *const act_names[] = {"relu", "leaky_relu", "tanh"};

otg_status otg_game_act_parse(const char *name, otg_game_act *out) {
    for (int i = 0; name && i < 3; i++)
        if (!strcmp(name, act_names[i])) return *out = (otg_game_act)i, OTG_OK;
    return otgi_fail(OTG_EINVAL, "games: unknown activation '%s' (expected relu, leaky_relu, tanh)",
                     name ? name : "");
}

const char *otg_game_act_name(otg_game_act a) {
    return (int)a >= 0 && (int)a < 3 ? act_names[a] : "";
}

static const char *const gan_loss_names[] = {"standard", "nonsat", "wasserstein"};

otg_status otg_game_gan_loss_parse(const char *name, otg_game_gan_loss *out) {
    for (int i = 0; name && i < 3; i++)
        if (!strcmp(name, gan_loss_names[i])) return *out = (otg_game_gan_loss)i, OTG_OK;
    return otgi_fail(OTG_EINVAL,
                     "games: unknown gan loss '%s' (expected standard, nonsat, wasserstein)",
                     name ? name : "");
}

const char *otg_game_gan_loss_name(otg_game_gan_loss l) {
    return (int)l >= 0 && (int)l < 3 ? gan_loss_names[l] : "";
}

const otg_game_type *otg_game_type_by_name(const char *name) {
    for (int i = 0; name && i < N_TYPES; i++)
        if (!strcmp(name, types[i].name)) return &types[i];
    otgi_fail(OTG_EINVAL, "games: unknown game '%s' (expected one of %s)", name ? name : "",
              otg_game_names());
    return NULL;
}

const char *otg_game_type_name(const otg_game_type *t) {
    return t ? t->name : "";
}

otg_game_params otg_game_params_default(void) {
    otg_game_params p = {.dim = 1, .rho = 0.4, .cond = 10.0, .sigma = 0.0, .seed = 0,
                         .act = OTG_GAME_ACT_RELU, .leaky_alpha = 0.2, .lambda = 1.0,
                         .batch = 64, .eval_n = 1024, .sw_dirs = 64, .hidden = 32,
                         .gan_loss = OTG_GAME_GAN_STANDARD, .clip = 0.1, .target_noise = 0.05};
    return p;
}

/* Gram-Schmidt on a Gaussian matrix: q [d, d] with orthonormal columns (draws until full rank). */
void otgi_game_random_orthogonal(int64_t d, otg_rng *r, double *q) {
    for (int64_t j = 0; j < d; j++) {
        double norm = 0.0;
        while (norm < 1e-6) {
            for (int64_t i = 0; i < d; i++) q[i * d + j] = otg_rng_normal(r);
            for (int64_t l = 0; l < j; l++) {
                double dot = 0.0;
                for (int64_t i = 0; i < d; i++) dot += q[i * d + j] * q[i * d + l];
                for (int64_t i = 0; i < d; i++) q[i * d + j] -= dot * q[i * d + l];
            }
            norm = 0.0;
            for (int64_t i = 0; i < d; i++) norm += q[i * d + j] * q[i * d + j];
            norm = sqrt(norm);
        }
        for (int64_t i = 0; i < d; i++) q[i * d + j] /= norm;
    }
}

/* a [d, d] = U diag(s) V^T with U, V random orthogonal (drawn from r in that order) and
 * s_l = cond^(-l/(d-1)): a matrix of condition number cond and largest singular value 1. */
otg_status otgi_game_random_conditioned(int64_t d, double cond, otg_rng *r, double *a) {
    double *u = otgi_calloc((size_t)(d * d), sizeof(double));
    double *v = otgi_calloc((size_t)(d * d), sizeof(double));
    if (!u || !v) {
        free(u), free(v);
        return OTG_ENOMEM;
    }
    otgi_game_random_orthogonal(d, r, u);
    otgi_game_random_orthogonal(d, r, v);
    for (int64_t i = 0; i < d; i++)
        for (int64_t j = 0; j < d; j++) {
            double s = 0.0;
            for (int64_t l = 0; l < d; l++)
                s += u[i * d + l] * pow(cond, d > 1 ? -(double)l / (double)(d - 1) : 0.0) *
                     v[j * d + l];
            a[i * d + j] = s;
        }
    free(u), free(v);
    return OTG_OK;
}

/* A = U diag(s) V^T (otgi_game_random_conditioned); z* ~ N(0, I); b = -A y*, c = -A^T x*. */
static otg_status bilinear_init(otg_game *g) {
    int64_t d = g->d;
    otg_rng r = otg_rng_make(g->p.seed, 0);
    if (otgi_game_random_conditioned(d, g->p.cond, &r, g->a) != OTG_OK) return OTG_ENOMEM;
    for (int64_t i = 0; i < 2 * d; i++) g->zstar[i] = otg_rng_normal(&r);
    const double *xs = g->zstar, *ys = g->zstar + d;
    for (int64_t i = 0; i < d; i++) {
        double sb = 0.0, sc = 0.0;
        for (int64_t j = 0; j < d; j++) sb += g->a[i * d + j] * ys[j], sc += g->a[j * d + i] * xs[j];
        g->b[i] = -sb, g->c[i] = -sc;
    }
    return OTG_OK;
}

/* batch, eval_n and sw_dirs, shared by onelayer and gan2d */
static otg_status check_sampled(const otg_game_params *p) {
    if (p->batch < 1 || p->batch > 100000000)
        return otgi_fail(OTG_EINVAL, "games: batch must be in [1, 1e8] (got %lld)",
                         (long long)p->batch);
    if (p->eval_n < 2 || p->eval_n > 10000000)
        return otgi_fail(OTG_EINVAL, "games: eval_n must be in [2, 1e7] (got %lld)",
                         (long long)p->eval_n);
    if (p->sw_dirs < 1 || p->sw_dirs > 100000)
        return otgi_fail(OTG_EINVAL, "games: sw_dirs must be in [1, 1e5] (got %lld)",
                         (long long)p->sw_dirs);
    return OTG_OK;
}

static otg_status check_gan2d(const otg_game_params *p) {
    if (p->hidden < 1 || p->hidden > 1024)
        return otgi_fail(OTG_EINVAL, "games: gan2d: hidden must be in [1, 1024] (got %lld)",
                         (long long)p->hidden);
    if ((int)p->gan_loss < 0 || (int)p->gan_loss > 2)
        return otgi_fail(OTG_EINVAL, "games: gan2d: bad loss %d", (int)p->gan_loss);
    if (!(p->clip > 0.0 && isfinite(p->clip)))
        return otgi_fail(OTG_EINVAL, "games: gan2d: clip must be > 0 (got %g)", p->clip);
    if (!(p->target_noise > 0.0 && isfinite(p->target_noise)))
        return otgi_fail(OTG_EINVAL, "games: gan2d: target noise must be > 0 (got %g)",
                         p->target_noise);
    return check_sampled(p);
}

static otg_status check_params(const otg_game_type *t, const otg_game_params *p) {
    if (p->dim < 1 || p->dim > 4096)
        return otgi_fail(OTG_EINVAL, "games: dim must be in [1, 4096] (got %lld)",
                         (long long)p->dim);
    if (t->kind == G_DIRAC && p->dim != 1)
        return otgi_fail(OTG_EINVAL, "games: dirac is 1 + 1 dimensional (got dim %lld)",
                         (long long)p->dim);
    if (!(p->rho >= 0.0 && isfinite(p->rho)))
        return otgi_fail(OTG_EINVAL, "games: rho must be >= 0 (got %g)", p->rho);
    if (!(p->cond >= 1.0 && isfinite(p->cond)))
        return otgi_fail(OTG_EINVAL, "games: cond must be >= 1 (got %g)", p->cond);
    if (!(p->sigma >= 0.0 && isfinite(p->sigma)))
        return otgi_fail(OTG_EINVAL, "games: noise sigma must be >= 0 (got %g)", p->sigma);
    if (t->kind == G_GAN2D) return check_gan2d(p);
    if (t->kind != G_ONELAYER) return OTG_OK;
    if (p->dim > 64)
        return otgi_fail(OTG_EINVAL, "games: onelayer needs dim in [1, 64] (got %lld)",
                         (long long)p->dim);
    if ((int)p->act < 0 || (int)p->act > 2)
        return otgi_fail(OTG_EINVAL, "games: onelayer: bad activation %d", (int)p->act);
    if (!(p->leaky_alpha >= 0.0 && p->leaky_alpha < 1.0))
        return otgi_fail(OTG_EINVAL, "games: leaky_alpha must be in [0, 1) (got %g)",
                         p->leaky_alpha);
    if (!(p->lambda > 0.0 && isfinite(p->lambda)))
        return otgi_fail(OTG_EINVAL, "games: onelayer: lambda must be > 0 (got %g)", p->lambda);
    return check_sampled(p);
}

otg_game *otg_game_new(const otg_game_type *t, const otg_game_params *p) {
    if (!t || !p) {
        otgi_fail(OTG_EINVAL, "games: need a game type and parameters");
        return NULL;
    }
    if (check_params(t, p) != OTG_OK) return NULL;
    otg_game *g = otgi_calloc(1, sizeof *g);
    if (!g) return NULL;
    g->type = t, g->p = *p, g->d = p->dim, g->nx = g->ny = p->dim;
    size_t d = (size_t)g->d;
    if (t->kind == G_ONELAYER) {
        g->nx = p->dim * p->dim, g->ny = g->nx + p->dim;
        if (!(g->ol = otgi_onelayer_new(p))) goto fail;
        return g;
    }
    if (t->kind == G_GAN2D) {
        if (!(g->gan = otgi_gan2d_new(p))) goto fail;
        g->nx = otgi_gan2d_nx(g->gan), g->ny = otgi_gan2d_ny(g->gan);
        return g;
    }
    if (!(g->zstar = otgi_calloc(2 * d, sizeof(double)))) goto fail;
    if (t->kind == G_BILINEAR) {
        g->a = otgi_calloc(d * d, sizeof(double));
        g->b = otgi_calloc(d, sizeof(double));
        g->c = otgi_calloc(d, sizeof(double));
        if (!g->a || !g->b || !g->c || bilinear_init(g) != OTG_OK) goto fail;
    }
    return g;
fail:
    otg_game_free(g);
    return NULL;
}

void otg_game_free(otg_game *g) {
    if (!g) return;
    free(g->a), free(g->b), free(g->c), free(g->zstar);
    otgi_onelayer_free(g->ol);
    otgi_gan2d_free(g->gan);
    free(g);
}

const char *otg_game_name(const otg_game *g) {
    return g ? g->type->name : "";
}
int64_t otg_game_nx(const otg_game *g) {
    return g->nx;
}
int64_t otg_game_ny(const otg_game *g) {
    return g->ny;
}

int otg_game_saddle(const otg_game *g, double *zstar) {
    if (g->ol || g->gan) return 0;
    memcpy(zstar, g->zstar, (size_t)(2 * g->d) * sizeof(double));
    return 1;
}

void otg_game_initial_point(const otg_game *g, double scale, otg_rng *rng, double *z) {
    if (g->ol) {
        otgi_onelayer_initial_point(g->ol, scale, rng, z);
        return;
    }
    if (g->gan) {
        otgi_gan2d_initial_point(g->gan, scale, rng, z);
        return;
    }
    int64_t n = g->nx + g->ny;
    double s = 0.0;
    for (int64_t i = 0; i < n; i++) z[i] = otg_rng_normal(rng), s += z[i] * z[i];
    for (int64_t i = 0; i < n; i++) z[i] = g->zstar[i] + scale * z[i] / sqrt(s);
}

int otg_game_n_metrics(const otg_game *g) {
    return !g ? 0 : g->ol ? 2 : g->gan ? 3 : 0;
}

const char *otg_game_metric_name(const otg_game *g, int i) {
    static const char *const names[] = {"cov_err", "sw"}, *const gan[] = {"modes", "hq", "sw"};
    if (!(i >= 0 && i < otg_game_n_metrics(g))) return "";
    return g->gan ? gan[i] : names[i];
}

otg_status otg_game_metrics(otg_game *g, const double *z, double *out) {
    if (g->gan) return otgi_gan2d_metrics(g->gan, z, out);
    return g->ol ? otgi_onelayer_metrics(g->ol, z, out) : OTG_OK;
}

int64_t otg_game_samples_per_call(const otg_game *g) {
    return g->ol || g->gan ? g->p.batch : 0;
}

/* sign with the selection sign(0) = 0 */
static double sgn0(double v) {
    return (v > 0.0) - (v < 0.0);
}

double otg_game_loss(const otg_game *g, const double *z) {
    if (g->ol) return otgi_onelayer_loss(g->ol, z);
    if (g->gan) return otgi_gan2d_loss(g->gan, z);
    int64_t d = g->d;
    const double *x = z, *y = z + d;
    double l = 0.0;
    for (int64_t i = 0; i < d; i++) {
        switch (g->type->kind) {
        case G_QUADRATIC: l += 0.5 * g->p.rho * x[i] * x[i] + x[i] * y[i]; break;
        case G_NONSMOOTH: l += fabs(x[i]) + x[i] * y[i] - fabs(y[i]); break;
        case G_BILINEAR:
            for (int64_t j = 0; j < d; j++) l += x[i] * g->a[i * d + j] * y[j];
            l += g->b[i] * x[i] + g->c[i] * y[i];
            break;
        default: l += x[i] * y[i]; break;
        }
    }
    return l;
}

void otg_game_operator(const otg_game *g, const double *z, double *out) {
    if (g->ol) {
        otgi_onelayer_operator(g->ol, z, out);
        return;
    }
    if (g->gan) {
        otgi_gan2d_operator(g->gan, z, out);
        return;
    }
    int64_t d = g->d;
    const double *x = z, *y = z + d;
    double *gx = out, *gy = out + d; /* gy = -d_y L */
    for (int64_t i = 0; i < d; i++) {
        switch (g->type->kind) {
        case G_QUADRATIC: gx[i] = g->p.rho * x[i] + y[i], gy[i] = -x[i]; break;
        case G_NONSMOOTH: gx[i] = sgn0(x[i]) + y[i], gy[i] = sgn0(y[i]) - x[i]; break;
        case G_BILINEAR: {
            double ay = g->b[i], atx = g->c[i];
            for (int64_t j = 0; j < d; j++) ay += g->a[i * d + j] * y[j], atx += g->a[j * d + i] * x[j];
            gx[i] = ay, gy[i] = -atx;
            break;
        }
        default: gx[i] = y[i], gy[i] = -x[i]; break;
        }
    }
}

otg_status otg_game_oracle(void *game, const double *z, double *out, otg_rng *rng) {
    const otg_game *g = game;
    if (g->ol) {
        if (!rng) return otgi_fail(OTG_EINVAL, "games: onelayer: the oracle needs an rng stream");
        otgi_onelayer_oracle(g->ol, z, out, rng);
    } else if (g->gan) {
        if (!rng) return otgi_fail(OTG_EINVAL, "games: gan2d: the oracle needs an rng stream");
        otgi_gan2d_oracle(g->gan, z, out, rng);
    } else {
        otg_game_operator(g, z, out);
    }
    if (g->p.sigma == 0.0) return OTG_OK;
    if (!rng) return otgi_fail(OTG_EINVAL, "games: %s: noise sigma > 0 needs an rng stream",
                               g->type->name);
    for (int64_t i = 0; i < g->nx + g->ny; i++) out[i] += g->p.sigma * otg_rng_normal(rng);
    return OTG_OK;
}

void otg_game_project(const otg_game *g, double *z) {
    if (g->gan) otgi_gan2d_project(g->gan, z);
}

otg_status otg_game_samples(otg_game *g, const double *z, int64_t n, float *gen, float *target) {
    if (!g || !g->gan) return otgi_fail(OTG_EINVAL, "games: samples: only gan2d has a generator of "
                                                    "planar samples");
    otgi_gan2d_samples(g->gan, z, n, gen, target);
    return OTG_OK;
}
