/* Random matrices for the games: Gram-Schmidt orthogonal matrices and U diag(s) V^T of a chosen
 * condition number (bilinear's A, onelayer's W*). A leaf: no game depends on another through it. */
#include "games_internal.h"
#include "internal.h"

#include <math.h>
#include <stdlib.h>

void otgi_game_random_orthogonal(int64_t d, otg_rng *r, double *q) {
    for (int64_t j = 0; j < d; j++) {
        double norm = 0.0;
        while (norm < 1e-6) {
            for (int64_t i = 0; i < d; i++)
                q[i * d + j] = otg_rng_normal(r);
            for (int64_t l = 0; l < j; l++) {
                double dot = 0.0;
                for (int64_t i = 0; i < d; i++)
                    dot += q[i * d + j] * q[i * d + l];
                for (int64_t i = 0; i < d; i++)
                    q[i * d + j] -= dot * q[i * d + l];
            }
            norm = 0.0;
            for (int64_t i = 0; i < d; i++)
                norm += q[i * d + j] * q[i * d + j];
            norm = sqrt(norm);
        }
        for (int64_t i = 0; i < d; i++)
            q[i * d + j] /= norm;
    }
}

otg_status otgi_game_random_conditioned(int64_t d, double cond, otg_rng *r, double *a) {
    double *u = otgi_calloc((size_t)(d * d), sizeof(double));
    double *v = otgi_calloc((size_t)(d * d), sizeof(double));
    if (!u || !v) {
        free(u), free(v);
        return OTG_ENOMEM;
    }
    otgi_game_random_orthogonal(d, r, u);
    otgi_game_random_orthogonal(d, r, v);
    for (int64_t i = 0; i < d; i++)
        for (int64_t j = 0; j < d; j++) {
            double s = 0.0;
            for (int64_t l = 0; l < d; l++)
                s += u[i * d + l] * pow(cond, d > 1 ? -(double)l / (double)(d - 1) : 0.0) *
                     v[j * d + l];
            a[i * d + j] = s;
        }
    free(u), free(v);
    return OTG_OK;
}
