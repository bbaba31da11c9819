/* The fixed-point node x* = T(x*, theta) (implicit.h): a custom op whose forward iterates
 * x <- T(x, theta) on T's own graph and whose backward solves (I - A)^T w = g by the fixed-point
 * iteration w <- g + A^T w (or restarted GMRES, gmres.c), each A^T w a backward pass of
 * T's graph seeded with w, then returns B^T w with one more such pass. Divergence, stagnation and
 * exhausted iterations of either solve are reported as OTG_ENOCONV (non-finite iterates as
 * OTG_ENONFINITE) with the numbers. */
#include "ad/ad_internal.h"
#include "implicit/implicit_internal.h"

#include <math.h>
#include <string.h>

typedef struct {
    otg_graph *outer, *t; /* outer: the graph holding the node; t: T's graph (owned) */
    otg_node *x, *out;    /* in t: the input x and T(x, theta) */
    otg_node *theta[8];   /* in t: the theta inputs */
    int n_theta;
    int64_t n; /* numel(x) */
    otg_fixed_point_opts opts;
    float *w, *buf, *last; /* [n] each: adjoint iterate, scratch, last solution */
    double *gwork;         /* GMRES workspace, or NULL */
    int have_last;
    otg_fixed_point_info info;
    otgi_fixed_point_prepare prepare;
    void *prepare_user;
    void (*prepare_release)(void *);
} fixed_point;

otg_fixed_point_opts otg_fixed_point_opts_default(void) {
    otg_fixed_point_opts o = {1000, 1e-6, 1000, 1e-6, 0, OTG_ADJOINT_ITERATE, 30};
    return o;
}

/* Copies the node's input values into T's theta inputs. */
static void fp_load_theta(fixed_point *f, const otg_tensor *in) {
    for (int i = 0; i < f->n_theta; i++)
        memcpy(otg_node_data(f->theta[i]), in[i].data, (size_t)f->theta[i]->numel * sizeof(float));
}

/* x <- T(x) once; *step = max|T(x) - x|, *big = max|T(x)|. OTG_ENONFINITE on NaN/Inf. */
static otg_status fp_iterate(fixed_point *f, int k, double *step, double *big) {
    otg_status st = otg_graph_forward(f->t);
    if (st != OTG_OK) return st;
    float *x = otg_node_data(f->x);
    const float *y = otg_node_data(f->out);
    double s = 0.0, b = 0.0;
    for (int64_t i = 0; i < f->n; i++) {
        if (!isfinite(y[i]))
            return otgi_fail(OTG_ENONFINITE,
                             "fixed_point: T(x) is not finite (element %lld = %g) "
                             "at iteration %d",
                             (long long)i, (double)y[i], k);
        s = fmax(s, fabs((double)y[i] - (double)x[i]));
        b = fmax(b, fabs((double)y[i]));
    }
    memcpy(x, y, (size_t)f->n * sizeof *x);
    *step = s;
    *big = b;
    return OTG_OK;
}

static otg_status fp_forward(void *ctx, int n_in, const otg_tensor *in, otg_tensor *out) {
    fixed_point *f = ctx;
    if (f->prepare) {
        otg_status st = f->prepare(f->prepare_user, n_in, in);
        if (st != OTG_OK) return st;
    }
    fp_load_theta(f, in);
    float *x = otg_node_data(f->x);
    if (f->opts.warm_start && f->have_last)
        memcpy(x, f->last, (size_t)f->n * sizeof *x);
    else
        memset(x, 0, (size_t)f->n * sizeof *x);
    double step = INFINITY, big = 0.0;
    f->info.adjoint_iters = 0;
    f->info.adjoint_residual = 0.0;
    for (int k = 1; k <= f->opts.max_iter; k++) {
        otg_status st = fp_iterate(f, k, &step, &big);
        if (st != OTG_OK) return st;
        f->info.iters = k;
        f->info.step = step;
        f->info.kinks = otg_graph_kink_count(f->t);
        if (step <= f->opts.tol * (1.0 + big)) {
            memcpy(out->data, x, (size_t)f->n * sizeof *x);
            memcpy(f->last, x, (size_t)f->n * sizeof *x);
            f->have_last = 1;
            return OTG_OK;
        }
    }
    return otgi_fail(OTG_ENOCONV,
                     "fixed_point: x <- T(x, theta) did not converge in %d "
                     "iterations (last step %.3g, tolerance %.3g): is T a contraction in x?",
                     f->opts.max_iter, step, f->opts.tol * (1.0 + big));
}

