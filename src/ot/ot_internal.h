/* Private helpers of the ot module: the stable float sort (radix on float keys) and the 1-D
 * transport kernels on sorted supports shared by the SW drivers and the public 1-D function. */
#ifndef OTGEN_OT_INTERNAL_H
#define OTGEN_OT_INTERNAL_H

#include "internal.h"
#include "otgen/ot.h"

/* Scratch for sorting up to cap values: two arrays of packed (key, index) words. */
typedef struct {
    uint64_t *w0, *w1;
    int64_t cap;
} otgi_sort_scratch;

/* (Re)sizes the scratch for n values; OTG_ENOMEM on failure. */
otg_status otgi_sort_reserve(otgi_sort_scratch *s, int64_t n);
void otgi_sort_release(otgi_sort_scratch *s);

/* Sorts x[n] ascending into sorted[n]; perm[i] (if not NULL) receives the index in x of
 * sorted[i]. Stable: equal values keep their index order (-0 and +0 count as equal). Returns the
 * number of adjacent equal pairs in the sorted output (ties). NaNs sort to the ends. */
int64_t otgi_sort_f32(const float *x, int64_t n, float *sorted, int32_t *perm,
                      otgi_sort_scratch *s);
/* The two engines behind otgi_sort_f32, same contract and the same bits: the C radix sort (the
 * reference) and Highway's vqsort (the C radix when built without libhwy). */
int64_t otgi_sort_f32_c(const float *x, int64_t n, float *sorted, int32_t *perm,
                        otgi_sort_scratch *s);
int64_t otgi_sort_f32_vq(const float *x, int64_t n, float *sorted, int32_t *perm,
                         otgi_sort_scratch *s);
/* The engine otgi_sort_f32 uses for n values (with_perm: a permutation wanted): 0 the C radix,
 * 1 vqsort. Per size class (2^c <= n < 2^(c+1)) the faster on this machine, timed at the first
 * call of the class in the process; the environment variable OTGEN_SORT=c or vq forces one
 * engine (auto, the default, and any other value measure). */
int otgi_sort_engine(int64_t n, int with_perm);
/* Whether value (an OTGEN_SORT setting, NULL when unset) is one of c, vq, auto. */
int otgi_sort_mode_valid(const char *value);
#ifdef OTGEN_HAVE_HWY
/* sort_vq.cc: ascending in place, through a per-thread hwy::Sorter. */
void otgi_vqsort_u32(uint32_t *keys, int64_t n);
void otgi_vqsort_u64(uint64_t *keys, int64_t n);
#endif

/* 1-D cost pieces for a residual r = s - t: value |r|^p and derivative p sign(r) |r|^(p-1)
 * (0 at r = 0: the selection documented for p = 1). */
static inline double otgi_cost(double r, double p) {
    double a = r < 0 ? -r : r;
    if (p == 2.0) return r * r;
    if (p == 1.0) return a;
    return __builtin_pow(a, p);
}
static inline double otgi_cost_deriv(double r, double p) {
    if (p == 2.0) return 2.0 * r;
    double sg = r > 0 ? 1.0 : r < 0 ? -1.0 : 0.0;
    if (p == 1.0) return sg;
    return p * sg * __builtin_pow(sg * r, p - 1.0);
}

/* Equal sizes, uniform weights, on sorted s[n], t[n]: returns (1/n) sum |s_i - t_i|^p and, if
 * ds is not NULL, ds[i] = scale * d/ds_i of sum |s_i - t_i|^p (scale carries 1/(n L)). */
double otgi_w1d_sorted_equal(const float *s, const float *t, int64_t n, double p, double scale,
                             float *ds);

/* General weights (normalised, in sorted order) on sorted s[n], t[m]: the north-west-corner plan
 * on the quantile intervals. Returns sum_ij mass_ij |s_i - t_j|^p; ds[n] and dt[m] (either may be
 * NULL) receive scale * the derivatives. */
double otgi_w1d_sorted_general(const float *s, const double *a, int64_t n, const float *t,
                               const double *b, int64_t m, double p, double scale, double *ds,
                               double *dt);

/* The same for uniform weights when one size divides the other (m = k n or n = k m): the plan
 * pairs s_i with t_ki .. t_ki+k-1 (or s_ki .. s_ki+k-1 with t_i), mass 1 / max(n, m) each, with
 * no weight arrays or merge; ds[n] (or NULL) receives scale * the derivatives. The pairs and
 * sums in the same order as otgi_w1d_sorted_general's, so the same bits when 1/n and 1/m are
 * exact (powers of two) and the same value up to rounding otherwise. */
