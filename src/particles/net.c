/* particles: the two-layer teacher-student machinery of relu2 and sigmoid2. Data (fixed sample,
 * fresh batches, or a fixed evaluation sample), the teacher, and F_m with its speed field
 * m grad F_m: pre-activations by GEMMs over fixed blocks of rows, residuals per row,
 * per-particle output-weight sums accumulated per fixed chunk of rows then added in chunk order,
 * theta gradients by GEMMs over fixed blocks of particles. Nothing depends on the thread count. */
#include "internal.h"
#include "particles_internal.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Streams derived from the seed. */
enum { STREAM_TEACHER = 1, STREAM_TRAIN = 2, STREAM_EVAL = 3 };

void otgi_sphere_rows(otg_rng *r, int64_t m, int64_t dim, int64_t c0, double radius, float *u) {
    otg_rng_fill_normal(r, m * dim, u);
    for (int64_t i = 0; i < m; i++) {
        float *row = u + i * dim;
        double s = 0.0;
        for (int64_t c = c0; c < dim; c++)
            s += (double)row[c] * (double)row[c];
        double k = s > 0.0 ? radius / sqrt(s) : 0.0;
        for (int64_t c = 0; c < dim; c++)
            row[c] = c < c0 ? 0.0f : (float)((double)row[c] * k);
    }
}

void otgi_collapse_rows(int64_t m, int64_t dim, float *u) {
    for (int64_t i = 1; i < m; i++)
        memcpy(u + i * dim, u, (size_t)dim * sizeof *u);
}

static inline double act_f(otgi_act a, double z) {
    return a == OTGI_ACT_RELU ? (z > 0.0 ? z : 0.0) : 1.0 / (1.0 + exp(-z));
}

/* Inputs x[rows, d1] (last column 1) from the input law, and the teacher's labels y[rows]. */
static void draw_data(const otgi_net *s, otg_rng *r, int64_t rows, float *x, float *y) {
    int64_t d = s->p.d, d1 = s->d1;
    float *g = x; /* draw [rows, d] at the front, then spread backwards into rows of d1 */
    otg_rng_fill_normal(r, rows * d, g);
    for (int64_t i = rows - 1; i >= 0; i--) {
        double n2 = 0.0;
        for (int64_t c = 0; c < d; c++)
            n2 += (double)g[i * d + c] * (double)g[i * d + c];
        double k = s->p.inputs == OTG_PARTICLES_X_SPHERE && n2 > 0.0 ? 1.0 / sqrt(n2) : 1.0;
        for (int64_t c = d - 1; c >= 0; c--)
            x[i * d1 + c] = (float)((double)g[i * d + c] * k);
        x[i * d1 + d] = 1.0f;
    }
    int64_t m0 = s->p.m0;
    for (int64_t i = 0; i < rows; i++) {
        double f = 0.0;
        for (int64_t j = 0; j < m0; j++) {
            const float *t = s->teacher + j * s->dim;
            double z = 0.0;
            for (int64_t c = 0; c < d1; c++)
                z += (double)t[1 + c] * (double)x[i * d1 + c];
            f += (double)t[0] * act_f(s->act, z);
        }
        y[i] = (float)(f / (double)m0);
    }
}

void otgi_net_destroy(void *state) {
    otgi_net *s = state;
    if (!s) return;
    free(s->teacher), free(s->xtrain), free(s->ytrain), free(s->xeval), free(s->yeval);
    free(s->xb), free(s->yb), free(s->z), free(s->r), free(s->part), free(s->w);
    free(s);
}

