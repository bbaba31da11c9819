/* The ad-study (Bertoin et al. 2021 on otgen's SW generators): for each width x depth x seed the
 * same MLP generator is trained twice on the float32 tape from the same seed and batches by
 * plain SGD, relu'(0) = 0 and relu'(0) = 1, and the first step at which the parameters differ
 * bitwise is recorded with the kinks met; then the same pair for a small model on the float64
 * reference path (ad_study_ref.c), with its drift from the float32 run. Streams per seed: 0 init,
 * 1 latents, 2 data, 3 directions; validation (seed, 10..12). */
#include "internal.h"
#include "otgen/otgen.h"
#include "study/study_internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- the float32 path: the tape, otg_mlp_build and the fused SW loss ---------------------- */

typedef struct {
    otg_graph *g;
    otg_node *z, *y, *out, *loss;
    otg_sw_loss_ctx sw;
    int64_t batch, n_params;
} f32_model;

/* The generator widths[0] -> ... -> widths[n_widths - 1] with relu'(0) = s, initialised from
 * stream (seed, 0), and its SW_2^2 loss along theta (borrowed) for batches of `batch`. */
static otg_status f32_build(f32_model *m, const int64_t *widths, int n_widths, int64_t batch,
                            const otg_tensor *theta, float s, uint64_t seed) {
    memset(m, 0, sizeof *m);
    const int64_t d = widths[n_widths - 1];
    otg_rng init = otg_rng_make(seed, 0);
    m->batch = batch;
    m->g = otg_graph_new();
    if (!m->g) return OTG_ENOMEM;
    otg_status st = otg_graph_set_relu_prime(m->g, s);
    if (st != OTG_OK) return st;
    m->z = otg_input(m->g, 2, (int64_t[]){batch, widths[0]}, 0);
    m->y = otg_input(m->g, 2, (int64_t[]){batch, d}, 0);
    otg_mlp_spec spec = otg_mlp_spec_default();
    spec.widths = widths, spec.n_widths = n_widths;
    m->out = otg_mlp_build(m->g, m->z, &spec, &init);
    m->sw.ws = otg_sw_workspace_new();
    m->sw.opts = otg_sw_opts_default();
    m->sw.theta = theta;
    if (!m->out || !m->sw.ws) return OTG_ENOMEM;
    m->loss = otg_sw_loss(m->g, m->out, m->y, &m->sw);
    if (!m->loss) return OTG_ENOMEM;
    if ((st = otg_graph_compile(m->g)) != OTG_OK) return st;
    otg_graph_params(m->g, &m->n_params);
    return OTG_OK;
}

static void f32_release(f32_model *m) {
    otg_graph_free(m->g);
    otg_sw_loss_release(&m->sw);
    otg_sw_workspace_free(m->sw.ws);
    memset(m, 0, sizeof *m);
}

/* One SGD step u -= lr g on batch z, y (theta as built): the loss, relu kinks and SW sort ties
 * of the step. The step is not applied when the forward or backward pass fails. */
static otg_status f32_step(f32_model *m, const float *z, const float *y, double lr, double *loss,
                           int64_t *kinks, int64_t *ties) {
    memcpy(otg_node_data(m->z), z, (size_t)otg_node_numel(m->z) * sizeof(float));
    memcpy(otg_node_data(m->y), y, (size_t)otg_node_numel(m->y) * sizeof(float));
    otg_status st = otg_graph_forward(m->g);
    if (st != OTG_OK) return st;
    *kinks = otg_graph_kink_count_op(m->g, OTG_OP_RELU);
    *ties = m->sw.result.ties;
    otg_graph_zero_grad(m->g);
    if ((st = otg_graph_backward(m->g, m->loss)) != OTG_OK) return st;
    float *u = otg_graph_params(m->g, NULL), *g = otg_graph_grads(m->g, NULL);
    const float a = (float)lr;
    for (int64_t i = 0; i < m->n_params; i++)
        u[i] -= a * g[i];
    *loss = (double)otg_node_data(m->loss)[0];
    return OTG_OK;
}

