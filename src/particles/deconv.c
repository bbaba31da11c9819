/* particles problem deconv: sparse spikes on the torus [0, 1) seen through the Dirichlet kernel
 * psi(s) = sum_{|k|<=K} e^{2 pi i k s}. Particle u = (w, t). The observation is
 * y = (1/m0) sum_j w*_j psi(. - t*_j) (the truth as particles in the student's normalisation);
 * R(f) = 0.5 ||f - y||^2_{L2(0,1)} = 0.5 sum_{k=-K..K} |rho_k|^2 exactly (Parseval), with
 * rho_k = (1/m) sum_i w_i e^{-2 pi i k t_i} - yhat_k; real signals give rho_{-k} = conj(rho_k), so
 * only k = 0..K are stored (k > 0 counted twice). V = lambda |w| (subgradient sign(w), 0 at 0).
 * Init: w = 0, t_i = (i + 1/2)/m. Computed in double from the float particles.
 * Metric: the position component of the speed is divided by (2 pi K)^2 (the flow for the metric
 * diag(1, (2 pi K)^2) on (w, t)); otherwise positions, whose curvature grows like (2 pi K)^2 w^2,
 * would need a step thousands of times smaller than the weights. */
#include "internal.h"
#include "otgen/particles.h"
#include "particles_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define TWO_PI 6.283185307179586

typedef struct {
    otg_particles_params p;
    int64_t K;
    float *truth;      /* [m0, 2] */
    double *yre, *yim; /* yhat_k, k = 0..K */
    double *rre, *rim; /* rho_k */
} deconv;

static int64_t deconv_dim(const otg_particles_params *p) {
    return 2;
}

static void deconv_destroy(void *state) {
    deconv *s = state;
    if (!s) return;
    free(s->truth), free(s->yre), free(s->yim), free(s->rre), free(s->rim);
    free(s);
}

/* c_k = (1/n) sum_i w_i e^{-2 pi i k t_i} for k = 0..K (parallel over k, fixed order over i). */
static void fourier(const float *u, int64_t n, int64_t K, double *re, double *im) {
#pragma omp parallel for schedule(static) if (n * (K + 1) >= OTGI_PAR_MIN_WORK / 16)
    for (int64_t k = 0; k <= K; k++) {
        double a = 0.0, b = 0.0;
        for (int64_t i = 0; i < n; i++) {
            double ph = TWO_PI * (double)k * (double)u[2 * i + 1], w = (double)u[2 * i];
            a += w * cos(ph), b -= w * sin(ph);
        }
        re[k] = a / (double)n, im[k] = b / (double)n;
    }
}

static void *deconv_create(const otg_particles_params *p, int64_t m) {
    deconv *s = otgi_calloc(1, sizeof *s);
    if (!s) return NULL;
    s->p = *p, s->K = p->kernel_order;
    size_t nk = (size_t)(s->K + 1);
    s->truth = otgi_calloc((size_t)(2 * p->m0), sizeof(float));
    s->yre = otgi_calloc(nk, sizeof(double)), s->yim = otgi_calloc(nk, sizeof(double));
    s->rre = otgi_calloc(nk, sizeof(double)), s->rim = otgi_calloc(nk, sizeof(double));
    if (!s->truth || !s->yre || !s->yim || !s->rre || !s->rim) {
        deconv_destroy(s);
        otgi_fail(OTG_ENOMEM, "particles: out of memory");
        return NULL;
    }
    /* Spikes: evenly spread with a random shift and a jitter of +-0.15 spacings (separation at
     * least 0.7/m0); weights alternate in sign with magnitudes in [1, 2). */
    otg_rng r = otg_rng_make(p->seed, 1);
    double shift = otg_rng_uniform(&r);
    for (int64_t j = 0; j < p->m0; j++) {
        double t = ((double)j + 0.5 + 0.3 * (otg_rng_uniform(&r) - 0.5)) / (double)p->m0 + shift;
        double w = (1.0 + otg_rng_uniform(&r)) * ((j % 2) ? -1.0 : 1.0);
        s->truth[2 * j] = (float)w, s->truth[2 * j + 1] = (float)(t - floor(t));
    }
    fourier(s->truth, p->m0, s->K, s->yre, s->yim);
    return s;
}

static void deconv_init(void *state, int64_t m, float *u) {
    deconv *s = state;
    for (int64_t i = 0; i < m; i++)
        u[2 * i] = 0.0f, u[2 * i + 1] = (float)(((double)i + 0.5) / (double)m);
    if (s->p.init == OTG_PARTICLES_INIT_POINT)
        for (int64_t i = 0; i < m; i++)
            u[2 * i + 1] = u[1];
}

