/* games + minimax: each method on each deterministic game against its known behaviour (Dirac GAN:
 * simGD grows |z|^2 by exactly 1 + a^2 per step, altGDA stays bounded, optimistic, extragradient
 * and anchored converge; anchored's log-log slope of |G|^2 near -(2 - 2p); the strictly convex
 * quadratic makes simGD converge; the nonsmooth game with sign(0) = 0), noise from an explicit
 * stream, bad parameters refused, and the `otgen game` command's files and usage errors. The
 * one-layer generator game: its operator is the gradient field of its loss (finite differences),
 * and SGDA drives cov_err down tenfold at d = 3. The 2-D GAN: its operator against finite
 * differences of L for each loss, the clipping projection, and optimistic Adam learning the
 * mixture (SW to the target halved, modes covered). */
// ctest-labels: unit converge cli
#define _POSIX_C_SOURCE 200809L
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
/* cmocka.h needs the three above first */
#include <cmocka.h>

#include "clirun.h"

#include "otgen/games.h"
#include "otgen/minimax.h"
#include "otgen/study.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define SEED 20190520
#define MAXN 64

static double norm_sq(int64_t n, const double *v) {
    double s = 0.0;
    for (int64_t i = 0; i < n; i++)
        s += v[i] * v[i];
    return s;
}

static double grad_sq(otg_game *g, const double *z) {
    int64_t n = otg_game_nx(g) + otg_game_ny(g);
    double *o = malloc((size_t)n * sizeof(double));
    assert_non_null(o);
    otg_game_operator(g, z, o);
    double s = norm_sq(n, o);
    free(o);
    return s;
}

static double dist(otg_game *g, const double *z) {
    double zs[MAXN], s = 0.0;
    otg_game_saddle(g, zs);
    for (int64_t i = 0; i < otg_game_nx(g) + otg_game_ny(g); i++)
        s += (z[i] - zs[i]) * (z[i] - zs[i]);
    return sqrt(s);
}

static otg_game *make_game(const char *name, int64_t dim) {
    otg_game_classic_params gp;
    const otg_game_type *t = otg_game_type_by_name(name);
    assert_non_null(t);
    assert_int_equal(otg_game_type_defaults(t, &gp), OTG_OK);
    gp.dim = dim, gp.cond = 4.0;
    otg_game *g = otg_game_new(t, &gp, SEED, 0.0);
    assert_non_null(g);
    return g;
}

/* Runs `steps` steps of method on game from z = 1 (deterministic oracle); z [2 dim] out. */
static void run(const char *method, otg_game *g, const otg_minimax_params *mp, int64_t steps,
                double *z) {
    int64_t n = otg_game_nx(g) + otg_game_ny(g);
    otg_minimax *m =
        otg_minimax_new(otg_minimax_type_by_name(method), otg_game_nx(g), otg_game_ny(g), mp);
    assert_non_null(m);
    for (int64_t i = 0; i < n; i++)
        z[i] = 1.0;
    for (int64_t k = 0; k < steps; k++)
        assert_int_equal(otg_minimax_step(m, z, otg_game_oracle, g, NULL), OTG_OK);
    assert_int_equal(otg_minimax_steps(m), steps);
    otg_minimax_free(m);
}

/* The library's slope (otg_loglog_slope, 1/k weights, as otgen game) of log |G(z_k)|^2 against
 * log k over k in [k0, steps]. */
static double fitted_slope(const char *method, otg_game *g, const otg_minimax_params *mp,
                           int64_t k0, int64_t steps) {
    int64_t n = otg_game_nx(g) + otg_game_ny(g);
    double z[MAXN], *k = malloc((size_t)(2 * (steps + 1)) * sizeof(double)), *y = k + steps + 1;
    assert_non_null(k);
    otg_minimax *m =
        otg_minimax_new(otg_minimax_type_by_name(method), otg_game_nx(g), otg_game_ny(g), mp);
    assert_non_null(m);
    for (int64_t i = 0; i < n; i++)
        z[i] = 1.0;
    for (int64_t i = 0; i <= steps; i++) {
        k[i] = (double)i, y[i] = grad_sq(g, z);
        if (i < steps) assert_int_equal(otg_minimax_step(m, z, otg_game_oracle, g, NULL), OTG_OK);
    }
    otg_minimax_free(m);
    double slope = otg_loglog_slope(k, y, steps + 1, (double)k0);
    free(k);
    return slope;
}

/* Central difference (step 1e-6) of coordinate i of G = (d_x L, -d_y L) at z (z restored). */
static double fd_operator(otg_game *g, double *z, int64_t i) {
    double h = 1e-6, zi = z[i];
    z[i] = zi + h;
    double lp = otg_game_loss(g, z);
    z[i] = zi - h;
    double lm = otg_game_loss(g, z);
    z[i] = zi;
    return (lp - lm) / (2 * h) * (i < otg_game_nx(g) ? 1.0 : -1.0);
}

/* ---- Dirac GAN L = xy ----------------------------------------------------------------------- */

static void test_dirac_simgd_grows_exactly(void **state) {
    otg_game *g = make_game("dirac", 1);
    otg_minimax_params mp = otg_minimax_params_default();
    mp.lr = 0.3;
    otg_minimax *m = otg_minimax_new(otg_minimax_simgd, 1, 1, &mp);
    double z[2] = {0.7, -0.2};
    for (int k = 0; k < 200; k++) {
        double before = norm_sq(2, z);
        assert_int_equal(otg_minimax_step(m, z, otg_game_oracle, g, NULL), OTG_OK);
        assert_true(fabs(norm_sq(2, z) / before - (1.0 + mp.lr * mp.lr)) < 1e-12);
    }
    otg_minimax_free(m);
    otg_game_free(g);
}

static void test_dirac_altgda_bounded(void **state) {
    otg_game *g = make_game("dirac", 1);
    otg_minimax_params mp = otg_minimax_params_default();
    double z[2];
    run("altgda", g, &mp, 5000, z);
    assert_true(norm_sq(2, z) > 0.5 && norm_sq(2, z) < 8.0); /* cycles: neither 0 nor infinity */
    otg_game_free(g);
}