/* ---- the study object -------------------------------------------------------------------- */

struct otg_ad_study {
    otg_ad_study_config c;
    otg_source *target, *latent;
    float *z, *y;                      /* [batch, 2] one step's latents and target points */
    otg_tensor *theta;                 /* [2, projections] one step's directions */
    otg_tensor *vz, *vy, *vx, *vtheta; /* validation: [val_n, 2] x3, [2, 128] */
    otg_sw_workspace *vws;
};

otg_ad_study_config otg_ad_study_config_default(void) {
    otg_ad_study_config c = {
        "moons", "gaussian", {16, 32, 64, 128, 256}, 5, {1, 2, 3, 4}, 4, 4, 0, 300, 128, 32, 16, 2,
        512,     0.005};
    return c;
}

void otg_ad_study_free(otg_ad_study *s) {
    if (!s) return;
    otg_source_free(s->target), otg_source_free(s->latent);
    free(s->z), free(s->y);
    otg_tensor_free(s->theta), otg_tensor_free(s->vz), otg_tensor_free(s->vy);
    otg_tensor_free(s->vx), otg_tensor_free(s->vtheta);
    otg_sw_workspace_free(s->vws);
    free(s);
}

static otg_status check_config(const otg_ad_study_config *c) {
    if (c->n_widths < 1 || c->n_widths > OTG_AD_STUDY_MAX_SWEEP || c->n_depths < 1 ||
        c->n_depths > OTG_AD_STUDY_MAX_SWEEP)
        return otgi_fail(OTG_EINVAL, "ad-study: widths, depths: need 1..%d of each (got %d, %d)",
                         OTG_AD_STUDY_MAX_SWEEP, c->n_widths, c->n_depths);
    for (int i = 0; i < c->n_widths; i++)
        if (c->widths[i] < 1 || c->widths[i] > OTG_AD_STUDY_MAX_WIDTH)
            return otgi_fail(OTG_EINVAL, "ad-study: widths: %lld outside [1, %d]",
                             (long long)c->widths[i], OTG_AD_STUDY_MAX_WIDTH);
    for (int i = 0; i < c->n_depths; i++)
        if (c->depths[i] < 1 || c->depths[i] > OTG_AD_STUDY_MAX_DEPTH)
            return otgi_fail(OTG_EINVAL, "ad-study: depths: %lld outside [1, %d]",
                             (long long)c->depths[i], OTG_AD_STUDY_MAX_DEPTH);
    if (c->ref_width < 1 || c->ref_width > OTG_AD_STUDY_MAX_WIDTH || c->ref_depth < 1 ||
        c->ref_depth > OTG_AD_STUDY_MAX_DEPTH || c->seeds < 1 || c->seed < 0 || c->steps < 1 ||
        c->batch < 2 || c->projections < 1 || c->val_n < 2 || !(c->lr > 0.0) || !isfinite(c->lr))
        return otgi_fail(OTG_EINVAL,
                         "ad-study: config: need ref_width in [1, %d], ref_depth in [1, %d], "
                         "seeds, steps, projections >= 1, seed >= 0, batch, val_n >= 2 "
                         "and a finite lr > 0",
                         OTG_AD_STUDY_MAX_WIDTH, OTG_AD_STUDY_MAX_DEPTH);
    return OTG_OK;
}

