/* Activations by name, initialisers (He, Xavier, PyTorch's fan-in uniform) from an explicit RNG
 * stream, the dense layer, and the MLP builder. */
#include "internal.h"
#include "otgen/nn.h"

#include <math.h>
#include <string.h>

static const char *const act_names[OTG_ACT_COUNT] = {
    [OTG_ACT_NONE] = "none", [OTG_ACT_RELU] = "relu",       [OTG_ACT_LEAKY_RELU] = "leaky_relu",
    [OTG_ACT_TANH] = "tanh", [OTG_ACT_SIGMOID] = "sigmoid", [OTG_ACT_SOFTPLUS] = "softplus",
    [OTG_ACT_ABS] = "abs"};

otg_status otg_activation_parse(const char *name, otg_activation *out) {
    if (!name || !out) return otgi_fail(OTG_EINVAL, "activation: NULL argument");
    for (int a = 0; a < OTG_ACT_COUNT; a++)
        if (strcmp(name, act_names[a]) == 0) {
            *out = (otg_activation)a;
            return OTG_OK;
        }
    return otgi_fail(OTG_EINVAL,
                     "unknown activation '%s' (none, relu, leaky_relu, tanh, sigmoid, "
                     "softplus, abs)",
                     name);
}

const char *otg_activation_name(otg_activation a) {
    return (int)a >= 0 && a < OTG_ACT_COUNT ? act_names[a] : "unknown";
}

otg_node *otg_nn_activate(otg_graph *g, otg_node *x, otg_activation a, float leaky_alpha) {
    switch (a) {
    case OTG_ACT_NONE:
        return x;
    case OTG_ACT_RELU:
        return otg_relu(g, x);
    case OTG_ACT_LEAKY_RELU:
        return otg_leaky_relu(g, x, leaky_alpha);
    case OTG_ACT_TANH:
        return otg_tanh(g, x);
    case OTG_ACT_SIGMOID:
        return otg_sigmoid(g, x);
    case OTG_ACT_SOFTPLUS:
        return otg_softplus(g, x);
    case OTG_ACT_ABS:
        return otg_abs(g, x);
    case OTG_ACT_COUNT:
        break;
    }
    return otgi_fail(OTG_EINVAL, "activation %d unknown", (int)a), NULL;
}

static const char *const init_names[OTG_INIT_COUNT] = {[OTG_INIT_AUTO] = "he-normal",
                                                       [OTG_INIT_HE] = "he",
                                                       [OTG_INIT_XAVIER] = "xavier",
                                                       [OTG_INIT_TORCH] = "torch"};

otg_status otg_init_parse(const char *name, otg_init *out) {
    if (!name || !out) return otgi_fail(OTG_EINVAL, "init: NULL argument");
    for (int i = 0; i < OTG_INIT_COUNT; i++)
        if (strcmp(name, init_names[i]) == 0) {
            *out = (otg_init)i;
            return OTG_OK;
        }
    return otgi_fail(OTG_EINVAL, "unknown init '%s' (torch, he-normal, he, xavier)", name);
}

const char *otg_init_name(otg_init init) {
    return (int)init >= 0 && init < OTG_INIT_COUNT ? init_names[init] : "unknown";
}

/* w[i] <- a (2 u_i - 1), u_i ~ U(0, 1) from rng: U(-a, a). */
static void fill_symmetric_uniform(float *w, int64_t count, double a, otg_rng *rng) {
    otg_rng_fill_uniform(rng, count, w);
    for (int64_t i = 0; i < count; i++)
        w[i] = (float)(a * (2.0 * (double)w[i] - 1.0));
}

otg_status otg_nn_init_fill(float *w, int64_t count, int64_t fan_in, int64_t fan_out, otg_init init,
                            otg_rng *rng) {
    if (!w || !rng) return otgi_fail(OTG_EINVAL, "init: NULL argument");
    if (count <= 0 || fan_in <= 0 || fan_out <= 0)
        return otgi_fail(OTG_EINVAL, "init: count %lld, fans %lld/%lld must be > 0",
                         (long long)count, (long long)fan_in, (long long)fan_out);
    if (init == OTG_INIT_HE) {
        otg_rng_fill_normal(rng, count, w);
        const double sd = sqrt(2.0 / (double)fan_in);
        for (int64_t i = 0; i < count; i++)
            w[i] = (float)(sd * (double)w[i]);
    } else if (init == OTG_INIT_XAVIER) {
        fill_symmetric_uniform(w, count, sqrt(6.0 / (double)(fan_in + fan_out)), rng);
    } else if (init == OTG_INIT_TORCH) {
        fill_symmetric_uniform(w, count, 1.0 / sqrt((double)fan_in), rng);
    } else {
        return otgi_fail(OTG_EINVAL,
                         "init: choose HE, XAVIER or TORCH (AUTO is resolved by the builder)");
    }
    return OTG_OK;
}

