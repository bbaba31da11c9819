/* particles: each problem's speed field m grad F_m against central finite differences of F_m;
 * deconv recovers the spikes (positions and weights) with a small lambda and m > m0; relu2
 * teacher-student in d = 2 reaches a near-zero loss with m >> m0; the same seed gives identical
 * particles, and 1 and 2 threads give identical particles; bad parameters and CLI options are
 * refused with a clear message (exit 2); a checkpoint saved by otg_particles_checkpoint_save and
 * loaded into a new system resumes bit-identically, and damaged, foreign or mismatched files are
 * refused with their status. */
// ctest-labels: unit grad converge cli
#define _POSIX_C_SOURCE 200809L
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
/* cmocka.h needs the three above first */
#include <cmocka.h>

#include "clirun.h"

#include "otgen/io.h"
#include "otgen/particles.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* Central differences of F_m at random particles vs the speed divided by m. */
static void check_grad(const char *name, otg_particles_params p, int64_t m, double tol) {
    const otg_particles_type *t = otg_particles_type_by_name(name);
    otg_particles *s = otg_particles_new(t, &p, m);
    assert_non_null(s);
    int64_t dim = otg_particles_dim(s), n = m * dim;
    float *u = malloc((size_t)n * sizeof *u), *g = malloc((size_t)n * sizeof *g);
    otg_rng r = otg_rng_make(7, 0);
    otg_rng_fill_normal(&r, n, u);
    if (!strcmp(name, "deconv"))
        for (int64_t i = 0; i < m; i++)
            u[2 * i + 1] = (float)otg_rng_uniform(&r);
    for (int64_t i = 0; i < m; i++) /* keep w away from the kink of |w| */
        u[i * dim] = (float)((u[i * dim] >= 0.0f ? 0.3 : -0.3) + 0.5 * (double)u[i * dim]);
    double F;
    assert_int_equal(otg_particles_eval(s, u, &F, g), OTG_OK);
    double worst = 0.0;
    for (int64_t k = 0; k < n; k++) {
        float keep = u[k];
        double h = (strcmp(name, "deconv") ? 1e-2 : 1e-4) * fmax(1.0, fabs((double)keep)), Fp, Fm;
        u[k] = (float)((double)keep + h);
        double hp = (double)u[k] - (double)keep;
        assert_int_equal(otg_particles_eval(s, u, &Fp, NULL), OTG_OK);
        u[k] = (float)((double)keep - h);
        double hm = (double)keep - (double)u[k];
        assert_int_equal(otg_particles_eval(s, u, &Fm, NULL), OTG_OK);
        u[k] = keep;
        double fd = (Fp - Fm) / (hp + hm) * (double)m, an = (double)g[k];
        if (!strcmp(name, "deconv") && k % 2)
            an *= 39.47841760435743 * (double)p.kernel_order * (double)p.kernel_order;
        double err = fabs(fd - an) / fmax(1e-2, fabs(fd));
        if (err > worst) worst = err;
        if (err > tol)
            fail_msg("%s: component %lld: finite difference %g vs speed %g", name, (long long)k, fd,
                     an);
    }
    print_message("%s: worst relative gradient error %.2e\n", name, worst);
    free(u), free(g);
    otg_particles_free(s);
}

static void test_grad_relu2(void **st) {
    otg_particles_params p = otg_particles_params_default();
    p.d = 3, p.m0 = 2, p.n = 16, p.batch = 16, p.lambda = 0.1;
    check_grad("relu2", p, 5, 2e-2);
}

static void test_grad_sigmoid2(void **st) {
    otg_particles_params p = otg_particles_params_default();
    p.d = 3, p.m0 = 2, p.n = 32, p.batch = 32, p.lambda = 0.05;
    check_grad("sigmoid2", p, 5, 1e-2);
}

static void test_grad_deconv(void **st) {
    otg_particles_params p = otg_particles_params_default();
    p.m0 = 3, p.lambda = 0.05;
    check_grad("deconv", p, 6, 1e-2);
}