/* The fixed validation set: latents, target points and 128 directions from (seed, 10..12). */
static otg_status val_make(otg_ad_study *s) {
    const int64_t n = s->c.val_n;
    s->vz = otg_tensor_new(2, (int64_t[]){n, 2});
    s->vy = otg_tensor_new(2, (int64_t[]){n, 2});
    s->vx = otg_tensor_new(2, (int64_t[]){n, 2});
    s->vtheta = otg_tensor_new(2, (int64_t[]){2, 128});
    s->vws = otg_sw_workspace_new();
    if (!s->vz || !s->vy || !s->vx || !s->vtheta || !s->vws) return OTG_ENOMEM;
    uint64_t seed = (uint64_t)s->c.seed;
    otg_rng rz = otg_rng_make(seed, 10), ry = otg_rng_make(seed, 11), rd = otg_rng_make(seed, 12);
    otg_status st = otg_source_sample(s->latent, &rz, n, s->vz->data);
    if (st == OTG_OK) st = otg_source_sample(s->target, &ry, n, s->vy->data);
    if (st == OTG_OK) st = otg_sw_directions(&rd, OTG_DIR_GAUSSIAN, 2, 128, s->vtheta->data);
    return st;
}

otg_status otg_ad_study_new(const otg_ad_study_config *c, otg_ad_study **out) {
    if (!c || !out) return otgi_fail(OTG_EINVAL, "ad-study: NULL config or out");
    *out = NULL;
    otg_status st = check_config(c);
    if (st != OTG_OK) return st;
    otg_ad_study *s = otgi_calloc(1, sizeof *s);
    if (!s) return OTG_ENOMEM;
    s->c = *c;
    s->c.data[sizeof s->c.data - 1] = s->c.source[sizeof s->c.source - 1] = '\0';
    s->c.val_n = (c->val_n + c->batch - 1) / c->batch * c->batch;
    otg_source_opts so = otg_source_opts_default(), lo = otg_source_opts_default();
    lo.dim = 2;
    if (!(s->target = otg_source_open(s->c.data, &so))) {
        st = otgi_fail(OTG_EINVAL, "ad-study: data: %s", otg_last_error());
    } else if (otg_source_dim(s->target) != 2 || otg_source_is_image(s->target, NULL, NULL)) {
        st = otgi_fail(OTG_EINVAL,
                       "ad-study: data %s: the study trains 2-D generators (a 2-D "
                       "data set)",
                       s->c.data);
    } else if (!(s->latent = otg_source_open(s->c.source, &lo))) {
        st = otgi_fail(OTG_EINVAL, "ad-study: source: %s", otg_last_error());
    } else if (otg_source_dim(s->latent) != 2 || otg_source_size(s->latent) > 0) {
        st = otgi_fail(OTG_EINVAL,
                       "ad-study: source %s: needs a 2-D law sampled afresh "
                       "(gaussian, uniform, grid, moons, ...)",
                       s->c.source);
    } else {
        s->z = otgi_calloc((size_t)(c->batch * 2), sizeof(float));
        s->y = otgi_calloc((size_t)(c->batch * 2), sizeof(float));
        s->theta = otg_tensor_new(2, (int64_t[]){2, c->projections});
        st = s->z && s->y && s->theta ? val_make(s) : OTG_ENOMEM;
    }
    if (st != OTG_OK) {
        otg_ad_study_free(s);
        return st;
    }
    *out = s;
    return OTG_OK;
}

/* SW_2 between the model's samples of the validation latents and the validation points. */
static otg_status val_sw(otg_ad_study *s, f32_model *m, double *out) {
    const int64_t b = m->batch;
    for (int64_t i0 = 0; i0 + b <= s->c.val_n; i0 += b) {
        memcpy(otg_node_data(m->z), s->vz->data + i0 * 2, (size_t)(b * 2) * sizeof(float));
        otg_status st = otg_graph_forward(m->g);
        if (st != OTG_OK) return st;
        memcpy(s->vx->data + i0 * 2, otg_node_data(m->out), (size_t)(b * 2) * sizeof(float));
    }
    otg_sw_opts so = otg_sw_opts_default();
    otg_sw_result res;
    *out = (double)NAN;
    if (otg_sw(s->vws, s->vx, NULL, s->vy, NULL, s->vtheta, &so, &res, NULL, NULL) == OTG_OK)
        *out = res.distance;
    return OTG_OK;
}

