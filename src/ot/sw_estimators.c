/* Estimators of SW_p^p beyond the plain mean, on the fused kernel's phases (sw.c): the control
 * variates LCV and UCV (Nguyen & Ho, ICLR 2024) and energy-based SW (EBSW; Nguyen & Ho, NeurIPS
 * 2023). Phases A (projections) and B (sorts, W_l, residuals) run as in otg_sw; from each
 * direction's projections, before the residuals overwrite them, its projected means and variances
 * give C(theta_l) in O(n + m). Once every W_l and C_l is known, each direction's residual row
 * becomes L u_l R_l + v_l G_l (R_l the kernel's residuals of W_l, scaled 1/L; G_l those of C_l)
 * and one phase C (R Theta^T by GEMM) gives the gradient of the estimate: so with a gradient the
 * residuals of all L directions are held at once. Sums in index order, parallel loops over fixed
 * items: the same bits for any thread count. */
#include "ot/ot_internal.h"
#include "otgen/ot.h"

#include <math.h>
#include <omp.h>
#include <string.h>

static const char *const NAMES[] = {"mc", "lcv", "ucv", "ebsw"};

otg_status otg_sw_estimator_parse(const char *name, otg_sw_estimator *out) {
    for (int k = 0; name && k < 4; k++)
        if (!strcmp(name, NAMES[k])) {
            *out = (otg_sw_estimator)k;
            return OTG_OK;
        }
    return otgi_fail(OTG_EINVAL, "unknown SW estimator '%s' (mc, lcv, ucv, ebsw)",
                     name ? name : "");
}

const char *otg_sw_estimator_name(otg_sw_estimator e) {
    return (int)e >= 0 && (int)e < 4 ? NAMES[e] : "?";
}

otg_status otg_ebsw_energy_parse(const char *name, otg_ebsw_energy *out) {
    if (name && !strcmp(name, "exp"))
        *out = OTG_EBSW_EXP;
    else if (name && !strcmp(name, "identity"))
        *out = OTG_EBSW_IDENTITY;
    else
        return otgi_fail(OTG_EINVAL, "unknown EBSW energy '%s' (exp, identity)", name ? name : "");
    return OTG_OK;
}

otg_sw_estimator_opts otg_sw_estimator_opts_default(void) {
    otg_sw_estimator_opts e = {OTG_SW_EST_MC, OTG_EBSW_EXP, 1.0, 0};
    return e;
}

/* The parts of one call; the arrays live in ws->est. */
typedef struct {
    int cv, ucv;         /* a control variate; the upper one */
    double *mx, *my;     /* [d] weighted means of x and y */
    double *part;        /* [2d] per-column second moments of x and y (UCV) */
    double *c, *px, *py; /* [L] C_l, theta_l^T m_x and theta_l^T m_y from the projections */
    double *u, *v;       /* [L] gradient coefficients of W_l and of C_l */
    double c_mean;       /* E_theta C */
    float *keep;         /* [L, n] the projections of x (UCV with gradient) or NULL */
} est_parts;

/* Grows ws->est to 4d + 5L doubles and ws->keep to `keep` floats; lays out e. */
static otg_status est_reserve(otg_sw_workspace *ws, int64_t d, int64_t L, int64_t keep,
                              est_parts *e) {
    const int64_t need = 4 * d + 5 * L;
    if (need > ws->est_cap) {
        double *p = realloc(ws->est, (size_t)need * sizeof *p);
        if (!p) return otgi_fail(OTG_ENOMEM, "sw: out of memory for the estimator");
        ws->est = p, ws->est_cap = need;
    }
    if (keep > ws->keep_cap) {
        float *p = realloc(ws->keep, (size_t)keep * sizeof *p);
        if (!p) return otgi_fail(OTG_ENOMEM, "sw: out of memory for the UCV projections");
        ws->keep = p, ws->keep_cap = keep;
    }
    e->mx = ws->est, e->my = e->mx + d, e->part = e->my + d;
    e->c = e->part + d, e->px = e->c + L, e->py = e->px + L, e->u = e->py + L, e->v = e->u + L;
    e->keep = keep > 0 ? ws->keep : NULL;
    return OTG_OK;
}