double otgi_w1d_sorted_blocks(const float *s, int64_t n, const float *t, int64_t m, double p,
                              double scale, double *ds);

/* Normalised weights out[n] from w[n] (NULL: uniform); OTG_EINVAL naming `who` on negative,
 * non-finite or all-zero weights. */
otg_status otgi_weights(const float *w, int64_t n, const char *who, double *out);

/* ---- the SW kernel's state, shared by sw.c (one process) and sw_comm.c (distributed) ---- */
enum { DIR_BLOCK = 256, PROJ_ROWS = 512 };

typedef struct {
    otgi_sort_scratch sc;
    float *ss, *st, *ds;  /* sorted x and y projections [n], [m]; residuals [n] */
    int32_t *ps, *pt;     /* their permutations */
    double *wa, *wb, *gs; /* weights in sorted order [n], [m]; general-path gradient [n] */
    float *hb;            /* otg_sw_opts.fast: GROUP * N floats of transform scratch */
    int64_t hb_cap;
} otgi_sw_scratch;

struct otg_sw_workspace {
    float *proj_x, *proj_y; /* [chunk, n] (then the residuals R^T), [chunk, m] */
    double *w_dir;          /* [L] W_p^p per direction */
    double *dw;             /* [L] normalised per-direction weights (opts.weights) */
    double *a, *b;          /* normalised weights [n], [m] */
    double *est;            /* the estimators' doubles (sw_estimators.c), est_cap of them */
    float *keep;            /* UCV with gradient: the projections of x [L, n], keep_cap floats */
    int64_t est_cap, keep_cap;
    otgi_sw_scratch *ts;
    int n_threads;
    int64_t n, m, chunk, L; /* the sizes the buffers hold */
};

/* The problem of one call, shared by the phases. */
typedef struct {
    const float *x, *y, *theta; /* [n, d], [m, d], [d, L] */
    int64_t n, m, d, L;
    double p;
    int general;         /* weights given or n != m */
    int blocks;          /* general, no weights, and one size divides the other: the 1-D plans
                          * by otgi_w1d_sorted_blocks */
    float *grad;         /* [n, d] or NULL */
    const double *dir_w; /* normalised direction weights [L], or NULL: 1/L each */
    const float *yq;     /* otg_sw_to_quantiles: the target's interval means [L, n] (y unused,
                          * m = n, p = 2), or NULL */
    const double *yc;    /* with yq: the within-interval variances [L] added to W_2^2 */
    const otg_sw_hadamard *fast; /* theta in structured form: projections by fast transforms,
                                  * one chunk of all L directions; or NULL */
} otgi_sw_problem;

/* The problem of x (weights a) against y (weights b) along theta, uniform direction weights. */
static inline otgi_sw_problem otgi_sw_problem_of(const otg_tensor *x, const float *a,
                                                 const otg_tensor *y, const float *b,
                                                 const otg_tensor *theta, double p, float *grad) {
    return (otgi_sw_problem){.x = x->data,
                             .y = y->data,
                             .theta = theta->data,
                             .n = x->shape[0],
                             .m = y->shape[0],
                             .d = x->shape[1],
                             .L = theta->shape[1],
                             .p = p,
                             .general = a || b || x->shape[0] != y->shape[0],
                             .blocks =
                                 !a && !b && x->shape[0] != y->shape[0] &&
                                 (x->shape[0] % y->shape[0] == 0 || y->shape[0] % x->shape[0] == 0),
                             .grad = grad};
}

/* otg_sw's chunk of directions: the option rounded up to DIR_BLOCK, at most L rounded up. */
static inline int64_t otgi_sw_chunk_size(int64_t chunk, int64_t L) {
    const int64_t c = (chunk + DIR_BLOCK - 1) / DIR_BLOCK * DIR_BLOCK;
    const int64_t all = (L + DIR_BLOCK - 1) / DIR_BLOCK * DIR_BLOCK;
    return c < all ? c : all;
}

/* Whether lc directions of q are worth the thread pool: below (n + m) lc (d + 16) = 2^18 the
 * kernel stays on the calling thread (waking the pool costs more than it saves; the bits do not
 * depend on the thread count either way). */
static inline int otgi_sw_parallel(const otgi_sw_problem *q, int64_t lc) {
    return (double)(q->n + q->m) * (double)lc * (double)(q->d + 16) >= (double)(1 << 18);
}

