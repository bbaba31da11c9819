/* The library trainer (otgen/train.h) in-process: config defaults and JSON round trip, the
 * config's errors naming their key, --init's laws (torch: weights and biases within the fan-in
 * bound; he-normal: zero biases), --output auto following the data's range and a mismatch
 * refused, the held-out rows of an NPY file and --val-data, otg_train_run equal to a hand loop of
 * the primitives (bit-identical parameters and checkpoint), resume equal to an uninterrupted run,
 * load + sample deterministic, divergence reported with the step not applied, --quantile-bank
 * (trains; bits independent of threads and of a restore; refusals), --data-batch, --conditional
 * (bits, each class's samples near its class, refusals), --sample-median (the raw run's samples
 * through the median). */
// ctest-labels: unit converge
#define _POSIX_C_SOURCE 200809L
// clang-format off
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h> /* after the three headers it needs */
// clang-format on

#include "otgen/otgen.h"
#include "otgen/train.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char dir[128];

static int setup(void **state) {
    snprintf(dir, sizeof dir, "/tmp/otgen-trainer-XXXXXX");
    return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state) {
    char cmd[256];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    return system(cmd);
}

static char *slurp(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *p = malloc((size_t)n + 1);
    *len = fread(p, 1, (size_t)n, f);
    fclose(f);
    return p;
}

static void assert_same_file(const char *a, const char *b) {
    size_t la = 0, lb = 0;
    char *x = slurp(a, &la), *y = slurp(b, &lb);
    assert_non_null(x), assert_non_null(y);
    if (la != lb || memcmp(x, y, la)) fail_msg("%s and %s differ", a, b);
    free(x), free(y);
}

/* A small 2-D run: a few seconds at most. */
static otg_train_config small(int64_t steps) {
    otg_train_config c = otg_train_config_default();
    snprintf(c.hidden, sizeof c.hidden, "16,16");
    c.steps = steps, c.batch = 64, c.val_n = 128, c.projections = 8, c.val_projections = 16;
    c.val_every = 10, c.checkpoint_every = 20, c.seed = 4;
    return c;
}

static void test_config_default_and_json_round_trip(void **state) {
    otg_train_config d = otg_train_config_default();
    assert_string_equal(d.data, "moons"), assert_string_equal(d.optimizer, "adam");
    assert_int_equal(d.steps, 2000), assert_int_equal(d.batch, 256);
    assert_true(d.lr == 1e-3 && d.p == 2.0);
    d.seed = 12345, d.relu_prime = 0.5, d.lr = 0.1 / 3.0;
    snprintf(d.classes, sizeof d.classes, "0,7");
    char *json = otg_train_config_to_json(&d);
    assert_non_null(json);
    assert_non_null(strstr(json, "\"val-every\""));
    otg_train_config e = otg_train_config_default();
    assert_int_equal(otg_train_config_from_json(json, &e), OTG_OK);
    assert_memory_equal(&d, &e, sizeof d);
    free(json);
    int n = 0;
    const otg_param_def *defs = otg_train_config_params(&n);
    assert_true(n > 30 && otg_params_find(defs, n, "checkpoint-every") >= 0);
}

static void test_config_errors_name_the_key(void **state) {
    struct {
        const char *json, *key;
        otg_status st;
    } bad[] = {
        {"{\"lr\": null}", "lr", OTG_EINVAL},
        {"{\"steps\": \"ten\"}", "steps", OTG_EINVAL},
        {"{\"stepz\": 3}", "stepz", OTG_EINVAL},
        {"{\"batch\": 1}", "batch", OTG_EINVAL},
        {"{\"relu-prime\": 2}", "relu-prime", OTG_EINVAL},
        {"{\"data\": 3}", "data", OTG_EINVAL},
        {"{\"lr\": 0.1,", "malformed", OTG_EFORMAT},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        otg_train_config c = otg_train_config_default();
        otg_status st = otg_train_config_from_json(bad[i].json, &c);
        if (st != bad[i].st || !strstr(otg_last_error(), bad[i].key))
            fail_msg("%s: %s, '%s'", bad[i].json, otg_status_name(st), otg_last_error());
    }
    otg_train_config c = small(5);
    snprintf(c.data, sizeof c.data, "nowhere");
    assert_null(otg_trainer_new(&c));
    assert_non_null(strstr(otg_last_error(), "--data"));
}

