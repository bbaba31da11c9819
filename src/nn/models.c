/* Generator models built on the tape: the MLP, a deep-equilibrium generator (an equilibrium layer
 * then dense layers), and two convolutional generators for images (dense -> [C, h/4, w/4] ->
 * upsample + 3x3 conv, twice -> sigmoid image), one with residual blocks. The MLP may blur its
 * last layer's output before the output activation (output_blur). The caller's spec says
 * which; parameters land in the graph's flat buffer. */
#include "internal.h"
#include "otgen/nn.h"

#include <string.h>

static const char *const kind_names[OTG_MODEL_COUNT] = {"mlp", "cnn", "rescnn", "deq"};

otg_status otg_model_kind_parse(const char *name, otg_model_kind *out) {
    for (int k = 0; name && k < OTG_MODEL_COUNT; k++)
        if (!strcmp(name, kind_names[k])) {
            *out = (otg_model_kind)k;
            return OTG_OK;
        }
    return otgi_fail(OTG_EINVAL, "unknown model '%s' (mlp, cnn, rescnn, deq)", name ? name : "");
}

const char *otg_model_kind_name(otg_model_kind k) {
    return (int)k >= 0 && k < OTG_MODEL_COUNT ? kind_names[k] : "unknown";
}

otg_model_spec otg_model_spec_default(otg_model_kind kind, int64_t latent, int64_t out_dim) {
    otg_model_spec s = {.kind = kind,
                        .latent = latent,
                        .out_dim = out_dim,
                        .n_hidden = 0,
                        .activation = OTG_ACT_RELU,
                        .output = OTG_ACT_NONE,
                        .leaky_alpha = 0.2f,
                        .channels = 32,
                        .init = OTG_INIT_AUTO};
    return s;
}

static otg_node *build_mlp(otg_graph *g, otg_node *z, const otg_model_spec *s, otg_rng *init) {
    int64_t widths[10];
    widths[0] = s->latent;
    for (int i = 0; i < s->n_hidden; i++)
        widths[1 + i] = s->hidden[i];
    widths[1 + s->n_hidden] = s->out_dim;
    otg_mlp_spec m = otg_mlp_spec_default();
    m.widths = widths;
    m.n_widths = s->n_hidden + 2;
    m.activation = s->activation;
    m.output = s->output;
    m.leaky_alpha = s->leaky_alpha;
    m.init = s->init;
    m.output_shrink = s->output_shrink;
    if (s->output_blur == 0.0f && !s->output_median) return otg_mlp_build(g, z, &m, init);
    /* output_blur, output_median: last layer -> [n, 1, h, w] -> blur -> median -> activation */
    if (s->img_h < 1 || s->img_w < 1 || s->img_h * s->img_w != s->out_dim)
        return otgi_fail(OTG_EINVAL, "model mlp: %s needs image data (data dim %lld)",
                         s->output_median ? "output_median" : "output_blur", (long long)s->out_dim),
               NULL;
    m.output = OTG_ACT_NONE;
    otg_node *h = otg_mlp_build(g, z, &m, init);
    const int64_t n = otg_node_shape(z)[0];
    h = h ? otg_reshape(g, h, 4, (int64_t[]){n, 1, s->img_h, s->img_w}) : NULL;
    if (s->output_blur != 0.0f) h = h ? otg_blur(g, h, s->output_blur) : NULL;
    if (s->output_median) h = h ? otg_median5(g, h) : NULL;
    h = h ? otg_reshape(g, h, 2, (int64_t[]){n, s->out_dim}) : NULL;
    return h ? otg_nn_activate(g, h, s->output, s->leaky_alpha) : NULL;
}

/* The init of a layer whose own choice is `own` (He before a relu, Xavier before the output):
 * the spec's init when it names one. */
static otg_init layer_init(const otg_model_spec *s, otg_init own) {
    return s->init == OTG_INIT_AUTO ? own : s->init;
}

/* latent -> deq(hidden[0]) -> dense + activation for hidden[1..] -> dense -> output activation. */
static otg_node *build_deq(otg_graph *g, otg_node *z, const otg_model_spec *s, otg_rng *init) {
    if (s->n_hidden < 1)
        return otgi_fail(OTG_EINVAL, "model deq: needs a hidden width (the equilibrium layer's)"),
               NULL;
    otg_node *h = otg_nn_deq(g, z, s->hidden[0], NULL, init);
    for (int i = 1; i < s->n_hidden && h; i++)
        h = otg_nn_activate(g, otg_nn_dense(g, h, s->hidden[i], layer_init(s, OTG_INIT_HE), init),
                            s->activation, s->leaky_alpha);
    h = h ? otg_nn_dense(g, h, s->out_dim, layer_init(s, OTG_INIT_XAVIER), init) : NULL;
    return h ? otg_nn_activate(g, h, s->output, s->leaky_alpha) : NULL;
}

