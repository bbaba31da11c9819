/* The op table: one row per otg_op, gathered from the op-family files. The static assert and
 * tests/test_ad_ops.c check that every op has a row with both passes and a gradient test. */
#include "ad/ad_internal.h"

#include <assert.h>

static_assert(OTG_OP_COUNT == 30, "add the new op's row to otgi_ops and its gradient test");

const otgi_op_def *const otgi_ops[OTG_OP_COUNT] = {
    [OTG_OP_INPUT] = &otgi_op_input,
    [OTG_OP_PARAM] = &otgi_op_param,
    [OTG_OP_ADD] = &otgi_op_add,
    [OTG_OP_SUB] = &otgi_op_sub,
    [OTG_OP_MUL] = &otgi_op_mul,
    [OTG_OP_SCALE] = &otgi_op_scale,
    [OTG_OP_SQUARE] = &otgi_op_square,
    [OTG_OP_EXP] = &otgi_op_exp,
    [OTG_OP_LOG] = &otgi_op_log,
    [OTG_OP_TANH] = &otgi_op_tanh,
    [OTG_OP_SIGMOID] = &otgi_op_sigmoid,
    [OTG_OP_SOFTPLUS] = &otgi_op_softplus,
    [OTG_OP_RELU] = &otgi_op_relu,
    [OTG_OP_LEAKY_RELU] = &otgi_op_leaky_relu,
    [OTG_OP_ABS] = &otgi_op_abs,
    [OTG_OP_MAX] = &otgi_op_max,
    [OTG_OP_MIN] = &otgi_op_min,
    [OTG_OP_MATMUL] = &otgi_op_matmul,
    [OTG_OP_BIAS] = &otgi_op_bias,
    [OTG_OP_SUM] = &otgi_op_sum,
    [OTG_OP_MEAN] = &otgi_op_mean,
    [OTG_OP_RESHAPE] = &otgi_op_reshape,
    [OTG_OP_CONCAT] = &otgi_op_concat,
    [OTG_OP_CONV2D] = &otgi_op_conv2d,
    [OTG_OP_CONV_TRANSPOSE2D] = &otgi_op_conv_transpose2d,
    [OTG_OP_UPSAMPLE] = &otgi_op_upsample,
    [OTG_OP_CUSTOM] = &otgi_op_custom,
    [OTG_OP_SOFTMAX_XENT] = &otgi_op_softmax_xent,
    [OTG_OP_BLUR] = &otgi_op_blur,
    [OTG_OP_MEDIAN5] = &otgi_op_median5,
};

const char *otg_op_name(otg_op op) {
    if ((int)op < 0 || op >= OTG_OP_COUNT) return NULL;
    return otgi_ops[op] ? otgi_ops[op]->name : NULL;
}