otg_status otg_nn_init_bias(float *b, int64_t count, int64_t fan_in, otg_init init, otg_rng *rng) {
    if (!b || !rng) return otgi_fail(OTG_EINVAL, "init: NULL argument");
    if (count <= 0 || fan_in <= 0)
        return otgi_fail(OTG_EINVAL, "init: bias count %lld, fan_in %lld must be > 0",
                         (long long)count, (long long)fan_in);
    if (init == OTG_INIT_TORCH)
        fill_symmetric_uniform(b, count, 1.0 / sqrt((double)fan_in), rng);
    else
        memset(b, 0, (size_t)count * sizeof *b);
    return OTG_OK;
}

/* otg_nn_dense with its initial weights times scale (1: untouched, the same bits). */
static otg_node *dense_scaled(otg_graph *g, otg_node *x, int64_t out, otg_init init, otg_rng *rng,
                              float scale) {
    if (!x) return otgi_fail(OTG_EINVAL, "dense: NULL input"), NULL;
    if (otg_node_ndim(x) != 2)
        return otgi_fail(OTG_ESHAPE, "dense: input must be [n, in], has %d dims", otg_node_ndim(x)),
               NULL;
    if (out <= 0) return otgi_fail(OTG_EINVAL, "dense: output width %lld", (long long)out), NULL;
    const int64_t in = otg_node_shape(x)[1];
    otg_node *w = otg_param(g, 2, (int64_t[]){in, out});
    otg_node *b = otg_param(g, 1, (int64_t[]){out});
    if (!w || !b) return NULL;
    if (otg_nn_init_fill(otg_node_data(w), in * out, in, out, init, rng) != OTG_OK ||
        otg_nn_init_bias(otg_node_data(b), out, in, init, rng) != OTG_OK)
        return NULL;
    if (scale != 1.0f) {
        float *wd = otg_node_data(w);
        for (int64_t i = 0; i < in * out; i++)
            wd[i] *= scale;
    }
    return otg_bias(g, otg_matmul(g, x, w), b);
}

otg_node *otg_nn_dense(otg_graph *g, otg_node *x, int64_t out, otg_init init, otg_rng *rng) {
    return dense_scaled(g, x, out, init, rng, 1.0f);
}

otg_mlp_spec otg_mlp_spec_default(void) {
    otg_mlp_spec s = {NULL, 0, OTG_ACT_RELU, OTG_ACT_NONE, 0.2f, OTG_INIT_AUTO, 0.0f};
    return s;
}

static otg_init resolve_init(otg_init init, otg_activation a) {
    if (init != OTG_INIT_AUTO) return init;
    return a == OTG_ACT_RELU || a == OTG_ACT_LEAKY_RELU || a == OTG_ACT_ABS ? OTG_INIT_HE
                                                                            : OTG_INIT_XAVIER;
}

otg_node *otg_mlp_build(otg_graph *g, otg_node *x, const otg_mlp_spec *spec, otg_rng *rng) {
    if (!g || !x || !spec || !rng) return otgi_fail(OTG_EINVAL, "mlp: NULL argument"), NULL;
    if (!spec->widths || spec->n_widths < 2)
        return otgi_fail(OTG_EINVAL, "mlp: needs at least 2 widths (input and output)"), NULL;
    if (otg_node_ndim(x) != 2 || otg_node_shape(x)[1] != spec->widths[0])
        return otgi_fail(OTG_ESHAPE, "mlp: input must be [n, %lld]", (long long)spec->widths[0]),
               NULL;
    if (!(spec->output_shrink >= 0.0f && spec->output_shrink <= 1.0f))
        return otgi_fail(OTG_EINVAL, "mlp: output_shrink %g must be in [0, 1]",
                         (double)spec->output_shrink),
               NULL;
    otg_node *h = x;
    for (int l = 1; l < spec->n_widths && h; l++) {
        int last = l == spec->n_widths - 1;
        otg_activation a = last ? spec->output : spec->activation;
        /* the init follows the activation that reads this layer's output */
        h = dense_scaled(g, h, spec->widths[l], resolve_init(spec->init, a), rng,
                         last ? 1.0f - spec->output_shrink : 1.0f);
        h = h ? otg_nn_activate(g, h, a, spec->leaky_alpha) : NULL;
    }
    return h;
}
