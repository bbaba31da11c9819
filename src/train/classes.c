/* --conditional: a class-conditional generator on labelled data. Its input is a latent followed
 * by the one-hot of a class; each step draws one class (the label of a random training row, so
 * the classes come at the data's frequencies) and compares a batch of that class's generated
 * points with data rows of that class alone: the SW loss of one class-conditional law per step.
 * Validation and sampling draw each row's class the same way. */
#include "internal.h"
#include "train_internal.h"

#include <string.h>

otg_status otgi_trainer_classes_make(otg_trainer *t) {
    const otg_train_config *c = &t->c;
    t->zdim = c->latent;
    if (!c->conditional) return OTG_OK;
    const uint8_t *lab = otg_source_labels(t->target);
    if (!lab)
        return otgi_fail(OTG_EINVAL,
                         "train: --conditional needs labelled data (fashion-mnist), "
                         "not %s",
                         c->data);
    if (t->comm) return otgi_fail(OTG_EINVAL, "train: --conditional: one process only");
    if (c->quantile_bank > 0)
        return otgi_fail(OTG_EINVAL, "train: --conditional and --quantile-bank exclude each other");
    const int64_t n = otg_source_size(t->target);
    int64_t count[10] = {0};
    for (int64_t i = 0; i < n; i++)
        count[lab[i]]++;
    t->n_cls = 0;
    for (int k = 0; k < 10; k++) { /* the kept labels, in increasing order */
        t->cls_of_label[k] = count[k] > 0 ? t->n_cls : -1;
        if (count[k] > 0) {
            t->cls_off[t->n_cls + 1] = t->cls_off[t->n_cls] + count[k];
            t->n_cls++;
        }
    }
    if (!(t->cls_rows = otgi_calloc((size_t)n, sizeof *t->cls_rows))) return OTG_ENOMEM;
    int64_t fill[10];
    memcpy(fill, t->cls_off, sizeof fill);
    for (int64_t i = 0; i < n; i++)
        t->cls_rows[fill[t->cls_of_label[lab[i]]]++] = i;
    t->zdim = c->latent + t->n_cls;
    return OTG_OK;
}

void otgi_trainer_classes_free(otg_trainer *t) {
    free(t->cls_rows);
    t->cls_rows = NULL;
}

int otgi_trainer_class_of(const otg_trainer *t, int label) {
    return t->n_cls && label >= 0 && label < 10 ? t->cls_of_label[label] : -1;
}

int otgi_trainer_class_draw(otg_trainer *t, otg_rng *rng) {
    const uint32_t i = otgi_data_draw_below(rng, (uint32_t)otg_source_size(t->target));
    return t->cls_of_label[otg_source_labels(t->target)[i]];
}

otg_status otgi_trainer_latents(otg_trainer *t, otg_rng *rng, int64_t n, int cls, float *z) {
    otg_status st = otg_source_sample(t->latent, rng, n, z);
    if (st != OTG_OK || t->n_cls == 0) return st;
    const int64_t lat = t->c.latent, zd = t->zdim;
    for (int64_t i = n - 1; i >= 0; i--) /* spread rows [n, lat] to [n, zd], last row first */
        memmove(z + i * zd, z + i * lat, (size_t)lat * sizeof *z);
    for (int64_t i = 0; i < n; i++) {
        float *h = z + i * zd + lat;
        memset(h, 0, (size_t)t->n_cls * sizeof *h);
        h[cls >= 0 ? cls : otgi_trainer_class_draw(t, rng)] = 1.0f;
    }
    return OTG_OK;
}

void otgi_trainer_class_rows(otg_trainer *t, otg_rng *rng, int cls, int64_t m, float *y) {
    const otg_tensor *data = otg_source_data(t->target);
    const int64_t d = t->dim, k0 = t->cls_off[cls];
    const uint32_t size = (uint32_t)(t->cls_off[cls + 1] - k0);
    for (int64_t i = 0; i < m; i++) {
        const int64_t r = t->cls_rows[k0 + otgi_data_draw_below(rng, size)];
        memcpy(y + i * d, data->data + r * d, (size_t)d * sizeof *y);
    }
}
