/* Synthetic laws, sampled from an otg_rng stream only (serial loops: the thread count never
 * matters). A 2-D law's point is a clean point plus noise * N(0, I_2), the noise sd given in the
 * final coordinates; noise < 0 selects the law's default [in brackets]; noise = 0 draws no normal.
 *
 *   moons         sklearn's make_moons, t ~ U(0, pi), the moon by a fair coin: outer
 *                 (cos t, sin t), inner (1 - cos t, 1/2 - sin t); then (x - 1/2, y - 1/4) / 1.5,
 *                 so x in [-1, 1], y in [-1/2, 1/2], mean 0; each moon is an arc of radius 2/3
 *                 centred at -+(1/3, 1/6). noise [0.05].
 *   swiss-roll    t = 1.5 pi (1 + 2u), u ~ U(0, 1): (t cos t, t sin t) / (4.5 pi), a spiral of
 *                 1.5 turns in the unit disc, radius 1/3 to 1 (sklearn's roll in 2-D).
 *                 noise [0.025].
 *   gaussians8    centres 2 (cos(k pi/4), sin(k pi/4)), k uniform in 0..7 (radius 2).
 *                 noise [0.02].
 *   rings         circles of radius 1/3, 2/3 and 1, each with probability 1/3, angle uniform.
 *                 noise [0.02].
 *   checkerboard  uniform on the 8 squares (i + j even) of a 4 x 4 board of squares of side 1/2
 *                 covering [-1, 1]^2, square (i, j) = [-1 + i/2, -1/2 + i/2] x [-1 + j/2, ...]:
 *                 the bottom-left square is filled. noise [0].
 *   grid          discrete uniform on the k x k points (-1 + 2i/(k-1), -1 + 2j/(k-1)),
 *                 k = grid_side [5] in 1..4096 (k = 1: the origin). noise [0].
 *   gaussian      N(0, I_dim), dim [2] >= 1 (otg_rng_fill_normal). noise ignored.
 *   uniform       U[-1, 1]^dim as 2u - 1 in float, dim [2] >= 1: closed, since u in (0, 1)
 *                 may round to 0 or 1 in float. noise ignored.
 * The 2-D laws ignore opts->dim. Words drawn per point are fixed per source (moons 2, swiss-roll
 * 1, gaussians8 1, rings 2, checkerboard 3, grid 1, plus 4 when noise > 0), except that the
 * unbiased index draw (rings, grid) rejects a word with probability < range / 2^32. */
#include "data/data_internal.h"

#include <math.h>
#include <string.h>

static const double PI = 3.14159265358979323846;

#define GRID_SIDE_MAX 4096

/* A uniform integer in [0, range), range >= 1, unbiased: Lemire's 64-bit multiply, rejecting the
 * low words below 2^32 mod range. */
uint32_t otgi_data_draw_below(otg_rng *rng, uint32_t range) {
    uint64_t m = (uint64_t)otg_rng_u32(rng) * range;
    if ((uint32_t)m < range) {
        const uint32_t thresh = (uint32_t)(-range) % range;
        while ((uint32_t)m < thresh)
            m = (uint64_t)otg_rng_u32(rng) * range;
    }
    return (uint32_t)(m >> 32);
}

/* ---- clean 2-D points: p[2] from the law's parameters ---------------------------------------- */

typedef void (*law_point_fn)(otg_rng *rng, const otg_source_opts *o, double p[2]);

static void moons_point(otg_rng *rng, const otg_source_opts *o, double p[2]) {
    const int inner = (int)(otg_rng_u32(rng) >> 31);
    const double t = PI * otg_rng_uniform(rng);
    const double x = inner ? 1.0 - cos(t) : cos(t), y = inner ? 0.5 - sin(t) : sin(t);
    p[0] = (x - 0.5) / 1.5;
    p[1] = (y - 0.25) / 1.5;
}

static void swiss_roll_point(otg_rng *rng, const otg_source_opts *o, double p[2]) {
    const double t = 1.5 * PI * (1.0 + 2.0 * otg_rng_uniform(rng));
    p[0] = t * cos(t) / (4.5 * PI);
    p[1] = t * sin(t) / (4.5 * PI);
}

static void gaussians8_point(otg_rng *rng, const otg_source_opts *o, double p[2]) {
    const double a = (double)(otg_rng_u32(rng) >> 29) * (PI / 4.0);
    p[0] = 2.0 * cos(a);
    p[1] = 2.0 * sin(a);
}

