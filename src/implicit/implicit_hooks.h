/* The implicit module's interface to other library modules (never installed): the prepare hook
 * of the fixed-point node (src/implicit/fixed_point.c). Dependency rule: src/nn may include this
 * header (the deep-equilibrium layer, src/nn/deq.c, projects its W onto a spectral-norm ball
 * before each forward solve through it); implicit_internal.h stays private to src/implicit. The
 * implicit module itself builds on the tape's internals (ad/ad_internal.h), as the ops do. */
#ifndef OTGEN_IMPLICIT_HOOKS_H
#define OTGEN_IMPLICIT_HOOKS_H

#include "internal.h"
#include "otgen/implicit.h"

/* Called at the start of every forward of the fixed-point node with the node's inputs (the
 * theta values, writable: a parameter's slice of the flat buffer), before they are copied into
 * T's graph. An error status aborts the forward. */
typedef otg_status (*otgi_fixed_point_prepare)(void *user, int n_theta, const otg_tensor *theta);

/* Installs the hook on a node made by otg_fixed_point; user is owned by the node when release
 * is non-NULL (called when the graph is freed). OTG_EINVAL for any other node. */
otg_status otgi_fixed_point_set_prepare(otg_node *n, otgi_fixed_point_prepare prepare, void *user,
                                        void (*release)(void *user));

#endif
