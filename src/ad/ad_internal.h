/* Private structures of the ad module: the node, the graph, and the op table's entry type.
 * Each op family's file (ops_*.c) defines the table rows for its ops; ops_table.c gathers them. */
#ifndef OTGEN_AD_INTERNAL_H
#define OTGEN_AD_INTERNAL_H

#include "internal.h"
#include "otgen/ad.h"
#include "otgen/comm.h"

#define OTGI_NODE_BLOCK 256 /* nodes per arena block: node pointers stay valid as it grows */

struct otg_node {
    otg_graph *graph;
    otg_op op;
    int64_t id; /* creation index = topological position */
    int ndim;
    int64_t shape[OTG_MAX_DIMS];
    int64_t numel;
    int n_in;
    otg_node **in;     /* [n_in], owned by the graph */
    int requires_grad; /* backward must produce d loss / d this node */
    int64_t param_off; /* offset in the flat buffers (parameters), else -1 */
    float *value;      /* [numel]; resolved at compile */
    float *grad;       /* [numel] or NULL; resolved at compile */
    int aliases_input; /* value/grad share in[0]'s buffers (reshape) */
    float fattr[2];    /* op constants: scale c, leaky alpha */
    int64_t iattr[4];  /* op integers: stride, pad, factor, axis */
    void *aux;         /* selection record or workspace, from aux_bytes */
    int64_t kinks;     /* inputs at a kink in the last forward */
    int grad_pending;  /* backward: grad is logically zero but not yet written (otgi_grad_fresh) */
    const otg_custom_op *custom;
    void *custom_ctx;
    void (*custom_release)(void *ctx); /* non-NULL: the graph owns custom_ctx and frees it so */
};

/* One row of the op table. shape() validates inputs and sets ndim/shape (called at build);
 * forward() writes value; backward() ADDS into the grad of every input with requires_grad;
 * aux_bytes() (may be NULL) sizes the per-node selection record / workspace. */
typedef struct {
    const char *name;
    otg_status (*shape)(otg_node *n);
    otg_status (*forward)(otg_node *n);
    otg_status (*backward)(otg_node *n);
    size_t (*aux_bytes)(const otg_node *n);
} otgi_op_def;

extern const otgi_op_def *const otgi_ops[OTG_OP_COUNT];

/* The rows each op family defines (ops_elementwise.c, ops_nonsmooth.c, ops_linalg.c, ops_conv.c,
 * ops_custom.c, ops_loss.c). */
extern const otgi_op_def otgi_op_input, otgi_op_param, otgi_op_add, otgi_op_sub, otgi_op_mul,
    otgi_op_scale, otgi_op_square, otgi_op_exp, otgi_op_log, otgi_op_tanh, otgi_op_sigmoid,
    otgi_op_softplus, otgi_op_relu, otgi_op_leaky_relu, otgi_op_abs, otgi_op_max, otgi_op_min,
    otgi_op_matmul, otgi_op_bias, otgi_op_sum, otgi_op_mean, otgi_op_reshape, otgi_op_concat,
    otgi_op_conv2d, otgi_op_conv_transpose2d, otgi_op_upsample, otgi_op_custom, otgi_op_softmax_xent,
    otgi_op_blur, otgi_op_median5;

/* Appends a node of op `op` with inputs in[0..n_in), copies of the attributes, runs the op's
 * shape check. NULL (error set) on a NULL graph/input or a failed check. */
otg_node *otgi_node_new(otg_graph *g, otg_op op, int n_in, otg_node *const *in, const float *fattr,
                        const int64_t *iattr);
/* Hands ownership of a custom node's ctx to its graph: otg_graph_free calls release(ctx). */
void otgi_custom_adopt(otg_node *n, void (*release)(void *ctx));
/* The graph's relu'(0) selection. */
float otgi_graph_relu_prime(const otg_graph *g);
/* Shape helpers for shape(): same shape as in[0], and equality of two nodes' shapes. */
otg_status otgi_shape_like_input(otg_node *n);
otg_status otgi_shape_same_binary(otg_node *n);

/* Backward does not clear the op outputs' gradients up front: each stays pending (logically
 * zero) until its first write. An op whose backward writes EVERY element of an input's gradient
 * calls otgi_grad_fresh(input) just before: 1 means the buffer was pending (now no longer), and
 * the op must store 0.0f + contribution in each element (exactly what adding into zeros gives,
 * -0 turned into +0); 0 means it adds as usual. The graph zeroes a pending buffer before any
 * other op reads or adds into it (graph.c: the ops that call otgi_grad_fresh are listed there). */
int otgi_grad_fresh(otg_node *x);

/* vexp.c: y[i] = expf(x[i]) and the sigmoid (x >= 0: 1 / (1 + expf(-x)), else e / (1 + e),
 * e = expf(x)) with the bits of the scalar formulas, vectorised where glibc's expf is its FMA
 * version; otgi_expf_vector_active says whether the vector path is on. */
void otgi_expf_array(const float *x, float *y, int64_t n);
void otgi_sigmoid_array(const float *x, float *y, int64_t n);
int otgi_expf_vector_active(void);

/* The distributed mode (otgen/comm.h): the graph's batch rows are split over comm's ranks, rank
 * r holding rows [row_off[r], row_off[r+1]) of every batch-sized node; the ops whose gradient
 * sums over the batch into a parameter (matmul, bias) then compute it over the whole batch, with
 * the bits of one process (ops_comm.c). NULL comm: one process. */
void otgi_graph_set_comm(otg_graph *g, otg_comm *comm, const int64_t *row_off);
otg_comm *otgi_graph_comm(const otg_graph *g, const int64_t **row_off);
/* Scratch slot (0 or 1) of g holding at least n floats, kept and grown across calls (freed with
 * g): the distributed ops' whole-batch buffers allocate nothing in the steady state. NULL on
 * ENOMEM. */
float *otgi_graph_comm_buf(otg_graph *g, int slot, size_t n);
/* g's op workspace of at least n floats (64-byte aligned), kept and grown across calls (freed
 * with g; its contents do not survive the next call): the image ops' per-thread column buffers,
 * sized by the thread count at run time. NULL on ENOMEM. */
float *otgi_graph_workspace(otg_graph *g, size_t n);
/* The whole batch's rows of a local [rows, row_elems] array of node n's graph: *full (the graph's
 * scratch slot `slot`, valid until the next use of that slot) [rows_all, row_elems], *rows_all
 * set. */
otg_status otgi_comm_full_rows(const otg_node *n, const float *local, int64_t row_elems, int slot,
                               float **full, int64_t *rows_all);
/* matmul's backward when the graph is distributed and b is a parameter. */
otg_status otgi_matmul_backward_comm(otg_node *n);

#endif