/* The flat parameters of a 2 -> 16 -> 16 -> 2 MLP trainer with init `init`: layer l's W [in, out]
 * then b [out]. Checks every weight and bias against the law of the init. */
static void check_init(const char *init) {
    otg_train_config c = small(1);
    snprintf(c.init, sizeof c.init, "%s", init);
    otg_trainer *t = otg_trainer_new(&c);
    assert_non_null(t);
    int64_t n = 0;
    const float *u = otg_trainer_params(t, &n);
    const int64_t w[4] = {2, 16, 16, 2};
    assert_int_equal(n, 2 * 16 + 16 + 16 * 16 + 16 + 16 * 2 + 2);
    int64_t off = 0;
    for (int l = 0; l < 3; l++) {
        const int64_t in = w[l], out = w[l + 1];
        const double bound = 1.0 / sqrt((double)in);
        double wmax = 0, bmax = 0, wss = 0;
        for (int64_t i = 0; i < in * out; i++)
            wmax = fmax(wmax, fabs((double)u[off + i])),
            wss += (double)u[off + i] * (double)u[off + i];
        for (int64_t i = 0; i < out; i++)
            bmax = fmax(bmax, fabs((double)u[off + in * out + i]));
        if (!strcmp(init, "torch")) { /* U(-b, b) for both: inside, and not all near 0 */
            assert_true(wmax <= bound && wmax > 0.5 * bound);
            assert_true(bmax <= bound && bmax > 0.3 * bound);
        } else { /* he-normal: zero biases, He (hidden) or Xavier (last) weights */
            assert_true(bmax == 0.0);
            const double var = l < 2 ? 2.0 / in : 2.0 / (in + out); /* Xavier U: a^2 / 3 */
            assert_true(fabs(wss / (double)(in * out) / var - 1.0) < 0.6);
        }
        off += in * out + out;
    }
    otg_trainer_free(t);
}

static void test_init_laws(void **state) {
    assert_string_equal(otg_train_config_default().init, "torch");
    check_init("torch");
    check_init("he-normal");
    otg_train_config c = small(1);
    snprintf(c.init, sizeof c.init, "glorot");
    assert_null(otg_trainer_new(&c));
    assert_non_null(strstr(otg_last_error(), "--init"));
}

/* A [rows, 4, 4] image file with values lo + (hi - lo) * (i mod 7) / 6; row r's first pixel is
 * r (when mark), so a row can be told from its values. */
static void write_images(const char *path, int64_t rows, float lo, float hi, int mark) {
    otg_tensor *x = otg_tensor_new(3, (int64_t[]){rows, 4, 4});
    assert_non_null(x);
    for (int64_t i = 0; i < rows * 16; i++)
        x->data[i] = lo + (hi - lo) * (float)(i % 7) / 6.0f;
    for (int64_t r = 0; mark && r < rows; r++)
        x->data[r * 16] = (float)r / (float)rows;
    assert_int_equal(otg_npy_write(path, x, 1), OTG_OK);
    otg_tensor_free(x);
}

static void test_output_follows_the_data(void **state) {
    char path[256];
    snprintf(path, sizeof path, "%s/pm1.npy", dir);
    write_images(path, 40, -1.0f, 1.0f, 0);
    otg_train_config c = small(1);
    snprintf(c.data, sizeof c.data, "%s", path);
    c.batch = 8, c.val_n = 8;
    otg_trainer *t = otg_trainer_new(&c);
    assert_non_null(t);
    assert_string_equal(otg_trainer_config(t)->output, "tanh");
    assert_int_equal(otg_trainer_spec(t)->output, OTG_ACT_TANH);
    otg_trainer_free(t);
    snprintf(c.output, sizeof c.output, "sigmoid"); /* [0, 1] cannot reach -1 */
    assert_null(otg_trainer_new(&c));
    assert_non_null(strstr(otg_last_error(), "--output sigmoid"));
    write_images(path, 40, 0.0f, 1.0f, 0);
    snprintf(c.output, sizeof c.output, "auto");
    assert_non_null(t = otg_trainer_new(&c));
    assert_string_equal(otg_trainer_config(t)->output, "sigmoid");
    otg_trainer_free(t);
    write_images(path, 40, 0.0f, 255.0f, 0);
    assert_non_null(t = otg_trainer_new(&c));
    assert_string_equal(otg_trainer_config(t)->output, "none");
    otg_trainer_free(t);
}

