/* Direction samplers for SW: Gaussian (uniform on the sphere), orthogonal blocks (Haar: QR of a
 * Gaussian matrix with R's diagonal made positive, here by modified Gram-Schmidt in double, which
 * yields that R directly) and, for d = 3, randomised quasi-Monte-Carlo (the Fibonacci lattice
 * under a Haar-random orthogonal matrix; Nguyen, Bariletto & Ho, ICLR 2024). Theta [d, L] is
 * row-major with one direction per column. */
#include "internal.h"
#include "otgen/ot.h"

#include <math.h>
#include <string.h>

otg_status otg_dir_parse(const char *name, otg_dir_kind *out) {
    if (name && !strcmp(name, "gaussian"))
        *out = OTG_DIR_GAUSSIAN;
    else if (name && !strcmp(name, "orthogonal"))
        *out = OTG_DIR_ORTHOGONAL;
    else if (name && !strcmp(name, "rqmc"))
        *out = OTG_DIR_RQMC;
    else if (name && !strcmp(name, "hadamard"))
        *out = OTG_DIR_HADAMARD;
    else
        return otgi_fail(OTG_EINVAL,
                         "unknown direction kind '%s' (gaussian, orthogonal, rqmc, hadamard)",
                         name ? name : "");
    return OTG_OK;
}

/* q [d, d] column-major in double: orthonormalises the columns of q in place (MGS). A column that
 * is numerically dependent (probability 0) is replaced by a fresh Gaussian draw and redone. */
static void gram_schmidt(double *q, int64_t d, otg_rng *rng) {
    for (int64_t j = 0; j < d; j++) {
        double *qj = q + j * d;
        for (int attempt = 0; attempt < 8; attempt++) {
            for (int64_t k = 0; k < j; k++) {
                const double *qk = q + k * d;
                double dot = 0.0;
                for (int64_t i = 0; i < d; i++)
                    dot += qk[i] * qj[i];
                for (int64_t i = 0; i < d; i++)
                    qj[i] -= dot * qk[i];
            }
            double nrm = 0.0;
            for (int64_t i = 0; i < d; i++)
                nrm += qj[i] * qj[i];
            nrm = sqrt(nrm);
            if (nrm > 1e-10) {
                for (int64_t i = 0; i < d; i++)
                    qj[i] /= nrm;
                break;
            }
            for (int64_t i = 0; i < d; i++)
                qj[i] = otg_rng_normal(rng);
        }
    }
}

static otg_status orthogonal_blocks(otg_rng *rng, int64_t d, int64_t L, float *theta) {
    double *q = malloc((size_t)(d * d) * sizeof *q);
    float *g = malloc((size_t)(d * d) * sizeof *g);
    if (!q || !g) {
        free(q), free(g);
        return otgi_fail(OTG_ENOMEM, "directions: out of memory for a %lldx%lld block",
                         (long long)d, (long long)d);
    }
    for (int64_t c0 = 0; c0 < L; c0 += d) {
        otg_rng_fill_normal(rng, d * d, g);
        for (int64_t i = 0; i < d * d; i++)
            q[i] = (double)g[i];
        gram_schmidt(q, d, rng);
        int64_t cols = L - c0 < d ? L - c0 : d;
        for (int64_t j = 0; j < cols; j++)
            for (int64_t i = 0; i < d; i++)
                theta[i * L + c0 + j] = (float)q[j * d + i];
    }
    free(q), free(g);
    return OTG_OK;
}

/* theta [3, L]: the Fibonacci lattice u_i = (r_i cos(i g), r_i sin(i g), z_i),
 * z_i = 1 - (2i + 1)/L, r_i = sqrt(1 - z_i^2), g = pi (3 - sqrt 5) the golden angle, rotated by
 * one Haar orthogonal matrix Q (MGS of a Gaussian 3 x 3 draw): theta_i = Q u_i. */
static otg_status fibonacci_rotated(otg_rng *rng, int64_t L, float *theta) {
    double q[9];
    float g[9];
    otg_rng_fill_normal(rng, 9, g);
    for (int i = 0; i < 9; i++)
        q[i] = (double)g[i];
    gram_schmidt(q, 3, rng); /* column-major: column j is q[3j .. 3j + 2] */
    const double golden = 3.14159265358979323846 * (3.0 - sqrt(5.0));
    for (int64_t i = 0; i < L; i++) {
        const double z = 1.0 - (2.0 * (double)i + 1.0) / (double)L,
                     r = sqrt(fmax(0.0, 1.0 - z * z));
        const double u[3] = {r * cos(golden * (double)i), r * sin(golden * (double)i), z};
        for (int k = 0; k < 3; k++)
            theta[k * L + i] = (float)(q[k] * u[0] + q[3 + k] * u[1] + q[6 + k] * u[2]);
    }
    return OTG_OK;
}

otg_status otg_sw_directions(otg_rng *rng, otg_dir_kind kind, int64_t d, int64_t L, float *theta) {
    if (!rng || !theta) return otgi_fail(OTG_EINVAL, "directions: NULL argument");
    if (d < 1 || L < 1)
        return otgi_fail(OTG_EINVAL, "directions: need d >= 1 and L >= 1 (got %lld, %lld)",
                         (long long)d, (long long)L);
    if (kind == OTG_DIR_GAUSSIAN) return otg_rng_fill_sphere(rng, d, L, theta);
    if (kind == OTG_DIR_ORTHOGONAL) return orthogonal_blocks(rng, d, L, theta);
    if (kind == OTG_DIR_RQMC) {
        if (d != 3)
            return otgi_fail(
                OTG_EINVAL,
                "directions: rqmc needs 3-D points (spherical Fibonacci points), got d = %lld",
                (long long)d);
        return fibonacci_rotated(rng, L, theta);
    }
    if (kind == OTG_DIR_HADAMARD) {
        otg_sw_hadamard h = {0};
        otg_status st = otg_sw_hadamard_draw(rng, d, L, &h, theta);
        otg_sw_hadamard_free(&h);
        return st;
    }
    return otgi_fail(OTG_EINVAL, "directions: unknown kind %d", (int)kind);
}