static double torus_dist(double a, double b) {
    double d = fabs(a - b);
    return d > 0.5 ? 1.0 - d : d;
}

/* Runs `steps` Euler steps; returns the system (caller frees). */
static otg_particles *run(const char *name, otg_particles_params p, int64_t m, int steps,
                          double lr) {
    otg_particles *s = otg_particles_new(otg_particles_type_by_name(name), &p, m);
    assert_non_null(s);
    for (int k = 0; k < steps; k++)
        assert_int_equal(otg_particles_step(s, lr), OTG_OK);
    return s;
}

static void test_deconv_recovers_spikes(void **st) {
    otg_particles_params p = otg_particles_params_default();
    p.m0 = 3, p.lambda = 0.01;
    int64_t m = 16;
    otg_particles *s = run("deconv", p, m, 3000, 0.03);
    int64_t nt;
    const float *truth = otg_particles_truth(s, &nt), *u = otg_particles_data(s);
    double far = 0.0;
    for (int64_t i = 0; i < m; i++) {
        int near = 0;
        for (int64_t j = 0; j < nt; j++)
            near |= torus_dist(u[2 * i + 1], truth[2 * j + 1]) < 0.03;
        if (!near) far += fabs((double)u[2 * i]) / (double)m;
    }
    for (int64_t j = 0; j < nt; j++) {
        double mass = 0.0, pos = 0.0, t0 = truth[2 * j + 1];
        for (int64_t i = 0; i < m; i++) {
            double dt = (double)u[2 * i + 1] - t0;
            dt -= floor(dt + 0.5); /* signed torus offset */
            if (fabs(dt) < 0.03)
                mass += (double)u[2 * i] / (double)m, pos += (double)u[2 * i] / (double)m * dt;
        }
        double want = (double)truth[2 * j] / (double)nt, off = pos / mass;
        print_message("spike %lld: t* %.4f w*/m0 %.4f, recovered offset %.2e mass %.4f\n",
                      (long long)j, t0, want, off, mass);
        assert_true(fabs(off) < 0.01);
        assert_true(fabs(mass - want) < 0.1 * fabs(want));
    }
    print_message("mass away from the spikes %.2e\n", far);
    assert_true(far < 0.05); /* of a total mass ~1.4 */
    otg_particles_free(s);
}

static void test_relu2_teacher_student(void **st) {
    otg_particles_params p = otg_particles_params_default();
    p.d = 2, p.m0 = 3;
    otg_particles *s = run("relu2", p, 32, 3000, 0.2);
    double F;
    assert_int_equal(otg_particles_objective(s, &F), OTG_OK);
    print_message("relu2 m = 32, m0 = 3: final loss %.3e (initial ~1e-1)\n", F);
    assert_true(F < 1e-3);
    otg_particles_free(s);
}

/* Same seed -> identical particles; 1 and 2 threads -> identical particles (minibatch relu2 with
 * GEMMs and chunked sums large enough to be split across threads). */
static void test_reproducible(void **st) {
    otg_particles_params p = otg_particles_params_default();
    p.d = 8, p.m0 = 4, p.batch = 512, p.lambda = 0.01;
    int64_t m = 200, n = m * 10;
    otg_threads_set(1);
    otg_particles *a = run("relu2", p, m, 50, 0.2);
    otg_particles *b = run("relu2", p, m, 50, 0.2);
    otg_threads_set(2);
    otg_particles *c = run("relu2", p, m, 50, 0.2);
    otg_particles *d = run("sigmoid2", p, m, 50, 0.2);
    otg_threads_set(1);
    otg_particles *e = run("sigmoid2", p, m, 50, 0.2);
    assert_memory_equal(otg_particles_data(a), otg_particles_data(b), (size_t)n * sizeof(float));
    assert_memory_equal(otg_particles_data(a), otg_particles_data(c), (size_t)n * sizeof(float));
    assert_memory_equal(otg_particles_data(d), otg_particles_data(e), (size_t)n * sizeof(float));
    otg_particles_free(a), otg_particles_free(b), otg_particles_free(c), otg_particles_free(d),
        otg_particles_free(e);
}