/* The held-out rows: the last ceil(0.1 x 40) = 4 rows validate, the first 36 train. */
static void test_npy_rows_are_held_out(void **state) {
    char path[256], other[256];
    snprintf(path, sizeof path, "%s/rows.npy", dir);
    write_images(path, 40, 0.0f, 1.0f, 1);
    otg_source_opts so = otg_source_opts_default();
    so.holdout = 0.1;
    otg_source *tr = otg_source_open(path, &so);
    so.split = "test";
    otg_source *te = otg_source_open(path, &so);
    assert_non_null(tr), assert_non_null(te);
    assert_int_equal(otg_source_size(tr), 36), assert_int_equal(otg_source_size(te), 4);
    assert_true(otg_source_has_test_split(tr) && !otg_source_has_test_split(te));
    for (int64_t r = 0; r < 36; r++)
        assert_true(otg_source_data(tr)->data[r * 16] == (float)r / 40.0f);
    for (int64_t r = 0; r < 4; r++)
        assert_true(otg_source_data(te)->data[r * 16] == (float)(36 + r) / 40.0f);
    otg_source_free(tr), otg_source_free(te);
    so.holdout = 0.99; /* 40 rows, 40 held out: no training row left */
    so.split = "train";
    assert_null(otg_source_open(path, &so));
    /* the trainer validates on the held-out rows: every validation point is one of them */
    otg_train_config c = small(1);
    snprintf(c.data, sizeof c.data, "%s", path);
    c.batch = 8, c.val_n = 16;
    otg_trainer *t = otg_trainer_new(&c);
    assert_non_null(t);
    const float *gen, *target;
    int64_t n;
    assert_int_equal(otg_trainer_generate_val(t, &gen, &target, &n), OTG_OK);
    for (int64_t i = 0; i < n; i++)
        assert_true(target[i * 16] >= 36.0f / 40.0f);
    otg_trainer_free(t);
    /* --val-data: another file validates (its dimension must match) */
    snprintf(other, sizeof other, "%s/other.npy", dir);
    write_images(other, 10, 0.5f, 0.5f, 0); /* every pixel 0.5 */
    snprintf(c.val_data, sizeof c.val_data, "%s", other);
    assert_non_null(t = otg_trainer_new(&c));
    assert_int_equal(otg_trainer_generate_val(t, &gen, &target, &n), OTG_OK);
    for (int64_t i = 0; i < n; i++)
        assert_true(target[i * 16] == 0.5f && target[i * 16 + 5] == 0.5f);
    otg_trainer_free(t);
    snprintf(c.val_data, sizeof c.val_data, "moons");
    assert_null(otg_trainer_new(&c));
    assert_non_null(strstr(otg_last_error(), "--val-data"));
}

static otg_status hand_loop(otg_trainer *t, const char *ckpt) {
    const otg_train_config *c = otg_trainer_config(t);
    double v;
    otg_status st = otg_trainer_validate(t, &v);
    if (st == OTG_OK) st = otg_trainer_save(t, ckpt);
    while (st == OTG_OK && otg_trainer_steps_done(t) < c->steps) {
        otg_train_row row;
        st = otg_trainer_step(t, &row);
        int64_t k = otg_trainer_steps_done(t);
        if (st == OTG_OK && (k % c->val_every == 0 || k == c->steps))
            st = otg_trainer_validate(t, &v);
        if (st == OTG_OK && (k % c->checkpoint_every == 0 || k == c->steps))
            st = otg_trainer_save(t, ckpt);
    }
    return st;
}

static int rows_seen;
static void count_row(void *user, const otg_train_row *row) {
    rows_seen++;
}

