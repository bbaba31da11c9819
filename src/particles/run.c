/* particles: a whole run and a sweep over m and seeds, built only on the public step API
 * (otg_particles_step, otg_particles_objective): copy and adapt them to own the loop. Hooks see
 * the particles at every step and every objective row; the caller writes files and charts. */
#include "internal.h"
#include "otgen/particles.h"

#include <math.h>

otg_particles_run_opts otg_particles_run_opts_default(const otg_particles_type *t) {
    return (otg_particles_run_opts){.steps = t ? t->default_steps : 0,
                                    .lr = t ? t->default_lr : 0.0,
                                    .log_every = 0,
                                    .start = 0,
                                    .checkpoint_every = 0};
}

/* Row k: F_m on the evaluation data and the excess over F*. */
static otg_status run_row(otg_particles *s, int64_t k, double Fstar, const otg_particles_hooks *h,
                          otg_particles_result *r) {
    otg_particles_row row = {.step = k, .objective = NAN, .excess = NAN};
    otg_status st = otg_particles_objective(s, &row.objective);
    if (st != OTG_OK) return st;
    row.excess = isnan(Fstar) ? (double)NAN : row.objective - Fstar;
    r->objective = row.objective, r->excess = row.excess;
    if (h && h->on_row) h->on_row(h->user, &row);
    return OTG_OK;
}

otg_status otg_particles_run(otg_particles *s, const otg_particles_run_opts *o,
                             const otg_particles_hooks *hooks, otg_particles_result *res) {
    otg_particles_result r = {.steps_done = 0, .objective = NAN, .excess = NAN};
    if (!s || !o) return otgi_fail(OTG_EINVAL, "particles: run: NULL system or options");
    if (o->steps < 1 || !(o->lr > 0.0) || o->log_every < 0 || o->start < 0 || o->start > o->steps ||
        o->checkpoint_every < 0)
        return otgi_fail(OTG_EINVAL,
                         "particles: run: steps = %lld and lr = %g must be > 0, start in [0, "
                         "steps]",
                         (long long)o->steps, o->lr);
    const int64_t every = o->log_every ? o->log_every : (o->steps + 199) / 200;
    const double Fstar = otg_particles_minimum(s);
    otg_status st = OTG_OK;
    r.steps_done = o->start;
    for (int64_t k = o->start; k <= o->steps && st == OTG_OK; k++) {
        if (hooks && hooks->on_particles) hooks->on_particles(hooks->user, s, k);
        if (k % every == 0 || k == o->steps) st = run_row(s, k, Fstar, hooks, &r);
        if (st != OTG_OK || k == o->steps) break;
        st = otg_particles_step(s, o->lr);
        if (st != OTG_OK) break;
        r.steps_done = k + 1;
        int stop = hooks && hooks->should_stop && hooks->should_stop(hooks->user);
        int due = o->checkpoint_every > 0 && (k + 1) % o->checkpoint_every == 0 && k + 1 < o->steps;
        if (hooks && hooks->on_checkpoint && (due || stop))
            st = hooks->on_checkpoint(hooks->user, s, k + 1);
        if (st == OTG_OK && stop) {
            st = otgi_fail(OTG_CONTINUE, "particles: stopped after step %lld", (long long)(k + 1));
            break;
        }
    }
    if (res) *res = r;
    return st;
}

otg_status otg_particles_sweep(const otg_particles_type *t, const otg_particles_params *p,
                               const int64_t *ms, int nm, int64_t seeds,
                               const otg_particles_run_opts *o, otg_particles_sweep_fn on_run,
                               void *user, otg_particles_result *results) {
    if (!t || !p || !ms || nm < 1 || seeds < 1)
        return otgi_fail(OTG_EINVAL, "particles: sweep: needs a type, params, nm >= 1, seeds >= 1");
    for (int im = 0; im < nm; im++)
        for (int64_t k = 0; k < seeds; k++) {
            otg_particles_params q = *p;
            q.seed = p->seed + (uint64_t)k;
            otg_particles *s = otg_particles_new(t, &q, ms[im]);
            if (!s) return OTG_EINVAL; /* the reason is in otg_last_error() */
            otg_particles_result r;
            otg_status st = otg_particles_run(s, o, NULL, &r);
            if (st == OTG_OK && on_run) on_run(user, im, k, s, &r);
            if (results) results[k * nm + im] = r;
            otg_particles_free(s);
            if (st != OTG_OK) return st;
        }
    return OTG_OK;
}
