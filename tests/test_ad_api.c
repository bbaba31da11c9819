/* ad and nn public API: bad input gives an error status or NULL with a message (never a crash),
 * forward values of matmul/conv/conv-transpose/upsample against naive loops, the flat parameter
 * and gradient buffers, gradient accumulation and zero-grad, and bit-identical results for 1, 2
 * and 3 threads. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h> /* after the three headers it needs */

#include "otgen/ad.h"
#include "otgen/nn.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define SHAPE(...)                                                                                 \
    (int)(sizeof((int64_t[]){__VA_ARGS__}) / sizeof(int64_t)), (int64_t[]) {                       \
        __VA_ARGS__                                                                                \
    }
#define HAS(msg) assert_true(strstr(otg_last_error(), msg) != NULL)

static void test_bad_input_is_reported(void **state) {
    otg_graph *g = otg_graph_new();
    otg_node *a = otg_input(g, SHAPE(3, 4), 1), *b = otg_input(g, SHAPE(5, 2), 1);
    assert_null(otg_matmul(g, a, b));
    HAS("matmul: [3, 4] @ [5, 2]");
    assert_null(otg_add(g, a, b));
    HAS("add: shapes differ");
    assert_null(otg_relu(g, NULL));
    HAS("relu: input 0 is NULL");
    assert_null(otg_tanh(NULL, a));
    assert_null(otg_input(g, SHAPE(3, 0), 0));
    HAS("dimension 1 is 0");
    assert_null(otg_input(g, 0, (int64_t[]){1}, 0));
    assert_null(otg_reshape(g, a, SHAPE(5, 2)));
    HAS("reshape: 12 elements into a shape of 10");
    assert_null(otg_concat(g, 2, (otg_node *[]){a, b}, 0));
    HAS("concat");
    assert_null(otg_concat(g, 1, (otg_node *[]){a}, 3));
    assert_null(otg_bias(g, a, b));
    otg_node *img = otg_input(g, SHAPE(1, 2, 3, 3), 1), *k5 = otg_param(g, SHAPE(1, 2, 5, 5));
    assert_null(otg_conv2d(g, img, k5, 1, 0));
    HAS("larger than the padded");
    assert_null(otg_conv2d(g, img, otg_param(g, SHAPE(1, 3, 2, 2)), 1, 0));
    HAS("expects 3 input channels");
    assert_null(otg_conv2d(g, img, k5, 0, 1));
    HAS("stride");
    assert_null(otg_conv_transpose2d(g, img, otg_param(g, SHAPE(2, 1, 1, 1)), 1, 2));
    assert_null(otg_upsample(g, a, 2));
    assert_null(otg_leaky_relu(g, a, 1.5f));
    assert_null(otg_custom(g, NULL, NULL, 1, &a, SHAPE(1)));
    assert_int_equal(otg_graph_set_relu_prime(g, 1.5f), OTG_EINVAL);
    assert_int_equal(otg_graph_set_relu_prime(g, NAN), OTG_EINVAL);
    assert_int_equal(otg_graph_set_relu_prime(NULL, 0.5f), OTG_EINVAL);
    /* backward before forward, from a vector, from a node without gradient, across graphs */
    otg_node *y = otg_sum(g, otg_relu(g, a)), *v = otg_relu(g, a);
    assert_int_equal(otg_graph_backward(g, y), OTG_EINVAL);
    HAS("forward first");
    assert_int_equal(otg_graph_forward(g), OTG_OK);
    assert_int_equal(otg_graph_backward(g, v), OTG_ESHAPE);
    otg_node *c = otg_input(g, SHAPE(2), 0);
    otg_node *cs = otg_sum(g, c);
    assert_int_equal(otg_graph_forward(g), OTG_OK);
    assert_int_equal(otg_graph_backward(g, cs), OTG_EINVAL);
    HAS("depends on no parameter");
    otg_graph *h = otg_graph_new();
    assert_null(otg_relu(h, a));
    HAS("another graph");
    assert_int_equal(otg_graph_backward(h, y), OTG_EINVAL);
    assert_int_equal(otg_graph_forward(h), OTG_EINVAL); /* empty graph */
    assert_int_equal(otg_graph_backward_seed(g, v, NULL), OTG_EINVAL);
    otg_graph_free(h);
    otg_graph_free(g);
    otg_graph_free(NULL);
    /* nn */
    assert_null(otg_mlp_build(NULL, NULL, NULL, NULL));
    g = otg_graph_new();
    otg_node *x = otg_input(g, SHAPE(4, 3), 0);
    otg_rng rng = otg_rng_make(1, 1);
    otg_mlp_spec spec = otg_mlp_spec_default();
    spec.widths = (const int64_t[]){2, 8, 1};
    spec.n_widths = 3;
    assert_null(otg_mlp_build(g, x, &spec, &rng));
    HAS("mlp: input must be [n, 2]");
    spec.n_widths = 1;
    assert_null(otg_mlp_build(g, x, &spec, &rng));
    otg_activation act;
    assert_int_equal(otg_activation_parse("gelu", &act), OTG_EINVAL);
    HAS("unknown activation 'gelu'");
    assert_int_equal(otg_activation_parse("leaky_relu", &act), OTG_OK);
    assert_int_equal(act, OTG_ACT_LEAKY_RELU);
    assert_int_equal(otg_nn_init_fill(otg_graph_params(g, NULL), 0, 1, 1, OTG_INIT_HE, &rng),
                     OTG_EINVAL);
    otg_graph_free(g);
}