static void test_run_equals_hand_loop_and_resume(void **state) {
    char a[256], b[256], ca[300], cb[300], cc[300];
    snprintf(a, sizeof a, "%s/run", dir), snprintf(b, sizeof b, "%s/hand", dir);
    snprintf(ca, sizeof ca, "%s/checkpoint.otg", a), snprintf(cb, sizeof cb, "%s/h.otg", dir);
    otg_train_config c = small(40);
    /* the resume below extends a 20-step run to 40 steps, bit-identical only for a schedule that
     * does not depend on --steps (the default, wsd, decays over the last part of --steps) */
    snprintf(c.schedule, sizeof c.schedule, "constant");
    otg_trainer *t = otg_trainer_new(&c), *h = otg_trainer_new(&c);
    assert_non_null(t), assert_non_null(h);
    otg_train_hooks hooks = {.on_row = count_row};
    assert_int_equal(otg_train_run(t, a, 0, &hooks), OTG_OK);
    assert_int_equal(rows_seen, 41); /* row 0 and one per step */
    assert_int_equal(hand_loop(h, cb), OTG_OK);
    int64_t n;
    const float *pt = otg_trainer_params(t, &n), *ph = otg_trainer_params(h, NULL);
    assert_memory_equal(pt, ph, (size_t)n * sizeof(float));
    assert_same_file(ca, cb);
    otg_trainer_free(h);
    /* 20 steps, then resumed to 40 in a new trainer: the same checkpoint bytes */
    snprintf(cc, sizeof cc, "%s/half/checkpoint.otg", dir);
    snprintf(b, sizeof b, "%s/half", dir);
    otg_train_config c20 = small(20);
    snprintf(c20.schedule, sizeof c20.schedule, "constant");
    otg_trainer *r = otg_trainer_new(&c20);
    assert_int_equal(otg_train_run(r, b, 0, NULL), OTG_OK);
    otg_trainer_free(r);
    r = otg_trainer_new(&c);
    assert_int_equal(otg_train_run(r, b, 1, NULL), OTG_OK);
    assert_int_equal(otg_trainer_steps_done(r), 40);
    assert_same_file(ca, cc);
    otg_trainer_free(r);
    otg_trainer_free(t);
}

static void test_load_and_sample_are_deterministic(void **state) {
    char p[300];
    snprintf(p, sizeof p, "%s/run/checkpoint.otg", dir); /* written by the test above */
    otg_trainer *t = NULL, *u = NULL;
    assert_int_equal(otg_trainer_load(p, &t), OTG_OK);
    assert_int_equal(otg_trainer_load(p, &u), OTG_OK);
    assert_int_equal(otg_trainer_steps_done(t), 40);
    assert_int_equal(otg_trainer_dim(t), 2);
    float x[2 * 50], y[2 * 50], z[2 * 50];
    assert_int_equal(otg_trainer_sample(t, 5, 50, x), OTG_OK);
    assert_int_equal(otg_trainer_sample(u, 5, 50, y), OTG_OK);
    assert_memory_equal(x, y, sizeof x);
    assert_int_equal(otg_trainer_sample(t, 6, 50, z), OTG_OK);
    assert_memory_not_equal(x, z, sizeof x);
    for (int i = 0; i < 100; i++)
        assert_true(isfinite(x[i]));
    otg_trainer_free(t), otg_trainer_free(u);
    /* a foreign or missing file is refused with its reason */
    assert_int_equal(otg_trainer_load("/nonexistent.otg", &t), OTG_EIO);
    assert_null(t);
    snprintf(p, sizeof p, "%s/run/config.json", dir);
    assert_int_equal(otg_trainer_load(p, &t), OTG_EFORMAT);
    /* a valid container with a foreign header, or a schema from a newer otgen */
    float w = 1.0f;
    snprintf(p, sizeof p, "%s/foreign.otg", dir);
    assert_int_equal(otg_checkpoint_write(p, "{\"format\":\"other\"}", &w, 1, NULL, 0), OTG_OK);
    assert_int_equal(otg_trainer_load(p, &t), OTG_EFORMAT);
    assert_non_null(strstr(otg_last_error(), "not a training checkpoint"));
    assert_int_equal(otg_checkpoint_write(p, "{\"format\":\"otgen-train-checkpoint\",\"schema\":9}",
                                          &w, 1, NULL, 0),
                     OTG_OK);
    assert_int_equal(otg_trainer_load(p, &t), OTG_EFORMAT);
    assert_non_null(strstr(otg_last_error(), "newer otgen"));
}

