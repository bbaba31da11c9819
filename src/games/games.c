/* The games dispatcher: the registry of built-in game types (classic.c, onelayer.c, gan2d.c),
 * the generic checks of a type's knobs against its table, and the otg_game_* calls, which forward
 * to the type's entries and fall back to one generic default where an optional entry is NULL
 * (oracle: the exact field; initial point: z* + scale u; saddle: unknown; project: identity).
 * The Gaussian noise of the oracle is added here, for every type. */
#include "otgen/games.h"
#include "internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

struct otg_game {
    const otg_game_type *type;
    void *state;
    double sigma;
    int64_t nx, ny;
};

/* addresses of the exported pointers: constant expressions, unlike their values */
static const otg_game_type *const *const builtin[] = {
    &otg_game_dirac,     &otg_game_quadratic, &otg_game_bilinear,
    &otg_game_nonsmooth, &otg_game_onelayer,  &otg_game_gan2d,
};
#define N_BUILTIN ((int)(sizeof builtin / sizeof builtin[0]))

int otg_game_type_count(void) {
    return N_BUILTIN;
}

const otg_game_type *otg_game_type_at(int i) {
    return i >= 0 && i < N_BUILTIN ? *builtin[i] : NULL;
}

const otg_game_type *otg_game_type_by_name(const char *name) {
    char list[256] = "";
    for (int i = 0; i < N_BUILTIN; i++) {
        if (name && !strcmp(name, (*builtin[i])->name)) return *builtin[i];
        size_t len = strlen(list);
        snprintf(list + len, sizeof list - len, "%s%s", i ? ", " : "", (*builtin[i])->name);
    }
    otgi_fail(OTG_EINVAL, "games: unknown game '%s' (expected one of %s)", name ? name : "", list);
    return NULL;
}

const char *otg_game_type_name(const otg_game_type *t) {
    return t && t->name ? t->name : "";
}

const char *otg_game_type_summary(const otg_game_type *t) {
    return t && t->summary ? t->summary : "";
}

otg_status otg_game_type_defaults(const otg_game_type *t, void *params) {
    if (!t || (!params && t->params_size))
        return otgi_fail(OTG_EINVAL, "games: defaults need a type and a params buffer");
    if (t->params_size) memset(params, 0, t->params_size);
    if (t->defaults) t->defaults(params);
    return OTG_OK;
}

/* INT and REAL knobs within the ranges of t's table. */
static otg_status check_knobs(const otg_game_type *t, const void *params) {
    for (int i = 0; i < t->n_params; i++) {
        const otg_param_def *d = &t->params[i];
        const char *f = (const char *)params + d->offset;
        double v;
        if (d->kind == OTG_PARAM_INT)
            v = (double)*(const int64_t *)f;
        else if (d->kind == OTG_PARAM_REAL)
            v = *(const double *)f;
        else
            continue;
        if (!(v >= d->lo && v <= d->hi))
            return otgi_fail(OTG_EINVAL, "games: %s: %s = %g outside [%g, %g]", t->name, d->name, v,
                             d->lo, d->hi);
    }
    return OTG_OK;
}

/* The type's defaults when params is NULL; otherwise params after the range checks. */
static otg_status game_create(otg_game *g, const void *params, uint64_t seed) {
    const otg_game_type *t = g->type;
    void *own = NULL;
    if (!params && t->params_size) {
        if (!(own = otgi_calloc(1, t->params_size))) return OTG_ENOMEM;
        params = own;
    }
    otg_status st = own ? otg_game_type_defaults(t, own) : OTG_OK;
    if (st == OTG_OK && params) st = check_knobs(t, params);
    if (st == OTG_OK && !(g->state = t->create(params, seed, &g->nx, &g->ny))) st = OTG_EINVAL;
    if (st == OTG_OK && (g->nx < 1 || g->ny < 1))
        st = otgi_fail(OTG_EINVAL, "games: %s: create gave nx = %lld, ny = %lld", t->name,
                       (long long)g->nx, (long long)g->ny);
    free(own);
    return st;
}