/* Naive cross-correlation, PyTorch's definition: y[b,o,i,j] = sum x[b,c,i s - p + u, j s - p + v]
 * w[o,c,u,v]. */
static float conv_ref(const float *x, const float *w, int C, int H, int W, int K, int s, int p,
                      int b, int o, int i, int j) {
    double acc = 0;
    for (int c = 0; c < C; c++)
        for (int u = 0; u < K; u++)
            for (int v = 0; v < K; v++) {
                int ii = i * s - p + u, jj = j * s - p + v;
                if (ii < 0 || ii >= H || jj < 0 || jj >= W) continue;
                acc += (double)x[((b * C + c) * H + ii) * W + jj] *
                       (double)w[((o * C + c) * K + u) * K + v];
            }
    return (float)acc;
}

static void fill(otg_node *n, otg_rng *r) {
    otg_rng_fill_normal(r, otg_node_numel(n), otg_node_data(n));
}

static void test_conv_forward_against_naive(void **state) {
    const int N = 2, C = 3, H = 7, W = 6, O = 4, K = 3, s = 2, p = 1;
    otg_graph *g = otg_graph_new();
    otg_node *x = otg_input(g, SHAPE(N, C, H, W), 0), *w = otg_param(g, SHAPE(O, C, K, K));
    otg_node *y = otg_conv2d(g, x, w, s, p);
    /* transpose conv: scatter x[b,c,i,j] w[c,o,u,v] into out[b,o,i s - p + u, j s - p + v] */
    otg_node *wt = otg_param(g, SHAPE(C, O, K + 1, K + 1));
    otg_node *yt = otg_conv_transpose2d(g, x, wt, s, p);
    otg_node *up = otg_upsample(g, x, 2);
    assert_non_null(y), assert_non_null(yt), assert_non_null(up);
    assert_int_equal(otg_node_shape(y)[2], (H + 2 * p - K) / s + 1);
    assert_int_equal(otg_node_shape(yt)[2], (H - 1) * s - 2 * p + K + 1);
    assert_int_equal(otg_graph_compile(g), OTG_OK);
    otg_rng r = otg_rng_make(3, 3);
    fill(x, &r), fill(w, &r), fill(wt, &r);
    assert_int_equal(otg_graph_forward(g), OTG_OK);
    const float *xv = otg_node_data(x), *wv = otg_node_data(w), *yv = otg_node_data(y);
    const int64_t *ys = otg_node_shape(y);
    for (int b = 0; b < N; b++)
        for (int o = 0; o < O; o++)
            for (int i = 0; i < ys[2]; i++)
                for (int j = 0; j < ys[3]; j++) {
                    float ref = conv_ref(xv, wv, C, H, W, K, s, p, b, o, i, j);
                    assert_true(fabsf(ref - yv[((b * O + o) * ys[2] + i) * ys[3] + j]) < 1e-4f);
                }
    const int64_t *ts = otg_node_shape(yt);
    const int KT = K + 1;
    double *ref = calloc((size_t)otg_node_numel(yt), sizeof *ref);
    const float *wtv = otg_node_data(wt);
    for (int b = 0; b < N; b++)
        for (int c = 0; c < C; c++)
            for (int i = 0; i < H; i++)
                for (int j = 0; j < W; j++)
                    for (int o = 0; o < O; o++)
                        for (int u = 0; u < KT; u++)
                            for (int v = 0; v < KT; v++) {
                                int64_t oi = i * s - p + u, oj = j * s - p + v;
                                if (oi < 0 || oi >= ts[2] || oj < 0 || oj >= ts[3]) continue;
                                ref[((b * O + o) * ts[2] + oi) * ts[3] + oj] +=
                                    (double)xv[((b * C + c) * H + i) * W + j] *
                                    (double)wtv[((c * O + o) * KT + u) * KT + v];
                            }
    for (int64_t k = 0; k < otg_node_numel(yt); k++)
        assert_true(fabs(ref[k] - (double)otg_node_data(yt)[k]) < 1e-4);
    free(ref);
    const float *uv = otg_node_data(up);
    assert_true(uv[0] == xv[0] && uv[1] == xv[0] && uv[2 * W] == xv[0] && uv[2] == xv[1]);
    assert_true(uv[2 * W * 2] == xv[W]);
    otg_graph_free(g);
}