static void test_dirac_converging_methods(void **state) {
    otg_game *g = make_game("dirac", 1);
    otg_minimax_params mp = otg_minimax_params_default();
    mp.lr = 0.1, mp.optimism = 0.1; /* 0 < a < 2 b (1 - 2 b R) = 0.16 with R = 1 */
    assert_true(mp.lr < 2 * mp.optimism * (1 - 2 * mp.optimism));
    const char *methods[] = {"optimistic", "extragradient", "anchored"};
    const double tol[] = {1e-4, 1e-4, 0.25}; /* anchored converges at a rate, not geometrically */
    for (int i = 0; i < 3; i++) {
        double z[2];
        run(methods[i], g, &mp, 3000, z);
        assert_true(dist(g, z) < tol[i]);
    }
    otg_game_free(g);
}

static void test_anchored_slope(void **state) {
    otg_minimax_params mp = otg_minimax_params_default(); /* p = 2/3, gamma = 2 */
    double want = -(2.0 - 2.0 * mp.p);
    otg_game *dirac = make_game("dirac", 1), *bil = make_game("bilinear", 8);
    double s1 = fitted_slope("anchored", dirac, &mp, 100, 20000);
    double s2 = fitted_slope("anchored", bil, &mp, 100, 20000);
    assert_true(fabs(s1 - want) < 0.1);
    assert_true(fabs(s2 - want) < 0.1);
    mp.gamma = 3.0, mp.p = 0.75, want = -0.5;
    s1 = fitted_slope("anchored", dirac, &mp, 100, 20000);
    assert_true(fabs(s1 - want) < 0.1);
    otg_game_free(dirac), otg_game_free(bil);
}

/* ---- quadratic, bilinear, nonsmooth --------------------------------------------------------- */

static void test_quadratic_simgd_converges(void **state) {
    otg_game *g = make_game("quadratic", 3); /* rho = 0.4: L = 0.2|x|^2 + <x, y> */
    otg_minimax_params mp = otg_minimax_params_default();
    double z[6];
    run("simgd", g, &mp, 2000, z);
    assert_true(dist(g, z) < 1e-6);
    assert_true(grad_sq(g, z) < 1e-12);
    otg_game_free(g);
}

static void test_bilinear_methods(void **state) {
    otg_game *g = make_game("bilinear", 6);
    double zs[12];
    assert_int_equal(otg_game_saddle(g, zs), 1);
    assert_true(grad_sq(g, zs) < 1e-20);
    otg_minimax_params mp = otg_minimax_params_default();
    mp.lr = 0.2, mp.optimism = 0.3; /* a < 2 b (1 - 2 b R) = 0.24 with R = 1 */
    double z[12];
    run("simgd", g, &mp, 500, z);
    double d_sim = dist(g, z);
    run("optimistic", g, &mp, 5000, z);
    assert_true(dist(g, z) < 1e-3);
    mp.lr = 0.5; /* extragradient needs a < 1/R */
    run("extragradient", g, &mp, 5000, z);
    assert_true(dist(g, z) < 1e-3);
    for (int i = 0; i < 12; i++)
        z[i] = 1.0;
    assert_true(d_sim > dist(g, z)); /* simGD moved away from the saddle */
    otg_game_free(g);
}

static void test_nonsmooth(void **state) {
    otg_game *g = make_game("nonsmooth", 2);
    double zero[4] = {0, 0, 0, 0}, o[4];
    otg_game_operator(g, zero, o); /* sign(0) = 0: the saddle has G = 0 exactly */
    assert_true(norm_sq(4, o) == 0.0);
    double zs[4] = {0.5, -1.0, 2.0, 0.0};
    otg_game_operator(g, zs, o); /* (sign x + y, sign y - x) */
    assert_true(o[0] == 3.0 && o[1] == -1.0 && o[2] == 0.5 && o[3] == 1.0);
    otg_minimax_params mp = otg_minimax_params_default();
    mp.lr = 0.1, mp.lr_exp = 0.5; /* a subgradient method needs a decaying step */
    const char *methods[] = {"simgd", "altgda", "optimistic", "extragradient", "anchored"};
    for (int i = 0; i < 5; i++) {
        double z[4];
        run(methods[i], g, &mp, 5000, z);
        assert_true(isfinite(norm_sq(4, z)));
        assert_true(dist(g, z) < 0.5 * 2.0); /* closer than z_0 = 1 at distance 2 */
    }
    otg_game_free(g);
}

/* ---- noise ---------------------------------------------------------------------------------- */

static void test_noise_stream(void **state) {
    otg_game *g = otg_game_new(otg_game_dirac, NULL, 0, 0.1);
    double z[2] = {1, 1}, o[2];
    assert_int_equal(otg_game_oracle(g, z, o, NULL), OTG_EINVAL); /* noise needs a stream */
    otg_minimax_params mp = otg_minimax_params_default();
    double out[3][2];
    for (int r = 0; r < 3; r++) {
        otg_rng rng = otg_rng_make(SEED, r < 2 ? 7 : 8);
        otg_minimax *m = otg_minimax_new(otg_minimax_anchored, 1, 1, &mp);
        out[r][0] = out[r][1] = 1.0;
        for (int k = 0; k < 3000; k++)
            assert_int_equal(otg_minimax_step(m, out[r], otg_game_oracle, g, &rng), OTG_OK);
        otg_minimax_free(m);
        assert_true(sqrt(norm_sq(2, out[r])) < 0.5); /* anchored still converges under noise */
    }
    assert_memory_equal(out[0], out[1], sizeof out[0]); /* same stream, same bits */
    assert_true(out[0][0] != out[2][0]);                /* another stream, another path */
    otg_game_free(g);
}

/* ---- onelayer -------------------------------------------------------------------------------- */