void *otgi_net_create(const otg_particles_params *p, int64_t m, otgi_act act, otgi_penalty pen,
                      double teacher_scale, int alternate_signs) {
    otgi_net *s = otgi_calloc(1, sizeof *s);
    if (!s) return NULL;
    s->p = *p, s->act = act, s->pen = pen, s->m = m;
    s->d1 = p->d + 1, s->dim = p->d + 2;
    int64_t eval_rows = p->n > 0 ? p->n : p->n_eval,
            batch = p->n > 0 && p->batch > p->n ? p->n : p->batch;
    s->rows_max = eval_rows > batch ? eval_rows : batch;
    int64_t mm = m > p->m0 ? m : p->m0, chunks = (s->rows_max + OTGI_CHUNK - 1) / OTGI_CHUNK;
    s->teacher = otgi_calloc((size_t)(p->m0 * s->dim), sizeof(float));
    s->xb = otgi_calloc((size_t)(batch * s->d1 + batch * p->d), sizeof(float));
    s->yb = otgi_calloc((size_t)batch, sizeof(float));
    s->z = otgi_calloc((size_t)(s->rows_max * mm), sizeof(float));
    s->r = otgi_calloc((size_t)s->rows_max, sizeof(double));
    s->part = otgi_calloc((size_t)(chunks * mm), sizeof(double));
    s->w = otgi_calloc((size_t)mm, sizeof(float));
    float **xs = p->n > 0 ? &s->xtrain : &s->xeval, **ys = p->n > 0 ? &s->ytrain : &s->yeval;
    *xs = otgi_calloc((size_t)(eval_rows * s->d1 + eval_rows * p->d), sizeof(float));
    *ys = otgi_calloc((size_t)eval_rows, sizeof(float));
    if (!s->teacher || !s->xb || !s->yb || !s->z || !s->r || !s->part || !s->w || !*xs || !*ys) {
        otgi_fail(OTG_ENOMEM, "particles: out of memory (m = %lld, rows = %lld)", (long long)m,
                  (long long)s->rows_max);
        otgi_net_destroy(s);
        return NULL;
    }
    /* Teacher: directions uniform on S^{d-1}, bias 0, scaled; weights 1 or alternating +-1. */
    otg_rng rt = otg_rng_make(p->seed, STREAM_TEACHER);
    for (int64_t j = 0; j < p->m0; j++) {
        float *t = s->teacher + j * s->dim;
        otg_rng_fill_normal(&rt, p->d, t + 1);
        double n2 = 0.0;
        for (int64_t c = 1; c <= p->d; c++)
            n2 += (double)t[c] * (double)t[c];
        double k = n2 > 0.0 ? teacher_scale / sqrt(n2) : 0.0;
        for (int64_t c = 1; c <= p->d; c++)
            t[c] = (float)((double)t[c] * k);
        t[1 + p->d] = 0.0f;
        t[0] = alternate_signs && (j % 2) ? -1.0f : 1.0f;
    }
    otg_rng rd = otg_rng_make(p->seed, p->n > 0 ? STREAM_TRAIN : STREAM_EVAL);
    draw_data(s, &rd, eval_rows, *xs, *ys);
    return s;
}

/* Penalty V(u) of one particle and its (sub)gradient added into g. */
static double penalty(const otgi_net *s, const float *u, float *g) {
    double lam = s->p.lambda, v = 0.0;
    if (lam == 0.0) return 0.0;
    if (s->pen == OTGI_V_DECAY) {
        for (int64_t c = 0; c < s->dim; c++) {
            v += (double)u[c] * (double)u[c];
            if (g) g[c] = (float)((double)g[c] + lam * (double)u[c]);
        }
        return 0.5 * lam * v;
    }
    double w = (double)u[0];
    if (g) g[0] = (float)((double)g[0] + lam * (double)((w > 0.0) - (w < 0.0)));
    return lam * fabs(w);
}

/* sum_j w_j act(z_j) over one row z[m], in four interleaved double accumulators (j mod 4) added
 * in a fixed order: the same bits on any thread, without one long dependency chain. */
static double row_output(otgi_act act, const float *w, const float *z, int64_t m) {
    double acc[4] = {0.0, 0.0, 0.0, 0.0};
    int64_t j = 0;
    if (act == OTGI_ACT_RELU) {
        for (; j + 4 <= m; j += 4)
            for (int k = 0; k < 4; k++) {
                float h = z[j + k] > 0.0f ? z[j + k] : 0.0f; /* maxss: no branch to mispredict */
                acc[k] += (double)w[j + k] * (double)h;
            }
    } else {
        for (; j + 4 <= m; j += 4)
            for (int k = 0; k < 4; k++)
                acc[k] += (double)w[j + k] * act_f(act, (double)z[j + k]);
    }
    for (; j < m; j++)
        acc[j % 4] += (double)w[j] * act_f(act, (double)z[j]);
    return (acc[0] + acc[1]) + (acc[2] + acc[3]);
}

/* Forward and backward on the row chunk c (rows [c*CHUNK, +nr)): z[nr, m] = x theta^T by one
 * single-threaded GEMM, residuals r = f(x) - y, and with g: the chunk's output-weight sums
 * part[c, m] = sum_i r_i h_ij and the backward signal D_ij = r_i h'(z_ij) / rows written over z.
 * w[m] holds the output weights contiguously. */
static void net_chunk(otgi_net *s, const float *u, const float *w, int64_t m, const float *x,
                      const float *y, int64_t rows, int64_t c, int grad) {
    const int64_t d1 = s->d1, dim = s->dim, i0 = c * OTGI_CHUNK;
    const int64_t nr = rows - i0 < OTGI_CHUNK ? rows - i0 : OTGI_CHUNK;
    const otgi_act act = s->act;
    const double inv = 1.0 / (double)rows;
    float *zc = s->z + i0 * m;
    otg_gemm(0, 1, nr, m, d1, 1.0f, x + i0 * d1, d1, u + 1, dim, 0.0f, zc, m);
    double *pc = s->part + c * m;
    if (grad)
        for (int64_t j = 0; j < m; j++)
            pc[j] = 0.0;
    for (int64_t i = 0; i < nr; i++) {
        float *zi = zc + i * m;
        double ri = row_output(act, w, zi, m) / (double)m - (double)y[i0 + i];
        s->r[i0 + i] = ri;
        if (!grad) continue;
        if (act == OTGI_ACT_RELU) { /* h = relu(a), h' = 1 if a > 0 else 0 */
            const float back = (float)(ri * inv);
#pragma omp simd
            for (int64_t j = 0; j < m; j++) { /* branch-free: the signs of z are random */
                float h = zi[j] > 0.0f ? zi[j] : 0.0f;
                pc[j] += ri * (double)h;
                zi[j] = back * (float)(h > 0.0f);
            }
        } else {
            for (int64_t j = 0; j < m; j++) {
                double h = 1.0 / (1.0 + exp(-(double)zi[j]));
                pc[j] += ri * h;
                zi[j] = (float)(ri * h * (1.0 - h) * inv);
            }
        }
    }
}