/* A^T w and B^T w of T's tape at its current point: the grads of x and theta afterwards. */
static otg_status fp_vjp(fixed_point *f, const float *w) {
    otg_graph_zero_grad(f->t);
    return otg_graph_backward_seed(f->t, f->out, w);
}

static double norm2(const float *v, int64_t n) {
    double s = 0.0;
    for (int64_t i = 0; i < n; i++)
        s += (double)v[i] * (double)v[i];
    return sqrt(s);
}

/* The failure message of the adjoint solve: why it stopped, and what that says about A. */
static otg_status fp_adjoint_fail(const fixed_point *f, const char *why, double r, int k) {
    const char *hint =
        strcmp(why, "diverged") == 0
            ? "A = dT/dx has an eigenvalue of modulus > 1 at x*, so w <- g + A^T w cannot converge "
              "(and I - A may be singular)"
            : "A = dT/dx has an eigenvalue of modulus about 1 at x* (I - A is singular or nearly "
              "so "
              "when it is 1), or adjoint_tol is below float32 precision";
    return otgi_fail(OTG_ENOCONV,
                     "fixed_point: adjoint solve (I - A)^T w = g %s (residual %.3g "
                     "|g| after %d iterations, tolerance %.1e): %s",
                     why, r, k, f->opts.adjoint_tol, hint);
}

static otg_status fp_matvec(void *ctx, const float *v, const float **av) {
    fixed_point *f = ctx;
    otg_status st = fp_vjp(f, v);
    *av = otg_node_grad(f->x);
    return st;
}

/* The adjoint equation by GMRES (gmres.c) into f->w. */
static otg_status fp_adjoint_gmres(fixed_point *f, const float *g) {
    otgi_gmres_args a = {f->n,
                         f->opts.gmres_restart,
                         f->opts.adjoint_max_iter,
                         f->opts.adjoint_tol,
                         f->gwork,
                         f->buf,
                         fp_matvec,
                         f};
    const char *why = NULL;
    otg_status st =
        otgi_gmres(&a, g, f->w, &f->info.adjoint_iters, &f->info.adjoint_residual, &why);
    if (st != OTG_OK && why)
        return otgi_fail(OTG_ENOCONV,
                         "fixed_point: GMRES on the adjoint equation (I - A)^T w = g "
                         "%s (residual %.3g |g| after %d passes, tolerance %.1e): I - A is "
                         "singular or nearly so at x*, or adjoint_tol is below float32 precision",
                         why, f->info.adjoint_residual, f->info.adjoint_iters, f->opts.adjoint_tol);
    return st;
}

/* w <- g + A^T w from w = g until |g + A^T w - w| <= adjoint_tol |g|. Stops early when the
 * residual grows 1000-fold over its minimum (divergence) or fails to shrink by 0.1% over 100
 * iterations (stagnation: an eigenvalue 1 of A, as for a singular I - A). */
static otg_status fp_adjoint(fixed_point *f, const float *g) {
    const double gn = norm2(g, f->n);
    memcpy(f->w, g, (size_t)f->n * sizeof *f->w);
    f->info.adjoint_iters = 0;
    f->info.adjoint_residual = 0.0;
    if (gn == 0.0) return OTG_OK; /* w = 0 solves it */
    double rmin = INFINITY, rwin = INFINITY;
    for (int k = 1; k <= f->opts.adjoint_max_iter; k++) {
        otg_status st = fp_vjp(f, f->w);
        if (st != OTG_OK) return st;
        const float *aw = otg_node_grad(f->x);
        double r2 = 0.0;
        for (int64_t i = 0; i < f->n; i++) {
            f->buf[i] = g[i] + aw[i];
            double d = (double)f->buf[i] - (double)f->w[i];
            r2 += d * d;
        }
        memcpy(f->w, f->buf, (size_t)f->n * sizeof *f->w);
        const double r = sqrt(r2) / gn;
        f->info.adjoint_iters = k;
        f->info.adjoint_residual = r;
        if (!isfinite(r)) return fp_adjoint_fail(f, "diverged", r, k);
        if (r <= f->opts.adjoint_tol) return OTG_OK;
        if (r > 1e3 * rmin) return fp_adjoint_fail(f, "diverged", r, k);
        if (k % 100 == 0) {
            if (r >= (1.0 - 1e-3) * rwin) return fp_adjoint_fail(f, "stagnated", r, k);
            rwin = r;
        }
        rmin = fmin(rmin, r);
    }
    return fp_adjoint_fail(f, "did not converge", f->info.adjoint_residual,
                           f->opts.adjoint_max_iter);
}