/* Phase A's product: out [ls, rows] (row stride ld) = Theta[:, col0, col0 + ls)^T pts^T for the
 * points pts [rows, d] and theta [d, L]. otg_sw calls it on blocks of DIR_BLOCK directions
 * aligned to global indices times PROJ_ROWS rows; the same calls give the same bits (pairwise). */
void otgi_sw_project_block(const float *theta, int64_t L, int64_t col0, int64_t ls,
                           const float *pts, int64_t rows, int64_t d, float *out, int64_t ld);
/* hadamard.c, the fast path of phases A and C: out [L, rows] (row stride ld) the projections of
 * pts [rows, d]; grad [rows, d] += the residuals res [L, rows] (row stride ld) mapped back by the
 * transposed transforms. buf: otgi_hadamard_scratch(h) floats. */
enum { OTGI_HADAMARD_GROUP = 8 };
/* x [n] := H (s . x), H the unnormalised Walsh-Hadamard matrix, n a power of two, s NULL: no
 * product. otgi_fwht takes AVX2 where the CPU has it, otgi_fwht_c is the scalar reference: the
 * same bits. */
void otgi_fwht(float *x, const float *s, int64_t n);
void otgi_fwht_c(float *x, const float *s, int64_t n);
static inline int64_t otgi_hadamard_scratch(const otg_sw_hadamard *h) {
    return OTGI_HADAMARD_GROUP * h->n_fft;
}
void otgi_hadamard_project(const otg_sw_hadamard *h, const float *pts, int64_t rows, float *out,
                           int64_t ld, float *buf);
void otgi_hadamard_adjoint_add(const otg_sw_hadamard *h, const float *res, int64_t ld, int64_t rows,
                               float *grad, float *buf);
/* Rows per gradient item of phase C: depends on n only. */
int64_t otgi_sw_grad_rows(int64_t n);
/* Grows ws to hold (n, m, chunk, L) with `threads` scratch sets; no-op when it does. */
otg_status otgi_sw_reserve(otg_sw_workspace *ws, int64_t n, int64_t m, int64_t chunk, int64_t L,
                           int threads);
/* The three phases over the directions [c0, c0 + lc) of q; returns the ties met. */
int64_t otgi_sw_chunk(otg_sw_workspace *ws, const otgi_sw_problem *q, int64_t c0, int64_t lc);
/* Phase B for direction l of the chunk starting at c0 (sorts, W_p^p into w_dir[c0 + l], the
 * residuals over proj_x row l); returns the ties met. */
int64_t otgi_sw_direction(otg_sw_workspace *ws, const otgi_sw_problem *q, otgi_sw_scratch *t,
                          int64_t c0, int64_t l);
/* Phase A item k (directions block x row block of x, then of y) of the chunk [c0, c0 + lc), nb_x
 * row blocks of x; phase C item r (a row block of grad += R Theta_chunk^T). */
void otgi_sw_project(otg_sw_workspace *ws, const otgi_sw_problem *q, int64_t c0, int64_t lc,
                     int64_t k, int64_t nb_x);
void otgi_sw_gradient_rows(otg_sw_workspace *ws, const otgi_sw_problem *q, int64_t c0, int64_t lc,
                           int64_t r);
/* Argument checks of otg_sw; mean, standard error and distance of w[L] summed in index order;
 * the weighted version with normalised weights dw [L] (see otg_sw_opts.weights). */
otg_status otgi_sw_check(const otg_tensor *x, const otg_tensor *y, const otg_tensor *theta,
                         const otg_sw_opts *o);
void otgi_sw_summarise(const double *w, int64_t L, double p, otg_sw_result *res);
void otgi_sw_summarise_weighted(const double *w, const double *dw, int64_t L, double p,
                                otg_sw_result *res);

/* ---- the loss ops (loss_node.c) ---- */

/* The node loss [1] = op(x, y) of the clouds x [n, d], y [m, d] (the same d, at least min_rows
 * rows each), with *grad_x grown to [n, d] for the forward to fill; NULL with the error set (the
 * op's name in the message). */
otg_node *otgi_loss_node(otg_graph *g, otg_node *x, otg_node *y, const otg_custom_op *op, void *ctx,
                         float **grad_x, int64_t min_rows);
/* gin[0] (x's gradient, when wanted) += gout[0] grad_x, x's numel entries. */
otg_status otgi_loss_backward(const float *grad_x, const otg_tensor *x, const otg_tensor *gout,
                              otg_tensor *gin);

#endif