/* Parameters in one flat buffer; backward accumulates until zero_grad. */
static void test_flat_buffers_and_accumulation(void **state) {
    otg_graph *g = otg_graph_new();
    otg_node *x = otg_input(g, SHAPE(5, 2), 0);
    otg_rng rng = otg_rng_make(11, 0);
    otg_mlp_spec spec = otg_mlp_spec_default();
    spec.widths = (const int64_t[]){2, 8, 3};
    spec.n_widths = 3;
    otg_node *out = otg_mlp_build(g, x, &spec, &rng);
    otg_node *loss = otg_mean(g, otg_square(g, out));
    assert_non_null(loss);
    int64_t np, ng;
    float *p = otg_graph_params(g, &np);
    assert_int_equal(np, 2 * 8 + 8 + 8 * 3 + 3);
    assert_true(p[0] != 0.0f && p[2 * 8] == 0.0f); /* W1 initialised, b1 zero */
    assert_int_equal(otg_graph_compile(g), OTG_OK);
    fill(x, &rng);
    assert_int_equal(otg_graph_forward(g), OTG_OK);
    otg_graph_zero_grad(g);
    assert_int_equal(otg_graph_backward(g, loss), OTG_OK);
    float *gr = otg_graph_grads(g, &ng);
    assert_int_equal(ng, np);
    float *once = malloc((size_t)ng * sizeof *once);
    memcpy(once, gr, (size_t)ng * sizeof *once);
    double norm = 0;
    for (int64_t i = 0; i < ng; i++)
        norm += (double)once[i] * (double)once[i];
    assert_true(norm > 0);
    assert_int_equal(otg_graph_backward(g, loss), OTG_OK); /* no zero_grad: accumulates */
    for (int64_t i = 0; i < ng; i++)
        assert_true(gr[i] == 2.0f * once[i]);
    otg_graph_zero_grad(g);
    assert_int_equal(otg_graph_backward(g, loss), OTG_OK);
    assert_memory_equal(gr, once, (size_t)ng * sizeof *once);
    free(once);
    otg_graph_free(g);
}

/* A cnn of spec ms (latent 4, 8 x 8 images) is refused with msg in the error. */
static void assert_cnn_refuses(otg_model_spec *ms, const char *msg) {
    otg_graph *g = otg_graph_new();
    otg_rng rng = otg_rng_make(1, 0);
    ms->img_h = ms->img_w = 8;
    assert_null(otg_model_build(g, otg_input(g, SHAPE(2, 4), 0), ms, &rng));
    HAS(msg);
    otg_graph_free(g);
}