/* m [d] = sum_i w_i x_i over x [n, d] (w NULL: 1/n) and, if sq is not NULL, sq [d] =
 * sum_i w_i x_i^2 per column: rows in order, each an elementwise (vectorised, not reassociated)
 * update. One pass: second moments instead of centred sums, exact enough here (the projections
 * the control variate is compared with are float32). */
OTGI_WIDE_SIMD static void weighted_moments(const float *x, const double *w, int64_t n, int64_t d,
                                            double *m, double *sq) {
    for (int64_t k = 0; k < d; k++)
        m[k] = 0.0;
    for (int64_t k = 0; sq && k < d; k++)
        sq[k] = 0.0;
    for (int64_t i = 0; i < n; i++) {
        const double wi = w ? w[i] : 1.0 / (double)n;
        const float *r = x + i * d;
#pragma omp simd
        for (int64_t k = 0; k < d; k++)
            m[k] += wi * (double)r[k];
        if (sq) {
#pragma omp simd
            for (int64_t k = 0; k < d; k++)
                sq[k] += wi * (double)r[k] * (double)r[k];
        }
    }
}

/* E_theta C over theta uniform on the sphere: LCV |m_x - m_y|^2 / d; UCV E|X - Y|^2 / d over
 * independent X ~ mu, Y ~ nu, i.e. (E|X|^2 + E|Y|^2 - 2 m_x . m_y) / d. */
static void cv_expectation(const otgi_sw_problem *q, const double *wa, const double *wb,
                           est_parts *e) {
    double *sx = e->part, *sy = e->part + q->d;
    weighted_moments(q->x, wa, q->n, q->d, e->mx, e->ucv ? sx : NULL);
    weighted_moments(q->y, wb, q->m, q->d, e->my, e->ucv ? sy : NULL);
    double s = 0.0;
    for (int64_t k = 0; k < q->d; k++)
        s += e->ucv ? sx[k] + sy[k] - 2.0 * e->mx[k] * e->my[k]
                    : (e->mx[k] - e->my[k]) * (e->mx[k] - e->my[k]);
    e->c_mean = s / (double)q->d;
}

/* The weighted sum of the projections p [n] and (if sq) of their squares (w NULL: means):
 * eight interleaved partial sums each (i mod 8, independent chains), added in a fixed order. The
 * rows of eight are one vector update each; the tail goes to the same chains i mod 8. */
OTGI_WIDE_SIMD static double proj_moments(const float *p, const double *w, int64_t n, double *sq) {
    double s[8] = {0}, t[8] = {0};
    const double un = 1.0 / (double)n;
    const int64_t n8 = n - n % 8;
    if (!w && !sq) {
        for (int64_t i = 0; i < n8; i += 8)
#pragma omp simd
            for (int j = 0; j < 8; j++)
                s[j] += (double)p[i + j];
        for (int64_t i = n8; i < n; i++)
            s[i & 7] += (double)p[i];
    } else if (!w) {
        for (int64_t i = 0; i < n8; i += 8)
#pragma omp simd
            for (int j = 0; j < 8; j++)
                s[j] += (double)p[i + j], t[j] += (double)p[i + j] * (double)p[i + j];
        for (int64_t i = n8; i < n; i++)
            s[i & 7] += (double)p[i], t[i & 7] += (double)p[i] * (double)p[i];
    } else {
        for (int64_t i = 0; i < n8; i += 8)
#pragma omp simd
            for (int j = 0; j < 8; j++)
                s[j] += w[i + j] * (double)p[i + j],
                    t[j] += w[i + j] * (double)p[i + j] * (double)p[i + j];
        for (int64_t i = n8; i < n; i++)
            s[i & 7] += w[i] * (double)p[i], t[i & 7] += w[i] * (double)p[i] * (double)p[i];
    }
    const double sum = ((s[0] + s[1]) + (s[2] + s[3])) + ((s[4] + s[5]) + (s[6] + s[7]));
    const double sum2 = ((t[0] + t[1]) + (t[2] + t[3])) + ((t[4] + t[5]) + (t[6] + t[7]));
    if (sq) *sq = w ? sum2 : sum2 * un;
    return w ? sum : sum * un;
}