static void test_divergence_is_reported_and_not_applied(void **state) {
    otg_train_config c = small(50);
    snprintf(c.data, sizeof c.data, "gaussians8");
    snprintf(c.optimizer, sizeof c.optimizer, "sgd");
    c.lr = 1e5;
    otg_trainer *t = otg_trainer_new(&c);
    assert_non_null(t);
    int64_t n;
    float *before = malloc((size_t)otg_trainer_n_params(t) * sizeof(float));
    otg_status st = OTG_OK;
    otg_train_row row;
    int64_t done = 0;
    for (int k = 0; k < 50 && st == OTG_OK; k++) {
        done = otg_trainer_steps_done(t);
        const float *u = otg_trainer_params(t, &n);
        memcpy(before, u, (size_t)n * sizeof(float));
        st = otg_trainer_step(t, &row);
    }
    assert_int_equal(st, OTG_ENONFINITE);
    assert_int_equal(otg_trainer_steps_done(t), done);
    assert_int_equal(row.step, done + 1);
    assert_memory_equal(before, otg_trainer_params(t, NULL), (size_t)n * sizeof(float));
    free(before);
    otg_trainer_free(t);
    /* otg_train_run stops with the step and the last good checkpoint named */
    char d[256];
    snprintf(d, sizeof d, "%s/div", dir);
    t = otg_trainer_new(&c);
    assert_int_equal(otg_train_run(t, d, 0, NULL), OTG_ENONFINITE);
    assert_non_null(strstr(otg_last_error(), "diverged at step"));
    assert_non_null(strstr(otg_last_error(), "last good checkpoint"));
    otg_trainer_free(t);
}

/* --loss energy: the step's loss is the sliced energy estimate (a finite number with a standard
 * error and no sort ties), training lowers the validation SW on moons, the config JSON says what
 * the loss is, and an unknown loss name is refused naming --loss. */
/* Runs `steps` steps of t (last row into *last, may be NULL); fails unless val_sw falls below
 * ratio times its start. */
static void assert_descends(otg_trainer *t, int steps, double ratio, const char *what,
                            otg_train_row *last) {
    double v0, v1;
    otg_train_row row;
    assert_int_equal(otg_trainer_measure(t, &v0), OTG_OK);
    for (int k = 0; k < steps; k++)
        assert_int_equal(otg_trainer_step(t, &row), OTG_OK);
    assert_int_equal(otg_trainer_measure(t, &v1), OTG_OK);
    if (!(v1 < ratio * v0)) fail_msg("%s: val_sw %g -> %g", what, v0, v1);
    if (last) *last = row;
}

static void test_energy_loss(void **state) {
    (void)state;
    otg_train_config c = small(300);
    snprintf(c.loss, sizeof c.loss, "energy");
    c.projections = 16, c.lr = 3e-3;
    otg_trainer *t = otg_trainer_new(&c);
    assert_non_null(t);
    otg_train_row row;
    assert_descends(t, 300, 0.6, "energy", &row);
    assert_true(isfinite(row.loss) && row.loss_stderr > 0.0 && row.sort_ties == 0);
    char *js = otg_train_config_to_json(otg_trainer_config(t));
    assert_non_null(strstr(js, "sliced energy distance"));
    free(js);
    otg_trainer_free(t);
    snprintf(c.loss, sizeof c.loss, "mmd");
    otg_trainer *bad = NULL;
    assert_int_equal(otg_trainer_create(&c, &bad), OTG_EINVAL);
    assert_null(bad);
    assert_non_null(strstr(otg_last_error(), "--loss"));
}

/* --directions-kind axes (the coordinate axes) and permuted+axes (the axes, then permuted Haar
 * bases): both train; a --projections that would drop coordinates (or add no basis) is refused. */
static void test_axes_directions(void **state) {
    (void)state;
    static const struct {
        const char *kind;
        int64_t L;
        const char *error; /* NULL: trains, val_sw falls below `ratio` of its start */
        double ratio;      /* axes alone match the marginals only, not the joint law */
    } cases[] = {{"axes", 2, NULL, 0.75},
                 {"permuted+axes", 6, NULL, 0.5},
                 {"axes", 1, "equal to the data's dimension 2, got 1", 0},
                 {"permuted+axes", 2, "above the data's dimension 2, got 2", 0}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        otg_train_config c = small(200);
        snprintf(c.directions_kind, sizeof c.directions_kind, "%s", cases[i].kind);
        c.projections = cases[i].L, c.lr = 3e-3;
        otg_trainer *t = NULL;
        otg_status st = otg_trainer_create(&c, &t);
        if (cases[i].error) {
            assert_int_equal(st, OTG_EINVAL);
            assert_null(t);
            if (!strstr(otg_last_error(), cases[i].error))
                fail_msg("%s L=%lld: '%s'", cases[i].kind, (long long)cases[i].L, otg_last_error());
            continue;
        }
        assert_int_equal(st, OTG_OK);
        assert_descends(t, 200, cases[i].ratio, cases[i].kind, NULL);
        otg_trainer_free(t);
    }
}

