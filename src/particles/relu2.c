/* particles problem relu2: two-layer ReLU network in the 2-homogeneous parameterisation
 * Phi(u)(x) = w relu(theta.[x,1]), V = (lambda/2)(w^2 + |theta|^2), square loss against a teacher
 * of m0 unit neurons. Init: particles uniform on the sphere of radius r0 (default 0.1).
 * Run defaults: 3000 steps, lr 0.2. */
#include "internal.h"
#include "particles_internal.h"

#define RELU2_R0 0.1 /* the default init radius */

static int64_t relu2_dim(const otg_particles_params *p) {
    return p->d + 2;
}

static void *relu2_create(const otg_particles_params *p, int64_t m) {
    return otgi_net_create(p, m, OTGI_ACT_RELU, OTGI_V_DECAY, 1.0, 0);
}

static void relu2_init(void *state, int64_t m, float *u) {
    otgi_net *s = state;
    otg_rng r = otg_rng_make(s->p.seed, 4);
    otgi_sphere_rows(&r, m, s->dim, 0, s->p.r0 > 0.0 ? s->p.r0 : RELU2_R0, u);
    if (s->p.init == OTG_PARTICLES_INIT_POINT) otgi_collapse_rows(m, s->dim, u);
}

const otg_particles_type otg_particles_relu2 = {
    .name = "relu2",
    .summary = "two-layer ReLU network (2-homogeneous, weight decay) vs a teacher",
    .default_steps = 3000,
    .default_lr = 0.2,
    .default_r0 = RELU2_R0,
    .dim = relu2_dim,
    .create = relu2_create,
    .destroy = otgi_net_destroy,
    .init = relu2_init,
    .eval = otgi_net_eval,
    .truth = otgi_net_truth,
    .minimum = otgi_net_minimum,
    .xy = otgi_net_xy,
    .xy_title = OTGI_NET_XY_TITLE,
    .truth_label = "teacher",
};