/* C(theta_l) of direction l of the chunk at c0, from its projections (before phase B). */
static void direction_cv(const otg_sw_workspace *ws, const otgi_sw_problem *q, const double *wa,
                         const double *wb, int64_t c0, int64_t l, est_parts *e) {
    const float *px = ws->proj_x + l * q->n, *py = ws->proj_y + l * q->m;
    double sx = 0.0, sy = 0.0;
    const double mx = proj_moments(px, wa, q->n, e->ucv ? &sx : NULL);
    const double my = proj_moments(py, wb, q->m, e->ucv ? &sy : NULL);
    /* LCV (theta^T (m_x - m_y))^2; UCV E|theta^T (X - Y)|^2 = E p^2 + E q^2 - 2 E p E q */
    e->c[c0 + l] = e->ucv ? sx + sy - 2.0 * mx * my : (mx - my) * (mx - my);
    e->px[c0 + l] = mx, e->py[c0 + l] = my;
}

/* Phases A and B for directions [c0, c0 + lc), with each direction's C_l; returns the ties. */
static int64_t est_chunk(otg_sw_workspace *ws, const otgi_sw_problem *q, const double *wa,
                         const double *wb, int64_t c0, int64_t lc, est_parts *e) {
    const int64_t nb_x = (q->n + PROJ_ROWS - 1) / PROJ_ROWS,
                  nb_y = (q->m + PROJ_ROWS - 1) / PROJ_ROWS;
    const int64_t n_proj = (lc + DIR_BLOCK - 1) / DIR_BLOCK * (nb_x + nb_y);
    int64_t ties = 0;
#pragma omp parallel reduction(+ : ties) if (otgi_sw_parallel(q, lc))
    {
        otgi_sw_scratch *t = &ws->ts[omp_get_thread_num()];
#pragma omp for schedule(dynamic, 1)
        for (int64_t k = 0; k < n_proj; k++)
            otgi_sw_project(ws, q, c0, lc, k, nb_x);
#pragma omp for schedule(dynamic, 1)
        for (int64_t l = 0; l < lc; l++) {
            if (e->cv) direction_cv(ws, q, wa, wb, c0, l, e);
            if (e->keep)
                memcpy(e->keep + (c0 + l) * q->n, ws->proj_x + l * q->n,
                       (size_t)q->n * sizeof(float));
            ties += otgi_sw_direction(ws, q, t, c0, l);
        }
    }
    return ties;
}

/* The control-variate estimate from W [L] and e->c, and the gradient coefficients. With
 * D_l = C_l - E C, S = mean D^2, gamma = mean((W - mean W) D) / S, value = mean W - gamma mean D;
 * d value = sum_l u_l dW_l + sum_l v_l dD_l (dD_l = dC_l - dE C) with, gamma held constant,
 * u_l = 1/L, v_l = -gamma/L, and otherwise (d gamma = (d cov - gamma dS) / S)
 * u_l = (1 - mean D (D_l - mean D) / S) / L, v_l = -(gamma + mean D (W_l - mean W - 2 gamma D_l)
 * / S) / L. */