/* --data-batch: more data points than generated ones per step; trains, and changes the run. */
static void test_data_batch(void **state) {
    (void)state;
    float *p0 = NULL;
    int64_t n = 0;
    for (int k = 0; k < 2; k++) {
        otg_train_config c = small(200);
        c.data_batch = k ? 3 * c.batch : 0, c.lr = 3e-3;
        otg_trainer *t = otg_trainer_new(&c);
        assert_non_null(t);
        assert_descends(t, 200, 0.5, k ? "data_batch 192" : "data_batch 0", NULL);
        const float *p = otg_trainer_params(t, &n);
        if (!k) {
            p0 = malloc((size_t)n * sizeof *p0);
            memcpy(p0, p, (size_t)n * sizeof *p0);
        } else
            assert_true(memcmp(p0, p, (size_t)n * sizeof *p0) != 0);
        otg_trainer_free(t);
    }
    free(p0);
}

/* 300 steps of c on 1 and 2 threads, saved at step 150 on 1, then restored there and run to 300:
 * val_sw falls below half its start, and the three runs end with the same bits. */
static void assert_trains_bit_stable(const otg_train_config *c, const char *ck, const char *what) {
    float *p1 = NULL;
    int64_t n = 0;
    for (int threads = 1; threads <= 2; threads++) {
        otg_threads_set(threads);
        otg_trainer *t = otg_trainer_new(c);
        assert_non_null(t);
        double v0, v1;
        otg_train_row row;
        assert_int_equal(otg_trainer_measure(t, &v0), OTG_OK);
        for (int k = 0; k < 300; k++) {
            assert_int_equal(otg_trainer_step(t, &row), OTG_OK);
            if (k == 149 && threads == 1) assert_int_equal(otg_trainer_save(t, ck), OTG_OK);
        }
        assert_true(isfinite(row.loss) && row.loss_stderr > 0.0);
        assert_int_equal(otg_trainer_measure(t, &v1), OTG_OK);
        if (!(v1 < 0.5 * v0)) fail_msg("%s: val_sw %g -> %g", what, v0, v1);
        const float *p = otg_trainer_params(t, &n);
        if (!p1) {
            p1 = malloc((size_t)n * sizeof *p1);
            memcpy(p1, p, (size_t)n * sizeof *p1);
        } else
            assert_memory_equal(p1, p, (size_t)n * sizeof *p1);
        otg_trainer_free(t);
    }
    otg_threads_set(0);
    otg_trainer *t = otg_trainer_new(c); /* restored at step 150, run to 300 */
    assert_int_equal(otg_trainer_restore(t, ck), OTG_OK);
    otg_train_row row;
    while (otg_trainer_steps_done(t) < 300)
        assert_int_equal(otg_trainer_step(t, &row), OTG_OK);
    assert_memory_equal(p1, otg_trainer_params(t, NULL), (size_t)n * sizeof *p1);
    otg_trainer_free(t), free(p1);
}

/* --directions-kind hadamard (structured orthogonal blocks, projected by fast transforms): on
 * 2-D data N = 2, so --projections 8 is 4 blocks of fresh signs per step. Trains, with the same
 * bits on 1 and 2 threads and after a restore. */
static void test_hadamard_directions(void **state) {
    (void)state;
    char ck[300];
    snprintf(ck, sizeof ck, "%s/had.otg", dir);
    otg_train_config c = small(300);
    snprintf(c.directions_kind, sizeof c.directions_kind, "hadamard");
    c.lr = 3e-3;
    assert_trains_bit_stable(&c, ck, "hadamard");
}

/* --quantile-bank: SW_2^2 against every training row along a fixed bank. Trains; the same bits
 * for 1 and 2 threads and after a restore mid-run; impossible options refused by name. */
