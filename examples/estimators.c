/* examples/estimators: how far each SW estimator lands from the answer, against the number of
 * directions L. Problems: Gaussians in d = 3 and d = 784, and two Fashion-MNIST class pairs (test
 * split, 1000 images each, d = 784). Methods: plain Monte Carlo (gaussian directions), orthogonal
 * directions, the control variates LCV and UCV, energy-based SW (EBSW: another quantity, so
 * compared with its own reference) and, for d = 3, RQMC (rotated Fibonacci points). For each L,
 * R seeds give R estimates of SW_2^2: their standard deviation (the standard error of one
 * estimate) and their mean absolute error against a 10^5-direction reference, both relative to
 * the reference (whose own relative standard error is listed: the floor of the measured absolute
 * errors). Writes OUT/estimators.tsv, one chart per problem and measure (log-log), and
 * prints the table. Usage: estimators OUT [R]. */
#include "otgen/data.h"
#include "otgen/ot.h"
#include "otgen/plot.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { N_L = 8, N_METHODS = 6, REF_BATCH = 10000, REF_BATCHES = 10, MAX_R = 100 };
static const int64_t LS[N_L] = {8, 16, 32, 64, 128, 256, 512, 1024};
enum { M_MC, M_ORTH, M_LCV, M_UCV, M_EBSW, M_RQMC };
static const char *METHOD[N_METHODS] = {"mc", "orthogonal", "lcv", "ucv", "ebsw", "rqmc"};

typedef struct {
    const char *name;
    otg_tensor *x, *y; /* [n, d], [m, d] */
} problem;

/* The per-problem results: estimates [method][L][seed]. */
typedef struct {
    double est[N_METHODS][N_L][MAX_R];
    double ref_sw, ref_ebsw; /* SW_2^2 and EBSW_2^2 from 10^5 directions */
    double se_sw, se_ebsw;   /* their own standard errors (MC; self-normalised IS) */
} results;

static void die(const char *what) {
    fprintf(stderr, "estimators: %s: %s\n", what, otg_last_error());
    exit(1);
}

/* 10^5 gaussian directions in batches: the plain mean (SW_2^2) and EBSW's self-normalised
 * softmax(W) W over all of them. */
static void reference(const problem *p, otg_sw_workspace *ws, results *r) {
    const int64_t d = p->x->shape[1];
    otg_tensor *th = otg_tensor_new(2, (int64_t[]){d, REF_BATCH});
    double *w = malloc((size_t)REF_BATCH * REF_BATCHES * sizeof *w);
    if (!th || !w) die("reference");
    for (int b = 0; b < REF_BATCHES; b++) {
        otg_rng rng = otg_rng_make(1000003u + (uint64_t)b, 7);
        otg_sw_result res;
        if (otg_sw_directions(&rng, OTG_DIR_GAUSSIAN, d, REF_BATCH, th->data) != OTG_OK ||
            otg_sw(ws, p->x, NULL, p->y, NULL, th, NULL, &res, NULL, w + b * REF_BATCH) != OTG_OK)
            die("reference");
    }
    const int64_t n = (int64_t)REF_BATCH * REF_BATCHES;
    double sum = 0.0, mx = w[0], z = 0.0, zw = 0.0;
    for (int64_t l = 0; l < n; l++)
        sum += w[l], mx = w[l] > mx ? w[l] : mx;
    for (int64_t l = 0; l < n; l++)
        z += exp(w[l] - mx), zw += exp(w[l] - mx) * w[l];
    r->ref_sw = sum / (double)n, r->ref_ebsw = zw / z;
    double v = 0.0, q = 0.0;
    for (int64_t l = 0; l < n; l++) {
        const double wl = exp(w[l] - mx) / z;
        v += (w[l] - r->ref_sw) * (w[l] - r->ref_sw),
            q += wl * wl * (w[l] - r->ref_ebsw) * (w[l] - r->ref_ebsw);
    }
    r->se_sw = sqrt(v / (double)(n - 1) / (double)n), r->se_ebsw = sqrt(q);
    otg_tensor_free(th);
    free(w);
}