/* The params of a 2 -> 8 -> 3 torch-initialised MLP with the given output_shrink (NULL and the
 * error set when the build refuses it); *n their count. */
static float *shrunk_params(float shrink, int64_t *n) {
    otg_graph *g = otg_graph_new();
    otg_rng rng = otg_rng_make(5, 0);
    otg_mlp_spec spec = otg_mlp_spec_default();
    spec.widths = (const int64_t[]){2, 8, 3};
    spec.n_widths = 3, spec.init = OTG_INIT_TORCH, spec.output_shrink = shrink;
    float *copy = NULL;
    if (otg_mlp_build(g, otg_input(g, SHAPE(4, 2), 0), &spec, &rng)) {
        const float *p = otg_graph_params(g, n);
        copy = malloc((size_t)*n * sizeof *copy);
        memcpy(copy, p, (size_t)*n * sizeof *copy);
    }
    otg_graph_free(g);
    return copy;
}

/* output_shrink scales only the last layer's weights, from the same draws: biases and the other
 * layers keep their bits; 1 zeroes the weights; outside [0, 1] is refused; the default is 0. */
static void test_mlp_output_shrink(void **state) {
    assert_true(otg_mlp_spec_default().output_shrink == 0.0f);
    int64_t n;
    float *p0 = shrunk_params(0.0f, &n), *ph = shrunk_params(0.5f, &n),
          *p1 = shrunk_params(1.0f, &n);
    const int64_t w2 = 2 * 8 + 8, b2 = w2 + 8 * 3; /* W1 b1 | W2 [8, 3] | b2 [3] */
    assert_int_equal(n, b2 + 3);
    assert_memory_equal(p0, ph, (size_t)w2 * sizeof *p0);
    for (int64_t i = w2; i < b2; i++) {
        assert_true(p0[i] != 0.0f);
        assert_true(ph[i] == 0.5f * p0[i] && p1[i] == 0.0f);
    }
    for (int64_t i = b2; i < n; i++) /* torch biases are drawn, and kept */
        assert_true(p0[i] != 0.0f && ph[i] == p0[i] && p1[i] == p0[i]);
    assert_null(shrunk_params(1.5f, &n));
    HAS("output_shrink 1.5 must be in [0, 1]");
    assert_null(shrunk_params(-0.1f, &n));
    free(p0), free(ph), free(p1);
    otg_model_spec ms = otg_model_spec_default(OTG_MODEL_CNN, 4, 64);
    ms.output_shrink = 0.5f; /* other model kinds refuse it */
    assert_cnn_refuses(&ms, "only the mlp shrinks its last layer");
}

/* otg_blur on one 4 x 5 plane: a unit impulse at (1, 1) spreads into the normalised kernel
 * (centre > edge > corner, sum 1, symmetric); with sigma 100 (weights all but equal) a plane of
 * ones reads 1 inside, 6/9 on the edges and 4/9 in the corners (zero padding); bad shapes and
 * sigmas are refused. */