static double cv_combine(const double *W, int64_t L, int fixed, est_parts *e,
                         otg_sw_estimate_info *info, double *stderr_out) {
    double wbar = 0.0, dbar = 0.0, cbar = 0.0, S = 0.0, cov = 0.0, sq = 0.0;
    for (int64_t l = 0; l < L; l++)
        wbar += W[l], cbar += e->c[l];
    wbar /= (double)L, cbar /= (double)L;
    dbar = cbar - e->c_mean;
    for (int64_t l = 0; l < L; l++) {
        const double D = e->c[l] - e->c_mean;
        S += D * D, cov += (W[l] - wbar) * D;
    }
    S /= (double)L, cov /= (double)L;
    /* a control variate constant up to rounding (d = 1, equal means) carries no information */
    const double scale = e->c_mean * e->c_mean + cbar * cbar;
    const double gamma = S > 1e-20 * scale ? cov / S : 0.0;
    const double value = wbar - gamma * dbar;
    for (int64_t l = 0; l < L; l++) {
        const double D = e->c[l] - e->c_mean, z = W[l] - gamma * D - value;
        sq += z * z;
        e->u[l] = 1.0 / (double)L, e->v[l] = -gamma / (double)L;
        if (!fixed && gamma != 0.0) {
            e->u[l] = (1.0 - dbar * (D - dbar) / S) / (double)L;
            e->v[l] = -(gamma + dbar * (W[l] - wbar - 2.0 * gamma * D) / S) / (double)L;
        }
    }
    *stderr_out = L > 1 ? sqrt(sq / (double)(L - 1)) / sqrt((double)L) : (double)NAN;
    info->gamma = gamma, info->cv_mean = e->c_mean, info->cv_sample_mean = cbar;
    info->ess = (double)L;
    return value;
}

/* EBSW: w = normalise(f(W)) (exp((W - max W) / T) or W; uniform if they sum to 0), value
 * sum w W, the weights into u (held constant in the gradient). */
static double ebsw_combine(const double *W, int64_t L, const otg_sw_estimator_opts *o, est_parts *e,
                           otg_sw_estimate_info *info, double *stderr_out) {
    double mx = W[0], sum = 0.0, s2 = 0.0;
    for (int64_t l = 1; l < L; l++)
        mx = W[l] > mx ? W[l] : mx;
    for (int64_t l = 0; l < L; l++) {
        e->u[l] = o->energy == OTG_EBSW_EXP ? exp((W[l] - mx) / o->temperature) : W[l];
        sum += e->u[l];
    }
    for (int64_t l = 0; l < L; l++) {
        e->u[l] = sum > 0.0 && isfinite(sum) ? e->u[l] / sum : 1.0 / (double)L;
        e->v[l] = 0.0;
        s2 += e->u[l] * e->u[l];
    }
    otg_sw_result r; /* the weighted mean and its standard error */
    otgi_sw_summarise_weighted(W, e->u, L, 1.0, &r);
    *stderr_out = r.stderr_value;
    info->gamma = 0.0, info->cv_mean = 0.0, info->cv_sample_mean = 0.0, info->ess = 1.0 / s2;
    return r.value;
}

/* Residual row l (R_l / L from phase B) becomes L u_l R_l / L + v_l G_l, G_il = 2 a_i
 * (theta_l^T m_x - theta_l^T m_y) for LCV and 2 a_i (P_il - theta_l^T m_y) for UCV. fix_loop is
 * inlined into each branch of fix_row, so every copy of the loop has its tests resolved and
 * vectorises (the same operations, so the same bits). */
#if defined(__GNUC__)
#define ALWAYS_INLINE inline __attribute__((always_inline))
#else
#define ALWAYS_INLINE inline
#endif
static ALWAYS_INLINE void fix_loop(float *restrict r, const float *restrict kp,
                                   const double *restrict wa, int64_t n, double U, double v,
                                   double px, double py, int cv) {
    const double un = 1.0 / (double)n;
    for (int64_t i = 0; i < n; i++) {
        const double ai = wa ? wa[i] : un;
        double g = 0.0;
        if (cv) g = 2.0 * ai * ((kp ? (double)kp[i] : px) - py);
        r[i] = (float)(U * (double)r[i] + v * g);
    }
}