/* One estimate of `kind` along theta. */
static double estimate(const problem *p, otg_sw_workspace *ws, const otg_tensor *th,
                       otg_sw_estimator kind, double *mc) {
    otg_sw_estimator_opts e = otg_sw_estimator_opts_default();
    e.kind = kind;
    otg_sw_result res;
    otg_sw_estimate_info info;
    if (otg_sw_estimate(ws, p->x, NULL, p->y, NULL, th, NULL, &e, &res, &info, NULL, NULL) !=
        OTG_OK)
        die("estimate");
    if (mc) *mc = info.mc_value;
    return res.value;
}

/* Every method, L and seed; the gaussian directions are shared by mc, lcv, ucv and ebsw. */
static void run(const problem *p, otg_sw_workspace *ws, int R, results *r) {
    const int64_t d = p->x->shape[1];
    for (int li = 0; li < N_L; li++) {
        const int64_t L = LS[li];
        otg_tensor *th = otg_tensor_new(2, (int64_t[]){d, L});
        if (!th) die("directions");
        for (int s = 0; s < R; s++) {
            otg_rng rng = otg_rng_make((uint64_t)s + 1, (uint64_t)L);
            if (otg_sw_directions(&rng, OTG_DIR_GAUSSIAN, d, L, th->data) != OTG_OK)
                die("directions");
            r->est[M_LCV][li][s] = estimate(p, ws, th, OTG_SW_EST_LCV, &r->est[M_MC][li][s]);
            r->est[M_UCV][li][s] = estimate(p, ws, th, OTG_SW_EST_UCV, NULL);
            r->est[M_EBSW][li][s] = estimate(p, ws, th, OTG_SW_EST_EBSW, NULL);
            for (int k = 0; k < 2; k++) { /* orthogonal, then rqmc for d = 3 */
                if (k == 1 && d != 3) continue;
                if (otg_sw_directions(&rng, k ? OTG_DIR_RQMC : OTG_DIR_ORTHOGONAL, d, L,
                                      th->data) != OTG_OK)
                    die("directions");
                r->est[k ? M_RQMC : M_ORTH][li][s] = estimate(p, ws, th, OTG_SW_EST_MC, NULL);
            }
        }
        otg_tensor_free(th);
    }
}

/* Relative standard deviation over the seeds and relative mean absolute error. */
static void measures(const double *e, int R, double ref, double *sd, double *err) {
    double m = 0.0, v = 0.0, a = 0.0;
    for (int s = 0; s < R; s++)
        m += e[s] / R, a += fabs(e[s] - ref) / R;
    for (int s = 0; s < R; s++)
        v += (e[s] - m) * (e[s] - m) / (R - 1);
    *sd = sqrt(v) / ref, *err = a / ref;
}

/* The table rows and the two charts of one problem. */
static void report(const problem *p, const results *r, int R, const char *out, FILE *tsv) {
    static double xs[N_L], sd[N_METHODS][N_L], err[N_METHODS][N_L];
    const int nm = p->x->shape[1] == 3 ? N_METHODS : N_METHODS - 1;
    for (int k = 0; k < nm; k++)
        for (int li = 0; li < N_L; li++) {
            const double ref = k == M_EBSW ? r->ref_ebsw : r->ref_sw;
            const double se = k == M_EBSW ? r->se_ebsw : r->se_sw;
            xs[li] = (double)LS[li];
            measures(r->est[k][li], R, ref, &sd[k][li], &err[k][li]);
            fprintf(tsv, "%s\t%s\t%lld\t%.4g\t%.4g\t%.9g\t%.3g\n", p->name, METHOD[k],
                    (long long)LS[li], sd[k][li], err[k][li], ref, se / ref);
        }
    printf("%-16s ref SW_2^2=%.6g (rel se %.2g) EBSW_2^2=%.6g (rel se %.2g); relative sd at L=16, "
           "128, 1024:",
           p->name, r->ref_sw, r->se_sw / r->ref_sw, r->ref_ebsw, r->se_ebsw / r->ref_ebsw);
    for (int k = 0; k < nm; k++)
        printf("  %s %.2g %.2g %.2g", METHOD[k], sd[k][1], sd[k][4], sd[k][7]);
    printf("\n");
    otg_series series[N_METHODS];
    for (int pass = 0; pass < 2; pass++) {
        for (int k = 0; k < nm; k++)
            series[k] = (otg_series){METHOD[k], xs, pass ? err[k] : sd[k], N_L};
        char path[4096], title[256];
        snprintf(path, sizeof path, "%s/%s_%s.png", out, p->name, pass ? "abserr" : "stderr");
        snprintf(title, sizeof title, "%s: %s of SW_2^2 estimates (relative, %d seeds)", p->name,
                 pass ? "mean absolute error" : "standard error", R);
        if (otg_plot_lines(path, series, nm, title, "directions L",
                           pass ? "|estimate - reference| / reference" : "sd / reference", 1, 1,
                           1) != OTG_OK)
            die(path);
    }
}