otg_game *otg_game_new(const otg_game_type *t, const void *params, uint64_t seed, double sigma) {
    if (!t || !t->create || !t->destroy || !t->loss || !t->field) {
        otgi_fail(OTG_EINVAL, "games: need a game type with create, destroy, loss and field");
        return NULL;
    }
    if (!(sigma >= 0.0 && isfinite(sigma))) {
        otgi_fail(OTG_EINVAL, "games: noise sigma must be >= 0 (got %g)", sigma);
        return NULL;
    }
    otg_game *g = otgi_calloc(1, sizeof *g);
    if (!g) return NULL;
    g->type = t, g->sigma = sigma;
    if (game_create(g, params, seed) != OTG_OK) {
        otg_game_free(g);
        return NULL;
    }
    return g;
}

void otg_game_free(otg_game *g) {
    if (!g) return;
    if (g->state) g->type->destroy(g->state);
    free(g);
}

const otg_game_type *otg_game_type_of(const otg_game *g) {
    return g ? g->type : NULL;
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

double otg_game_loss(otg_game *g, const double *z) {
    return g->type->loss(g->state, z);
}

void otg_game_operator(otg_game *g, const double *z, double *out) {
    g->type->field(g->state, z, out);
}

int otg_game_saddle(otg_game *g, double *zstar) {
    return g->type->saddle ? g->type->saddle(g->state, zstar) : 0;
}

/* z* + scale u, u uniform on the unit sphere (z* = 0 when unknown) */
static void sphere_point(otg_game *g, double scale, otg_rng *rng, double *z) {
    int64_t n = g->nx + g->ny;
    double s = 0.0;
    for (int64_t i = 0; i < n; i++)
        z[i] = otg_rng_normal(rng), s += z[i] * z[i];
    double *zs = otgi_calloc((size_t)n, sizeof(double));
    int known = zs && otg_game_saddle(g, zs);
    for (int64_t i = 0; i < n; i++)
        z[i] = (known ? zs[i] : 0.0) + scale * z[i] / sqrt(s);
    free(zs);
}

void otg_game_initial_point(otg_game *g, double scale, otg_rng *rng, double *z) {
    if (g->type->initial_point)
        g->type->initial_point(g->state, scale, rng, z);
    else
        sphere_point(g, scale, rng, z);
}

int otg_game_n_metrics(const otg_game *g) {
    return g && g->type->metrics ? g->type->n_metrics : 0;
}

const char *otg_game_metric_name(const otg_game *g, int i) {
    if (!(i >= 0 && i < otg_game_n_metrics(g))) return "";
    return g->type->metric_info[i].name;
}

otg_status otg_game_metrics(otg_game *g, const double *z, double *out) {
    return otg_game_n_metrics(g) ? g->type->metrics(g->state, z, out) : OTG_OK;
}

int64_t otg_game_samples_per_call(otg_game *g) {
    return g->type->samples_per_call ? g->type->samples_per_call(g->state) : 0;
}

otg_status otg_game_oracle(void *game, const double *z, double *out, otg_rng *rng) {
    otg_game *g = game;
    if (g->type->oracle) {
        if (!rng)
            return otgi_fail(OTG_EINVAL, "games: %s: the oracle needs an rng stream",
                             g->type->name);
        otg_status st = g->type->oracle(g->state, z, out, rng);
        if (st != OTG_OK) return st;
    } else {
        g->type->field(g->state, z, out);
    }
    if (g->sigma == 0.0) return OTG_OK;
    if (!rng)
        return otgi_fail(OTG_EINVAL, "games: %s: noise sigma > 0 needs an rng stream",
                         g->type->name);
    for (int64_t i = 0; i < g->nx + g->ny; i++)
        out[i] += g->sigma * otg_rng_normal(rng);
    return OTG_OK;
}

void otg_game_project(otg_game *g, double *z) {
    if (g->type->project) g->type->project(g->state, z);
}

int otg_game_has_samples(const otg_game *g) {
    return g && g->type->samples;
}

otg_status otg_game_samples(otg_game *g, const double *z, int64_t n, float *gen, float *target) {
    if (!otg_game_has_samples(g))
        return otgi_fail(OTG_EINVAL, "games: samples: %s has no generator of planar samples",
                         otg_game_name(g));
    return g->type->samples(g->state, z, n, gen, target);
}
