/* The tape: node arena (blocks, so node pointers stay valid), the flat parameter and gradient
 * buffers, compile (one allocation per buffer family), and the forward/backward drivers that walk
 * the op table in creation order and its reverse. */
#include "ad/ad_internal.h"

#include <math.h>
#include <string.h>

struct otg_graph {
    otg_node **nodes; /* [n_nodes] in creation order */
    int64_t n_nodes, cap_nodes;
    otg_node **blocks; /* arena blocks of OTGI_NODE_BLOCK nodes */
    int64_t n_blocks;
    float *params, *grads; /* flat buffers [n_params] */
    int64_t n_params, cap_params;
    float *values, *op_grads; /* compile-time blocks for non-parameter nodes */
    unsigned char *aux, *needed;
    int64_t compiled_nodes; /* nodes covered by the last compile (0 = never) */
    int64_t compiled_params;
    int forwarded;
    float relu_prime;
    otg_comm *comm;         /* set: the batch rows are split over its ranks (row_off) */
    const int64_t *row_off; /* [comm->size + 1], borrowed */
    float *comm_buf[2];     /* the ops' whole-batch row buffers, grown, kept across steps */
    size_t comm_cap[2];
    float *work; /* the image ops' per-thread workspaces, grown, kept across steps */
    size_t work_cap;
};

void otgi_graph_set_comm(otg_graph *g, otg_comm *comm, const int64_t *row_off) {
    g->comm = comm, g->row_off = row_off;
}

otg_comm *otgi_graph_comm(const otg_graph *g, const int64_t **row_off) {
    if (row_off) *row_off = g->row_off;
    return g->comm;
}

float *otgi_graph_comm_buf(otg_graph *g, int slot, size_t n) {
    if (n > g->comm_cap[slot]) {
        float *p = realloc(g->comm_buf[slot], n * sizeof *p);
        if (!p) return NULL;
        g->comm_buf[slot] = p, g->comm_cap[slot] = n;
    }
    return g->comm_buf[slot];
}

float *otgi_graph_workspace(otg_graph *g, size_t n) {
    if (n > g->work_cap) {
        free(g->work);
        g->work = aligned_alloc(64, (n * sizeof(float) + 63) / 64 * 64);
        g->work_cap = g->work ? n : 0;
    }
    return g->work;
}

otg_graph *otg_graph_new(void) {
    return otgi_calloc(1, sizeof(otg_graph));
}

static void graph_free_buffers(otg_graph *g) {
    free(g->values);
    free(g->op_grads);
    free(g->aux);
    free(g->needed);
    free(g->grads);
    g->values = g->op_grads = g->grads = NULL;
    g->aux = g->needed = NULL;
}

void otg_graph_free(otg_graph *g) {
    if (!g) return;
    for (int64_t i = 0; i < g->n_nodes; i++) {
        otg_node *n = g->nodes[i];
        if (n->custom_release) n->custom_release(n->custom_ctx);
        free(n->in);
    }
    for (int64_t b = 0; b < g->n_blocks; b++)
        free(g->blocks[b]);
    graph_free_buffers(g);
    free(g->blocks);
    free(g->nodes);
    free(g->params);
    free(g->comm_buf[0]), free(g->comm_buf[1]);
    free(g->work);
    free(g);
}

otg_status otg_graph_set_relu_prime(otg_graph *g, float s) {
    if (!g) return otgi_fail(OTG_EINVAL, "set_relu_prime: NULL graph");
    if (!(s >= 0.0f && s <= 1.0f))
        return otgi_fail(OTG_EINVAL, "relu_prime: s = %g outside [0, 1]", (double)s);
    g->relu_prime = s;
    return OTG_OK;
}

float otg_graph_relu_prime(const otg_graph *g) {
    return g ? g->relu_prime : 0.0f;
}
float otgi_graph_relu_prime(const otg_graph *g) {
    return g->relu_prime;
}