/* The batches of step k of seed `seed` (streams (seed, 1..3)), identical for every run. */
typedef struct {
    otg_rng lat, data, dirs;
} streams;

static streams streams_make(uint64_t seed) {
    return (streams){otg_rng_make(seed, 1), otg_rng_make(seed, 2), otg_rng_make(seed, 3)};
}

/* One step's latents, data and directions. */
static otg_status draw(otg_ad_study *s, streams *r) {
    const int64_t b = s->c.batch;
    otg_status st = otg_source_sample(s->latent, &r->lat, b, s->z);
    if (st == OTG_OK) st = otg_source_sample(s->target, &r->data, b, s->y);
    if (st == OTG_OK)
        st = otg_sw_directions(&r->dirs, OTG_DIR_GAUSSIAN, 2, s->c.projections, s->theta->data);
    return st;
}

static int make_widths(int64_t w, int64_t depth, int64_t *widths) {
    widths[0] = 2;
    for (int64_t l = 1; l <= depth; l++)
        widths[l] = w;
    widths[depth + 1] = 2;
    return (int)depth + 2;
}

/* The float32 pair for hidden width w and `depth` layers. */
static otg_status pair_f32(otg_ad_study *s, int64_t w, int64_t depth, uint64_t seed,
                           otg_ad_study_row *res) {
    int64_t widths[OTGI_ADREF_MAX_LAYERS + 1];
    int nw = make_widths(w, depth, widths);
    f32_model m0, m1;
    memset(&m1, 0, sizeof m1);
    otg_status st = f32_build(&m0, widths, nw, s->c.batch, s->theta, 0.0f, seed);
    if (st == OTG_OK) st = f32_build(&m1, widths, nw, s->c.batch, s->theta, 1.0f, seed);
    streams r = streams_make(seed);
    const size_t bytes = st != OTG_OK ? 0 : (size_t)m0.n_params * sizeof(float);
    for (int64_t k = 1; st == OTG_OK && k <= s->c.steps; k++) {
        int64_t k0, k1, t0, t1;
        if ((st = draw(s, &r)) != OTG_OK ||
            (st = f32_step(&m0, s->z, s->y, s->c.lr, &res->loss0, &k0, &t0)) != OTG_OK ||
            (st = f32_step(&m1, s->z, s->y, s->c.lr, &res->loss1, &k1, &t1)) != OTG_OK)
            break;
        res->kinks += k0, res->ties += t0;
        if (!isfinite(res->loss0) || !isfinite(res->loss1)) {
            res->diverged = k;
            break;
        }
        if (!res->first_diff) {
            res->kinks_to_diff += k0;
            if (memcmp(otg_graph_params(m0.g, NULL), otg_graph_params(m1.g, NULL), bytes))
                res->first_diff = k;
        }
    }
    if (st == OTG_OK) st = val_sw(s, &m0, &res->val0);
    if (st == OTG_OK) st = val_sw(s, &m1, &res->val1);
    f32_release(&m0);
    f32_release(&m1);
    return st;
}

static double rel_dist_f32_f64(const float *a, const double *b, int64_t n) {
    double num = 0.0, den = 0.0;
    for (int64_t i = 0; i < n; i++)
        num += ((double)a[i] - b[i]) * ((double)a[i] - b[i]), den += b[i] * b[i];
    return sqrt(num / fmax(den, 1e-300));
}

/* Writes u (double) into the float32 model's parameters and measures its validation SW. */
static otg_status val_of_f64(otg_ad_study *s, f32_model *m, const double *u, double *out) {
    float *p = otg_graph_params(m->g, NULL);
    for (int64_t i = 0; i < m->n_params; i++)
        p[i] = (float)u[i];
    return val_sw(s, m, out);
}

