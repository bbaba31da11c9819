/* The deep-equilibrium layer (nn.h): z* = relu(z* W + x U + b) as a fixed-point node whose T is
 * built on its own graph, with W, U, b in the model's flat parameter buffer, and the projection
 * that keeps |W|_2 <= kappa < 1 (power-iteration estimate, then a rescaling) before each solve. */
#include "implicit/implicit_hooks.h"
#include "otgen/nn.h"

#include <math.h>
#include <string.h>

typedef struct {
    float kappa;
    int power_iters;
} deq_bound;

otg_deq_spec otg_deq_spec_default(void) {
    otg_deq_spec s = {0.9f, 100, otg_fixed_point_opts_default()};
    return s;
}

/* Rescales W [w, w] (theta[0]) to |W|_2 = kappa when the estimate exceeds kappa. */
static otg_status deq_project(void *user, int n_theta, const otg_tensor *theta) {
    const deq_bound *bd = user;
    const int64_t w = theta[0].shape[0];
    float *wd = theta[0].data;
    if (otg_tensor_check_finite(&theta[0], "deq: W") != OTG_OK) return OTG_ENONFINITE;
    double s = otg_spectral_norm(wd, w, w, bd->power_iters);
    if (s > (double)bd->kappa) {
        const float c = (float)((double)bd->kappa / s);
        for (int64_t i = 0; i < w * w; i++)
            wd[i] *= c;
    }
    return OTG_OK;
}

/* T(z; W, U, b, x) = relu(z W + x U + b) on a graph of its own; th receives W, U, b, x. */
static otg_graph *deq_graph(int64_t n, int64_t in, int64_t w, otg_node **z, otg_node **out,
                            otg_node **th) {
    otg_graph *t = otg_graph_new();
    *z = otg_input(t, 2, (int64_t[]){n, w}, 1);
    th[0] = otg_input(t, 2, (int64_t[]){w, w}, 1);
    th[1] = otg_input(t, 2, (int64_t[]){in, w}, 1);
    th[2] = otg_input(t, 1, (int64_t[]){w}, 1);
    th[3] = otg_input(t, 2, (int64_t[]){n, in}, 1);
    otg_node *pre = otg_add(t, otg_matmul(t, *z, th[0]), otg_matmul(t, th[3], th[1]));
    *out = otg_relu(t, otg_bias(t, pre, th[2]));
    if (!*out) {
        otg_graph_free(t);
        return NULL;
    }
    return t;
}

/* W from N(0, 1/w) rescaled to |W|_2 = kappa / 2; U He. */
static otg_status deq_init(float *wd, float *ud, int64_t in, int64_t w, float kappa, otg_rng *rng) {
    otg_rng_fill_normal(rng, w * w, wd);
    for (int64_t i = 0; i < w * w; i++)
        wd[i] = (float)((double)wd[i] / sqrt((double)w));
    double s = otg_spectral_norm(wd, w, w, 500);
    if (!(s > 0.0)) return otgi_fail(OTG_EINVAL, "deq: W init has norm 0");
    for (int64_t i = 0; i < w * w; i++)
        wd[i] = (float)((double)wd[i] * 0.5 * (double)kappa / s);
    return otg_nn_init_fill(ud, in * w, in, w, OTG_INIT_HE, rng);
}

otg_node *otg_nn_deq(otg_graph *g, otg_node *x, int64_t width, const otg_deq_spec *spec,
                     otg_rng *rng) {
    otg_deq_spec sp = spec ? *spec : otg_deq_spec_default();
    if (!g || !x || !rng) return otgi_fail(OTG_EINVAL, "deq: NULL argument"), NULL;
    if (otg_node_ndim(x) != 2)
        return otgi_fail(OTG_ESHAPE, "deq: input must be [n, in], has %d dims", otg_node_ndim(x)),
               NULL;
    if (width <= 0 || !(sp.max_norm > 0.0f && sp.max_norm < 1.0f) || sp.power_iters < 1)
        return otgi_fail(OTG_EINVAL,
                         "deq: width %lld > 0, max_norm %g in (0, 1) and "
                         "power_iters %d >= 1 needed",
                         (long long)width, (double)sp.max_norm, sp.power_iters),
               NULL;
    const int64_t n = otg_node_shape(x)[0], in = otg_node_shape(x)[1];
    otg_node *w = otg_param(g, 2, (int64_t[]){width, width});
    otg_node *u = otg_param(g, 2, (int64_t[]){in, width});
    otg_node *b = otg_param(g, 1, (int64_t[]){width});
    if (!w || !u || !b) return NULL;
    if (deq_init(otg_node_data(w), otg_node_data(u), in, width, sp.max_norm, rng) != OTG_OK)
        return NULL;
    otg_node *tz, *tout, *tth[4];
    otg_graph *t = deq_graph(n, in, width, &tz, &tout, tth);
    deq_bound *bd = otgi_calloc(1, sizeof *bd);
    if (!t || !bd) {
        otg_graph_free(t);
        free(bd);
        return NULL;
    }
    *bd = (deq_bound){sp.max_norm, sp.power_iters};
    otg_node *z = otg_fixed_point(g, t, tz, tout, 4, tth, (otg_node *[]){w, u, b, x}, &sp.solver);
    if (!z || otgi_fixed_point_set_prepare(z, deq_project, bd, free) != OTG_OK) {
        free(bd);
        return NULL;
    }
    return z;
}