/* A slot in the arena, zeroed; NULL on out of memory. */
static otg_node *graph_slot(otg_graph *g) {
    if (g->n_nodes == g->cap_nodes) {
        int64_t cap = g->cap_nodes ? 2 * g->cap_nodes : 64;
        otg_node **p = realloc(g->nodes, (size_t)cap * sizeof *p);
        if (!p) return otgi_fail(OTG_ENOMEM, "graph: out of memory for nodes"), NULL;
        g->nodes = p;
        g->cap_nodes = cap;
    }
    if (g->n_nodes == g->n_blocks * OTGI_NODE_BLOCK) {
        otg_node **bl = realloc(g->blocks, (size_t)(g->n_blocks + 1) * sizeof *bl);
        if (!bl) return otgi_fail(OTG_ENOMEM, "graph: out of memory for nodes"), NULL;
        g->blocks = bl;
        g->blocks[g->n_blocks] = otgi_calloc(OTGI_NODE_BLOCK, sizeof(otg_node));
        if (!g->blocks[g->n_blocks]) return NULL;
        g->n_blocks++;
    }
    otg_node *n = &g->blocks[g->n_nodes / OTGI_NODE_BLOCK][g->n_nodes % OTGI_NODE_BLOCK];
    g->nodes[g->n_nodes] = n;
    return n;
}

static int64_t checked_numel(const otg_node *n, const char *who) {
    if (n->ndim < 1 || n->ndim > OTG_MAX_DIMS) {
        otgi_fail(OTG_ESHAPE, "%s: ndim %d outside 1..%d", who, n->ndim, OTG_MAX_DIMS);
        return -1;
    }
    int64_t c = 1;
    for (int i = 0; i < n->ndim; i++) {
        if (n->shape[i] <= 0 || otgi_mul_i64(c, n->shape[i], &c)) {
            otgi_fail(OTG_ESHAPE, "%s: dimension %d is %lld", who, i, (long long)n->shape[i]);
            return -1;
        }
    }
    return c;
}

otg_node *otgi_node_new(otg_graph *g, otg_op op, int n_in, otg_node *const *in, const float *fattr,
                        const int64_t *iattr) {
    const char *name = otgi_ops[op]->name;
    if (!g) return otgi_fail(OTG_EINVAL, "%s: NULL graph", name), NULL;
    otg_node tmp = {0};
    tmp.graph = g;
    tmp.op = op;
    tmp.n_in = n_in;
    tmp.param_off = -1;
    if (fattr) memcpy(tmp.fattr, fattr, sizeof tmp.fattr);
    if (iattr) memcpy(tmp.iattr, iattr, sizeof tmp.iattr);
    if (n_in > 0) {
        for (int i = 0; i < n_in; i++) {
            if (!in || !in[i]) return otgi_fail(OTG_EINVAL, "%s: input %d is NULL", name, i), NULL;
            if (in[i]->graph != g)
                return otgi_fail(OTG_EINVAL, "%s: input %d belongs to another graph", name, i),
                       NULL;
            tmp.requires_grad |= in[i]->requires_grad;
        }
        tmp.in = otgi_calloc((size_t)n_in, sizeof *tmp.in);
        if (!tmp.in) return NULL;
        memcpy(tmp.in, in, (size_t)n_in * sizeof *tmp.in);
    }
    otg_status st = otgi_ops[op]->shape(&tmp);
    if (st == OTG_OK && (tmp.numel = checked_numel(&tmp, name)) < 0) st = OTG_ESHAPE;
    otg_node *n = st == OTG_OK ? graph_slot(g) : NULL;
    if (!n) {
        free(tmp.in);
        return NULL;
    }
    tmp.id = g->n_nodes++;
    *n = tmp;
    return n;
}

otg_status otgi_shape_like_input(otg_node *n) {
    n->ndim = n->in[0]->ndim;
    memcpy(n->shape, n->in[0]->shape, sizeof n->shape);
    return OTG_OK;
}

otg_status otgi_shape_same_binary(otg_node *n) {
    const otg_node *a = n->in[0], *b = n->in[1];
    int same = a->ndim == b->ndim;
    for (int i = 0; same && i < a->ndim; i++)
        same = a->shape[i] == b->shape[i];
    if (!same)
        return otgi_fail(OTG_ESHAPE, "%s: shapes differ (%lld elements in %d dims vs %lld in %d)",
                         otgi_ops[n->op]->name, (long long)a->numel, a->ndim, (long long)b->numel,
                         b->ndim);
    return otgi_shape_like_input(n);
}

/* Leaves: the shape comes from the caller, through iattr-free tmp fields set by leaf_new. */
static otg_node *leaf_new(otg_graph *g, otg_op op, int ndim, const int64_t *shape) {
    const char *name = otgi_ops[op]->name;
    if (!g) return otgi_fail(OTG_EINVAL, "%s: NULL graph", name), NULL;
    if (!shape || ndim < 1 || ndim > OTG_MAX_DIMS)
        return otgi_fail(OTG_ESHAPE, "%s: ndim %d outside 1..%d", name, ndim, OTG_MAX_DIMS), NULL;
    otg_node tmp = {0};
    tmp.graph = g;
    tmp.op = op;
    tmp.param_off = -1;
    tmp.ndim = ndim;
    memcpy(tmp.shape, shape, (size_t)ndim * sizeof *shape);
    if ((tmp.numel = checked_numel(&tmp, name)) < 0) return NULL;
    otg_node *n = graph_slot(g);
    if (!n) return NULL;
    tmp.id = g->n_nodes++;
    *n = tmp;
    return n;
}