static otg_status deconv_eval(void *state, const float *u, int64_t m, otg_rng *batch, double *F,
                              float *g) {
    deconv *s = state;
    int64_t K = s->K;
    double lam = s->p.lambda, *rre = s->rre, *rim = s->rim;
    double pscale = 1.0 / (TWO_PI * (double)K * TWO_PI * (double)K);
    fourier(u, m, K, rre, rim);
    double R = 0.0, V = 0.0;
    for (int64_t k = 0; k <= K; k++) {
        rre[k] -= s->yre[k], rim[k] -= s->yim[k];
        R += (k ? 2.0 : 1.0) * (rre[k] * rre[k] + rim[k] * rim[k]);
    }
    for (int64_t i = 0; i < m; i++)
        V += fabs((double)u[2 * i]);
    *F = 0.5 * R + lam * V / (double)m;
    if (!isfinite(*F)) return otgi_fail(OTG_ENONFINITE, "particles: objective is not finite");
    if (!g) return OTG_OK;
        /* m dR/dw_i = sum_k c_k Re(conj(rho_k) e^{-i phi}) = sum_k c_k (a cos phi - b sin phi);
         * m dR/dt_i = -w_i sum_k c_k 2 pi k (a sin phi + b cos phi); c_0 = 1, c_k = 2. */
#pragma omp parallel for schedule(static) if (m * (K + 1) >= OTGI_PAR_MIN_WORK / 16)
    for (int64_t i = 0; i < m; i++) {
        double w = (double)u[2 * i], t = (double)u[2 * i + 1], gw = 0.0, gt = 0.0;
        for (int64_t k = 0; k <= K; k++) {
            double ph = TWO_PI * (double)k * t, c = cos(ph), sn = sin(ph), ck = k ? 2.0 : 1.0;
            gw += ck * (rre[k] * c - rim[k] * sn);
            gt -= ck * TWO_PI * (double)k * (rre[k] * sn + rim[k] * c);
        }
        gw += lam * (double)((w > 0.0) - (w < 0.0));
        g[2 * i] = (float)gw, g[2 * i + 1] = (float)(w * gt * pscale);
    }
    return OTG_OK;
}

static void deconv_project(void *state, int64_t m, float *u) {
    for (int64_t i = 0; i < m; i++) {
        double t = (double)u[2 * i + 1];
        u[2 * i + 1] = (float)(t - floor(t));
        if (u[2 * i + 1] >= 1.0f) u[2 * i + 1] = 0.0f;
    }
}

static const float *deconv_truth(const void *state, int64_t *n) {
    const deconv *s = state;
    *n = s->p.m0;
    return s->truth;
}

static double deconv_minimum(const void *state) {
    const deconv *s = state;
    return s->p.lambda == 0.0 ? 0.0 : (double)NAN;
}

/* Chart coordinates of a spike u = (w, t): (t, w / m), the position and the mass. */
static void deconv_xy(const float *u, int64_t dim, int64_t m, float *xy) {
    (void)dim;
    xy[0] = u[1], xy[1] = (float)((double)u[0] / (double)m);
}

/* The signed mass on [0, x_g], M(x_g) = (1/norm) sum_{t_i <= x_g} w_i, on the grid
 * x_g = g / (n_grid - 1), for spikes u[n, 2] = (w, t); out[n_grid]. */
static void deconv_mass(const float *u, int64_t n, int64_t dim, int64_t norm, int n_grid,
                        double *out) {
    (void)dim;
    for (int g = 0; g < n_grid; g++)
        out[g] = 0.0;
    for (int64_t i = 0; i < n; i++) {
        int g0 = (int)ceil((double)u[2 * i + 1] * (n_grid - 1));
        for (int g = g0 < 0 ? 0 : g0; g < n_grid; g++)
            out[g] += (double)u[2 * i] / (double)norm;
    }
}

static const otg_particles_profile deconv_mass_chart = {
    .file = "mass_vs_t.png",
    .what = "mass on [0, t]",
    .xlabel = "position t",
    .ylabel = "(1/m) sum of w_i over t_i <= t",
    .eval = deconv_mass,
};

const otg_particles_type otg_particles_deconv = {
    .name = "deconv",
    .summary = "sparse spikes on the torus, Dirichlet kernel, exact Fourier loss, V = lambda|w|",
    .default_steps = 3000,
    .default_lr = 0.03,
    .dim = deconv_dim,
    .create = deconv_create,
    .destroy = deconv_destroy,
    .init = deconv_init,
    .eval = deconv_eval,
    .project = deconv_project,
    .truth = deconv_truth,
    .minimum = deconv_minimum,
    .xy = deconv_xy,
    .xy_title = "position t vs mass w/m over time",
    .truth_label = "true spikes",
    .profile = &deconv_mass_chart,
};
