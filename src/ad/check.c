/* ad: the gradient checkers a user runs on their own graph. otg_ad_check_fd compares backprop with
 * central finite differences of a weighted sum of a node (away from kinks); otg_ad_check_path
 * checks the conservative-field path identity along random piecewise-linear curves (through
 * kinks). Both move leaf values in place and restore them; neither prints. */
#include "internal.h"
#include "otgen/ad.h"

#include <math.h>
#include <string.h>

/* The moved variables: nseg slices, each an input node's data and gradient or (node NULL) the
 * flat parameter buffer, in order; n elements in all, the first n_params of them parameters. */
typedef struct {
    otg_graph *g;
    otg_node **nodes; /* [nseg] */
    int nseg;
    int64_t n, n_params;
} vars;

static float *var_x(const vars *v, int i, int64_t *n) {
    if (!v->nodes[i]) return otg_graph_params(v->g, n);
    *n = otg_node_numel(v->nodes[i]);
    return otg_node_data(v->nodes[i]);
}

static const float *var_g(const vars *v, int i) {
    return v->nodes[i] ? otg_node_grad(v->nodes[i]) : otg_graph_grads(v->g, NULL);
}

static void vars_free(vars *v) {
    free(v->nodes);
}

/* The parameter buffer first when params, then nodes[n_nodes]; g must be compiled. */
static otg_status vars_init(vars *v, otg_graph *g, int params, otg_node *const *nodes,
                            int n_nodes) {
    memset(v, 0, sizeof *v);
    v->g = g;
    if (n_nodes < 0 || (n_nodes > 0 && !nodes))
        return otgi_fail(OTG_EINVAL, "ad check: bad list of %d nodes", n_nodes);
    v->nodes = otgi_calloc((size_t)(n_nodes + 1), sizeof *v->nodes);
    if (!v->nodes) return OTG_ENOMEM;
    if (params) v->nseg = 1; /* nodes[0] = NULL: the parameters */
    for (int i = 0; i < n_nodes; i++)
        v->nodes[v->nseg++] = nodes[i];
    for (int i = 0; i < v->nseg; i++) {
        int64_t n;
        if (!var_x(v, i, &n) || (n > 0 && !var_g(v, i)))
            return otgi_fail(OTG_EINVAL,
                             "ad check: variable %d has no gradient (an input needs "
                             "requires_grad)",
                             i);
        v->n += n;
        if (!v->nodes[i]) v->n_params = n;
    }
    if (v->n < 1) return otgi_fail(OTG_EINVAL, "ad check: no variables to move");
    return OTG_OK;
}

/* u[n] = the variables' values. */
static void vars_get(const vars *v, double *u) {
    int64_t k = 0, n;
    for (int i = 0; i < v->nseg; i++) {
        const float *x = var_x(v, i, &n);
        for (int64_t j = 0; j < n; j++)
            u[k++] = (double)x[j];
    }
}

/* The variables = (1 - t) a + t b, rounded to float. */
static void vars_lerp(const vars *v, const double *a, const double *b, double t) {
    int64_t k = 0, n;
    for (int i = 0; i < v->nseg; i++) {
        float *x = var_x(v, i, &n);
        for (int64_t j = 0; j < n; j++, k++)
            x[j] = (float)((1.0 - t) * a[k] + t * b[k]);
    }
}

/* <gradient, b - a> in double, in variable order (a == NULL: ad[n] = the gradient). */
static double vars_grad(const vars *v, const double *a, const double *b, double *ad) {
    int64_t k = 0, n;
    double s = 0.0;
    for (int i = 0; i < v->nseg; i++) {
        const float *gx = var_g(v, i);
        var_x(v, i, &n);
        for (int64_t j = 0; j < n; j++, k++)
            if (ad)
                ad[k] = (double)gx[j];
            else
                s += (double)gx[j] * (b[k] - a[k]);
    }
    return s;
}

/* ---- finite differences -------------------------------------------------------------------- */