static void test_bad_params(void **st) {
    otg_particles_params p = otg_particles_params_default();
    assert_null(otg_particles_new(&otg_particles_relu2, &p, 0));
    assert_non_null(strstr(otg_last_error(), "m = 0"));
    p.lambda = -1.0;
    assert_null(otg_particles_new(&otg_particles_relu2, &p, 4));
    assert_non_null(strstr(otg_last_error(), "lambda"));
    assert_null(otg_particles_type_by_name("nope"));
}

/* The registry: every type has a name, a summary and run defaults, is found by its name, and a
 * miss lists the names; every built-in type passes the finite-difference check of its speed. */
static void test_registry(void **st) {
    assert_true(otg_particles_type_count() >= 3);
    assert_null(otg_particles_type_at(-1));
    assert_null(otg_particles_type_at(otg_particles_type_count()));
    for (int i = 0; i < otg_particles_type_count(); i++) {
        const otg_particles_type *t = otg_particles_type_at(i);
        assert_non_null(t->name);
        assert_non_null(t->summary);
        assert_true(t->default_steps > 0 && t->default_lr > 0.0);
        assert_ptr_equal(otg_particles_type_by_name(t->name), t);
        assert_string_equal(otg_particles_type_name(t), t->name);
        assert_string_equal(otg_particles_type_summary(t), t->summary);
        otg_particles_run_opts o = otg_particles_run_opts_default(t);
        assert_int_equal(o.steps, t->default_steps);
        assert_null(otg_particles_type_by_name("nope"));
        assert_non_null(strstr(otg_last_error(), t->name));
        otg_particles_params p = otg_particles_params_default();
        p.d = 3, p.m0 = 2, p.n = 32, p.batch = 32, p.lambda = 0.05;
        check_grad(t->name, p, 5, 2e-2);
    }
    assert_non_null(strstr(otg_last_error(), "particles: unknown problem 'nope' ("));
}

/* otg_particles_run equals the hand loop of otg_particles_step, and reports its rows. */
static void count_row(void *user, const otg_particles_row *row) {
    int64_t *n = user;
    assert_int_equal(row->step, *n * 7 > 20 ? 20 : *n * 7);
    ++*n;
}

static void test_run_equals_step_loop(void **st) {
    otg_particles_params p = otg_particles_params_default();
    otg_particles *a = run("relu2", p, 8, 20, 0.2);
    otg_particles *b = otg_particles_new(&otg_particles_relu2, &p, 8);
    otg_particles_run_opts o = otg_particles_run_opts_default(&otg_particles_relu2);
    o.steps = 20, o.log_every = 7;
    int64_t rows = 0;
    otg_particles_hooks h = {.on_row = count_row, .user = &rows};
    otg_particles_result r;
    assert_int_equal(otg_particles_run(b, &o, &h, &r), OTG_OK);
    assert_int_equal(rows, 4); /* steps 0, 7, 14 and 20 */
    assert_int_equal(r.steps_done, 20);
    assert_memory_equal(otg_particles_data(a), otg_particles_data(b), 8 * 4 * sizeof(float));
    double F;
    assert_int_equal(otg_particles_objective(a, &F), OTG_OK);
    assert_true(F == r.objective && F == r.excess); /* lambda = 0: F* = 0 */
    o.lr = 0.0;
    assert_int_equal(otg_particles_run(b, &o, NULL, NULL), OTG_EINVAL);
    otg_particles_free(a), otg_particles_free(b);
}

/* ---- checkpoints: save at step 30 of 100, load into a new system, resume = uninterrupted ---- */

typedef struct {
    const char *path, *key;
    int64_t at;
    float snaps[2 * 8 * 2];
    char rows[32];
} ckpt_ctx;

static otg_status save_at(void *user, otg_particles *s, int64_t done) {
    ckpt_ctx *c = user;
    if (done != c->at) return OTG_OK;
    otg_particles_checkpoint ck = {.steps_done = done,
                                   .metrics = c->rows,
                                   .snapshots = c->snaps,
                                   .n_snapshots = 2,
                                   .objective = 0.25};
    return otg_particles_checkpoint_save(c->path, s, c->key, &ck);
}