static void test_blur_values(void **state) {
    otg_graph *g = otg_graph_new();
    otg_node *x = otg_input(g, SHAPE(2, 1, 4, 5), 0), *y = otg_blur(g, x, 0.8f);
    otg_node *u = otg_blur(g, x, 100.0f);
    assert_non_null(y);
    assert_int_equal(otg_graph_compile(g), OTG_OK);
    float *xv = otg_node_data(x);
    memset(xv, 0, 20 * sizeof *xv);
    xv[1 * 5 + 1] = 1.0f;
    for (int i = 20; i < 40; i++)
        xv[i] = 1.0f;
    assert_int_equal(otg_graph_forward(g), OTG_OK);
    const float *yv = otg_node_data(y), *uv = otg_node_data(u);
    double sum = 0.0;
    for (int i = 0; i < 20; i++)
        sum += (double)yv[i];
    assert_true(fabs(sum - 1.0) <= 1e-6);
    assert_true(yv[6] > yv[5] && yv[5] > yv[0] && yv[0] > 0.0f && yv[3] == 0.0f);
    assert_true(yv[5] == yv[7] && yv[5] == yv[1] && yv[5] == yv[11] && yv[0] == yv[12]);
    assert_true(fabs((double)uv[20 + 1 * 5 + 2] - (1.0)) <= 1e-4);
    assert_true(fabs((double)uv[20 + 0 * 5 + 2] - (6.0 / 9.0)) <= 1e-4);
    assert_true(fabs((double)uv[20 + 0] - (4.0 / 9.0)) <= 1e-4);
    assert_null(otg_blur(g, otg_input(g, SHAPE(4, 5), 0), 0.8f));
    HAS("blur: needs x [N, C, H, W]");
    assert_null(otg_blur(g, x, 0.0f));
    HAS("blur: sigma 0 outside (0, 100]");
    assert_null(otg_blur(g, x, NAN));
    otg_graph_free(g);
}

/* The median of the five values at[0..4] of v, by sorting (brute force). */
static float median_of(const float *v, const int *at) {
    float s[5];
    for (int k = 0; k < 5; k++)
        s[k] = v[at[k]];
    for (int a = 0; a < 5; a++)
        for (int b = a + 1; b < 5; b++)
            if (s[b] < s[a]) {
                const float t = s[a];
                s[a] = s[b], s[b] = t;
            }
    return s[2];
}

/* otg_median5 on two planes 5 x 7 of random values (a few repeated, for ties) against the sorted
 * five-point neighbourhood (nearest pixel beyond the border); its gradient sends each output's
 * seed to one input holding the output's value, the first of centre, up, left, right, down; an
 * isolated impulse disappears, an edge stays. */
static void test_median5_values(void **state) {
    enum { H = 5, W = 7, P = H * W };
    otg_graph *g = otg_graph_new();
    otg_node *x = otg_input(g, SHAPE(2, 1, H, W), 1), *y = otg_median5(g, x);
    assert_non_null(y);
    assert_int_equal(otg_graph_compile(g), OTG_OK);
    float *xv = otg_node_data(x);
    otg_rng r = otg_rng_make(5, 0);
    for (int i = 0; i < P; i++)
        xv[i] = (float)(otg_rng_u32(&r) % 7); /* many ties */
    memset(xv + P, 0, P * sizeof *xv);
    xv[P + 2 * W + 3] = 9.0f; /* an impulse */
    for (int i = 0; i < H; i++)
        xv[P + i * W + 6] = xv[P + i * W + 5] = 4.0f; /* an edge two columns wide */
    assert_int_equal(otg_graph_forward(g), OTG_OK);
    otg_graph_zero_grad(g);
    float *seed = calloc(2 * P, sizeof *seed);
    for (int i = 0; i < 2 * P; i++)
        seed[i] = (float)(i + 1);
    assert_int_equal(otg_graph_backward_seed(g, y, seed), OTG_OK);
    const float *yv = otg_node_data(y), *gx = otg_node_grad(x);
    double want[2 * P] = {0};
    for (int p = 0; p < 2; p++)
        for (int i = 0; i < H; i++)
            for (int j = 0; j < W; j++) {
                const int at[5] = {i * W + j, (i > 0 ? i - 1 : 0) * W + j,
                                   i * W + (j > 0 ? j - 1 : 0), i * W + (j < W - 1 ? j + 1 : j),
                                   (i < H - 1 ? i + 1 : i) * W + j};
                const float m = median_of(xv + p * P, at);
                assert_true(yv[p * P + i * W + j] == m);
                int k = 0;
                while (xv[p * P + at[k]] != m)
                    k++;
                want[p * P + at[k]] += (double)seed[p * P + i * W + j];
            }
    for (int i = 0; i < 2 * P; i++)
        assert_true((double)gx[i] == want[i]);
    assert_true(yv[P + 2 * W + 3] == 0.0f); /* the impulse is gone */
    for (int i = 0; i < H; i++)
        assert_true(yv[P + i * W + 5] == 4.0f && yv[P + i * W + 6] == 4.0f &&
                    yv[P + i * W + 4] == 0.0f);
    assert_null(otg_median5(g, otg_input(g, SHAPE(4, 5), 0)));
    HAS("median5: needs x [N, C, H, W]");
    free(seed);
    otg_graph_free(g);
}

