/* --quantile-bank K: the loss is SW_2^2 against the whole training set, not against a batch of
 * it. At set-up, K directions of --directions-kind are drawn once from (seed, 14), and
 * otg_sw_quantiles projects every training row on them: per direction, the means of the data's
 * quantile function over the batch's n intervals, and the variance left inside them. Each step
 * draws --projections of the K directions without replacement (stream 3) and compares the
 * sorted projections of the generated batch with those means (otg_sw_quantile_loss): the
 * data-side sampling noise of the loss is gone, and so is the data side's projection. The bank
 * is recomputed from the seed on resume, so a resumed run ends with the same bits. */
#include "internal.h"
#include "train/train_internal.h"

#include "otgen/data.h"

#include <stdlib.h>
#include <string.h>

static otg_status bank_check(const otg_trainer *t) {
    const otg_train_config *c = &t->c;
    const char *why = t->comm                             ? "one process only (not under mpirun)"
                      : t->energy_loss                    ? "the sw loss only (not --loss energy)"
                      : c->p != 2.0                       ? "--p 2 only"
                      : t->est != OTG_SW_EST_MC           ? "--estimator mc only"
                      : c->projections > c->quantile_bank ? "--projections at most the bank's size"
                      : c->data_batch > 0 ? "no data batch is drawn (drop --data-batch)"
                                          : NULL;
    if (why)
        return otgi_fail(OTG_EINVAL, "train: --quantile-bank %lld: %s", (long long)c->quantile_bank,
                         why);
    if (otg_source_size(t->target) < 1)
        return otgi_fail(OTG_EINVAL,
                         "train: --quantile-bank needs finite data (FILE.npy, FILE.csv or "
                         "fashion-mnist), not the law '%s'",
                         c->data);
    return OTG_OK;
}

otg_status otgi_trainer_bank_make(otg_trainer *t) {
    otg_status st = bank_check(t);
    if (st != OTG_OK) return st;
    const int64_t K = t->c.quantile_bank, L = t->c.projections, n = t->c.batch, d = t->dim;
    t->bank_theta = malloc((size_t)(d * K) * sizeof(float));
    t->bank_q = malloc((size_t)(K * n) * sizeof(float));
    t->bank_c = malloc((size_t)K * sizeof(double));
    t->step_q = malloc((size_t)(L * n) * sizeof(float));
    t->step_c = malloc((size_t)L * sizeof(double));
    t->bank_pick = malloc((size_t)K * sizeof(int64_t));
    if (!t->bank_theta || !t->bank_q || !t->bank_c || !t->step_q || !t->step_c || !t->bank_pick)
        return otgi_fail(OTG_ENOMEM, "train: --quantile-bank %lld: out of memory", (long long)K);
    otg_rng r = otg_rng_make((uint64_t)t->c.seed, OTGI_S_BANK);
    st = otgi_trainer_directions(t, &r, K, t->bank_theta);
    otg_tensor theta = {.ndim = 2, .shape = {d, K}, .data = t->bank_theta};
    if (st == OTG_OK)
        st = otg_sw_quantiles(otg_source_data(t->target), &theta, n, t->bank_q, t->bank_c);
    return st;
}

void otgi_trainer_bank_pick(otg_trainer *t, otg_rng *rng) {
    const int64_t K = t->c.quantile_bank, L = t->c.projections, n = t->c.batch, d = t->dim;
    int64_t *pick = t->bank_pick;
    otgi_rng_draw_distinct(rng, pick, K, L);
    for (int64_t l = 0; l < L; l++) {
        const int64_t k = pick[l];
        memcpy(t->step_q + l * n, t->bank_q + k * n, (size_t)n * sizeof(float));
        t->step_c[l] = t->bank_c[k];
    }
    float *theta = t->theta->data;
    for (int64_t i = 0; i < d; i++)
        for (int64_t l = 0; l < L; l++)
            theta[i * L + l] = t->bank_theta[i * K + pick[l]];
}

void otgi_trainer_bank_free(otg_trainer *t) {
    free(t->bank_theta), free(t->bank_q), free(t->bank_c), free(t->step_q), free(t->step_c);
    free(t->bank_pick);
    otg_sw_quantile_loss_release(&t->swq);
}