OTGI_WIDE_SIMD static void fix_row(otg_sw_workspace *ws, const otgi_sw_problem *q, const double *wa,
                                   const est_parts *e, int64_t l) {
    float *r = ws->proj_x + l * q->n;
    const float *kp = e->keep ? e->keep + l * q->n : NULL;
    const double U = (double)q->L * e->u[l], v = e->v[l];
    const double px = e->cv ? e->px[l] : 0.0, py = e->cv ? e->py[l] : 0.0;
    const int64_t n = q->n;
    if (!e->cv)
        fix_loop(r, NULL, NULL, n, U, v, px, py, 0);
    else if (kp && wa)
        fix_loop(r, kp, wa, n, U, v, px, py, 1);
    else if (kp)
        fix_loop(r, kp, NULL, n, U, v, px, py, 1);
    else if (wa)
        fix_loop(r, NULL, wa, n, U, v, px, py, 1);
    else
        fix_loop(r, NULL, NULL, n, U, v, px, py, 1);
}

/* grad_i = -(sum_l v_l) grad_i E C (the start of est_gradient), rows in order. */
OTGI_WIDE_SIMD static void grad_start(const otgi_sw_problem *q, const double *wa,
                                      const est_parts *e, double vsum) {
    const int64_t d = q->d;
    for (int64_t i = 0; i < q->n; i++) {
        const double f = vsum * 2.0 * (wa ? wa[i] : 1.0 / (double)q->n) / (double)d;
        const float *xi = q->x + i * d;
        float *gi = q->grad + i * d;
        if (e->ucv) {
#pragma omp simd
            for (int64_t k = 0; k < d; k++)
                gi[k] = (float)(-f * ((double)xi[k] - e->my[k]));
        } else {
#pragma omp simd
            for (int64_t k = 0; k < d; k++)
                gi[k] = (float)(-f * (e->mx[k] - e->my[k]));
        }
    }
}

/* grad [n, d] = sum_l (u_l grad W_l + v_l grad C_l) - (sum_l v_l) grad E C: grad starts at the
 * last term (grad_i E C = 2 a_i (m_x - m_y) / d for LCV, 2 a_i (x_i - m_y) / d for UCV; 0 for
 * EBSW) and phase C adds the rows' GEMM into it. */
static void est_gradient(otg_sw_workspace *ws, const otgi_sw_problem *q, const double *wa,
                         const est_parts *e) {
    const int64_t h = otgi_sw_grad_rows(q->n), n_rows = (q->n + h - 1) / h;
    double vsum = 0.0;
    for (int64_t l = 0; e->cv && l < q->L; l++)
        vsum += e->v[l];
    grad_start(q, wa, e, vsum);
#pragma omp parallel if (otgi_sw_parallel(q, q->L))
    {
#pragma omp for schedule(static)
        for (int64_t l = 0; l < q->L; l++)
            fix_row(ws, q, wa, e, l);
#pragma omp for schedule(dynamic, 1)
        for (int64_t r = 0; r < n_rows; r++)
            otgi_sw_gradient_rows(ws, q, 0, q->L, r);
    }
}

static otg_status check_estimator(const otg_sw_estimator_opts *e, const otg_sw_opts *o) {
    if ((int)e->kind < 0 || (int)e->kind > OTG_SW_EST_EBSW)
        return otgi_fail(OTG_EINVAL, "sw: unknown estimator %d", (int)e->kind);
    if (e->kind == OTG_SW_EST_EBSW && e->energy != OTG_EBSW_EXP && e->energy != OTG_EBSW_IDENTITY)
        return otgi_fail(OTG_EINVAL, "sw: unknown EBSW energy %d", (int)e->energy);
    if (e->kind == OTG_SW_EST_EBSW && e->energy == OTG_EBSW_EXP &&
        !(e->temperature > 0.0 && isfinite(e->temperature)))
        return otgi_fail(OTG_EINVAL, "sw: EBSW temperature %g, need a finite T > 0",
                         e->temperature);
    if (o->weights)
        return otgi_fail(OTG_EINVAL, "sw: per-direction weights apply to the mc estimator only");
    return OTG_OK;
}