static void test_checkpoint(void **st) {
    (void)st;
    char dir[] = "/tmp/otgen_ckptXXXXXX", path[128], other[128];
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/checkpoint.otg", dir);
    snprintf(other, sizeof other, "%s/other.otg", dir);
    otg_particles_params p = otg_particles_params_default();
    const int64_t m = 8;
    otg_particles *a = otg_particles_new(&otg_particles_relu2, &p, m);
    otg_particles *b = otg_particles_new(&otg_particles_relu2, &p, m);
    otg_particles *c9 = otg_particles_new(&otg_particles_relu2, &p, m + 1);
    assert_true(a && b && c9);
    const int64_t dim = otg_particles_dim(a);
    ckpt_ctx cx = {.path = path, .key = "problem=relu2;m=8;", .at = 30};
    for (int i = 0; i < 32; i++)
        cx.snaps[i] = (float)i * 0.5f;
    snprintf(cx.rows, sizeof cx.rows, "step,objective\n0,1.5\n");
    otg_particles_run_opts o = otg_particles_run_opts_default(&otg_particles_relu2);
    o.steps = 100, o.log_every = 7, o.checkpoint_every = 10;
    otg_particles_hooks h = {.user = &cx, .on_checkpoint = save_at};
    otg_particles_result ra, rb;
    assert_int_equal(otg_particles_run(a, &o, &h, &ra), OTG_OK);

    otg_particles_checkpoint ck;
    assert_int_equal(otg_particles_checkpoint_load(path, b, cx.key, o.steps, &ck), OTG_OK);
    assert_int_equal(ck.steps_done, 30);
    assert_string_equal(ck.metrics, "step,objective\n0,1.5\n");
    assert_int_equal(ck.n_snapshots, 2);
    assert_memory_equal(ck.snapshots, cx.snaps, sizeof cx.snaps);
    assert_true(ck.objective == 0.25);
    assert_int_equal(ck.threads, otg_threads_get());
    o.start = ck.steps_done;
    otg_particles_checkpoint_release(&ck);
    assert_null(ck.metrics);
    assert_int_equal(otg_particles_run(b, &o, NULL, &rb), OTG_OK);
    assert_memory_equal(otg_particles_data(a), otg_particles_data(b),
                        (size_t)(m * dim) * sizeof(float));
    assert_memory_equal(&ra.objective, &rb.objective, sizeof(double));

    /* the header alone (no system): the thread count before a run is built */
    assert_int_equal(otg_particles_checkpoint_load(path, NULL, NULL, 0, &ck), OTG_OK);
    assert_int_equal(ck.steps_done, 30);
    assert_null(ck.snapshots);
    otg_particles_checkpoint_release(&ck);

    /* refusals leave the system untouched */
    float *keep = malloc((size_t)(m * dim) * sizeof(float));
    assert_non_null(keep);
    memcpy(keep, otg_particles_data(b), (size_t)(m * dim) * sizeof(float));
    assert_int_equal(otg_particles_checkpoint_load(path, b, "problem=relu2;m=9;", 0, &ck),
                     OTG_EINVAL);
    assert_non_null(strstr(otg_last_error(), "belongs to another run"));
    assert_int_equal(otg_particles_checkpoint_load(path, b, cx.key, 20, &ck), OTG_EFORMAT);
    assert_non_null(strstr(otg_last_error(), "malformed checkpoint header")); /* step 30 > 20 */
    assert_int_equal(otg_particles_checkpoint_load(path, c9, cx.key, 0, &ck), OTG_ESHAPE);
    assert_int_equal(otg_particles_checkpoint_load(other, b, NULL, 0, &ck), OTG_EIO);
    /* a file of another format in the same container */
    float one = 1.0f;
    assert_int_equal(
        otg_checkpoint_write(other, "{\"format\":\"otgen-train-checkpoint\"}", &one, 1, NULL, 0),
        OTG_OK);
    assert_int_equal(otg_particles_checkpoint_load(other, b, NULL, 0, &ck), OTG_EFORMAT);
    assert_non_null(strstr(otg_last_error(), "is not a particles checkpoint"));
    /* one flipped byte: the CRC refuses it */
    FILE *f = fopen(path, "r+b");
    assert_non_null(f);
    assert_int_equal(fseek(f, 40, SEEK_SET), 0);
    int byte = fgetc(f);
    assert_int_equal(fseek(f, 40, SEEK_SET), 0);
    fputc(byte ^ 0x20, f);
    fclose(f);
    assert_int_equal(otg_particles_checkpoint_load(path, b, cx.key, 0, &ck), OTG_EFORMAT);
    assert_non_null(strstr(otg_last_error(), "corrupted"));
    assert_null(ck.metrics);
    assert_memory_equal(keep, otg_particles_data(b), (size_t)(m * dim) * sizeof(float));
    assert_int_equal(otg_particles_checkpoint_save(path, b, NULL, &ck), OTG_EINVAL);
    free(keep);
    remove(path), remove(other), rmdir(dir);
    otg_particles_free(a), otg_particles_free(b), otg_particles_free(c9);
}

