/* particles: the solver. Owns the problem state, the particles [m, dim], the speed buffer and the
 * batch stream (seed, 5); one step is forward Euler u_i <- u_i - lr * m grad_{u_i} F_m. */
#include "internal.h"
#include "otgen/particles.h"
#include "particles_internal.h"

#include <math.h>
#include <stdlib.h>

struct otg_particles {
    const otg_particles_type *type;
    otg_particles_params p;
    void *state;
    int64_t m, dim;
    float *u, *g; /* [m, dim] each */
    otg_rng batch;
};

otg_particles_params otg_particles_params_default(void) {
    return (otg_particles_params){.d = 2,
                                  .m0 = 3,
                                  .lambda = 0.0,
                                  .n = 0,
                                  .batch = 256,
                                  .n_eval = 4096,
                                  .inputs = OTG_PARTICLES_X_GAUSSIAN,
                                  .init = OTG_PARTICLES_INIT_SPREAD,
                                  .r0 = 0.0,
                                  .kernel_order = 7,
                                  .seed = 1};
}

void otg_particles_free(otg_particles *s) {
    if (!s) return;
    if (s->state) s->type->destroy(s->state);
    free(s->u), free(s->g), free(s);
}

otg_particles *otg_particles_new(const otg_particles_type *t, const otg_particles_params *p,
                                 int64_t m) {
    if (!t || !p) return otgi_fail(OTG_EINVAL, "particles: NULL type or params"), NULL;
    if (!t->name || !t->dim || !t->create || !t->destroy || !t->init || !t->eval)
        return otgi_fail(OTG_EINVAL,
                         "particles: type '%s' lacks a required entry (name, dim, create, destroy, "
                         "init, eval)",
                         t->name ? t->name : "?"),
               NULL;
    if (m < 1 || m > (1 << 24))
        return otgi_fail(OTG_EINVAL, "particles: m = %lld must be in 1..2^24", (long long)m), NULL;
    if (p->d < 1 || p->d > 4096)
        return otgi_fail(OTG_EINVAL, "particles: d = %lld must be in 1..4096", (long long)p->d),
               NULL;
    if (p->m0 < 1 || p->m0 > 4096)
        return otgi_fail(OTG_EINVAL, "particles: m0 = %lld must be in 1..4096", (long long)p->m0),
               NULL;
    if (!(p->lambda >= 0.0) || !isfinite(p->lambda))
        return otgi_fail(OTG_EINVAL, "particles: lambda = %g must be >= 0", p->lambda), NULL;
    if (p->batch < 1 || p->n < 0 || p->n_eval < 1)
        return otgi_fail(OTG_EINVAL, "particles: batch, n_eval must be >= 1 and n >= 0"), NULL;
    if (p->kernel_order < 1 || p->kernel_order > 10000)
        return otgi_fail(OTG_EINVAL, "particles: kernel order K = %lld must be in 1..10000",
                         (long long)p->kernel_order),
               NULL;
    otg_particles *s = otgi_calloc(1, sizeof *s);
    if (!s) return NULL;
    s->type = t, s->p = *p, s->m = m, s->dim = t->dim(p);
    s->batch = otg_rng_make(p->seed, 5);
    s->u = otgi_calloc((size_t)(m * s->dim), sizeof(float));
    s->g = otgi_calloc((size_t)(m * s->dim), sizeof(float));
    if (!s->u || !s->g || !(s->state = t->create(p, m))) {
        otg_particles_free(s);
        return NULL;
    }
    t->init(s->state, m, s->u);
    return s;
}

otg_rng *otg_particles_stream(otg_particles *s) {
    return s ? &s->batch : NULL;
}

int64_t otg_particles_count(const otg_particles *s) {
    return s->m;
}
int64_t otg_particles_dim(const otg_particles *s) {
    return s->dim;
}
float *otg_particles_data(otg_particles *s) {
    return s->u;
}
const otg_particles_type *otg_particles_get_type(const otg_particles *s) {
    return s->type;
}
double otg_particles_minimum(const otg_particles *s) {
    return s->type->minimum ? s->type->minimum(s->state) : (double)NAN;
}

const float *otg_particles_truth(const otg_particles *s, int64_t *n) {
    if (s->type->truth) return s->type->truth(s->state, n);
    *n = 0;
    return NULL;
}

otg_status otg_particles_step(otg_particles *s, double lr) {
    double F;
    otg_status st = s->type->eval(s->state, s->u, s->m, &s->batch, &F, s->g);
    if (st != OTG_OK) return st;
    int64_t n = s->m * s->dim;
    float a = (float)lr;
    int bad = 0;
#pragma omp parallel for schedule(static) reduction(| : bad) if (n >= OTGI_PAR_MIN_WORK)
    for (int64_t k = 0; k < n; k++) {
        s->u[k] -= a * s->g[k];
        bad |= !isfinite(s->u[k]);
    }
    if (bad)
        return otgi_fail(OTG_ENONFINITE, "particles: a particle is not finite (step too large?)");
    if (s->type->project) s->type->project(s->state, s->m, s->u);
    return OTG_OK;
}

otg_status otg_particles_objective(otg_particles *s, double *F) {
    return s->type->eval(s->state, s->u, s->m, NULL, F, NULL);
}

otg_status otg_particles_eval(otg_particles *s, const float *u, double *F, float *g) {
    return s->type->eval(s->state, u, s->m, NULL, F, g);
}