otg_node *otg_input(otg_graph *g, int ndim, const int64_t *shape, int requires_grad) {
    otg_node *n = leaf_new(g, OTG_OP_INPUT, ndim, shape);
    if (n) n->requires_grad = requires_grad != 0;
    return n;
}

_Thread_local int64_t otgi_param_budget; /* internal.h */

otg_node *otg_param(otg_graph *g, int ndim, const int64_t *shape) {
    otg_node *n = leaf_new(g, OTG_OP_PARAM, ndim, shape);
    if (!n) return NULL;
    int64_t need = g->n_params + n->numel;
    if (otgi_param_budget > 0 && need > otgi_param_budget) {
        g->n_nodes--;
        return otgi_fail(OTG_EFORMAT, "param: more than the %lld parameters allowed",
                         (long long)otgi_param_budget),
               NULL;
    }
    if (need > g->cap_params) {
        int64_t cap = g->cap_params ? g->cap_params : 1024;
        while (cap < need)
            cap *= 2;
        float *p = realloc(g->params, (size_t)cap * sizeof *p);
        if (!p) {
            g->n_nodes--; /* undo the slot: the node was never handed out */
            return otgi_fail(OTG_ENOMEM, "param: out of memory for %lld parameters",
                             (long long)need),
                   NULL;
        }
        g->params = p;
        g->cap_params = cap;
    }
    memset(g->params + g->n_params, 0, (size_t)n->numel * sizeof(float));
    n->param_off = g->n_params;
    n->requires_grad = 1;
    g->n_params = need;
    return n;
}

/* Rounds a float count up to 16 floats (64 bytes) so each node's buffer is cache-line aligned. */
static int64_t pad16(int64_t n) {
    return (n + 15) & ~(int64_t)15;
}
static size_t pad64(size_t n) {
    return (n + 63) & ~(size_t)63;
}

static int owns_value(const otg_node *n) {
    return n->param_off < 0 && !n->aliases_input;
}

otg_status otg_graph_compile(otg_graph *g) {
    if (!g) return otgi_fail(OTG_EINVAL, "compile: NULL graph");
    if (g->compiled_nodes == g->n_nodes && g->compiled_params == g->n_params && g->n_nodes > 0)
        return OTG_OK;
    if (g->n_nodes == 0) return otgi_fail(OTG_EINVAL, "compile: the graph has no nodes");
    graph_free_buffers(g);
    int64_t nval = 0, ngrad = 0;
    size_t naux = 0;
    for (int64_t i = 0; i < g->n_nodes; i++) {
        otg_node *n = g->nodes[i];
        n->aliases_input = n->op == OTG_OP_RESHAPE;
        if (!owns_value(n)) continue;
        nval += pad16(n->numel);
        if (n->requires_grad) ngrad += pad16(n->numel);
        if (otgi_ops[n->op]->aux_bytes) naux += pad64(otgi_ops[n->op]->aux_bytes(n));
    }
    g->values = aligned_alloc(64, (size_t)(nval ? nval : 16) * sizeof(float));
    g->op_grads = aligned_alloc(64, (size_t)(ngrad ? ngrad : 16) * sizeof(float));
    g->aux = aligned_alloc(64, naux ? naux : 64);
    g->grads = otgi_calloc((size_t)(g->n_params ? g->n_params : 1), sizeof(float));
    g->needed = otgi_calloc((size_t)g->n_nodes, 1);
    if (!g->values || !g->op_grads || !g->aux || !g->grads || !g->needed) {
        graph_free_buffers(g);
        g->compiled_nodes = 0;
        return otgi_fail(OTG_ENOMEM, "compile: out of memory for %lld values", (long long)nval);
    }
    memset(g->values, 0, (size_t)nval * sizeof(float)); /* inputs start at 0, pages touched once */
    memset(g->aux, 0, naux);
    float *v = g->values, *gr = g->op_grads;
    unsigned char *ax = g->aux;
    for (int64_t i = 0; i < g->n_nodes; i++) {
        otg_node *n = g->nodes[i];
        n->aux = NULL;
        if (n->param_off >= 0) {
            n->value = g->params + n->param_off;
            n->grad = g->grads + n->param_off;
        } else if (n->aliases_input) {
            n->value = n->in[0]->value;
            n->grad = n->in[0]->grad;
        } else {
            n->value = v;
            v += pad16(n->numel);
            n->grad = NULL;
            if (n->requires_grad) {
                n->grad = gr;
                gr += pad16(n->numel);
            }
            if (otgi_ops[n->op]->aux_bytes) {
                n->aux = ax;
                ax += pad64(otgi_ops[n->op]->aux_bytes(n));
            }
        }
    }
    g->compiled_nodes = g->n_nodes;
    g->compiled_params = g->n_params;
    g->forwarded = 0;
    return OTG_OK;
}