otg_ad_fd_opts otg_ad_fd_opts_default(void) {
    return (otg_ad_fd_opts){.h = 1e-3f, .rtol = 1e-2, .atol = 2e-3, .seed = 1};
}

/* L = sum_k w_k out_k after a forward, in double. */
static otg_status fd_loss(otg_graph *g, otg_node *out, const float *w, double *L) {
    otg_status st = otg_graph_forward(g);
    if (st != OTG_OK) return st;
    const float *y = otg_node_data(out);
    double s = 0.0;
    for (int64_t k = 0; k < otg_node_numel(out); k++)
        s += (double)w[k] * (double)y[k];
    *L = s;
    return OTG_OK;
}

/* fd[n]: central differences of L, one variable at a time, restoring each. */
static otg_status fd_column(const vars *v, otg_node *out, const float *w, float h, double *fd) {
    int64_t at = 0, n;
    for (int i = 0; i < v->nseg; i++) {
        float *x = var_x(v, i, &n); /* the buffers stay put: nothing is added to the graph */
        for (int64_t j = 0; j < n; j++, at++) {
            float keep = x[j], xp = keep + h, xm = keep - h;
            double lp, lm;
            x[j] = xp;
            otg_status st = fd_loss(v->g, out, w, &lp);
            x[j] = xm;
            if (st == OTG_OK) st = fd_loss(v->g, out, w, &lm);
            x[j] = keep;
            if (st != OTG_OK) return st;
            fd[at] = (lp - lm) / ((double)xp - (double)xm);
        }
    }
    return OTG_OK;
}

/* The report's figures from ad[n] and fd[n]. */
static void fd_compare(const double *ad, const double *fd, int64_t n, const otg_ad_fd_opts *o,
                       otg_ad_fd_report *r) {
    for (int64_t k = 0; k < n; k++)
        r->max_fd = fmax(r->max_fd, fabs(fd[k]));
    for (int64_t k = 0; k < n; k++) {
        double tol = o->rtol * fabs(fd[k]) + o->atol * r->max_fd + 1e-12, d = fabs(ad[k] - fd[k]);
        double e = d / tol, e2 = fabs(2.0 * ad[k] - fd[k]) / tol;
        if (!(e <= r->max_err)) r->max_err = e, r->worst = k; /* NaN-safe */
        if (e2 > r->wrong2_err) r->wrong2_err = e2;
        if (!(d <= r->max_abs_err)) r->max_abs_err = d;
        if (fd[k] != 0.0 && !(d / fabs(fd[k]) <= r->max_rel_err)) r->max_rel_err = d / fabs(fd[k]);
    }
    r->checked = n;
    r->pass = r->max_err <= 1.0 && r->wrong2_err > 1.0;
}

/* ad[n] and fd[n] for L with weights w; the graph left at the unperturbed point. */
static otg_status fd_run(const vars *v, otg_node *out, const float *w, const otg_ad_fd_opts *o,
                         double *ad, double *fd) {
    double L;
    otg_status st = fd_loss(v->g, out, w, &L);
    if (st != OTG_OK) return st;
    otg_graph_zero_grad(v->g);
    if ((st = otg_graph_backward_seed(v->g, out, w)) != OTG_OK) return st;
    vars_grad(v, NULL, NULL, ad);
    if ((st = fd_column(v, out, w, o->h, fd)) != OTG_OK) return st;
    return fd_loss(v->g, out, w, &L);
}