/* A 3x3 convolution with padding 1 and a channel bias (He-initialised unless the spec names an
 * init; fan_in = cin * 9): x [n, cin, h, w]. */
static otg_node *conv3(otg_graph *g, otg_node *x, int64_t cout, const otg_model_spec *s,
                       otg_rng *init) {
    if (!x) return NULL;
    const int64_t cin = otg_node_shape(x)[1];
    const otg_init how = layer_init(s, OTG_INIT_HE);
    otg_node *w = otg_param(g, 4, (int64_t[]){cout, cin, 3, 3}),
             *b = otg_param(g, 1, (int64_t[]){cout});
    if (!w || !b ||
        otg_nn_init_fill(otg_node_data(w), cout * cin * 9, cin * 9, cout * 9, how, init) !=
            OTG_OK ||
        otg_nn_init_bias(otg_node_data(b), cout, cin * 9, how, init) != OTG_OK)
        return NULL;
    return otg_bias(g, otg_conv2d(g, x, w, 1, 1), b);
}

/* x + conv(act(conv(x))): a residual block keeping the shape. */
static otg_node *residual(otg_graph *g, otg_node *x, const otg_model_spec *s, otg_rng *init) {
    if (!x) return NULL;
    const int64_t c = otg_node_shape(x)[1];
    otg_node *h = otg_nn_activate(g, conv3(g, x, c, s, init), s->activation, s->leaky_alpha);
    return otg_add(g, x, conv3(g, h, c, s, init));
}

static otg_node *build_cnn(otg_graph *g, otg_node *z, const otg_model_spec *s, otg_rng *init,
                           int res) {
    const int64_t n = otg_node_shape(z)[0], c = s->channels, h4 = s->img_h / 4, w4 = s->img_w / 4;
    otg_node *h = otg_nn_dense(g, z, c * h4 * w4, layer_init(s, OTG_INIT_HE), init);
    h = otg_reshape(g, otg_nn_activate(g, h, s->activation, s->leaky_alpha), 4,
                    (int64_t[]){n, c, h4, w4});
    h = h ? otg_upsample(g, h, 2) : NULL;
    h = otg_nn_activate(g, conv3(g, h, c / 2 > 0 ? c / 2 : 1, s, init), s->activation,
                        s->leaky_alpha);
    if (res) h = residual(g, h, s, init);
    h = h ? otg_upsample(g, h, 2) : NULL;
    if (res) h = residual(g, h, s, init);
    h = otg_nn_activate(g, conv3(g, h, 1, s, init), s->output, s->leaky_alpha);
    return h ? otg_reshape(g, h, 2, (int64_t[]){n, s->img_h * s->img_w}) : NULL;
}

otg_node *otg_model_build(otg_graph *g, otg_node *z, const otg_model_spec *s, otg_rng *init) {
    if (!g || !z || !s || !init) return otgi_fail(OTG_EINVAL, "model: NULL argument"), NULL;
    if (otg_node_ndim(z) != 2 || otg_node_shape(z)[1] != s->latent)
        return otgi_fail(OTG_ESHAPE, "model: latent input must be [n, %lld]", (long long)s->latent),
               NULL;
    if (s->n_hidden < 0 || s->n_hidden > 8)
        return otgi_fail(OTG_EINVAL, "model: 0 to 8 hidden widths"), NULL;
    if (s->kind == OTG_MODEL_MLP) return build_mlp(g, z, s, init);
    if (s->output_shrink != 0.0f)
        return otgi_fail(OTG_EINVAL,
                         "model %s: output_shrink %g: only the mlp shrinks its last layer",
                         otg_model_kind_name(s->kind), (double)s->output_shrink),
               NULL;
    if (s->output_blur != 0.0f || s->output_median)
        return otgi_fail(OTG_EINVAL, "model %s: output_%s: only the mlp filters its output",
                         otg_model_kind_name(s->kind), s->output_median ? "median" : "blur"),
               NULL;
    if (s->kind == OTG_MODEL_DEQ) return build_deq(g, z, s, init);
    if (s->kind != OTG_MODEL_CNN && s->kind != OTG_MODEL_RESCNN)
        return otgi_fail(OTG_EINVAL, "model: unknown kind %d", (int)s->kind), NULL;
    if (s->img_h < 4 || s->img_w < 4 || s->img_h % 4 || s->img_w % 4 ||
        s->img_h * s->img_w != s->out_dim)
        return otgi_fail(OTG_EINVAL,
                         "model %s: needs image data with sides divisible by 4 (data dim %lld)",
                         otg_model_kind_name(s->kind), (long long)s->out_dim),
               NULL;
    if (s->channels < 2)
        return otgi_fail(OTG_EINVAL, "model: channels %lld < 2", (long long)s->channels), NULL;
    return build_cnn(g, z, s, init, s->kind == OTG_MODEL_RESCNN);
}