static otg_game *make_onelayer(int64_t d, const char *act, int64_t eval_n) {
    otg_game_onelayer_params gp;
    assert_int_equal(otg_game_type_defaults(otg_game_onelayer, &gp), OTG_OK);
    gp.dim = d, gp.cond = 2.0, gp.batch = 32, gp.eval_n = eval_n;
    snprintf(gp.act, sizeof gp.act, "%s", act);
    otg_game *g = otg_game_new(otg_game_onelayer, &gp, SEED, 0.0);
    assert_non_null(g);
    return g;
}

/* G = (d_W L, -d_(V,v) L) on the evaluation set, by central differences of L (tanh: smooth;
 * leaky_relu at a random point: away from kinks with probability 1). */
static void test_onelayer_operator_is_gradient(void **state) {
    const char *acts[] = {"tanh", "leaky_relu"};
    for (int a = 0; a < 2; a++) {
        otg_game *g = make_onelayer(3, acts[a], 64);
        int64_t nx = otg_game_nx(g), n = nx + otg_game_ny(g);
        assert_int_equal(nx, 9);
        assert_int_equal(n, 9 + 12);
        double z[MAXN], gz[MAXN], zs[MAXN];
        otg_rng r = otg_rng_make(SEED, 9);
        for (int64_t i = 0; i < n; i++)
            z[i] = 0.7 * otg_rng_normal(&r);
        otg_game_operator(g, z, gz);
        for (int64_t i = 0; i < n; i++) {
            double fd = fd_operator(g, z, i);
            assert_true(fabs(fd - gz[i]) < 1e-6 * (1.0 + fabs(fd)));
        }
        assert_int_equal(otg_game_saddle(g, zs), 0); /* W is known only up to W Q */
        otg_game_free(g);
    }
}

static void test_onelayer_sgda_learns_covariance(void **state) {
    otg_game *g = make_onelayer(3, "relu", 256);
    int64_t n = otg_game_nx(g) + otg_game_ny(g);
    assert_int_equal(otg_game_n_metrics(g), 3);
    assert_string_equal(otg_game_metric_name(g, 0), "cov_err");
    assert_string_equal(otg_game_metric_name(g, 1), "sw");
    assert_string_equal(otg_game_metric_name(g, 2), "tv_dist");
    double z[MAXN], met0[3], met[3], zero[MAXN] = {0};
    assert_int_equal(otg_game_metrics(g, zero, met), OTG_OK);
    assert_true(fabs(met[0] - 1.0) < 1e-12);                         /* W = 0: |0 - C*| / |C*| */
    assert_int_equal(otg_game_oracle(g, zero, z, NULL), OTG_EINVAL); /* samples need a stream */
    otg_rng init = otg_rng_make(SEED, 1), batches = otg_rng_make(SEED, 2);
    otg_game_initial_point(g, 1.0, &init, z);
    assert_int_equal(otg_game_metrics(g, z, met0), OTG_OK);
    otg_minimax_params mp = otg_minimax_params_default();
    mp.lr = 1.0, mp.lr_exp = 0.6; /* a_k = 1/(k+1)^0.6: the minibatch noise dies out */
    otg_minimax *m = otg_minimax_new(otg_minimax_simgd, otg_game_nx(g), otg_game_ny(g), &mp);
    for (int k = 0; k < 3000; k++)
        assert_int_equal(otg_minimax_step(m, z, otg_game_oracle, g, &batches), OTG_OK);
    assert_int_equal(otg_game_metrics(g, z, met), OTG_OK);
    assert_true(met[0] < met0[0] / 10.0);
    assert_true(met[1] < met0[1]);
    assert_true(met[2] < met0[2] / 10.0);
    assert_true(isfinite(norm_sq(n, z)));
    otg_minimax_free(m);
    otg_game_free(g);
}

/* The game's W* (the same stream (seed, 0) as onelayer_new); internal to the library. */
otg_status otgi_game_random_conditioned(int64_t d, double cond, otg_rng *r, double *a);

/* s [d, d] = x x^T */
static void gram(int64_t d, const double *x, double *s) {
    for (int64_t i = 0; i < d; i++)
        for (int64_t j = 0; j < d; j++) {
            s[i * d + j] = 0.0;
            for (int64_t l = 0; l < d; l++)
                s[i * d + j] += x[i * d + l] * x[j * d + l];
        }
}

/* tv_dist against |Sigma*^-1/2 Sigma Sigma*^-1/2 - I|_F^2 = tr((S*^-1 S)^2) - 2 tr(S*^-1 S) + d,
 * with S*^-1 S by Cholesky solves (not the game's Gauss-Jordan inverse); 0 at W* Q (Q orthogonal:
 * the law depends on W W^T only); |c^2 - 1| sqrt(d) at c W*. */