static void test_quantile_bank(void **state) {
    (void)state;
    char path[256], ck[300];
    snprintf(path, sizeof path, "%s/moons.npy", dir), snprintf(ck, sizeof ck, "%s/qb.otg", dir);
    otg_source *moons = otg_source_open("moons", NULL);
    otg_tensor *x = otg_tensor_new(2, (int64_t[]){1000, 2});
    otg_rng r = otg_rng_make(3, 0);
    assert_int_equal(otg_source_sample(moons, &r, 1000, x->data), OTG_OK);
    assert_int_equal(otg_npy_write(path, x, 1), OTG_OK);
    otg_source_free(moons), otg_tensor_free(x);
    otg_train_config c = small(300);
    snprintf(c.data, sizeof c.data, "%s", path);
    c.quantile_bank = 64, c.lr = 3e-3;
    assert_trains_bit_stable(&c, ck, "quantile bank");
    static const char *const refused[] = {"moons", "p", "projections", "energy"};
    for (size_t i = 0; i < sizeof refused / sizeof refused[0]; i++) {
        otg_train_config b = c;
        const char *want = "needs finite data";
        if (!strcmp(refused[i], "moons")) snprintf(b.data, sizeof b.data, "moons");
        if (!strcmp(refused[i], "p")) b.p = 1.0, want = "--p 2 only";
        if (!strcmp(refused[i], "projections"))
            b.projections = 65, want = "--projections at most the bank's size";
        if (!strcmp(refused[i], "energy"))
            snprintf(b.loss, sizeof b.loss, "energy"), want = "the sw loss only";
        otg_trainer *bad = NULL;
        assert_int_equal(otg_trainer_create(&b, &bad), OTG_EINVAL);
        if (!strstr(otg_last_error(), want)) fail_msg("%s: '%s'", refused[i], otg_last_error());
    }
}

/* The mean image [784] of the rows of x [n, 784] (NULL lab: all) whose label is k. */
static void mean_image(const float *x, const uint8_t *lab, int64_t n, int k, double *m) {
    int64_t cnt = 0;
    memset(m, 0, 784 * sizeof *m);
    for (int64_t i = 0; i < n; i++)
        if (!lab || lab[i] == k) {
            for (int j = 0; j < 784; j++)
                m[j] += (double)x[i * 784 + j];
            cnt++;
        }
    for (int j = 0; j < 784; j++)
        m[j] /= (double)cnt;
}

static double dist2(const double *a, const double *b) {
    double s = 0;
    for (int j = 0; j < 784; j++)
        s += (a[j] - b[j]) * (a[j] - b[j]);
    return s;
}

/* --conditional on trousers (label 1) and sneakers (7): trains with the same bits on 1 and 2
 * threads and after a restore; each class's samples (otg_trainer_sample_class) are nearer the mean
 * training image of their class than of the other; a label not trained on, an unconditional
 * generator and unlabelled data are refused by name. */
static void test_conditional(void **state) {
    (void)state;
    if (access(OTG_FASHION_MNIST_DIR "/train-images-idx3-ubyte.gz", R_OK) != 0) {
        printf("SKIPPED: %s not installed\n", OTG_FASHION_MNIST_DIR);
        skip();
    }
    char ck[300];
    snprintf(ck, sizeof ck, "%s/cond.otg", dir);
    otg_train_config c = small(300);
    snprintf(c.data, sizeof c.data, "fashion-mnist");
    snprintf(c.classes, sizeof c.classes, "1,7");
    snprintf(c.hidden, sizeof c.hidden, "64");
    c.conditional = 1, c.latent = 8, c.projections = 64, c.lr = 3e-3;
    assert_trains_bit_stable(&c, ck, "conditional");
    c.steps = 600;
    otg_trainer *t = otg_trainer_new(&c);
    assert_non_null(t);
    assert_int_equal(otg_trainer_restore(t, ck), OTG_OK); /* at step 150 */
    otg_train_row row;
    while (otg_trainer_steps_done(t) < 600)
        assert_int_equal(otg_trainer_step(t, &row), OTG_OK);
    const otg_source *data = otg_trainer_data(t);
    const float *px = otg_source_data(data)->data;
    const int64_t n = otg_source_size(data), m = 200;
    double md[2][784], mg[784];
    mean_image(px, otg_source_labels(data), n, 1, md[0]);
    mean_image(px, otg_source_labels(data), n, 7, md[1]);
    float *x = malloc((size_t)m * 784 * sizeof *x);
    for (int k = 0; k < 2; k++) {
        assert_int_equal(otg_trainer_sample_class(t, 9, m, k ? 7 : 1, x), OTG_OK);
        mean_image(x, NULL, m, 0, mg);
        const double own = dist2(mg, md[k]), other = dist2(mg, md[1 - k]);
        if (!(own < 0.5 * other))
            fail_msg("class %d: %g to its mean, %g to the other", k, own, other);
    }
    assert_int_equal(otg_trainer_sample_class(t, 9, m, 3, x), OTG_EINVAL);
    assert_non_null(strstr(otg_last_error(), "class 3 is not among the generator's"));
    otg_trainer_free(t), free(x);
    otg_train_config b = small(10);
    otg_trainer *u = otg_trainer_new(&b), *bad = NULL;
    assert_non_null(u);
    float y[2 * 2];
    assert_int_equal(otg_trainer_sample_class(u, 9, 2, 1, y), OTG_EINVAL);
    assert_non_null(strstr(otg_last_error(), "the generator is not conditional"));
    otg_trainer_free(u);
    b.conditional = 1;
    assert_int_equal(otg_trainer_create(&b, &bad), OTG_EINVAL);
    assert_non_null(strstr(otg_last_error(), "--conditional needs labelled data"));
}