static void rings_point(otg_rng *rng, const otg_source_opts *o, double p[2]) {
    const double r = (double)(otgi_data_draw_below(rng, 3) + 1) / 3.0;
    const double a = 2.0 * PI * otg_rng_uniform(rng);
    p[0] = r * cos(a);
    p[1] = r * sin(a);
}

static void checkerboard_point(otg_rng *rng, const otg_source_opts *o, double p[2]) {
    const uint32_t c = otg_rng_u32(rng) >> 29; /* one of the 8 filled squares */
    const uint32_t j = c / 2, i = 2 * (c % 2) + j % 2;
    p[0] = -1.0 + 0.5 * ((double)i + otg_rng_uniform(rng));
    p[1] = -1.0 + 0.5 * ((double)j + otg_rng_uniform(rng));
}

static void grid_point(otg_rng *rng, const otg_source_opts *o, double p[2]) {
    const uint32_t k = (uint32_t)o->grid_side, idx = otgi_data_draw_below(rng, k * k);
    const double step = k > 1 ? 2.0 / (double)(k - 1) : 0.0, start = k > 1 ? -1.0 : 0.0;
    p[0] = start + step * (double)(idx % k);
    p[1] = start + step * (double)(idx / k);
}

/* ---- the table ------------------------------------------------------------------------------- */

typedef struct {
    const char *name;
    law_point_fn point; /* NULL: a dim-dimensional law (gaussian, uniform) */
    double noise;       /* default noise sd */
} law_entry;

static const law_entry LAWS[] = {
    {"moons", moons_point, 0.05},
    {"swiss-roll", swiss_roll_point, 0.025},
    {"gaussians8", gaussians8_point, 0.02},
    {"rings", rings_point, 0.02},
    {"checkerboard", checkerboard_point, 0.0},
    {"gaussian", NULL, 0.0},
    {"uniform", NULL, 0.0},
    {"grid", grid_point, 0.0},
};
enum { N_LAWS = (int)(sizeof LAWS / sizeof LAWS[0]) };

int otgi_data_law_find(const char *name) {
    for (int i = 0; i < N_LAWS; i++)
        if (strcmp(name, LAWS[i].name) == 0) return i;
    return -1;
}

const char *otgi_data_law_name(int law) {
    return law >= 0 && law < N_LAWS ? LAWS[law].name : NULL;
}

/* Checks o's fields for `law` and fills in the defaults: dim (2 for the 2-D laws), noise. */
otg_status otgi_data_law_resolve(int law, otg_source_opts *o) {
    const law_entry *e = &LAWS[law];
    if (!e->point && o->dim < 1)
        return otgi_fail(OTG_EINVAL, "%s: dim must be >= 1 (got %lld)", e->name, (long long)o->dim);
    if (e->point) o->dim = 2;
    if (e->point == grid_point && (o->grid_side < 1 || o->grid_side > GRID_SIDE_MAX))
        return otgi_fail(OTG_EINVAL, "grid: grid_side must be in 1..%d (got %lld)", GRID_SIDE_MAX,
                         (long long)o->grid_side);
    if (isnan(o->noise) || isinf(o->noise))
        return otgi_fail(OTG_EINVAL, "%s: noise must be finite", e->name);
    if (o->noise < 0.0) o->noise = e->noise;
    return OTG_OK;
}

/* out[n, 2]: clean points plus noise. */
static void sample_2d(const law_entry *e, const otg_source_opts *o, otg_rng *rng, int64_t n,
                      float *out) {
    for (int64_t i = 0; i < n; i++) {
        double p[2];
        e->point(rng, o, p);
        if (o->noise > 0.0) {
            p[0] += o->noise * otg_rng_normal(rng);
            p[1] += o->noise * otg_rng_normal(rng);
        }
        out[2 * i] = (float)p[0];
        out[2 * i + 1] = (float)p[1];
    }
}

/* n points of a resolved law into out[n, o->dim]. */
otg_status otgi_data_law_sample(int law, const otg_source_opts *o, otg_rng *rng, int64_t n,
                                float *out) {
    const law_entry *e = &LAWS[law];
    int64_t count;
    if (otgi_mul_i64(n, o->dim, &count))
        return otgi_fail(OTG_EINVAL, "%s: sample of %lld points overflows", e->name, (long long)n);
    if (e->point) {
        sample_2d(e, o, rng, n, out);
    } else if (strcmp(e->name, "gaussian") == 0) {
        otg_rng_fill_normal(rng, count, out);
    } else {
        otg_rng_fill_uniform(rng, count, out);
        for (int64_t i = 0; i < count; i++)
            out[i] = 2.0f * out[i] - 1.0f;
    }
    return OTG_OK;
}