static void test_onelayer_tv_dist_formula(void **state) {
    enum { D = 4 };
    otg_game *g = make_onelayer(D, "relu", 64);
    double ws[D * D], ss[D * D], s[D * D], l[D * D] = {0}, x[D * D], z[MAXN] = {0}, met[3];
    otg_rng r = otg_rng_make(SEED, 0);
    assert_int_equal(otgi_game_random_conditioned(D, 2.0, &r, ws), OTG_OK);
    gram(D, ws, ss);
    for (int64_t j = 0; j < D; j++) /* ss = l l^T */
        for (int64_t i = j; i < D; i++) {
            double a = ss[i * D + j];
            for (int64_t k = 0; k < j; k++)
                a -= l[i * D + k] * l[j * D + k];
            l[i * D + j] = i == j ? sqrt(a) : a / l[j * D + j];
        }
    otg_rng rw = otg_rng_make(SEED, 9);
    for (int trial = 0; trial < 3; trial++) {
        for (int64_t i = 0; i < D * D; i++)
            z[i] = otg_rng_normal(&rw);
        gram(D, z, s);
        for (int64_t c = 0; c < D; c++) { /* column c of x = ss^-1 s: l y = s_c, l^T x_c = y */
            double y[D];
            for (int64_t i = 0; i < D; i++) {
                y[i] = s[i * D + c];
                for (int64_t k = 0; k < i; k++)
                    y[i] -= l[i * D + k] * y[k];
                y[i] /= l[i * D + i];
            }
            for (int64_t i = D - 1; i >= 0; i--) {
                double a = y[i];
                for (int64_t k = i + 1; k < D; k++)
                    a -= l[k * D + i] * x[k * D + c];
                x[i * D + c] = a / l[i * D + i];
            }
        }
        double tr = 0.0, tr2 = 0.0;
        for (int64_t i = 0; i < D; i++) {
            tr += x[i * D + i];
            for (int64_t k = 0; k < D; k++)
                tr2 += x[i * D + k] * x[k * D + i];
        }
        double want = sqrt(tr2 - 2.0 * tr + D);
        assert_int_equal(otg_game_metrics(g, z, met), OTG_OK);
        assert_true(fabs(met[2] - want) < 1e-9 * want);
    }
    double c = 1.0 / sqrt(2.0), q[D * D] = {0}; /* a rotation in the (0, 1) plane */
    for (int64_t i = 0; i < D; i++)
        q[i * D + i] = 1.0;
    q[0] = c, q[1] = -c, q[D] = c, q[D + 1] = c;
    for (int64_t i = 0; i < D; i++)
        for (int64_t j = 0; j < D; j++) {
            z[i * D + j] = 0.0;
            for (int64_t k = 0; k < D; k++)
                z[i * D + j] += ws[i * D + k] * q[k * D + j];
        }
    assert_int_equal(otg_game_metrics(g, z, met), OTG_OK);
    assert_true(met[2] < 1e-12 && met[0] < 1e-12);
    for (int64_t i = 0; i < D * D; i++)
        z[i] = 2.0 * ws[i];
    assert_int_equal(otg_game_metrics(g, z, met), OTG_OK);
    assert_true(fabs(met[2] - 3.0 * sqrt((double)D)) < 1e-11);
    otg_game_free(g);
}

/* ---- bad input ------------------------------------------------------------------------------ */

/* ---- gan2d: MLP generator against MLP discriminator ------------------------------------------ */

enum { GAN_STANDARD, GAN_NONSAT, GAN_WASSERSTEIN };

static otg_game *make_gan(int loss, int64_t hidden, int64_t eval_n, double clip) {
    static const char *const names[] = {"standard", "nonsat", "wasserstein"};
    otg_game_gan2d_params gp;
    assert_int_equal(otg_game_type_defaults(otg_game_gan2d, &gp), OTG_OK);
    gp.hidden = hidden, gp.eval_n = eval_n, gp.clip = clip, gp.batch = 64;
    snprintf(gp.gan_loss, sizeof gp.gan_loss, "%s", names[loss]);
    otg_game *g = otg_game_new(otg_game_gan2d, &gp, SEED, 0.0);
    assert_non_null(g);
    return g;
}

/* Central differences of L against the operator (d_theta L, -d_phi L), coordinate by coordinate;
 * nonsat's generator block is not d_theta L and is compared with standard's instead. */
static void test_gan2d_operator_fd(void **state) {
    for (int loss = 0; loss < 3; loss++) {
        otg_game *g = make_gan(loss, 6, 48, 10.0);
        int64_t nx = otg_game_nx(g), n = nx + otg_game_ny(g);
        assert_int_equal(nx, 6 * 2 + 6 + 36 + 6 + 2 * 6 + 2);
        assert_int_equal(n - nx, 6 * 2 + 6 + 36 + 6 + 6 + 1);
        double *z = malloc((size_t)n * sizeof(double)), *op = malloc((size_t)n * sizeof(double));
        otg_rng r = otg_rng_make(SEED, 1);
        otg_game_initial_point(g, 1.0, &r, z);
        otg_game_operator(g, z, op);
        double worst = 0.0;
        for (int64_t i = loss == GAN_NONSAT ? nx : 0; i < n; i++) {
            double fd = fd_operator(g, z, i);
            worst = fmax(worst, fabs(fd - op[i]) / (1e-4 + fabs(fd)));
        }
        assert_true(worst < 1e-4);
        if (loss == GAN_NONSAT) { /* same discriminator block, other generator block */
            otg_game *std = make_gan(GAN_STANDARD, 6, 48, 10.0);
            double *o2 = malloc((size_t)n * sizeof(double)), diff = 0.0;
            otg_game_operator(std, z, o2);
            for (int64_t i = nx; i < n; i++)
                assert_true(o2[i] == op[i]);
            for (int64_t i = 0; i < nx; i++)
                diff += fabs(o2[i] - op[i]);
            assert_true(diff > 1e-3);
            free(o2), otg_game_free(std);
        }
        free(z), free(op), otg_game_free(g);
    }
}

static void test_gan2d_clip_projection(void **state) {
    otg_game *g = make_gan(GAN_WASSERSTEIN, 8, 32, 0.05);
    otg_game *s = make_gan(GAN_STANDARD, 8, 32, 0.05);
    int64_t nx = otg_game_nx(g), n = nx + otg_game_ny(g);
    double *z = malloc((size_t)n * sizeof(double)), *w = malloc((size_t)n * sizeof(double));
    otg_rng r = otg_rng_make(SEED, 1);
    for (int64_t i = 0; i < n; i++)
        z[i] = w[i] = 3.0 * otg_rng_normal(&r);
    otg_game_project(s, w); /* standard: no constraint */
    for (int64_t i = 0; i < n; i++)
        assert_true(w[i] == z[i]);
    otg_game_project(g, w);
    int clipped = 0;
    for (int64_t i = 0; i < n; i++) {
        if (i < nx)
            assert_true(w[i] == z[i]); /* the generator is free */
        else
            assert_true(fabs(w[i]) <= 0.05 && (fabs(z[i]) <= 0.05 ? w[i] == z[i] : 1));
        clipped += w[i] != z[i];
    }
    assert_true(clipped > 0);
    free(z), free(w), otg_game_free(g), otg_game_free(s);
}

/* Optimistic Adam from a He start: SW to the target at least halves in 2,000 steps and most
 * modes get covered (the start covers at most one). */