otg_status otg_graph_forward(otg_graph *g) {
    otg_status st = otg_graph_compile(g);
    if (st != OTG_OK) return st;
    for (int64_t i = 0; i < g->n_nodes; i++) {
        otg_node *n = g->nodes[i];
        n->kinks = 0;
        st = otgi_ops[n->op]->forward(n);
        if (st != OTG_OK) return st;
    }
    g->forwarded = 1;
    return OTG_OK;
}

int64_t otg_graph_kink_count(const otg_graph *g) {
    if (!g) return 0;
    int64_t k = 0;
    for (int64_t i = 0; i < g->n_nodes; i++)
        k += g->nodes[i]->kinks;
    return k;
}

int64_t otg_graph_kink_count_op(const otg_graph *g, otg_op op) {
    if (!g || (int)op < 0 || op >= OTG_OP_COUNT) return 0;
    int64_t k = 0;
    for (int64_t i = 0; i < g->n_nodes; i++)
        if (g->nodes[i]->op == op) k += g->nodes[i]->kinks;
    return k;
}

void otg_graph_zero_grad(otg_graph *g) {
    if (!g || g->compiled_nodes == 0) return;
    memset(g->grads, 0, (size_t)g->n_params * sizeof(float));
    for (int64_t i = 0; i < g->n_nodes; i++) {
        otg_node *n = g->nodes[i];
        if (n->op == OTG_OP_INPUT && n->grad) memset(n->grad, 0, (size_t)n->numel * sizeof(float));
    }
}

/* The node owning n's gradient buffer (a reshape shares its input's). */
static otg_node *grad_owner(otg_node *n) {
    while (n->aliases_input)
        n = n->in[0];
    return n;
}

int otgi_grad_fresh(otg_node *x) {
    otg_node *o = grad_owner(x);
    if (!o->grad_pending) return 0;
    o->grad_pending = 0;
    return 1;
}

/* Zeroes n's gradient if it is still pending (before an op reads it or adds into it). */
static void grad_materialize(otg_node *n) {
    otg_node *o = grad_owner(n);
    if (!o->grad_pending) return;
    memset(o->grad, 0, (size_t)o->numel * sizeof(float));
    o->grad_pending = 0;
}

/* The ops whose backward calls otgi_grad_fresh for every input gradient it writes (and writes
 * all of it); the graph zeroes the pending input gradients of every other op before it runs. */
static int writes_fresh(otg_op op) {
    switch (op) {
    case OTG_OP_MATMUL:
    case OTG_OP_BIAS:
    case OTG_OP_RELU:
    case OTG_OP_LEAKY_RELU:
    case OTG_OP_ABS:
    case OTG_OP_SCALE:
    case OTG_OP_SQUARE:
    case OTG_OP_EXP:
    case OTG_OP_LOG:
    case OTG_OP_TANH:
    case OTG_OP_SIGMOID:
    case OTG_OP_SOFTPLUS:
        return 1;
    default:
        return 0;
    }
}

/* Marks the nodes on a path into `from`; the gradients of those that are op outputs become
 * pending (logically zero, written or zeroed later: otgi_grad_fresh), `from`'s zeroed. */
static void backward_prepare(otg_graph *g, otg_node *from) {
    memset(g->needed, 0, (size_t)g->n_nodes);
    g->needed[from->id] = 1;
    for (int64_t i = 0; i < g->n_nodes; i++)
        g->nodes[i]->grad_pending = 0;
    for (int64_t i = from->id; i >= 0; i--) {
        otg_node *n = g->nodes[i];
        if (!g->needed[i]) continue;
        for (int j = 0; j < n->n_in; j++)
            if (n->in[j]->requires_grad) g->needed[n->in[j]->id] = 1;
        n->grad_pending = n->grad && owns_value(n) && n->op != OTG_OP_INPUT;
    }
    grad_materialize(from);
}