/* The output [3, 12] of a 4 -> 8 -> 12 torch MLP (seed 7) on images 3 x 4 with the given
 * output activation, output_blur and output_median; NULL (error set) when the build refuses. */
static float *blurred_mlp(otg_activation output, float blur, int median, int64_t img_h) {
    otg_graph *g = otg_graph_new();
    otg_rng rng = otg_rng_make(7, 0), rz = otg_rng_make(7, 1);
    otg_model_spec ms = otg_model_spec_default(OTG_MODEL_MLP, 4, 12);
    ms.hidden[0] = 8, ms.n_hidden = 1, ms.init = OTG_INIT_TORCH, ms.output = output;
    ms.img_h = img_h, ms.img_w = 4, ms.output_blur = blur, ms.output_median = median;
    otg_node *z = otg_input(g, SHAPE(3, 4), 0), *out = otg_model_build(g, z, &ms, &rng);
    float *copy = NULL;
    if (out && otg_graph_compile(g) == OTG_OK) {
        otg_rng_fill_normal(&rz, 12, otg_node_data(z));
        assert_int_equal(otg_graph_forward(g), OTG_OK);
        copy = malloc(36 * sizeof *copy);
        memcpy(copy, otg_node_data(out), 36 * sizeof *copy);
    }
    otg_graph_free(g);
    return copy;
}

/* output_blur: the sigmoid of the 3 x 3 Gaussian blur (sigma 0.8, zero padding, written out here)
 * of the same MLP's linear output; refused without image dimensions and by the other kinds. */
static void test_mlp_output_blur(void **state) {
    float *lin = blurred_mlp(OTG_ACT_NONE, 0.0f, 0, 3),
          *out = blurred_mlp(OTG_ACT_SIGMOID, 0.8f, 0, 3);
    assert_non_null(lin);
    assert_non_null(out);
    double k[3] = {1.0, exp(-1.0 / (2 * 0.64)), exp(-2.0 / (2 * 0.64))}, sum = 0.0;
    for (int a = -1; a <= 1; a++)
        for (int b = -1; b <= 1; b++)
            sum += k[abs(a) + abs(b)];
    for (int r = 0; r < 3; r++)
        for (int i = 0; i < 3; i++)
            for (int j = 0; j < 4; j++) {
                double acc = 0.0;
                for (int a = -1; a <= 1; a++)
                    for (int b = -1; b <= 1; b++)
                        if (i + a >= 0 && i + a < 3 && j + b >= 0 && j + b < 4)
                            acc += k[abs(a) + abs(b)] / sum *
                                   (double)lin[r * 12 + (i + a) * 4 + j + b];
                assert_true(fabs((double)out[r * 12 + i * 4 + j] - (1.0 / (1.0 + exp(-acc)))) <=
                            1e-6);
            }
    free(lin), free(out);
    assert_null(blurred_mlp(OTG_ACT_SIGMOID, 0.8f, 0, 2)); /* 2 x 4 is not the data's 12 */
    HAS("output_blur needs image data");
    otg_model_spec ms = otg_model_spec_default(OTG_MODEL_CNN, 4, 64);
    ms.output_blur = 0.8f;
    assert_cnn_refuses(&ms, "only the mlp filters its output");
}

/* output_median: the sigmoid of the five-point median (nearest pixel beyond the border, by the
 * brute force above) of the same MLP's linear output; refused without image dimensions and by the
 * other kinds. */