static void test_gan2d_optimistic_adam_learns(void **state) {
    otg_game *g = make_gan(GAN_STANDARD, 32, 512, 0.1);
    int64_t n = otg_game_nx(g) + otg_game_ny(g);
    double *z = malloc((size_t)n * sizeof(double)), m0[3], m1[3];
    otg_rng init = otg_rng_make(SEED, 1), batches = otg_rng_make(SEED, 2);
    otg_game_initial_point(g, 1.0, &init, z);
    assert_int_equal(otg_game_metrics(g, z, m0), OTG_OK);
    otg_minimax_params mp = otg_minimax_params_default();
    mp.lr = 0.002, mp.optimism = 0.002;
    otg_minimax *m =
        otg_minimax_new(otg_minimax_optimistic_adam, otg_game_nx(g), otg_game_ny(g), &mp);
    for (int k = 0; k < 2000; k++)
        assert_int_equal(otg_minimax_step(m, z, otg_game_oracle, g, &batches), OTG_OK);
    assert_int_equal(otg_game_metrics(g, z, m1), OTG_OK);
    assert_true(m0[0] <= 1.0);
    assert_true(m1[2] < 0.5 * m0[2]);
    assert_true(m1[0] >= 6.0 && m1[1] > 0.3);
    float gen[8], tgt[8];
    assert_int_equal(otg_game_samples(g, z, 4, gen, tgt), OTG_OK);
    otg_game *d = make_game("dirac", 1);
    assert_int_equal(otg_game_samples(d, z, 4, gen, tgt), OTG_EINVAL);
    otg_game_free(d), otg_minimax_free(m), free(z), otg_game_free(g);
}

static void test_bad_params(void **state) {
    assert_null(otg_minimax_type_by_name("gda"));
    assert_null(otg_game_type_by_name("wgan"));
    otg_minimax_params mp = otg_minimax_params_default();
    mp.p = 1.5;
    assert_null(otg_minimax_new(otg_minimax_anchored, 1, 1, &mp));
    assert_non_null(strstr(otg_last_error(), "p must be in (0, 1)"));
    mp = otg_minimax_params_default();
    mp.lr = 0.0;
    assert_null(otg_minimax_new(otg_minimax_simgd, 1, 1, &mp));
    assert_null(otg_minimax_new(otg_minimax_simgd, 0, 1, &mp));
    otg_game_classic_params gp;
    assert_int_equal(otg_game_type_defaults(otg_game_dirac, &gp), OTG_OK);
    gp.dim = 2;
    assert_null(otg_game_new(otg_game_dirac, &gp, 0, 0.0));
    assert_null(otg_game_new(otg_game_quadratic, NULL, 0, -1.0));
    assert_int_equal(otg_game_type_defaults(otg_game_bilinear, &gp), OTG_OK);
    gp.cond = 0.5;
    assert_null(otg_game_new(otg_game_bilinear, &gp, 0, 0.0));
    otg_game_onelayer_params op;
    assert_int_equal(otg_game_type_defaults(otg_game_onelayer, &op), OTG_OK);
    op.dim = 65;
    assert_null(otg_game_new(otg_game_onelayer, &op, 0, 0.0));
    op.dim = 2, op.lambda = 0.0;
    assert_null(otg_game_new(otg_game_onelayer, &op, 0, 0.0));
    assert_non_null(strstr(otg_last_error(), "lambda"));
    snprintf(op.act, sizeof op.act, "sigmoid");
    op.lambda = 1.0;
    assert_null(otg_game_new(otg_game_onelayer, &op, 0, 0.0));
    assert_non_null(strstr(otg_last_error(), "unknown activation"));
    assert_null(otg_game_new(NULL, NULL, 0, 0.0));
}

/* ---- every type, by enumeration ---------------------------------------------------------------
 */

/* Small knobs for any type, set by name where the type has them (a new game is picked up as is). */
static void *small_params(const otg_game_type *t) {
    static const char *const knobs[][2] = {
        {"dim", "2"}, {"eval-n", "48"}, {"batch", "16"}, {"hidden", "6"}, {"sw-dirs", "8"}};
    void *p = calloc(1, t->params_size ? t->params_size : 1);
    assert_non_null(p);
    assert_int_equal(otg_game_type_defaults(t, p), OTG_OK);
    for (size_t k = 0; k < sizeof knobs / sizeof knobs[0]; k++) {
        int i = otg_params_find(t->params, t->n_params, knobs[k][0]);
        if (i >= 0) (void)otg_param_set_text(&t->params[i], p, knobs[k][1]); /* dirac: dim 1 */
    }
    return p;
}

static otg_game *small_game(const otg_game_type *t) {
    void *p = small_params(t);
    otg_game *g = otg_game_new(t, p, SEED, 0.0);
    free(p);
    assert_non_null(g);
    return g;
}

static void test_registries(void **state) {
    assert_int_equal(otg_game_type_count(), 6);
    assert_null(otg_game_type_at(otg_game_type_count()));
    for (int i = 0; i < otg_game_type_count(); i++) {
        const otg_game_type *t = otg_game_type_at(i);
        assert_ptr_equal(otg_game_type_by_name(otg_game_type_name(t)), t);
        assert_true(strlen(otg_game_type_summary(t)) > 0);
    }
    assert_null(otg_game_type_by_name("wgan"));
    for (int i = 0; i < otg_game_type_count(); i++)
        assert_non_null(strstr(otg_last_error(), otg_game_type_name(otg_game_type_at(i))));
    assert_int_equal(otg_minimax_type_count(), 7);
    assert_null(otg_minimax_type_at(-1));
    for (int i = 0; i < otg_minimax_type_count(); i++) {
        const otg_minimax_type *t = otg_minimax_type_at(i);
        assert_ptr_equal(otg_minimax_type_by_name(otg_minimax_type_name(t)), t);
        assert_true(strlen(otg_minimax_type_summary(t)) > 0);
        int calls = otg_minimax_oracle_calls(t);
        assert_true(calls == 1 || calls == 2);
    }
    assert_null(otg_minimax_type_by_name("gda"));
    for (int i = 0; i < otg_minimax_type_count(); i++)
        assert_non_null(strstr(otg_last_error(), otg_minimax_type_name(otg_minimax_type_at(i))));
}