/* The MC estimator: otg_sw, and its info. */
static otg_status plain(otg_sw_workspace *ws, const otg_tensor *x, const float *a,
                        const otg_tensor *y, const float *b, const otg_tensor *theta,
                        const otg_sw_opts *opts, otg_sw_result *res, otg_sw_estimate_info *info,
                        float *grad_x, double *per_dir) {
    otg_status st = otg_sw(ws, x, a, y, b, theta, opts, res, grad_x, per_dir);
    if (st == OTG_OK && info)
        *info = (otg_sw_estimate_info){res->value, res->stderr_value,        0.0, 0.0,
                                       0.0,        (double)res->n_directions};
    return st;
}

otg_status otg_sw_estimate(otg_sw_workspace *ws, const otg_tensor *x, const float *a,
                           const otg_tensor *y, const float *b, const otg_tensor *theta,
                           const otg_sw_opts *opts, const otg_sw_estimator_opts *est,
                           otg_sw_result *res, otg_sw_estimate_info *info, float *grad_x,
                           double *per_dir) {
    const otg_sw_estimator_opts eo = est ? *est : otg_sw_estimator_opts_default();
    const otg_sw_opts o = opts ? *opts : otg_sw_opts_default();
    if (eo.kind == OTG_SW_EST_MC)
        return plain(ws, x, a, y, b, theta, opts, res, info, grad_x, per_dir);
    if (!ws || !res) return otgi_fail(OTG_EINVAL, "sw: NULL workspace or result");
    otg_status st = check_estimator(&eo, &o);
    if (st == OTG_OK) st = otgi_sw_check(x, y, theta, &o);
    if (st != OTG_OK) return st;
    otgi_sw_problem q = otgi_sw_problem_of(x, a, y, b, theta, o.p, grad_x);
    const int64_t all = (q.L + DIR_BLOCK - 1) / DIR_BLOCK * DIR_BLOCK;
    int64_t chunk = (o.chunk + DIR_BLOCK - 1) / DIR_BLOCK * DIR_BLOCK;
    chunk = grad_x || chunk > all ? all : chunk; /* the gradient needs every direction at once */
    est_parts e = {.cv = eo.kind != OTG_SW_EST_EBSW, .ucv = eo.kind == OTG_SW_EST_UCV};
    st = otgi_sw_reserve(ws, q.n, q.m, chunk, q.L, omp_get_max_threads());
    if (st == OTG_OK && q.general) st = otgi_weights(a, q.n, "sw: weights of x", ws->a);
    if (st == OTG_OK && q.general) st = otgi_weights(b, q.m, "sw: weights of y", ws->b);
    if (st == OTG_OK) st = est_reserve(ws, q.d, q.L, e.ucv && grad_x ? q.L * q.n : 0, &e);
    if (st != OTG_OK) return st;
    const double *wa = q.general ? ws->a : NULL, *wb = q.general ? ws->b : NULL;
    if (e.cv) cv_expectation(&q, wa, wb, &e);
    int64_t ties = 0;
    for (int64_t c0 = 0; c0 < q.L; c0 += chunk)
        ties += est_chunk(ws, &q, wa, wb, c0, q.L - c0 < chunk ? q.L - c0 : chunk, &e);
    otg_sw_estimate_info in;
    otg_sw_result mc;
    otgi_sw_summarise(ws->w_dir, q.L, q.p, &mc);
    double se;
    const double value = e.cv ? cv_combine(ws->w_dir, q.L, eo.fixed_gamma, &e, &in, &se)
                              : ebsw_combine(ws->w_dir, q.L, &eo, &e, &in, &se);
    in.mc_value = mc.value, in.mc_stderr = mc.stderr_value;
    if (grad_x) est_gradient(ws, &q, wa, &e);
    res->value = value;
    res->distance = isnan(value) ? value : value > 0.0 ? pow(value, 1.0 / q.p) : 0.0;
    res->stderr_value = se, res->n_directions = q.L, res->ties = ties;
    if (info) *info = in;
    if (per_dir) memcpy(per_dir, ws->w_dir, (size_t)q.L * sizeof *per_dir);
    return OTG_OK;
}
