/* otgen nn: layers as graph builders (dense, activations), initialisers drawing from an explicit
 * RNG stream, and the MLP builder. Parameters live in the graph's flat parameter buffer
 * (otg_graph_params), so an optimiser is a loop over one array. */
#ifndef OTGEN_NN_H
#define OTGEN_NN_H

#include "otgen/ad.h"
#include "otgen/core.h"
#include "otgen/implicit.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
    OTG_ACT_NONE,
    OTG_ACT_RELU,
    OTG_ACT_LEAKY_RELU, /* slope 0.2 below 0 unless the spec says otherwise */
    OTG_ACT_TANH,
    OTG_ACT_SIGMOID,
    OTG_ACT_SOFTPLUS,
    OTG_ACT_ABS,
    OTG_ACT_COUNT
} otg_activation;

/* Parses "none", "relu", "leaky_relu", "tanh", "sigmoid", "softplus", "abs". OTG_EINVAL else. */
OTG_NODISCARD otg_status otg_activation_parse(const char *name, otg_activation *out);
const char *otg_activation_name(otg_activation a);
/* Applies activation a to x (returns x itself for OTG_ACT_NONE). leaky_alpha for leaky_relu. */
otg_node *otg_nn_activate(otg_graph *g, otg_node *x, otg_activation a, float leaky_alpha);

typedef enum {
    OTG_INIT_AUTO,   /* He for the relu family, Xavier otherwise; biases zero ("he-normal") */
    OTG_INIT_HE,     /* N(0, 2 / fan_in); biases zero */
    OTG_INIT_XAVIER, /* U(-a, a), a = sqrt(6 / (fan_in + fan_out)); biases zero */
    OTG_INIT_TORCH,  /* U(-a, a), a = 1 / sqrt(fan_in), weights and biases: PyTorch's nn.Linear
                      * and nn.Conv2d default (kaiming_uniform with a = sqrt 5) ("torch") */
    OTG_INIT_COUNT
} otg_init;

/* Parses "he-normal" (OTG_INIT_AUTO), "he", "xavier", "torch". OTG_EINVAL naming them else. */
OTG_NODISCARD otg_status otg_init_parse(const char *name, otg_init *out);
/* The name otg_init_parse reads ("unknown" for a value out of range). */
const char *otg_init_name(otg_init init);

/* Fills w[count] with init's law for the given fans, from stream rng (init must not be AUTO). */
OTG_NODISCARD otg_status otg_nn_init_fill(float *w, int64_t count, int64_t fan_in, int64_t fan_out,
                                          otg_init init, otg_rng *rng);
/* Fills a layer's biases b[count]: U(-1/sqrt(fan_in), 1/sqrt(fan_in)) from rng for
 * OTG_INIT_TORCH, zero (no draw) for the others. OTG_EINVAL on NULL or non-positive sizes. */
OTG_NODISCARD otg_status otg_nn_init_bias(float *b, int64_t count, int64_t fan_in, otg_init init,
                                          otg_rng *rng);

/* A dense layer x [n, in] -> x W + b [n, out]: W [in, out] initialised from rng (init must not be
 * AUTO here), then b [out] by otg_nn_init_bias (zero unless init is TORCH). NULL on a bad shape or
 * NULL input. */
otg_node *otg_nn_dense(otg_graph *g, otg_node *x, int64_t out, otg_init init, otg_rng *rng);

/* A multilayer perceptron widths[0] -> widths[1] -> ... -> widths[n_widths - 1]. */
typedef struct {
    const int64_t *widths;     /* [n_widths], widths[0] = input dimension */
    int n_widths;              /* >= 2 */
    otg_activation activation; /* after every hidden layer [relu] */
    otg_activation output;     /* after the last layer [none] */
    float leaky_alpha;         /* [0.2] */
    otg_init init;             /* [auto] */
    float output_shrink;       /* the last layer's initial weights (not its biases) times
                                * 1 - output_shrink, in [0, 1]: 0 leaves them, 1 zeroes them [0] */
} otg_mlp_spec;

/* The defaults in brackets above (widths must still be set). */
otg_mlp_spec otg_mlp_spec_default(void);
/* Builds the MLP on x [n, widths[0]] and returns its output [n, widths[last]]; parameters are
 * appended to g's flat buffer and initialised from rng. NULL with the reason on a bad spec. */
otg_node *otg_mlp_build(otg_graph *g, otg_node *x, const otg_mlp_spec *spec, otg_rng *rng);

/* ---- the deep-equilibrium layer (docs/implicit.md) ------------------------------------------- */