/* A problem defined outside the library: F = (1/2m) sum_i |u_i - 1|^2, dim 1, only the required
 * entries, so the optional ones take their defaults (no truth, F* unknown). */
static int64_t quad_dim(const otg_particles_params *p) {
    return 1;
}
static void *quad_create(const otg_particles_params *p, int64_t m) {
    return malloc(1);
}
static void quad_init(void *state, int64_t m, float *u) {
    for (int64_t i = 0; i < m; i++)
        u[i] = (float)i;
}
static otg_status quad_eval(void *state, const float *u, int64_t m, otg_rng *batch, double *F,
                            float *g) {
    double s = 0.0;
    for (int64_t i = 0; i < m; i++) {
        s += 0.5 * ((double)u[i] - 1.0) * ((double)u[i] - 1.0) / (double)m;
        if (g) g[i] = u[i] - 1.0f;
    }
    *F = s;
    return OTG_OK;
}
static const otg_particles_type quad = {.name = "quad",
                                        .summary = "a user's quadratic",
                                        .default_steps = 50,
                                        .default_lr = 0.5,
                                        .dim = quad_dim,
                                        .create = quad_create,
                                        .destroy = free,
                                        .init = quad_init,
                                        .eval = quad_eval};

static void sweep_seen(void *user, int im, int64_t k, otg_particles *s,
                       const otg_particles_result *r) {
    ++*(int *)user;
    assert_int_equal(otg_particles_count(s), im + 2);
}

static void test_user_problem(void **st) {
    otg_particles_params p = otg_particles_params_default();
    otg_particles *s = otg_particles_new(&quad, &p, 4);
    assert_non_null(s);
    int64_t nt = 5;
    assert_null(otg_particles_truth(s, &nt));
    assert_int_equal(nt, 0);
    assert_true(isnan(otg_particles_minimum(s)));
    otg_particles_run_opts o = otg_particles_run_opts_default(&quad);
    otg_particles_result r;
    assert_int_equal(otg_particles_run(s, &o, NULL, &r), OTG_OK);
    assert_true(r.objective < 1e-12 && isnan(r.excess));
    float xy[2];
    otg_particles_type_xy(&quad, otg_particles_data(s), 1, 4, xy);
    assert_true(xy[0] == xy[1]);
    otg_particles_free(s);
    int64_t ms[] = {2, 3};
    otg_particles_result res[4];
    int seen = 0;
    assert_int_equal(otg_particles_sweep(&quad, &p, ms, 2, 2, &o, sweep_seen, &seen, res), OTG_OK);
    assert_int_equal(seen, 4);
    otg_particles_type broken = quad;
    broken.eval = NULL;
    assert_null(otg_particles_new(&broken, &p, 4));
    assert_non_null(strstr(otg_last_error(), "required"));
}