/* Every game's operator against central differences of its loss at a random point (random
 * coordinates are away from the kinks of nonsmooth and of the ReLUs with probability 1). */
static void test_every_game_field_is_gradient(void **state) {
    for (int t = 0; t < otg_game_type_count(); t++) {
        otg_game *g = small_game(otg_game_type_at(t));
        int64_t n = otg_game_nx(g) + otg_game_ny(g);
        double *z = malloc((size_t)(2 * n) * sizeof(double)), *op = z + n, worst = 0.0;
        assert_non_null(z);
        otg_rng r = otg_rng_make(SEED, 11);
        for (int64_t i = 0; i < n; i++)
            z[i] = 0.5 * otg_rng_normal(&r);
        otg_game_operator(g, z, op);
        for (int64_t i = 0; i < n; i++) {
            double fd = fd_operator(g, z, i);
            worst = fmax(worst, fabs(fd - op[i]) / (1e-4 + fabs(fd)));
        }
        if (worst >= 1e-4) print_error("%s: worst relative error %g\n", otg_game_name(g), worst);
        assert_true(worst < 1e-4);
        free(z), otg_game_free(g);
    }
}

/* |G|^2 after `steps` steps of method t on g from its initial point (seed SEED); -1 when an
 * iterate stopped being finite. */
static double run_method(const otg_minimax_type *t, otg_game *g, const otg_minimax_params *mp,
                         int64_t steps, double *g0) {
    int64_t n = otg_game_nx(g) + otg_game_ny(g);
    double *z = malloc((size_t)n * sizeof(double)), out = 0.0;
    assert_non_null(z);
    otg_rng init = otg_rng_make(SEED, 1), noise = otg_rng_make(SEED, 2);
    otg_game_initial_point(g, 1.0, &init, z);
    *g0 = grad_sq(g, z);
    otg_minimax *m = otg_minimax_new(t, otg_game_nx(g), otg_game_ny(g), mp);
    assert_non_null(m);
    for (int64_t k = 0; k < steps && out == 0.0; k++) {
        otg_status st = otg_minimax_step(m, z, otg_game_oracle, g, &noise);
        if (st == OTG_ENONFINITE)
            out = -1.0;
        else
            assert_int_equal(st, OTG_OK);
        otg_game_project(g, z);
    }
    if (out == 0.0) out = grad_sq(g, z);
    otg_minimax_free(m), free(z);
    return out;
}

/* Every method on every game: finite iterates at a small step size everywhere, and on the Dirac
 * GAN what the theory says (optimistic and extragradient converge linearly, anchored at the rate
 * k^(-2(1-p)), simGD spirals out, altGDA stays bounded). */
static void test_every_method_on_every_game(void **state) {
    for (int mi = 0; mi < otg_minimax_type_count(); mi++) {
        const otg_minimax_type *t = otg_minimax_type_at(mi);
        otg_minimax_params mp = otg_minimax_params_default();
        mp.lr = mp.optimism = 0.01, mp.scale = 0.05;
        for (int gi = 0; gi < otg_game_type_count(); gi++) {
            otg_game *g = small_game(otg_game_type_at(gi));
            double g0, gk = run_method(t, g, &mp, 100, &g0);
            if (!(gk >= 0.0 && isfinite(gk)))
                print_error("%s on %s: %g\n", otg_minimax_type_name(t), otg_game_name(g), gk);
            assert_true(gk >= 0.0 && isfinite(gk));
            otg_game_free(g);
        }
        const char *name = otg_minimax_type_name(t);
        otg_game *d = small_game(otg_game_dirac);
        mp = otg_minimax_params_default(); /* lr = optimism = 0.1 */
        double g0, gk = run_method(t, d, &mp, 3000, &g0);
        if (!strcmp(name, "optimistic") || !strcmp(name, "extragradient"))
            assert_true(gk < 1e-3 * g0);
        if (!strcmp(name, "anchored")) assert_true(gk < 2e-2 * g0); /* |G|^2 ~ k^(-2/3) */
        if (!strcmp(name, "simgd")) assert_true(gk > 10.0 * g0);
        if (!strcmp(name, "altgda")) assert_true(gk < 10.0 * g0);
        otg_game_free(d);
    }
}

/* A game defined outside the library, with only the required entries: the dispatcher's defaults
 * give the oracle, the initial point around 0, no saddle, no metrics, no samples. */
static double scaled_loss(void *state, const double *z) {
    return *(const double *)state * z[0] * z[1];
}
static void scaled_field(void *state, const double *z, double *out) {
    double a = *(const double *)state;
    out[0] = a * z[1], out[1] = -a * z[0];
}
static void *scaled_create(const void *params, uint64_t seed, int64_t *nx, int64_t *ny) {
    (void)params, (void)seed;
    double *a = malloc(sizeof *a);
    if (a) *a = 2.0, *nx = *ny = 1;
    return a;
}

static void test_user_game(void **state) {
    const otg_game_type mine = {.name = "scaled",
                                .summary = "L = 2 x y",
                                .create = scaled_create,
                                .destroy = free,
                                .loss = scaled_loss,
                                .field = scaled_field};
    otg_game *g = otg_game_new(&mine, NULL, 0, 0.0);
    assert_non_null(g);
    double z[2], o[2], zs[2];
    otg_rng r = otg_rng_make(SEED, 1);
    otg_game_initial_point(g, 3.0, &r, z);
    assert_true(fabs(sqrt(norm_sq(2, z)) - 3.0) < 1e-12);
    assert_int_equal(otg_game_oracle(g, z, o, NULL), OTG_OK);
    assert_true(o[0] == 2.0 * z[1] && o[1] == -2.0 * z[0]);
    assert_int_equal(otg_game_saddle(g, zs), 0);
    assert_int_equal(otg_game_n_metrics(g), 0);
    assert_int_equal(otg_game_samples(g, z, 1, NULL, NULL), OTG_EINVAL);
    otg_game_free(g);
    const otg_game_type broken = {.name = "broken"};
    assert_null(otg_game_new(&broken, NULL, 0, 0.0));
}