/* Settings of otg_nn_deq; defaults in brackets (otg_deq_spec_default). */
typedef struct {
    float max_norm;              /* kappa in (0, 1): W is kept at |W|_2 <= kappa [0.9] */
    int power_iters;             /* power iterations estimating |W|_2 [100] */
    otg_fixed_point_opts solver; /* forward and adjoint solves [otg_fixed_point_opts_default] */
} otg_deq_spec;

otg_deq_spec otg_deq_spec_default(void);

/* A deep-equilibrium layer x [n, in] -> z* [n, width], z* = relu(z* W + x U + b), solved by the
 * fixed-point iteration and differentiated implicitly (otg_fixed_point). W [width, width],
 * U [in, width], b [width] are appended to g's flat parameter buffer in that order: W from
 * N(0, 1/width) rescaled to |W|_2 = kappa / 2, U He-initialised from rng, b zero.
 * |W|_2 < 1 makes z -> relu(z W + c) a contraction (relu is 1-Lipschitz), so the forward
 * converges and I - A is invertible. It is enforced by a projection before every forward solve:
 * when the power-iteration estimate e of |W|_2 exceeds kappa, W <- (kappa / e) W in the flat
 * buffer (a rescaling, not the exact spectral-norm projection; the optimiser's iterate is changed
 * in place, as a projected method would). At exact zeros of the preactivation backprop uses g's
 * relu'(0) (otg_graph_set_relu_prime). Errors at run time as otg_fixed_point's (OTG_ENOCONV,
 * OTG_ENONFINITE, also for a non-finite W). NULL (reason in otg_last_error) on a bad shape or
 * spec. */
otg_node *otg_nn_deq(otg_graph *g, otg_node *x, int64_t width, const otg_deq_spec *spec,
                     otg_rng *rng);

/* ---- generator models ------------------------------------------------------------------------ */

typedef enum {
    OTG_MODEL_MLP,    /* latent -> hidden... -> out_dim */
    OTG_MODEL_CNN,    /* dense -> [C, h/4, w/4] -> (upsample x2, conv 3x3) twice -> image */
    OTG_MODEL_RESCNN, /* the CNN with a residual block (x + conv(relu(conv(x)))) after each stage */
    OTG_MODEL_DEQ,    /* latent -> deep-equilibrium layer (width hidden[0], otg_nn_deq) -> dense
                       * layers for hidden[1..] -> out_dim */
    OTG_MODEL_COUNT
} otg_model_kind;

typedef struct {
    otg_model_kind kind;
    int64_t latent;    /* input dimension */
    int64_t out_dim;   /* data dimension (img_h * img_w for the CNNs) */
    int64_t hidden[8]; /* mlp hidden widths */
    int n_hidden;
    otg_activation activation; /* hidden activation */
    otg_activation output;     /* output activation (sigmoid for images, none for 2-D) */
    float leaky_alpha;
    int64_t img_h, img_w; /* cnn, rescnn: image size, divisible by 4 */
    int64_t channels;     /* cnn, rescnn: channels after the dense layer */
    otg_init init; /* weights and biases of the dense and conv layers: AUTO (He before the relu
                    * family, Xavier before others, zero biases), TORCH, HE or XAVIER. The deq
                    * layer keeps its own init (otg_nn_deq); the layers after it follow this. */
    float output_shrink; /* mlp: as otg_mlp_spec's [0]; the other kinds refuse any other value
                          * (OTG_EINVAL) */
    float output_blur;   /* mlp on images (img_h * img_w = out_dim): sigma > 0 puts otg_blur
                          * (a fixed 3 x 3 Gaussian, no parameters) between the last layer and
                          * the output activation, so that no pixel can switch on alone; 0 = none
                          * [0]; the other kinds refuse any other value (OTG_EINVAL) */
    int output_median;   /* mlp on images: 1 puts otg_median5 (each pixel the median of itself and
                          * its four neighbours) after output_blur and before the output
                          * activation, so that no pixel stands out alone; 0 = none [0]; the
                          * other kinds refuse 1 (OTG_EINVAL) */
} otg_model_spec;

/* A spec with the required fields set and the rest defaulted: no hidden layer, relu hidden
 * activation, no output activation, leaky_alpha 0.2, no image size, 32 channels, init AUTO
 * (`otgen train` sets its --init, default torch). */
otg_model_spec otg_model_spec_default(otg_model_kind kind, int64_t latent, int64_t out_dim);
OTG_NODISCARD otg_status otg_model_kind_parse(const char *name, otg_model_kind *out);
const char *otg_model_kind_name(otg_model_kind k);
/* Builds the generator on z [n, latent]; output [n, out_dim]. Parameters initialised from init.
 * NULL with the reason on a bad spec. */
otg_node *otg_model_build(otg_graph *g, otg_node *z, const otg_model_spec *s, otg_rng *init);

#ifdef __cplusplus
}
#endif
#endif