/* --sample-median: the loss sees the raw output, so 40 steps leave the same parameters as without
 * it, and the samples and validation samples are the raw ones through otg_median5 (its values
 * are tested against a brute-force median in test_ad_api). Refused for 2-D data. */
static void test_sample_median(void **state) {
    (void)state;
    if (access(OTG_FASHION_MNIST_DIR "/train-images-idx3-ubyte.gz", R_OK) != 0) {
        printf("SKIPPED: %s not installed\n", OTG_FASHION_MNIST_DIR);
        skip();
    }
    enum { N = 64, D = 784 };
    otg_train_config c = small(40);
    snprintf(c.data, sizeof c.data, "fashion-mnist");
    snprintf(c.classes, sizeof c.classes, "1,7");
    snprintf(c.hidden, sizeof c.hidden, "64");
    c.latent = 8, c.projections = 64, c.val_n = N, c.batch = N;
    otg_trainer *t[2];
    float *x[2], *v[2];
    for (int k = 0; k < 2; k++) {
        c.sample_median = k;
        assert_non_null(t[k] = otg_trainer_new(&c));
        for (int s = 0; s < 40; s++)
            assert_int_equal(otg_trainer_step(t[k], NULL), OTG_OK);
        x[k] = malloc(N * D * sizeof *x[k]);
        assert_int_equal(otg_trainer_sample(t[k], 3, N, x[k]), OTG_OK);
        const float *val;
        assert_int_equal(otg_trainer_generate_val(t[k], &val, NULL, NULL), OTG_OK);
        v[k] = malloc(N * D * sizeof *v[k]);
        memcpy(v[k], val, N * D * sizeof *v[k]);
    }
    int64_t np;
    const float *p0 = otg_trainer_params(t[0], &np);
    assert_memory_equal(p0, otg_trainer_params(t[1], NULL), (size_t)np * sizeof *p0);
    otg_graph *g = otg_graph_new();
    otg_node *in = otg_input(g, 4, (int64_t[]){N, 1, 28, 28}, 0), *med = otg_median5(g, in);
    assert_int_equal(otg_graph_compile(g), OTG_OK);
    for (int k = 0; k < 2; k++) { /* the samples, then the validation samples */
        const float *raw = k ? v[0] : x[0], *got = k ? v[1] : x[1];
        memcpy(otg_node_data(in), raw, N * D * sizeof *raw);
        assert_int_equal(otg_graph_forward(g), OTG_OK);
        assert_memory_equal(otg_node_data(med), got, N * D * sizeof *got);
        assert_true(memcmp(raw, got, N * D * sizeof *got) != 0);
    }
    otg_graph_free(g);
    for (int k = 0; k < 2; k++)
        otg_trainer_free(t[k]), free(x[k]), free(v[k]);
    otg_train_config b = small(10);
    b.sample_median = 1;
    otg_trainer *bad = NULL;
    assert_int_equal(otg_trainer_create(&b, &bad), OTG_EINVAL);
    assert_non_null(strstr(otg_last_error(), "--sample-median applies to images only"));
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_config_default_and_json_round_trip),
        cmocka_unit_test(test_config_errors_name_the_key),
        cmocka_unit_test(test_init_laws),
        cmocka_unit_test(test_output_follows_the_data),
        cmocka_unit_test(test_npy_rows_are_held_out),
        cmocka_unit_test(test_run_equals_hand_loop_and_resume),
        cmocka_unit_test(test_load_and_sample_are_deterministic),
        cmocka_unit_test(test_divergence_is_reported_and_not_applied),
        cmocka_unit_test(test_energy_loss),
        cmocka_unit_test(test_axes_directions),
        cmocka_unit_test(test_hadamard_directions),
        cmocka_unit_test(test_quantile_bank),
        cmocka_unit_test(test_data_batch),
        cmocka_unit_test(test_conditional),
        cmocka_unit_test(test_sample_median),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