static void test_mlp_output_median(void **state) {
    float *lin = blurred_mlp(OTG_ACT_NONE, 0.0f, 0, 3),
          *out = blurred_mlp(OTG_ACT_SIGMOID, 0.0f, 1, 3);
    assert_non_null(lin);
    assert_non_null(out);
    for (int r = 0; r < 3; r++)
        for (int i = 0; i < 3; i++)
            for (int j = 0; j < 4; j++) {
                const int at[5] = {i * 4 + j, (i > 0 ? i - 1 : 0) * 4 + j,
                                   i * 4 + (j > 0 ? j - 1 : 0), i * 4 + (j < 3 ? j + 1 : j),
                                   (i < 2 ? i + 1 : i) * 4 + j};
                const double m = (double)median_of(lin + r * 12, at);
                assert_true(fabs((double)out[r * 12 + i * 4 + j] - 1.0 / (1.0 + exp(-m))) <= 1e-6);
            }
    free(lin), free(out);
    assert_null(blurred_mlp(OTG_ACT_SIGMOID, 0.0f, 1, 2));
    HAS("output_median needs image data");
    otg_model_spec ms = otg_model_spec_default(OTG_MODEL_CNN, 4, 64);
    ms.output_median = 1;
    assert_cnn_refuses(&ms, "only the mlp filters its output");
}

/* One forward+backward of a 32 -> 256 -> 256 -> 784 MLP at batch 64; returns loss and grads. */
static float *mlp_run(int threads, float *loss_out) {
    otg_threads_set(threads);
    otg_graph *g = otg_graph_new();
    otg_node *x = otg_input(g, SHAPE(64, 32), 0);
    otg_rng rng = otg_rng_make(2024, 0);
    otg_mlp_spec spec = otg_mlp_spec_default();
    spec.widths = (const int64_t[]){32, 256, 256, 784};
    spec.n_widths = 4;
    spec.output = OTG_ACT_SIGMOID;
    otg_node *loss = otg_mean(g, otg_square(g, otg_mlp_build(g, x, &spec, &rng)));
    assert_int_equal(otg_graph_compile(g), OTG_OK);
    fill(x, &rng);
    assert_int_equal(otg_graph_forward(g), OTG_OK);
    otg_graph_zero_grad(g);
    assert_int_equal(otg_graph_backward(g, loss), OTG_OK);
    int64_t n;
    float *gr = otg_graph_grads(g, &n), *copy = malloc((size_t)n * sizeof *copy);
    memcpy(copy, gr, (size_t)n * sizeof *copy);
    *loss_out = otg_node_data(loss)[0];
    otg_graph_free(g);
    return copy;
}

/* The same seed gives bit-identical loss and gradients for any thread count: every GEMM has the
 * bits of one single-threaded call (src/core/gemm.c). Batch 64: products left whole, each still
 * single-threaded. */
static void test_reproducible_bits_for_any_thread_count(void **state) {
    const int64_t n = 32 * 256 + 256 + 256 * 256 + 256 + 256 * 784 + 784;
    float l1, l2, l3;
    float *g1 = mlp_run(1, &l1), *g2 = mlp_run(2, &l2), *g3 = mlp_run(3, &l3);
    assert_true(l1 == l2 && l1 == l3);
    assert_memory_equal(g1, g2, (size_t)n * sizeof *g1);
    assert_memory_equal(g1, g3, (size_t)n * sizeof *g1);
    free(g1), free(g2), free(g3);
    otg_threads_set(0);
}

/* Adding a node after compile recompiles; parameter values survive. */
static void test_recompile_after_growth(void **state) {
    otg_graph *g = otg_graph_new();
    otg_node *w = otg_param(g, SHAPE(3));
    otg_node *s1 = otg_sum(g, otg_square(g, w));
    otg_node_data(w)[0] = 1, otg_node_data(w)[1] = 2, otg_node_data(w)[2] = 3;
    assert_int_equal(otg_graph_forward(g), OTG_OK);
    assert_true(otg_node_data(s1)[0] == 14.0f);
    otg_node *w2 = otg_param(g, SHAPE(2));
    otg_node *s2 = otg_add(g, s1, otg_sum(g, w2));
    assert_int_equal(otg_graph_forward(g), OTG_OK);
    assert_true(otg_node_data(s2)[0] == 14.0f);
    otg_graph_zero_grad(g);
    assert_int_equal(otg_graph_backward(g, s2), OTG_OK);
    const float *gr = otg_graph_grads(g, NULL);
    assert_true(gr[0] == 2 && gr[1] == 4 && gr[2] == 6 && gr[3] == 1 && gr[4] == 1);
    assert_int_equal(otg_graph_node_count(g), 6);
    otg_graph_free(g);
}