/* The checkpoint file of several studies: states back as written (null for a study not begun),
 * and another run's key, another format and more states than the caller holds refused. */
static void test_game_checkpoint_file(void **st) {
    (void)st;
    char dir[] = "/tmp/otgen_gckptXXXXXX", path[128];
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/checkpoint.json", dir);
    const char *states[3] = {"{\"a\":1}", NULL, "{\"b\":[2,3]}"};
    assert_int_equal(otg_game_checkpoint_save(path, "--steps=10;", states, 3), OTG_OK);
    char *got[4];
    int n = -1;
    assert_int_equal(otg_game_checkpoint_load(path, "--steps=10;", 4, got, &n), OTG_OK);
    assert_int_equal(n, 3);
    assert_string_equal(got[0], states[0]);
    assert_null(got[1]);
    assert_string_equal(got[2], states[2]);
    assert_null(got[3]);
    for (int i = 0; i < 4; i++)
        free(got[i]);
    assert_int_equal(otg_game_checkpoint_load(path, "--steps=11;", 4, got, &n), OTG_EINVAL);
    assert_non_null(strstr(otg_last_error(), "belongs to another run"));
    assert_int_equal(otg_game_checkpoint_load(path, "--steps=10;", 2, got, &n), OTG_EFORMAT);
    assert_true(n == 0 && !got[0] && !got[1]);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs("{\"format\":\"otgen-train-checkpoint\",\"series\":[]}\n", f);
    fclose(f);
    assert_int_equal(otg_game_checkpoint_load(path, "--steps=10;", 4, got, &n), OTG_EFORMAT);
    assert_non_null(strstr(otg_last_error(), "is not a checkpoint of this run"));
    remove(path);
    assert_int_equal(otg_game_checkpoint_load(path, "--steps=10;", 4, got, &n), OTG_EIO);
    assert_int_equal(otg_game_checkpoint_save(path, NULL, states, 3), OTG_EINVAL);
    rmdir(dir);
}

/* otg_game_study_run against a hand loop of the public calls with the same streams: the same
 * bits in the last row; rows, steps and samples as documented. */
static void test_study_equals_hand_loop(void **state) {
    otg_game *g = small_game(otg_game_bilinear);
    otg_minimax_params mp = otg_minimax_params_default();
    otg_game_study_opts so = {.steps = 50, .every = 7, .repeat = 1, .seed = 3, .init = 1.0};
    otg_game_study st;
    assert_int_equal(otg_game_study_run(g, otg_minimax_extragradient, &mp, &so, &st), OTG_OK);
    assert_int_equal(st.rows, 50 / 7 + 2);
    assert_int_equal(st.steps[st.rows - 1], 50);
    assert_int_equal(st.steps[1], 7);
    assert_int_equal(st.samples[st.rows - 1], 0); /* bilinear draws no samples */
    assert_int_equal(st.diverged_at, -1);
    double z[MAXN], mean, se;
    otg_rng init = otg_rng_make(3, 1), noise = otg_rng_make(3, 2);
    otg_minimax *m =
        otg_minimax_new(otg_minimax_extragradient, otg_game_nx(g), otg_game_ny(g), &mp);
    otg_game_initial_point(g, 1.0, &init, z);
    for (int k = 0; k < 50; k++)
        assert_int_equal(otg_minimax_step(m, z, otg_game_oracle, g, &noise), OTG_OK);
    otg_series_stats_get(st.stats, 0, st.rows - 1, &mean, &se);
    assert_true(mean == grad_sq(g, z) && isnan(se));
    otg_minimax_free(m);
    otg_game_study_free(&st);
    so.every = 0;
    assert_int_equal(otg_game_study_run(g, otg_minimax_simgd, &mp, &so, &st), OTG_EINVAL);
    otg_game_study_free(&st);
    otg_game_free(g);
}

/* ---- otgen game ----------------------------------------------------------------------------- */

/* Runs `otgen game <args>`; returns the exit status; stdout+stderr into out. */
static int run_cli(const char *args, char *out, size_t cap) {
    char full[4096];
    snprintf(full, sizeof full, "game %s", args);
    return otgen_run(full, 1, out, cap);
}