/* The float64 steps of the reference pair r0, r1, with the float32 s = 0 run m beside it. */
static otg_status steps_f64(otg_ad_study *s, f32_model *m, otgi_adref *r0, otgi_adref *r1,
                            uint64_t seed, otg_ad_study_row *res) {
    const double lr = s->c.lr;
    streams r = streams_make(seed);
    for (int64_t k = 1; k <= s->c.steps; k++) {
        int64_t kk, tt;
        double l32;
        otg_status st = draw(s, &r);
        if (st == OTG_OK) st = f32_step(m, s->z, s->y, lr, &l32, &kk, &tt);
        if (st != OTG_OK) return st;
        res->loss0 = otgi_adref_loss_grad(r0, s->z, s->y, s->theta->data);
        res->loss1 = otgi_adref_loss_grad(r1, s->z, s->y, s->theta->data);
        if (k == 1)
            res->grad_rel = rel_dist_f32_f64(otg_graph_grads(m->g, NULL), r0->g, m->n_params);
        for (int64_t i = 0; i < m->n_params; i++)
            r0->u[i] -= lr * r0->g[i], r1->u[i] -= lr * r1->g[i];
        res->kinks += r0->kinks;
        if (!isfinite(res->loss0) || !isfinite(res->loss1)) {
            res->diverged = k;
            return OTG_OK;
        }
        if (!res->first_diff) {
            res->kinks_to_diff += r0->kinks;
            if (memcmp(r0->u, r1->u, (size_t)m->n_params * sizeof(double))) res->first_diff = k;
        }
    }
    return OTG_OK;
}

/* The float64 pair for the reference model, from the float32 model's initial parameters. */
static otg_status pair_f64(otg_ad_study *s, uint64_t seed, otg_ad_study_row *res) {
    int64_t widths[OTGI_ADREF_MAX_LAYERS + 1];
    int nw = make_widths(s->c.ref_width, s->c.ref_depth, widths);
    f32_model m;
    otgi_adref *r0 = NULL, *r1 = NULL;
    otg_status st = f32_build(&m, widths, nw, s->c.batch, s->theta, 0.0f, seed);
    if (st != OTG_OK) goto done;
    r0 = otgi_adref_new(widths, nw, s->c.batch, s->c.projections, 0.0);
    r1 = otgi_adref_new(widths, nw, s->c.batch, s->c.projections, 1.0);
    if (!r0 || !r1) {
        st = OTG_ENOMEM;
        goto done;
    }
    if (r0->n_params != m.n_params) {
        st = otgi_fail(OTG_EINVAL, "ad-study: reference model has %lld parameters, the tape %lld",
                       (long long)r0->n_params, (long long)m.n_params);
        goto done;
    }
    const float *u32 = otg_graph_params(m.g, NULL);
    for (int64_t i = 0; i < m.n_params; i++)
        r0->u[i] = r1->u[i] = (double)u32[i];
    if ((st = steps_f64(s, &m, r0, r1, seed, res)) != OTG_OK) goto done;
    res->drift = rel_dist_f32_f64(otg_graph_params(m.g, NULL), r0->u, m.n_params);
    st = val_of_f64(s, &m, r0->u, &res->val0);
    if (st == OTG_OK) st = val_of_f64(s, &m, r1->u, &res->val1);
done:
    otgi_adref_free(r0), otgi_adref_free(r1);
    f32_release(&m);
    return st;
}

static otg_ad_study_row row_make(const otg_ad_study *s, const char *path, int64_t w, int64_t d,
                                 int64_t seed) {
    otg_ad_study_row r;
    memset(&r, 0, sizeof r);
    r.path = path, r.width = w, r.depth = d, r.seed = seed, r.steps = s->c.steps;
    return r;
}

static int cmp_i64(const void *p, const void *q) {
    int64_t a = *(const int64_t *)p, b = *(const int64_t *)q;
    return (a > b) - (a < b);
}