otg_status otg_ad_check_fd(otg_graph *g, otg_node *out, otg_node *const *wrt, int n_wrt,
                           const otg_ad_fd_opts *opts, otg_ad_fd_report *report) {
    if (!g || !out || !report) return otgi_fail(OTG_EINVAL, "ad check: NULL graph, node or report");
    *report = (otg_ad_fd_report){.worst = -1};
    const otg_ad_fd_opts o = opts ? *opts : otg_ad_fd_opts_default();
    otg_status st = otg_graph_compile(g);
    vars v = {0};
    if (st == OTG_OK) st = vars_init(&v, g, wrt == NULL, wrt, wrt ? n_wrt : 0);
    int64_t m = otg_node_numel(out);
    float *w = st == OTG_OK ? otgi_calloc((size_t)m, sizeof *w) : NULL;
    double *ad = w ? otgi_calloc((size_t)(2 * v.n), sizeof *ad) : NULL;
    if (st == OTG_OK && !ad) st = OTG_ENOMEM;
    if (st == OTG_OK) {
        otg_rng rng = otg_rng_make(o.seed, 999);
        for (int64_t k = 0; k < m; k++)
            w[k] = (float)(otg_rng_uniform(&rng) * 2.0 - 1.0);
        st = fd_run(&v, out, w, &o, ad, ad + v.n);
        if (st == OTG_OK) fd_compare(ad, ad + v.n, v.n, &o, report);
    }
    if (st != OTG_OK) report->max_err = INFINITY;
    free(w), free(ad), vars_free(&v);
    return st;
}

/* ---- the path identity --------------------------------------------------------------------- */

otg_ad_path_opts otg_ad_path_opts_default(void) {
    return (otg_ad_path_opts){
        .curves = 8, .points = 2000, .through_origin = 0.5, .radius = 1.0, .tol = 1e-2, .seed = 1};
}

/* A checker's run state: the variables, f, the options and the kink count of the curve. */
typedef struct {
    vars v;
    otg_node *f;
    const otg_ad_path_opts *o;
    int64_t kinks;
} path;

/* f at (1 - t) a + t b into *f, and <D_f, b - a> into *dot; adds the kink hits. */
static otg_status path_eval(path *p, const double *a, const double *b, double t, double *f,
                            double *dot) {
    vars_lerp(&p->v, a, b, t);
    otg_status st = otg_graph_forward(p->v.g);
    if (st != OTG_OK) return st;
    p->kinks += p->o->kinks ? p->o->kinks(p->o->user, p->v.g) : otg_graph_kink_count(p->v.g);
    otg_graph_zero_grad(p->v.g);
    if ((st = otg_graph_backward(p->v.g, p->f)) != OTG_OK) return st;
    *dot = vars_grad(&p->v, a, b, NULL);
    *f = (double)otg_node_data(p->f)[0];
    return OTG_OK;
}

/* One curve vx[0] -> vx[1] -> vx[2] with M intervals per segment: c's figures. */
static otg_status path_curve(path *p, double *const vx[3], int64_t M, otg_ad_path_curve *c) {
    double integral = 0.0, integral8 = 0.0, variation = 0.0, f0 = 0.0, f1 = 0.0;
    p->kinks = 0;
    for (int seg = 0; seg < 2; seg++)
        for (int64_t j = 0; j <= M; j++) {
            double dot, f;
            otg_status st = path_eval(p, vx[seg], vx[seg + 1], (double)j / (double)M, &f, &dot);
            if (st != OTG_OK) return st;
            double w = j == 0 || j == M ? 0.5 : 1.0;
            integral += w * dot / (double)M;
            variation += w * fabs(dot) / (double)M;
            if (j % 8 == 0) integral8 += w * dot * 8.0 / (double)M;
            if (seg == 0 && j == 0) f0 = f;
            if (seg == 1 && j == M) f1 = f;
        }
    c->lhs = f1 - f0, c->rhs = integral, c->kinks = p->kinks;
    const double den = fmax(fmax(fabs(c->lhs), variation), 1e-30);
    c->vs_lhs = fabs(c->lhs - c->rhs) / fmax(fabs(c->lhs), 1e-30);
    c->coarse = M % 8 == 0 ? fabs(c->lhs - integral8) / den : (double)NAN;
    c->residual = fabs(c->lhs - c->rhs) / den;
    return OTG_OK;
}