static otg_status fp_backward(void *ctx, int n_in, const otg_tensor *in, const otg_tensor *out,
                              const otg_tensor *out_grad, otg_tensor *in_grad) {
    fixed_point *f = ctx;
    fp_load_theta(f, in);
    memcpy(otg_node_data(f->x), out->data, (size_t)f->n * sizeof(float));
    /* T's tape (its selections) at x*, with the outer graph's relu'(0) */
    otg_status st = otg_graph_set_relu_prime(f->t, otgi_graph_relu_prime(f->outer));
    if (st == OTG_OK) st = otg_graph_forward(f->t);
    if (st == OTG_OK)
        st = f->gwork ? fp_adjoint_gmres(f, out_grad->data) : fp_adjoint(f, out_grad->data);
    if (st == OTG_OK) st = fp_vjp(f, f->w);
    if (st != OTG_OK) return st;
    for (int i = 0; i < n_in; i++) {
        const float *bw = otg_node_grad(f->theta[i]);
        if (!in_grad[i].data || !bw) continue;
        for (int64_t j = 0; j < f->theta[i]->numel; j++)
            in_grad[i].data[j] += bw[j];
    }
    return OTG_OK;
}

static const otg_custom_op fp_op = {"fixed_point", fp_forward, fp_backward};

static void fp_release(void *ctx) {
    fixed_point *f = ctx;
    if (!f) return;
    if (f->prepare_release) f->prepare_release(f->prepare_user);
    otg_graph_free(f->t);
    free(f->w);
    free(f->buf);
    free(f->last);
    free(f->gwork);
    free(f);
}

static int same_shape(const otg_node *a, const otg_node *b) {
    if (a->ndim != b->ndim) return 0;
    for (int d = 0; d < a->ndim; d++)
        if (a->shape[d] != b->shape[d]) return 0;
    return 1;
}

/* The build-time checks of otg_fixed_point's arguments. */
static otg_status fp_check(otg_graph *g, otg_graph *t, const otg_node *tx, const otg_node *tout,
                           int n_theta, otg_node *const *tth, otg_node *const *th) {
    if (!g || !t || !tx || !tout || !tth || !th)
        return otgi_fail(OTG_EINVAL, "fixed_point: NULL argument");
    if (n_theta < 1 || n_theta > 8)
        return otgi_fail(OTG_EINVAL, "fixed_point: %d theta inputs (1..8 supported)", n_theta);
    if (tx->graph != t || tout->graph != t)
        return otgi_fail(OTG_EINVAL, "fixed_point: x and T(x) must be nodes of T's graph");
    if (tx->op != OTG_OP_INPUT || !tx->requires_grad)
        return otgi_fail(OTG_EINVAL, "fixed_point: x must be an otg_input with requires_grad");
    if (!same_shape(tx, tout))
        return otgi_fail(OTG_ESHAPE,
                         "fixed_point: T(x) has %lld elements in %d dims, x %lld in "
                         "%d",
                         (long long)tout->numel, tout->ndim, (long long)tx->numel, tx->ndim);
    int64_t np = 0;
    otg_graph_params(t, &np);
    if (np)
        return otgi_fail(OTG_EINVAL,
                         "fixed_point: T's graph has %lld parameters; pass T's "
                         "parameters as theta inputs",
                         (long long)np);
    for (int i = 0; i < n_theta; i++) {
        const otg_node *a = tth[i], *b = th[i];
        if (!a || !b) return otgi_fail(OTG_EINVAL, "fixed_point: theta %d is NULL", i);
        if (a->graph != t || a->op != OTG_OP_INPUT || a == tx)
            return otgi_fail(OTG_EINVAL,
                             "fixed_point: theta %d must be an otg_input of T's "
                             "graph other than x",
                             i);
        if (b->graph != g)
            return otgi_fail(OTG_EINVAL, "fixed_point: theta %d of another graph", i);
        if (!same_shape(a, b))
            return otgi_fail(OTG_ESHAPE, "fixed_point: theta %d has %lld elements, T's input %lld",
                             i, (long long)b->numel, (long long)a->numel);
        if (b->requires_grad && !a->requires_grad)
            return otgi_fail(OTG_EINVAL,
                             "fixed_point: theta %d needs a gradient: create T's "
                             "input with requires_grad = 1",
                             i);
    }
    return OTG_OK;
}