static void test_cli(void **st) {
    char out[8192];
    assert_int_equal(
        otgen_run("particles --problem nope --out /tmp/otg_particles_t", 1, out, sizeof out), 2);
    assert_non_null(strstr(out, "--problem"));
    assert_int_equal(
        otgen_run("particles --problem relu2 --m 0 --out /tmp/otg_particles_t", 1, out, sizeof out),
        2);
    assert_non_null(strstr(out, "--m"));
    assert_int_equal(otgen_run("particles --problem relu2 --lr -1 --out /tmp/otg_particles_t", 1,
                               out, sizeof out),
                     2);
    assert_int_equal(otgen_run("particles --problem relu2 --init bogus --out /tmp/otg_particles_t",
                               1, out, sizeof out),
                     2);
    assert_non_null(strstr(out, "--init"));
    assert_int_equal(otgen_run("particles --problem relu2", 1, out, sizeof out), 2);
    assert_non_null(strstr(out, "--out"));
    assert_int_equal(
        otgen_run("particles --problem deconv --m 8 --steps 20 --force --out /tmp/otg_particles_t",
                  1, out, sizeof out),
        0);
    assert_non_null(strstr(out, "excess="));
    FILE *f = fopen("/tmp/otg_particles_t/metrics.csv", "r");
    char line[256];
    assert_non_null(f);
    assert_non_null(fgets(line, sizeof line, f));
    assert_string_equal(line, "step,objective,excess\n");
    fclose(f);
    assert_int_equal(access("/tmp/otg_particles_t/particles.npy", R_OK), 0);
    assert_int_equal(access("/tmp/otg_particles_t/particles.png", R_OK), 0);
    /* no overwrite without --force */
    assert_int_equal(
        otgen_run("particles --problem deconv --m 8 --steps 20 --out /tmp/otg_particles_t", 1, out,
                  sizeof out),
        2);
    assert_int_equal(
        otgen_run("particles --problem deconv --sweep-m 2,4 --seeds 2 --steps 20 --force "
                  "--out /tmp/otg_particles_t",
                  1, out, sizeof out),
        0);
    assert_non_null(strstr(out, "sweep=2,4"));
    const char *files[] = {"excess_vs_m.csv", "excess_vs_m.png", "mass_vs_t.png"};
    for (int i = 0; i < 3; i++) {
        char path[256];
        snprintf(path, sizeof path, "/tmp/otg_particles_t/%s", files[i]);
        assert_int_equal(access(path, R_OK), 0);
    }
    /* the mean and standard error over the seeds, per m (lambda = 0: F* = 0 is known) */
    f = fopen("/tmp/otg_particles_t/excess_summary.csv", "r");
    assert_non_null(f);
    assert_non_null(fgets(line, sizeof line, f));
    assert_string_equal(line, "step,excess,excess_se\n");
    long long m;
    double mean, se;
    assert_non_null(fgets(line, sizeof line, f));
    assert_int_equal(sscanf(line, "%lld,%lf,%lf", &m, &mean, &se), 3);
    assert_true(m == 2 && isfinite(mean) && se >= 0);
    assert_non_null(fgets(line, sizeof line, f));
    assert_true(sscanf(line, "%lld,", &m) == 1 && m == 4);
    assert_null(fgets(line, sizeof line, f));
    fclose(f);
    assert_int_equal(system("rm -rf /tmp/otg_particles_t"), 0);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_grad_relu2),
        cmocka_unit_test(test_grad_sigmoid2),
        cmocka_unit_test(test_grad_deconv),
        cmocka_unit_test(test_deconv_recovers_spikes),
        cmocka_unit_test(test_relu2_teacher_student),
        cmocka_unit_test(test_reproducible),
        cmocka_unit_test(test_bad_params),
        cmocka_unit_test(test_registry),
        cmocka_unit_test(test_run_equals_step_loop),
        cmocka_unit_test(test_checkpoint),
        cmocka_unit_test(test_user_problem),
        cmocka_unit_test(test_cli),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