/* The runs of one width and depth; diffs [seeds] scratch. */
static otg_status sweep_cell(otg_ad_study *s, int64_t w, int64_t d, int64_t *diffs,
                             const otg_ad_study_hooks *h, otg_ad_study_totals *t) {
    const otg_ad_study_config *c = &s->c;
    otg_ad_study_cell cell = {w, d, c->seeds, 0, 0, 0.0, 0.0, 0, 0.0};
    int64_t kinks = 0;
    for (int64_t k = 0; k < c->seeds; k++) {
        otg_ad_study_row r = row_make(s, "f32", w, d, c->seed + k);
        otg_status st = pair_f32(s, w, d, (uint64_t)(c->seed + k), &r);
        if (st != OTG_OK) return st;
        if (h->on_row) h->on_row(h->user, &r);
        if (r.first_diff) diffs[cell.affected++] = r.first_diff;
        kinks += r.kinks;
        if (r.diverged)
            cell.diverged++;
        else
            cell.dval += fabs(r.val0 - r.val1);
    }
    cell.dval =
        cell.diverged < c->seeds ? cell.dval / (double)(c->seeds - cell.diverged) : (double)NAN;
    qsort(diffs, (size_t)cell.affected, sizeof *diffs, cmp_i64);
    if (cell.affected) cell.median_first_diff = diffs[cell.affected / 2];
    cell.fraction = (double)cell.affected / (double)c->seeds;
    cell.kinks_per_run = (double)kinks / (double)c->seeds;
    if (h->on_cell) h->on_cell(h->user, &cell);
    t->runs += c->seeds, t->affected += cell.affected, t->kinks += kinks;
    return OTG_OK;
}

/* The reference model's pairs on both paths, seed by seed. */
static otg_status reference(otg_ad_study *s, const otg_ad_study_hooks *h, otg_ad_study_totals *t) {
    const otg_ad_study_config *c = &s->c;
    for (int64_t k = 0; k < c->seeds; k++) {
        otg_ad_study_row r32 = row_make(s, "f32-ref", c->ref_width, c->ref_depth, c->seed + k);
        otg_ad_study_row r = row_make(s, "f64", c->ref_width, c->ref_depth, c->seed + k);
        otg_status st = pair_f32(s, c->ref_width, c->ref_depth, (uint64_t)(c->seed + k), &r32);
        if (st == OTG_OK) st = pair_f64(s, (uint64_t)(c->seed + k), &r);
        if (st != OTG_OK) return st;
        if (h->on_row) h->on_row(h->user, &r32), h->on_row(h->user, &r);
        t->f64_runs++, t->f64_affected += r.first_diff != 0, t->f64_kinks += r.kinks;
        t->f64_grad_rel = fmax(t->f64_grad_rel, r.grad_rel);
        t->f32_drift = fmax(t->f32_drift, r.drift);
    }
    return OTG_OK;
}

otg_status otg_ad_study_run(otg_ad_study *s, const otg_ad_study_hooks *hooks,
                            otg_ad_study_totals *totals) {
    if (!s) return otgi_fail(OTG_EINVAL, "ad-study: NULL study");
    const otg_ad_study_hooks none = {NULL, NULL, NULL}, *h = hooks ? hooks : &none;
    otg_ad_study_totals t;
    memset(&t, 0, sizeof t);
    int64_t *diffs = otgi_calloc((size_t)s->c.seeds, sizeof *diffs);
    if (!diffs) return OTG_ENOMEM;
    otg_status st = OTG_OK;
    for (int d = 0; st == OTG_OK && d < s->c.n_depths; d++)
        for (int i = 0; st == OTG_OK && i < s->c.n_widths; i++)
            st = sweep_cell(s, s->c.widths[i], s->c.depths[d], diffs, h, &t);
    free(diffs);
    if (st == OTG_OK) st = reference(s, h, &t);
    if (totals) *totals = t;
    return st;
}