/* Backward leaves op-output gradients pending and the first write stores (graph.c): an
 * intermediate node read by ops that write fresh (square, relu, matmul) and by ops that add
 * (max, sum through a reshape) gets exactly the sum of their gradients, on the first backward,
 * accumulated by a second, after zero_grad again; small integers, so every value is exact. */
static void test_pending_gradients(void **state) {
    otg_graph *g = otg_graph_new();
    otg_node *w = otg_param(g, SHAPE(2, 3)), *z = otg_input(g, SHAPE(2, 3), 0);
    otg_node *e = otg_input(g, SHAPE(3, 1), 0);
    otg_node *u = otg_scale(g, w, 2.0f);                             /* u = 2 w */
    otg_node *l1 = otg_sum(g, otg_max(g, u, z));                     /* adds: [u >= 0] */
    otg_node *l2 = otg_sum(g, otg_reshape(g, u, 1, (int64_t[]){6})); /* adds through a view: 1 */
    otg_node *l3 = otg_sum(g, otg_relu(g, u));                       /* fresh or adds: [u > 0] */
    otg_node *l4 = otg_sum(g, otg_matmul(g, u, e));                  /* beta 0 or 1: 3 */
    otg_node *l5 = otg_sum(g, otg_square(g, u));                     /* first in backward: 2 u */
    otg_node *loss = otg_add(g, otg_add(g, otg_add(g, l1, l2), otg_add(g, l3, l4)), l5);
    assert_non_null(loss);
    assert_int_equal(otg_graph_compile(g), OTG_OK);
    const float wv[6] = {-2, -1, 0.5f, 1, 2, 3};
    memcpy(otg_node_data(w), wv, sizeof wv);
    for (int i = 0; i < 6; i++)
        otg_node_data(z)[i] = 0.0f;
    for (int i = 0; i < 3; i++)
        otg_node_data(e)[i] = 3.0f;
    assert_int_equal(otg_graph_forward(g), OTG_OK);
    float du[6], dw[6];
    for (int i = 0; i < 6; i++) {
        const float ui = 2.0f * wv[i];
        du[i] = (ui >= 0.0f) + 1.0f + (ui > 0.0f) + 3.0f + 2.0f * ui;
        dw[i] = 2.0f * du[i];
    }
    otg_graph_zero_grad(g);
    assert_int_equal(otg_graph_backward(g, loss), OTG_OK);
    assert_memory_equal(otg_node_grad(u), du, sizeof du);
    assert_memory_equal(otg_graph_grads(g, NULL), dw, sizeof dw);
    assert_int_equal(otg_graph_backward(g, loss), OTG_OK); /* no zero_grad: parameters add */
    for (int i = 0; i < 6; i++)
        assert_true(otg_graph_grads(g, NULL)[i] == 2.0f * dw[i]);
    assert_memory_equal(otg_node_grad(u), du, sizeof du); /* op outputs start again from 0 */
    otg_graph_zero_grad(g);
    assert_int_equal(otg_graph_backward(g, loss), OTG_OK);
    assert_memory_equal(otg_graph_grads(g, NULL), dw, sizeof dw);
    otg_graph_free(g);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bad_input_is_reported),
        cmocka_unit_test(test_conv_forward_against_naive),
        cmocka_unit_test(test_flat_buffers_and_accumulation),
        cmocka_unit_test(test_mlp_output_shrink),
        cmocka_unit_test(test_blur_values),
        cmocka_unit_test(test_median5_values),
        cmocka_unit_test(test_mlp_output_median),
        cmocka_unit_test(test_mlp_output_blur),
        cmocka_unit_test(test_reproducible_bits_for_any_thread_count),
        cmocka_unit_test(test_recompile_after_growth),
        cmocka_unit_test(test_pending_gradients),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