static otg_status backward_run(otg_graph *g, const otg_node *from) {
    for (int64_t i = from->id; i >= 0; i--) {
        otg_node *n = g->nodes[i];
        if (!g->needed[i] || n->n_in == 0) continue;
        grad_materialize(n); /* no op wrote into it: zeros */
        if (!writes_fresh(n->op))
            for (int j = 0; j < n->n_in; j++)
                if (n->in[j]->grad) grad_materialize(n->in[j]);
        otg_status st = otgi_ops[n->op]->backward(n);
        if (st != OTG_OK) return st;
    }
    return OTG_OK;
}

/* Shared checks of the two backward entry points. */
static otg_status backward_check(otg_graph *g, const otg_node *n, const char *who) {
    if (!g || !n) return otgi_fail(OTG_EINVAL, "%s: NULL argument", who);
    if (n->graph != g) return otgi_fail(OTG_EINVAL, "%s: node belongs to another graph", who);
    if (!g->forwarded || g->compiled_nodes != g->n_nodes)
        return otgi_fail(OTG_EINVAL, "%s: run otg_graph_forward first", who);
    if (!n->requires_grad)
        return otgi_fail(OTG_EINVAL,
                         "%s: node %lld (%s) depends on no parameter or input "
                         "with requires_grad",
                         who, (long long)n->id, otgi_ops[n->op]->name);
    return OTG_OK;
}

otg_status otg_graph_backward(otg_graph *g, otg_node *loss) {
    otg_status st = backward_check(g, loss, "backward");
    if (st != OTG_OK) return st;
    if (loss->numel != 1)
        return otgi_fail(OTG_ESHAPE,
                         "backward: loss has %lld elements, needs 1 (use "
                         "otg_graph_backward_seed for a vector)",
                         (long long)loss->numel);
    backward_prepare(g, loss);
    loss->grad[0] += 1.0f;
    return backward_run(g, loss);
}

otg_status otg_graph_backward_seed(otg_graph *g, otg_node *node, const float *seed) {
    otg_status st = backward_check(g, node, "backward_seed");
    if (st != OTG_OK) return st;
    if (!seed) return otgi_fail(OTG_EINVAL, "backward_seed: NULL seed");
    backward_prepare(g, node);
    for (int64_t i = 0; i < node->numel; i++)
        node->grad[i] += seed[i];
    return backward_run(g, node);
}

float *otg_graph_params(otg_graph *g, int64_t *count) {
    if (count) *count = g ? g->n_params : 0;
    return g ? g->params : NULL;
}

float *otg_graph_grads(otg_graph *g, int64_t *count) {
    if (count) *count = g ? g->n_params : 0;
    return g && g->compiled_nodes ? g->grads : NULL;
}

int64_t otg_graph_node_count(const otg_graph *g) {
    return g ? g->n_nodes : 0;
}

int64_t otg_graph_param_sizes(const otg_graph *g, int64_t *sizes, int64_t max) {
    int64_t k = 0;
    for (int64_t i = 0; g && i < g->n_nodes; i++)
        if (g->nodes[i]->param_off >= 0) {
            if (sizes && k < max) sizes[k] = g->nodes[i]->numel;
            k++;
        }
    return k;
}

float *otg_node_data(otg_node *n) {
    if (!n) return NULL;
    if (n->param_off >= 0) return n->graph->params + n->param_off;
    return n->graph->compiled_nodes > n->id ? n->value : NULL;
}

float *otg_node_grad(otg_node *n) {
    if (!n || n->graph->compiled_nodes <= n->id) return NULL;
    return n->grad;
}

otg_tensor otg_node_value(otg_node *n) {
    otg_tensor t = {NULL, {0, 0, 0, 0}, 0, 0};
    if (!n) return t;
    t.data = otg_node_data(n);
    t.ndim = n->ndim;
    memcpy(t.shape, n->shape, sizeof t.shape);
    return t;
}

int otg_node_ndim(const otg_node *n) {
    return n ? n->ndim : 0;
}
const int64_t *otg_node_shape(const otg_node *n) {
    return n ? n->shape : NULL;
}
int64_t otg_node_numel(const otg_node *n) {
    return n ? n->numel : 0;
}
otg_op otg_node_op(const otg_node *n) {
    return n ? n->op : OTG_OP_COUNT;
}