otg_node *otg_fixed_point(otg_graph *g, otg_graph *t, otg_node *t_x, otg_node *t_out, int n_theta,
                          otg_node *const *t_theta, otg_node *const *theta,
                          const otg_fixed_point_opts *opts) {
    fixed_point *f = NULL;
    otg_fixed_point_opts o = opts ? *opts : otg_fixed_point_opts_default();
    if (fp_check(g, t, t_x, t_out, n_theta, t_theta, theta) != OTG_OK) goto fail;
    if (o.max_iter < 1 || o.adjoint_max_iter < 1 || !(o.tol >= 0) || !(o.adjoint_tol >= 0) ||
        (o.adjoint_solver != OTG_ADJOINT_ITERATE && o.adjoint_solver != OTG_ADJOINT_GMRES) ||
        (o.adjoint_solver == OTG_ADJOINT_GMRES &&
         (o.gmres_restart < 1 || o.gmres_restart > 1000))) {
        otgi_fail(OTG_EINVAL, "fixed_point: iterations must be >= 1, tolerances >= 0, the "
                              "adjoint solver ITERATE or GMRES (restart 1..1000)");
        goto fail;
    }
    if (otg_graph_compile(t) != OTG_OK || !(f = otgi_calloc(1, sizeof *f))) goto fail;
    f->outer = g;
    f->t = t;
    f->x = t_x;
    f->out = t_out;
    f->n = t_x->numel;
    f->n_theta = n_theta;
    memcpy(f->theta, t_theta, (size_t)n_theta * sizeof *t_theta);
    f->opts = o;
    f->w = otgi_calloc((size_t)f->n, sizeof(float));
    f->buf = otgi_calloc((size_t)f->n, sizeof(float));
    f->last = otgi_calloc((size_t)f->n, sizeof(float));
    if (!f->w || !f->buf || !f->last) goto fail;
    if (o.adjoint_solver == OTG_ADJOINT_GMRES &&
        !(f->gwork = otgi_calloc(otgi_gmres_work_doubles(f->n, o.gmres_restart), sizeof(double))))
        goto fail;
    otg_node *n = otg_custom(g, &fp_op, f, n_theta, theta, t_x->ndim, t_x->shape);
    if (!n) goto fail;
    otgi_custom_adopt(n, fp_release);
    return n;
fail:
    if (f) f->t = NULL;
    fp_release(f);
    otg_graph_free(t);
    return NULL;
}

static fixed_point *fp_of(const otg_node *n) {
    return n && n->op == OTG_OP_CUSTOM && n->custom == &fp_op ? n->custom_ctx : NULL;
}

otg_status otg_fixed_point_stats(const otg_node *n, otg_fixed_point_info *info) {
    const fixed_point *f = fp_of(n);
    if (!f || !info) return otgi_fail(OTG_EINVAL, "fixed_point_stats: not a fixed-point node");
    *info = f->info;
    return OTG_OK;
}

otg_status otgi_fixed_point_set_prepare(otg_node *n, otgi_fixed_point_prepare prepare, void *user,
                                        void (*release)(void *user)) {
    fixed_point *f = fp_of(n);
    if (!f) return otgi_fail(OTG_EINVAL, "fixed_point: not a fixed-point node");
    f->prepare = prepare;
    f->prepare_user = user;
    f->prepare_release = release;
    return OTG_OK;
}
