/* particles problem sigmoid2: two-layer sigmoid network (partially 1-homogeneous)
 * Phi(u)(x) = w sigma(theta.[x,1]), V = lambda |w| (subgradient sign(w), 0 at w = 0), against a
 * teacher of m0 neurons sigma(4 theta*.[x,1]) with weights alternating +-1. Init: w = 0 and theta
 * uniform on the sphere of radius r0 (default 4) in R^{d+1}. */
#include "internal.h"
#include "particles_internal.h"

#define SIGMOID2_R0 4.0 /* the default init radius of theta */

static int64_t sigmoid2_dim(const otg_particles_params *p) {
    return p->d + 2;
}

static void *sigmoid2_create(const otg_particles_params *p, int64_t m) {
    return otgi_net_create(p, m, OTGI_ACT_SIGMOID, OTGI_V_ABS_W, 4.0, 1);
}

static void sigmoid2_init(void *state, int64_t m, float *u) {
    otgi_net *s = state;
    otg_rng r = otg_rng_make(s->p.seed, 4);
    otgi_sphere_rows(&r, m, s->dim, 1, s->p.r0 > 0.0 ? s->p.r0 : SIGMOID2_R0, u);
    if (s->p.init == OTG_PARTICLES_INIT_POINT) otgi_collapse_rows(m, s->dim, u);
}

const otg_particles_type otg_particles_sigmoid2 = {
    .name = "sigmoid2",
    .summary = "two-layer sigmoid network (V = lambda|w|, w = 0 init) vs a teacher",
    .default_steps = 3000,
    .default_lr = 0.5,
    .default_r0 = SIGMOID2_R0,
    .dim = sigmoid2_dim,
    .create = sigmoid2_create,
    .destroy = otgi_net_destroy,
    .init = sigmoid2_init,
    .eval = otgi_net_eval,
    .truth = otgi_net_truth,
    .minimum = otgi_net_minimum,
    .xy = otgi_net_xy,
    .xy_title = OTGI_NET_XY_TITLE,
    .truth_label = "teacher",
};
