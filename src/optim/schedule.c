/* Learning-rate schedules: constant, step decay (lr0 gamma^floor(step / every), floored at min_lr),
 * cosine decay from lr0 to min_lr over `every` steps, wsd (lr0 until `start`, then the cosine
 * decay over the next `every` steps: warmup-stable-decay without the warm-up), and
 * reduce-on-plateau (lr *= gamma after `patience` validations without a relative improvement of
 * 1e-4 over the best metric). The schedule is a plain struct the run checkpoints as is. */
#include "internal.h"
#include "internal_state.h"
#include "otgen/optim.h"

#include <math.h>
#include <string.h>

#define PLATEAU_REL_TOL 1e-4 /* a metric improves when it is below best (1 - this) */

otg_status otg_sched_parse(const char *name, otg_sched_kind *out) {
    if (!out) return otgi_fail(OTG_EINVAL, "schedule: out is NULL");
    if (name && !strcmp(name, "constant"))
        *out = OTG_SCHED_CONSTANT;
    else if (name && !strcmp(name, "step"))
        *out = OTG_SCHED_STEP;
    else if (name && !strcmp(name, "plateau"))
        *out = OTG_SCHED_PLATEAU;
    else if (name && !strcmp(name, "cosine"))
        *out = OTG_SCHED_COSINE;
    else if (name && !strcmp(name, "wsd"))
        *out = OTG_SCHED_WSD;
    else
        return otgi_fail(OTG_EINVAL,
                         "schedule: unknown kind '%s' (constant, step, plateau, cosine, wsd)",
                         name ? name : "(null)");
    return OTG_OK;
}

otg_schedule otg_schedule_make(otg_sched_kind kind, double lr0) {
    otg_schedule s = {.kind = kind,
                      .lr0 = lr0,
                      .gamma = 0.5,
                      .min_lr = 0.0,
                      .every = 1000,
                      .patience = 5,
                      .lr = lr0,
                      .best = INFINITY,
                      .bad = 0,
                      .start = 0};
    return s;
}

/* lr0 gamma^floor(step / every), never below min_lr; every < 1 is taken as 1, step < 0 as 0. */
static double step_lr(const otg_schedule *s, int64_t step) {
    const int64_t every = s->every > 0 ? s->every : 1;
    const int64_t k = step > 0 ? step / every : 0;
    return fmax(s->lr0 * pow(s->gamma, (double)k), s->min_lr);
}

/* min_lr + (lr0 - min_lr) (1 + cos(pi t / every)) / 2, t = min(step, every): lr0 at step 0,
 * min_lr from step `every` on. */
static double cosine_lr(const otg_schedule *s, int64_t step) {
    const int64_t every = s->every > 0 ? s->every : 1;
    const double t = (double)(step < 0 ? 0 : step > every ? every : step) / (double)every;
    return s->min_lr + (s->lr0 - s->min_lr) * 0.5 * (1.0 + cos(3.14159265358979323846 * t));
}

/* Counts a validation: a finite metric below best (1 - 1e-4) resets the count, otherwise after
 * `patience` bad ones lr = max(lr gamma, min_lr). NaN (no validation at this step) changes
 * nothing. */
static void plateau_update(otg_schedule *s, double metric) {
    if (!isfinite(metric)) return;
    if (metric < s->best * (1.0 - PLATEAU_REL_TOL)) {
        s->best = metric;
        s->bad = 0;
        return;
    }
    if (++s->bad >= s->patience) {
        s->lr = fmax(s->lr * s->gamma, s->min_lr);
        s->bad = 0;
    }
}

double otg_schedule_lr(otg_schedule *s, int64_t step, double metric) {
    if (!s) return NAN;
    switch (s->kind) {
    case OTG_SCHED_CONSTANT:
        s->lr = s->lr0;
        break;
    case OTG_SCHED_STEP:
        s->lr = step_lr(s, step);
        break;
    case OTG_SCHED_PLATEAU:
        plateau_update(s, metric);
        break;
    case OTG_SCHED_COSINE:
        s->lr = cosine_lr(s, step);
        break;
    case OTG_SCHED_WSD:
        s->lr = step < s->start ? s->lr0 : cosine_lr(s, step - s->start);
        break;
    }
    return s->lr;
}

/* ---- checkpoint state (internal_state.h) ---- */

int otgi_schedule_state_write(cJSON *parent, const char *key, const otg_schedule *s) {
    cJSON *o = cJSON_AddObjectToObject(parent, key);
    return o && cJSON_AddNumberToObject(o, "lr", s->lr) &&
           cJSON_AddNumberToObject(o, "best", isinf(s->best) ? 1e308 : s->best) &&
           otgi_cjson_add_u64(o, "bad", (uint64_t)s->bad);
}

otg_status otgi_schedule_state_read(const cJSON *parent, const char *key, otg_schedule *s) {
    const cJSON *o = cJSON_GetObjectItemCaseSensitive(parent, key);
    const cJSON *lr = cJSON_GetObjectItemCaseSensitive(o, "lr");
    const cJSON *best = cJSON_GetObjectItemCaseSensitive(o, "best");
    int64_t bad;
    if (!o || !cJSON_IsNumber(lr) || !isfinite(lr->valuedouble) || lr->valuedouble < 0 ||
        !cJSON_IsNumber(best) || otgi_cjson_get_i64(o, "bad", &bad))
        return otgi_fail(OTG_EFORMAT, "schedule state \"%s\": missing or malformed", key);
    s->lr = lr->valuedouble;
    s->best = best->valuedouble >= 1e308 ? (double)INFINITY : best->valuedouble;
    s->bad = bad;
    return OTG_OK;
}