/* Vertex x[n] = base + radius * scale * N(0, 1), scale = the RMS of the parameter part (1 for
 * the inputs). */
static void path_vertex(const vars *v, const double *base, double radius, otg_rng *r, double *x) {
    double ss = 0.0;
    for (int64_t i = 0; i < v->n_params; i++)
        ss += base[i] * base[i];
    double sp = v->n_params ? sqrt(ss / (double)v->n_params) : 1.0;
    for (int64_t i = 0; i < v->n; i++)
        x[i] = base[i] + radius * (i < v->n_params ? sp : 1.0) * otg_rng_normal(r);
}

/* Adds curve c to the report (worst values NaN-sticky). */
static void path_add(otg_ad_path_report *r, const otg_ad_path_curve *c, int64_t curves) {
    r->residual_vs_lhs =
        c->vs_lhs > r->residual_vs_lhs || isnan(c->vs_lhs) ? c->vs_lhs : r->residual_vs_lhs;
    r->residual = c->residual > r->residual || isnan(c->residual) ? c->residual : r->residual;
    r->residual_coarse =
        c->coarse > r->residual_coarse || isnan(c->coarse) ? c->coarse : r->residual_coarse;
    r->mean_residual += c->residual / (double)curves;
    r->kink_hits += c->kinks;
    r->curves++;
}

/* The curves; base[n] the starting point, vx[3][n] scratch. */
static otg_status path_run(path *p, double *base, double *const vx[3], otg_ad_path_report *r) {
    const otg_ad_path_opts *o = p->o;
    otg_rng rng = otg_rng_make(o->seed, 2);
    for (int64_t k = 0; k < o->curves; k++) {
        otg_ad_path_curve c = {.index = k};
        c.origin =
            floor((double)(k + 1) * o->through_origin) > floor((double)k * o->through_origin);
        for (int i = 0; i < 3; i++)
            path_vertex(&p->v, base, o->radius, &rng, vx[i]);
        if (c.origin) memset(vx[1], 0, (size_t)p->v.n * sizeof *vx[1]);
        otg_status st = path_curve(p, vx, o->points, &c);
        if (st != OTG_OK) return st;
        path_add(r, &c, o->curves);
        if (o->on_curve) o->on_curve(o->user, &c);
    }
    r->pass = r->residual <= o->tol;
    return OTG_OK;
}

otg_status otg_ad_check_path(otg_graph *g, otg_node *f, const otg_ad_wrt *wrt,
                             const otg_ad_path_opts *opts, otg_ad_path_report *report) {
    if (!g || !f || !wrt || !report) return otgi_fail(OTG_EINVAL, "ad check: NULL argument");
    *report = (otg_ad_path_report){0};
    const otg_ad_path_opts o = opts ? *opts : otg_ad_path_opts_default();
    if (o.curves < 1 || o.points < 1 || otg_node_numel(f) != 1)
        return otgi_fail(OTG_EINVAL, "ad check: needs curves, points >= 1 and a scalar f");
    path p = {.f = f, .o = &o};
    otg_status st = otg_graph_compile(g);
    if (st == OTG_OK) st = vars_init(&p.v, g, wrt->params, wrt->inputs, wrt->n_inputs);
    double *buf = st == OTG_OK ? otgi_calloc((size_t)(4 * p.v.n), sizeof *buf) : NULL;
    if (st == OTG_OK && !buf) st = OTG_ENOMEM;
    if (st == OTG_OK) {
        double *const vx[3] = {buf + p.v.n, buf + 2 * p.v.n, buf + 3 * p.v.n};
        report->variables = p.v.n;
        vars_get(&p.v, buf);
        st = path_run(&p, buf, vx, report);
        vars_lerp(&p.v, buf, buf, 0.0); /* restore the starting point */
        otg_status st2 = otg_graph_forward(g);
        if (st == OTG_OK) st = st2;
    }
    free(buf), vars_free(&p.v);
    return st;
}