/* F_m on rows (x, y) and optionally the speed g[m, dim]. BLAS is called only inside OpenMP loops
 * over FIXED blocks (OTGI_CHUNK data rows; OTGI_PBLOCK particles), where OpenBLAS runs
 * single-threaded: each block's bits depend on its shape only, never on the thread count (a
 * multithreaded OpenBLAS call may change the last bit with its thread count). */
static otg_status net_eval_rows(otgi_net *s, const float *u, int64_t m, const float *x,
                                const float *y, int64_t rows, double *F, float *g) {
    const int64_t d1 = s->d1, dim = s->dim, chunks = (rows + OTGI_CHUNK - 1) / OTGI_CHUNK;
    const int64_t pblocks = (m + OTGI_PBLOCK - 1) / OTGI_PBLOCK;
    float *z = s->z, *w = s->w;
    double *part = s->part;
    const int par = rows * m * d1 >= OTGI_PAR_MIN_WORK;
    for (int64_t j = 0; j < m; j++)
        w[j] = u[j * dim];
#pragma omp parallel for schedule(static) if (par)
    for (int64_t c = 0; c < chunks; c++)
        net_chunk(s, u, w, m, x, y, rows, c, g != NULL);
    double loss = 0.0, vsum = 0.0;
    for (int64_t i = 0; i < rows; i++)
        loss += s->r[i] * s->r[i];
    for (int64_t j = 0; j < m; j++)
        vsum += penalty(s, u + j * dim, NULL);
    *F = 0.5 * loss / (double)rows + vsum / (double)m;
    if (!isfinite(*F)) return otgi_fail(OTG_ENONFINITE, "particles: objective is not finite");
    if (!g) return OTG_OK;
    const double inv = 1.0 / (double)rows;
    /* Per particle block: theta part D^T x [nb, d1] into columns 1.. of g, times w_j; the weight
     * part sum_c part[c, j] / rows (chunk order); then the penalty's (sub)gradient. */
#pragma omp parallel for schedule(static) if (par)
    for (int64_t b = 0; b < pblocks; b++) {
        int64_t j0 = b * OTGI_PBLOCK, nb = m - j0 < OTGI_PBLOCK ? m - j0 : OTGI_PBLOCK;
        otg_gemm(1, 0, nb, d1, rows, 1.0f, z + j0, m, x, d1, 0.0f, g + j0 * dim + 1, dim);
        for (int64_t j = j0; j < j0 + nb; j++) {
            double gw = 0.0;
            for (int64_t c = 0; c < chunks; c++)
                gw += part[c * m + j];
            float *gj = g + j * dim;
            const float *uj = u + j * dim;
            for (int64_t k = 1; k < dim; k++)
                gj[k] *= uj[0];
            gj[0] = (float)(gw * inv);
            penalty(s, uj, gj);
        }
    }
    return OTG_OK;
}

otg_status otgi_net_eval(void *state, const float *u, int64_t m, otg_rng *batch, double *F,
                         float *g) {
    otgi_net *s = state;
    OTG_ASSERT(m <= s->m || m <= s->p.m0);
    const otg_particles_params *p = &s->p;
    if (!batch) {
        if (p->n > 0) return net_eval_rows(s, u, m, s->xtrain, s->ytrain, p->n, F, g);
        return net_eval_rows(s, u, m, s->xeval, s->yeval, p->n_eval, F, g);
    }
    if (p->n > 0 && p->batch >= p->n)
        return net_eval_rows(s, u, m, s->xtrain, s->ytrain, p->n, F, g);
    if (p->n == 0) {
        draw_data(s, batch, p->batch, s->xb, s->yb);
    } else {
        for (int64_t i = 0; i < p->batch; i++) {
            int64_t k = (int64_t)(otg_rng_u32(batch) % (uint32_t)p->n);
            memcpy(s->xb + i * s->d1, s->xtrain + k * s->d1, (size_t)s->d1 * sizeof(float));
            s->yb[i] = s->ytrain[k];
        }
    }
    return net_eval_rows(s, u, m, s->xb, s->yb, p->batch, F, g);
}

const float *otgi_net_truth(const void *state, int64_t *n) {
    const otgi_net *s = state;
    *n = s->p.m0;
    return s->teacher;
}

double otgi_net_minimum(const void *state) {
    const otgi_net *s = state;
    return s->p.lambda == 0.0 ? 0.0 : (double)NAN;
}

void otgi_net_xy(const float *u, int64_t dim, int64_t m, float *xy) {
    (void)m;
    xy[0] = u[0] * u[1], xy[1] = u[0] * u[dim > 3 ? 2 : dim - 1];
}
