/* The float32 path of `otgen ad-study`: the generator on the tape with the fused SW loss, one
 * plain SGD step (u -= lr g, so that two runs differ only through backprop's output), the kink
 * and tie counts of each step, and the validation SW on fixed latents, points and directions. */
#include "study.h"

#include <math.h>
#include <string.h>

int study_f32_build(study_f32 *m, const int64_t *widths, int n_widths, int64_t batch,
                    const otg_tensor *theta, float s, uint64_t seed) {
    memset(m, 0, sizeof *m);
    const int64_t d = widths[n_widths - 1];
    otg_rng init = otg_rng_make(seed, 0);
    m->batch = batch;
    m->g = otg_graph_new();
    if (!m->g || otg_graph_set_relu_prime(m->g, s) != OTG_OK) return -1;
    m->z = otg_input(m->g, 2, (int64_t[]){batch, widths[0]}, 0);
    m->y = otg_input(m->g, 2, (int64_t[]){batch, d}, 0);
    otg_mlp_spec spec = otg_mlp_spec_default();
    spec.widths = widths, spec.n_widths = n_widths;
    m->out = otg_mlp_build(m->g, m->z, &spec, &init);
    m->sw.ws = otg_sw_workspace_new();
    m->sw.opts = otg_sw_opts_default();
    m->sw.theta = theta;
    if (!m->out || !m->sw.ws) return -1;
    m->loss = otg_sw_loss(m->g, m->out, m->y, &m->sw);
    if (!m->loss || otg_graph_compile(m->g) != OTG_OK) return -1;
    otg_graph_params(m->g, &m->n_params);
    return 0;
}

void study_f32_release(study_f32 *m) {
    otg_graph_free(m->g);
    otg_sw_loss_release(&m->sw);
    otg_sw_workspace_free(m->sw.ws);
    memset(m, 0, sizeof *m);
}

int study_f32_step(study_f32 *m, const float *z, const float *y, double lr, double *loss,
                   int64_t *kinks, int64_t *ties) {
    memcpy(otg_node_data(m->z), z, (size_t)otg_node_numel(m->z) * sizeof(float));
    memcpy(otg_node_data(m->y), y, (size_t)otg_node_numel(m->y) * sizeof(float));
    if (otg_graph_forward(m->g) != OTG_OK) return -1;
    *kinks = otg_graph_kink_count_op(m->g, OTG_OP_RELU);
    *ties = m->sw.result.ties;
    otg_graph_zero_grad(m->g);
    if (otg_graph_backward(m->g, m->loss) != OTG_OK) return -1;
    float *u = otg_graph_params(m->g, NULL), *g = otg_graph_grads(m->g, NULL);
    const float a = (float)lr;
    for (int64_t i = 0; i < m->n_params; i++)
        u[i] -= a * g[i];
    *loss = (double)otg_node_data(m->loss)[0];
    return 0;
}

int study_val_make(study_val *v, otg_source *target, otg_source *latent, int64_t n, uint64_t seed) {
    memset(v, 0, sizeof *v);
    v->n = n, v->dim = otg_source_dim(target);
    v->z = otg_tensor_new(2, (int64_t[]){n, otg_source_dim(latent)});
    v->y = otg_tensor_new(2, (int64_t[]){n, v->dim});
    v->x = otg_tensor_new(2, (int64_t[]){n, v->dim});
    v->theta = otg_tensor_new(2, (int64_t[]){v->dim, 128});
    v->ws = otg_sw_workspace_new();
    if (!v->z || !v->y || !v->x || !v->theta || !v->ws) return -1;
    otg_rng rz = otg_rng_make(seed, 10), ry = otg_rng_make(seed, 11), rd = otg_rng_make(seed, 12);
    if (otg_source_sample(latent, &rz, n, v->z->data) != OTG_OK) return -1;
    if (otg_source_sample(target, &ry, n, v->y->data) != OTG_OK) return -1;
    return otg_sw_directions(&rd, OTG_DIR_GAUSSIAN, v->dim, 128, v->theta->data) == OTG_OK ? 0 : -1;
}

void study_val_release(study_val *v) {
    otg_tensor_free(v->z), otg_tensor_free(v->y), otg_tensor_free(v->x), otg_tensor_free(v->theta);
    otg_sw_workspace_free(v->ws);
    memset(v, 0, sizeof *v);
}

double study_val_sw(study_val *v, study_f32 *m) {
    const int64_t b = m->batch, lat = v->z->shape[1];
    for (int64_t i0 = 0; i0 + b <= v->n; i0 += b) {
        memcpy(otg_node_data(m->z), v->z->data + i0 * lat, (size_t)(b * lat) * sizeof(float));
        otg_graph_forward(m->g);
        memcpy(v->x->data + i0 * v->dim, otg_node_data(m->out),
               (size_t)(b * v->dim) * sizeof(float));
    }
    otg_sw_opts so = otg_sw_opts_default();
    otg_sw_result res;
    if (otg_sw(v->ws, v->x, NULL, v->y, NULL, v->theta, &so, &res, NULL, NULL) != OTG_OK)
        return (double)NAN;
    return res.distance;
}
