/* Private helpers of the particles module: the two-layer teacher-student machinery shared by
 * relu2 and sigmoid2 (data, forward/backward with a fixed-order reduction), never installed. */
#ifndef OTGEN_PARTICLES_INTERNAL_H
#define OTGEN_PARTICLES_INTERNAL_H
#include "otgen/particles.h"

typedef enum { OTGI_ACT_RELU, OTGI_ACT_SIGMOID } otgi_act;
typedef enum { OTGI_V_DECAY, OTGI_V_ABS_W } otgi_penalty;

/* A two-layer network problem: particle u = (w, theta[d], bias), dim = d + 2. */
typedef struct {
    otg_particles_params p;
    otgi_act act;
    otgi_penalty pen;
    int64_t d1, dim, m, rows_max;
    float *teacher;         /* [m0, dim] */
    float *xtrain, *ytrain; /* [n, d1], [n] (n > 0) */
    float *xeval, *yeval;   /* [n_eval, d1] (n = 0) */
    float *xb, *yb;         /* training batch [batch, d1] */
    float *z;               /* pre-activations then backward signal [rows_max, m] */
    double *r, *part;       /* residuals [rows_max]; per-chunk sums [chunks, m] */
    float *w;               /* output weights [m] gathered contiguously */
} otgi_net;

/* Rows per fixed reduction chunk (independent of the thread count). */
#define OTGI_CHUNK 64
/* Particles per fixed block of the theta-gradient GEMM. */
#define OTGI_PBLOCK 64
/* Below this much work per loop (multiply-adds: rows * m * (d + 1) for the networks, m * (K + 1)
 * trigonometric terms for deconv, m * dim for the update) the loops run on one thread: a team's
 * fork and barriers cost more than the work, many times more when other processes hold the cores.
 * 2^18 is also OpenBLAS's own threshold (65536 * GEMM_MULTITHREAD_THRESHOLD 4) below which an
 * sgemm runs single-threaded, so a block GEMM called outside a parallel region keeps the bits it
 * has inside one, and results stay independent of the thread count. */
#define OTGI_PAR_MIN_WORK (1 << 18)

void *otgi_net_create(const otg_particles_params *p, int64_t m, otgi_act act, otgi_penalty pen,
                      double teacher_scale, int alternate_signs);
void otgi_net_destroy(void *state);
otg_status otgi_net_eval(void *state, const float *u, int64_t m, otg_rng *batch, double *F,
                         float *g);
const float *otgi_net_truth(const void *state, int64_t *n);
double otgi_net_minimum(const void *state);
/* Chart coordinates of a neuron u = (w, theta, bias)[dim]: (w theta_0, w theta_1), theta_1 = the
 * bias when d = 1; xy[2]. */
void otgi_net_xy(const float *u, int64_t dim, int64_t m, float *xy);
#define OTGI_NET_XY_TITLE "w*theta (first 2 coords) over time"
/* Rows of u[m, dim] set to radius * (uniform on the sphere) over columns [c0, dim); columns before
 * c0 set to 0. */
void otgi_sphere_rows(otg_rng *r, int64_t m, int64_t dim, int64_t c0, double radius, float *u);
/* Every row equal to the first (the ablation initialisation). */
void otgi_collapse_rows(int64_t m, int64_t dim, float *u);

#endif
