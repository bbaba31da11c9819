/* `otgen ad-check`'s example custom ops (adcheck_custom.c): a ReLU written as an otg_custom op,
 * the template for checking an op of your own, and a deliberately broken copy of it. */
#ifndef OTGEN_ADCHECK_H
#define OTGEN_ADCHECK_H

#include "otgen/otgen.h"

typedef struct {
    float relu_prime;  /* the value returned at x == 0 */
    float slope_error; /* the derivative above 0: 1 for custom_relu, 1.1 for broken_relu */
} adcheck_act_ctx;

/* relu(x) as a custom op with derivative ctx->slope_error above 0; ctx is borrowed for the
 * graph's life. NULL (reason in otg_last_error) on a NULL input. */
otg_node *adcheck_custom_relu(otg_graph *g, otg_node *x, adcheck_act_ctx *ctx);

#endif