static void test_cli_bad_flags(void **state) {
    char out[8192];
    const struct {
        const char *args, *msg;
    } cases[] = {
        {"--game dirac --method gda --out /tmp/otg_game_bad", "unknown method 'gda'"},
        {"--game wgan --method simgd --out /tmp/otg_game_bad", "unknown game 'wgan'"},
        {"--game dirac --dim 2 --method simgd --out /tmp/otg_game_bad", "--dim: 2 outside [1, 1]"},
        {"--game dirac --method anchored --p 1.5 --out /tmp/otg_game_bad", "p must be in (0, 1)"},
        {"--game dirac --method simgd --steps 0 --out /tmp/otg_game_bad", "--steps"},
        {"--game dirac --method simgd --noise -1 --out /tmp/otg_game_bad", "--noise"},
        {"--game dirac --method simgd,simgd --out /tmp/otg_game_bad", "given twice"},
        {"--game dirac --method simgd", "--out DIR is required"},
        {"--game dirac --method simgd --bogus 1 --out /tmp/otg_game_bad", "bogus"},
        {"--game onelayer --act sigmoid --method simgd --out /tmp/otg_game_bad",
         "unknown activation"},
        {"--game onelayer --dim 100 --method simgd --out /tmp/otg_game_bad",
         "--dim: 100 outside [1, 64]"},
        {"--game gan2d --gan-loss hinge --method simgd --out /tmp/otg_game_bad",
         "unknown gan loss"},
        {"--game gan2d --hidden 0 --method simgd --out /tmp/otg_game_bad", "--hidden"},
        {"--game gan2d --clip 0 --method simgd --out /tmp/otg_game_bad", "--clip"},
        {"--game dirac --hidden 8 --method simgd --out /tmp/otg_game_bad",
         "game dirac has no such knob"},
        {"--game quadratic --method simgd --sweep steps=1,2 --out /tmp/otg_game_bad",
         "cannot sweep 'steps'"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        assert_int_equal(run_cli(cases[i].args, out, sizeof out), 2);
        assert_non_null(strstr(out, cases[i].msg));
        assert_true(strchr(out, '\n') == out + strlen(out) - 1); /* one line */
    }
}

static void test_cli_outputs(void **state) {
    char out[16384], dir[256], path[512];
    snprintf(dir, sizeof dir, "/tmp/otg_game_test_%d", (int)getpid());
    char args[1024];
    snprintf(args, sizeof args,
             "--game dirac --method simgd,anchored --steps 200 --repeat 3 "
             "--noise 0.05 --out %s",
             dir);
    assert_int_equal(run_cli(args, out, sizeof out), 0);
    assert_non_null(strstr(out, "method=anchored"));
    const char *files[] = {"metrics.csv",     "metrics-simgd.csv", "metrics-anchored.csv",
                           "convergence.png", "trajectory.png",    "config.json"};
    for (int i = 0; i < 6; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, files[i]);
        assert_int_equal(access(path, R_OK), 0);
    }
    snprintf(path, sizeof path, "%s/metrics-simgd.csv", dir);
    FILE *f = fopen(path, "r");
    char line[512];
    assert_non_null(fgets(line, sizeof line, f));
    assert_string_equal(line, "step,grad_sq,dist,loss,grad_sq_se,dist_se,loss_se\n");
    assert_non_null(fgets(line, sizeof line, f));
    assert_null(strstr(line, ",,")); /* with 3 seeds every standard error is there */
    int rows = 2;
    while (fgets(line, sizeof line, f))
        rows++;
    fclose(f);
    assert_int_equal(rows, 1 + 201);
    assert_int_equal(run_cli(args, out, sizeof out), 2); /* no overwrite without --force */
    assert_non_null(strstr(out, "--force"));
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    assert_int_equal(system(cmd), 0);
}

static void test_cli_onelayer(void **state) {
    char out[16384], dir[256], path[512], args[1024], line[1024];
    snprintf(dir, sizeof dir, "/tmp/otg_game_onelayer_%d", (int)getpid());
    snprintf(args, sizeof args,
             "--game onelayer --dim 2 --act tanh --batch 8 --method simgd,altgda "
             "--steps 40 --every 10 --repeat 2 --out %s",
             dir);
    assert_int_equal(run_cli(args, out, sizeof out), 0);
    assert_non_null(strstr(out, "cov_err="));
    assert_non_null(strstr(out, "samples=640")); /* altgda: 40 steps x 2 calls x 8 */
    snprintf(path, sizeof path, "%s/metrics-simgd.csv", dir);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    assert_non_null(fgets(line, sizeof line, f));
    assert_string_equal(line, "step,samples,grad_sq,dist,loss,cov_err,sw,tv_dist,grad_sq_se,"
                              "dist_se,loss_se,cov_err_se,sw_se,tv_dist_se\n");
    assert_non_null(fgets(line, sizeof line, f));
    assert_non_null(strstr(line, "0,0,")); /* step 0, no samples yet, dist empty */
    fclose(f);
    snprintf(path, sizeof path, "%s/cov_err.png", dir);
    assert_int_equal(access(path, R_OK), 0);
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    assert_int_equal(system(cmd), 0);
}

static void test_cli_gan2d(void **state) {
    char out[16384], dir[256], path[512], args[1024], line[1024];
    snprintf(dir, sizeof dir, "/tmp/otg_game_gan2d_%d", (int)getpid());
    snprintf(args, sizeof args,
             "--game gan2d --hidden 8 --batch 16 --method optimistic-adam "
             "--lr 0.002 --steps 30 --every 10 --out %s",
             dir);
    assert_int_equal(run_cli(args, out, sizeof out), 0);
    assert_non_null(strstr(out, "modes="));
    snprintf(path, sizeof path, "%s/metrics.csv", dir);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    assert_non_null(fgets(line, sizeof line, f));
    assert_string_equal(line, "step,samples,grad_sq,dist,loss,modes,hq,sw,grad_sq_se,dist_se,"
                              "loss_se,modes_se,hq_se,sw_se\n");
    fclose(f);
    const char *files[] = {"samples.png", "modes.png", "convergence.png"};
    for (int i = 0; i < 3; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, files[i]);
        assert_int_equal(access(path, R_OK), 0);
    }
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    assert_int_equal(system(cmd), 0);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dirac_simgd_grows_exactly),
        cmocka_unit_test(test_dirac_altgda_bounded),
        cmocka_unit_test(test_dirac_converging_methods),
        cmocka_unit_test(test_anchored_slope),
        cmocka_unit_test(test_quadratic_simgd_converges),
        cmocka_unit_test(test_bilinear_methods),
        cmocka_unit_test(test_nonsmooth),
        cmocka_unit_test(test_noise_stream),
        cmocka_unit_test(test_onelayer_operator_is_gradient),
        cmocka_unit_test(test_onelayer_sgda_learns_covariance),
        cmocka_unit_test(test_onelayer_tv_dist_formula),
        cmocka_unit_test(test_gan2d_operator_fd),
        cmocka_unit_test(test_gan2d_clip_projection),
        cmocka_unit_test(test_gan2d_optimistic_adam_learns),
        cmocka_unit_test(test_bad_params),
        cmocka_unit_test(test_registries),
        cmocka_unit_test(test_every_game_field_is_gradient),
        cmocka_unit_test(test_every_method_on_every_game),
        cmocka_unit_test(test_user_game),
        cmocka_unit_test(test_study_equals_hand_loop),
        cmocka_unit_test(test_game_checkpoint_file),
        cmocka_unit_test(test_cli_bad_flags),
        cmocka_unit_test(test_cli_outputs),
        cmocka_unit_test(test_cli_onelayer),
        cmocka_unit_test(test_cli_gan2d),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