/* x ~ N(0, I_d), y ~ N(mu, diag(s^2)) with mu_k = 0.5 cos(k), s_k = 1 + 0.5 sin(k), n rows. */
static problem gaussians(const char *name, int64_t n, int64_t d, uint64_t seed) {
    problem p = {name, otg_tensor_new(2, (int64_t[]){n, d}), otg_tensor_new(2, (int64_t[]){n, d})};
    if (!p.x || !p.y) die("gaussians");
    otg_rng r = otg_rng_make(seed, 0);
    otg_rng_fill_normal(&r, n * d, p.x->data);
    otg_rng_fill_normal(&r, n * d, p.y->data);
    for (int64_t i = 0; i < n * d; i++) {
        const double k = (double)(i % d);
        p.y->data[i] = (float)(0.5 * cos(k) + (1.0 + 0.5 * sin(k)) * (double)p.y->data[i]);
    }
    return p;
}

/* The test images of one Fashion-MNIST class [1000, 784] (a copy). */
static otg_tensor *fmnist_class(int c) {
    otg_source_opts o = otg_source_opts_default();
    o.split = "test", o.classes = &c, o.n_classes = 1;
    otg_source *s = otg_source_open("fashion-mnist", &o);
    if (!s) die("fashion-mnist");
    const otg_tensor *t = otg_source_data(s);
    otg_tensor *copy = otg_tensor_new(2, t->shape);
    if (!copy) die("fashion-mnist");
    memcpy(copy->data, t->data, (size_t)otg_tensor_numel(t) * sizeof(float));
    otg_source_free(s);
    return copy;
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: estimators OUT [R]\n");
        return 2;
    }
    const char *out = argv[1];
    const int R = argc > 2 ? atoi(argv[2]) : 20;
    if (R < 2 || R > MAX_R) {
        fprintf(stderr, "estimators: R in 2..%d\n", MAX_R);
        return 2;
    }
    problem ps[4] = {gaussians("gauss-d3", 1000, 3, 1),
                     gaussians("gauss-d784", 1000, 784, 2),
                     {"fmnist-0v1", fmnist_class(0), fmnist_class(1)},
                     {"fmnist-0v6", fmnist_class(0), fmnist_class(6)}};
    char path[4096];
    snprintf(path, sizeof path, "%s/estimators.tsv", out);
    FILE *tsv = fopen(path, "w");
    otg_sw_workspace *ws = otg_sw_workspace_new();
    results *r = malloc(sizeof *r);
    if (!tsv || !ws || !r) {
        fprintf(stderr, "estimators: cannot write %s\n", path);
        return 1;
    }
    fprintf(tsv, "problem\tmethod\tL\trel_sd\trel_abs_err\treference\tref_rel_se\n");
    for (int k = 0; k < 4; k++) {
        reference(&ps[k], ws, r);
        run(&ps[k], ws, R, r);
        report(&ps[k], r, R, out, tsv);
        otg_tensor_free(ps[k].x), otg_tensor_free(ps[k].y);
    }
    fclose(tsv);
    otg_sw_workspace_free(ws);
    free(r);
    printf("table: %s; charts: %s/*_stderr.png, %s/*_abserr.png\n", path, out, out);
    return 0;
}
