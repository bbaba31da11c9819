/* Kontonis, Liu & Tzamos (2020) as an experiment: SGDA learns a one-layer generator phi(W* x)
 * (relu, W* of condition number 2) to total-variation error eps from O~(d^2 / eps^2) samples.
 * Measured here: for d in {2, ..., 16}, eps in {0.1, 0.05, 0.025, 0.0125} and --seeds starts, the
 * target samples n(d, eps) that simGD (a_k = 1/(k+1)^0.6, batches of 32 target and 32 generator
 * samples, otgen's moment-matching discriminator, lambda = 1) needs until the tail-averaged
 * generator reaches tv_dist <= eps, where tv_dist = |S*^-1/2 W W^T S*^-1/2 - I|_F is within
 * constant factors of TV(N(0, W W^T), N(0, S*)) >= TV(phi(W x), phi(W* x)) (docs/games.md).
 * The tail average: the covariance sum_k W_k W_k^T / count over the iterates k in (K/2, K], the
 * generator its Cholesky factor (Polyak-Ruppert averaging, taken on W W^T because the law depends
 * on W only through it). Also the last iterate, for comparison.
 * Prints the medians with their 95 % bootstrap intervals, the least-squares fit
 * log n = c + a log d + b log(1/eps) with bootstrap intervals for a and b (the bound: a = b = 2),
 * writes samples.csv (every seed) and two charts: n against d (one line per eps, with c d^2) and
 * n against 1/eps (one line per d, with c / eps^2).
 * Usage: build/onelayer_samples [--seeds S] [--max-samples N] [--out DIR]   (~1 min on 2 cores) */
#define _POSIX_C_SOURCE 200809L
#include "otgen/otgen.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define N_DIMS 6
#define N_EPS 4
#define MAX_SEEDS 64
#define BATCH 32
#define GRID_PER_OCTAVE 4
#define MAX_GRID 128
#define BOOT 400
static const int64_t dims[N_DIMS] = {2, 3, 4, 6, 8, 16};
static const double eps_list[N_EPS] = {0.1, 0.05, 0.025, 0.0125};

/* A library call failed where the example cannot go on: say why and stop. */
static void die(void) {
    fprintf(stderr, "onelayer_samples: %s\n", otg_last_error());
    exit(1);
}

/* l [d, d] lower triangular with l l^T = c [d, d] (c positive definite; a non-positive pivot, which
 * an average of W W^T with W invertible never has, is clamped to 1e-300). */
static void cholesky(int64_t d, const double *c, double *l) {
    memset(l, 0, (size_t)(d * d) * sizeof *l);
    for (int64_t j = 0; j < d; j++)
        for (int64_t i = j; i < d; i++) {
            double a = c[i * d + j];
            for (int64_t k = 0; k < j; k++)
                a -= l[i * d + k] * l[j * d + k];
            l[i * d + j] = i == j ? sqrt(a > 1e-300 ? a : 1e-300) : a / l[j * d + j];
        }
}

/* s [d, d] += w w^T */
static void add_gram(int64_t d, const double *w, double *s) {
    for (int64_t i = 0; i < d; i++)
        for (int64_t j = 0; j < d; j++) {
            double a = 0.0;
            for (int64_t l = 0; l < d; l++)
                a += w[i * d + l] * w[j * d + l];
            s[i * d + j] += a;
        }
}

/* tv_dist of the generator W (the discriminator block of z is zero). */
static double tv_of(otg_game *g, double *z) {
    double met[3];
    if (otg_game_metrics(g, z, met) != OTG_OK) die();
    return met[2];
}

/* Samples at which err first falls to eps on the grid (k[j], err[j]), log-interpolated between
 * the two grid points around the crossing; NAN if it never does. */
static double crossing(const double *k, const double *err, int n, double eps) {
    for (int j = 0; j < n; j++) {
        if (!(err[j] <= eps)) continue;
        if (j == 0 || !(err[j - 1] > eps)) return k[j] * BATCH;
        double t = log(err[j - 1] / eps) / log(err[j - 1] / err[j]);
        return exp(log(k[j - 1]) + t * log(k[j] / k[j - 1])) * BATCH;
    }
    return NAN;
}

typedef struct {
    double avg[N_EPS], last[N_EPS]; /* samples to eps: tail average, last iterate */
} seed_result;

static int diverged; /* runs whose iterate left the floats (counted as never reaching eps) */

/* One start: simGD until the tail average reaches the smallest eps or max_samples are drawn. */
static seed_result run_seed(int64_t d, uint64_t seed, double max_samples) {
    otg_game_onelayer_params gp;
    if (otg_game_type_defaults(otg_game_onelayer, &gp) != OTG_OK) die();
    gp.dim = d, gp.cond = 2.0, gp.batch = BATCH, gp.eval_n = 2, gp.sw_dirs = 1;
    otg_game *g = otg_game_new(otg_game_onelayer, &gp, 0, 0.0); /* seed 0: W* depends on d only */
    if (!g) die();
    otg_minimax_params mp = otg_minimax_params_default();
    mp.lr = 1.0, mp.lr_exp = 0.6;
    otg_minimax *m = otg_minimax_new(otg_minimax_simgd, otg_game_nx(g), otg_game_ny(g), &mp);
    int64_t n = otg_game_nx(g) + otg_game_ny(g), dd = d * d;
    double *z = calloc((size_t)n, sizeof *z), *zb = calloc((size_t)n, sizeof *zb);
    double *sums = calloc((size_t)(MAX_GRID * dd), sizeof *sums), *acc = calloc((size_t)dd, 8);
    double kg[MAX_GRID], e_avg[MAX_GRID], e_last[MAX_GRID];
    if (!m || !z || !zb || !sums || !acc) die();
    otg_rng init = otg_rng_make(seed, 1), batches = otg_rng_make(seed, 2);
    otg_game_initial_point(g, 1.0, &init, z);
    int j = 0;
    for (int64_t k = 1; j < MAX_GRID && (double)(k * BATCH) <= max_samples; k++) {
        if (otg_minimax_step(m, z, otg_game_oracle, g, &batches) != OTG_OK) { /* diverged */
#pragma omp atomic
            diverged++;
            break;
        }
        add_gram(d, z, acc);
        if (k != (int64_t)llround(64.0 * pow(2.0, (double)j / GRID_PER_OCTAVE))) continue;
        memcpy(sums + j * dd, acc, (size_t)dd * sizeof *acc), kg[j] = (double)k;
        e_last[j] = tv_of(g, z), e_avg[j] = NAN;
        if (j >= GRID_PER_OCTAVE) { /* average over (k_{j-4}, k_j], k_{j-4} ~ k_j / 2 */
            const double *s0 = sums + (j - GRID_PER_OCTAVE) * dd;
            double cnt = kg[j] - kg[j - GRID_PER_OCTAVE], c[64 * 64];
            for (int64_t i = 0; i < dd; i++)
                c[i] = (acc[i] - s0[i]) / cnt;
            cholesky(d, c, zb);
            e_avg[j] = tv_of(g, zb);
        }
        if (e_avg[j++] <= eps_list[N_EPS - 1]) break;
    }
    seed_result r;
    for (int e = 0; e < N_EPS; e++) {
        r.avg[e] = crossing(kg, e_avg, j, eps_list[e]);
        r.last[e] = crossing(kg, e_last, j, eps_list[e]);
    }
    free(z), free(zb), free(sums), free(acc), otg_minimax_free(m), otg_game_free(g);
    return r;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return isnan(x) - isnan(y) ? isnan(x) - isnan(y) : (x > y) - (x < y); /* NaN last */
}

/* Median of v [n], NaN (never reached) counted as +infinity: NaN when half or more are NaN. */
static double median(const double *v, int n) {
    double s[MAX_SEEDS];
    memcpy(s, v, (size_t)n * sizeof *s);
    qsort(s, (size_t)n, sizeof *s, cmp_double);
    return n % 2 ? s[n / 2] : sqrt(s[n / 2 - 1] * s[n / 2]); /* NaN propagates */
}

/* The experiment's per-seed samples: v[(di * N_EPS + e) * seeds + r]. */
typedef struct {
    int seeds;
    double *v;
} table;

/* Medians of t over the seeds idx [seeds] (a bootstrap resample, or 0..seeds-1) into med. */
static void medians(const table *t, const int *idx, double *med) {
    for (int c = 0; c < N_DIMS * N_EPS; c++) {
        double s[MAX_SEEDS];
        for (int r = 0; r < t->seeds; r++)
            s[r] = t->v[c * t->seeds + idx[r]];
        med[c] = median(s, t->seeds);
    }
}

/* The fits reported: over every cell; the two smallest eps; the two smallest eps and d >= 4 (where
 * the median run is on its noise line, error ~ d / sqrt(n), rather than in its transient). */
#define N_FITS 3
static const int fit_e0[N_FITS] = {0, N_EPS - 2, N_EPS - 2}, fit_i0[N_FITS] = {0, 0, 2};
static const char *const fit_name[N_FITS] = {"every cell", "the two smallest eps",
                                             "the two smallest eps, d >= 4"};

/* Least squares log n = c + a log d + b log(1/eps) over the finite medians of the cells of fit f;
 * 0 if fewer than 4. */
static int fit(const double *med, int f, double *a, double *b) {
    double m[3][4] = {{0}};
    int used = 0;
    for (int i = fit_i0[f]; i < N_DIMS; i++)
        for (int e = fit_e0[f]; e < N_EPS; e++) {
            double y = log(med[i * N_EPS + e]);
            if (!isfinite(y)) continue;
            double x[3] = {1.0, log((double)dims[i]), log(1.0 / eps_list[e])};
            for (int p = 0; p < 3; p++) {
                for (int q = 0; q < 3; q++)
                    m[p][q] += x[p] * x[q];
                m[p][3] += x[p] * y;
            }
            used++;
        }
    if (used < 4) return 0;
    for (int c = 0; c < 3; c++) /* Gauss-Jordan on the 3 x 3 normal equations */
        for (int r = 0; r < 3; r++) {
            if (r == c || m[c][c] == 0.0) continue;
            double g = m[r][c] / m[c][c];
            for (int q = 0; q < 4; q++)
                m[r][q] -= g * m[c][q];
        }
    *a = m[1][3] / m[1][1], *b = m[2][3] / m[2][2];
    return 1;
}

/* Percentile q in [0, 1] of v [n] (sorted in place; NaN last and counted as +infinity). */
static double percentile(double *v, int n, double q) {
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return v[(int)floor(q * (n - 1) + 0.5)];
}

typedef struct {
    double med[N_DIMS * N_EPS], lo[N_DIMS * N_EPS], hi[N_DIMS * N_EPS]; /* medians, 95 % CI */
    /* exponents of the fits (fit_name), their 95 % intervals; NaN: no fit */
    double a[N_FITS], b[N_FITS], a_lo[N_FITS], a_hi[N_FITS], b_lo[N_FITS], b_hi[N_FITS];
} summary;

/* Medians and the fit of t, with percentile intervals from BOOT resamples of the seeds. */
static summary summarise(const table *t) {
    summary s;
    int idx[MAX_SEEDS];
    for (int r = 0; r < t->seeds; r++)
        idx[r] = r;
    medians(t, idx, s.med);
    static double bm[BOOT][N_DIMS * N_EPS];
    static double ba[N_FITS][BOOT], bb[N_FITS][BOOT];
    double col[BOOT];
    for (int f = 0; f < N_FITS; f++)
        if (!fit(s.med, f, &s.a[f], &s.b[f])) s.a[f] = s.b[f] = NAN;
    otg_rng rng = otg_rng_make(2020, 0);
    for (int k = 0; k < BOOT; k++) {
        for (int r = 0; r < t->seeds; r++)
            idx[r] = (int)(otg_rng_uniform(&rng) * t->seeds) % t->seeds;
        medians(t, idx, bm[k]);
        for (int f = 0; f < N_FITS; f++)
            if (!fit(bm[k], f, &ba[f][k], &bb[f][k])) ba[f][k] = bb[f][k] = NAN;
    }
    for (int c = 0; c < N_DIMS * N_EPS; c++) {
        for (int k = 0; k < BOOT; k++)
            col[k] = bm[k][c];
        s.lo[c] = percentile(col, BOOT, 0.025), s.hi[c] = percentile(col, BOOT, 0.975);
    }
    for (int f = 0; f < N_FITS; f++) {
        s.a_lo[f] = percentile(ba[f], BOOT, 0.025), s.a_hi[f] = percentile(ba[f], BOOT, 0.975);
        s.b_lo[f] = percentile(bb[f], BOOT, 0.025), s.b_hi[f] = percentile(bb[f], BOOT, 0.975);
    }
    return s;
}

static void print_summary(const char *what, const summary *s) {
    printf("\n%s: median target samples to tv_dist <= eps [95%% bootstrap interval]\n", what);
    printf("%4s", "d");
    for (int e = 0; e < N_EPS; e++)
        printf("  %16s%-11g", "eps = ", eps_list[e]);
    printf("\n");
    for (int i = 0; i < N_DIMS; i++) {
        printf("%4lld", (long long)dims[i]);
        for (int e = 0; e < N_EPS; e++) {
            int c = i * N_EPS + e;
            printf("  %9.3g [%7.2g, %7.2g]", s->med[c], s->lo[c], s->hi[c]);
        }
        printf("\n");
    }
    for (int f = 0; f < N_FITS; f++)
        printf("fit log n = c + a log d + b log(1/eps) over %s: a = %.2f [%.2f, %.2f], b = %.2f"
               " [%.2f, %.2f] (the bound: a = b = 2)\n",
               fit_name[f], s->a[f], s->a_lo[f], s->a_hi[f], s->b[f], s->b_lo[f], s->b_hi[f]);
}

/* out/name: the n series of median samples against xlabel, log-log. */
static void draw(const char *out, const char *name, const otg_series *ser, int n,
                 const char *xlabel) {
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", out, name);
    if (otg_plot_lines(path, ser, n, "simGD, tail average: samples to tv_dist <= eps", xlabel,
                       "median target samples", 1, 1, 1) != OTG_OK)
        die();
    printf("chart: %s\n", path);
}

/* n against d, one line per eps, and the reference c d^2 through the smallest eps at the largest
 * d (where the runs are on their noise line). */
static void chart_vs_d(const char *out, const summary *s) {
    static double x[N_DIMS], y[N_EPS + 1][N_DIMS];
    static char labels[N_EPS + 1][32];
    otg_series ser[N_EPS + 1];
    for (int i = 0; i < N_DIMS; i++) {
        x[i] = (double)dims[i];
        for (int e = 0; e < N_EPS; e++)
            y[e][i] = s->med[i * N_EPS + e];
        y[N_EPS][i] = s->med[N_DIMS * N_EPS - 1] * x[i] * x[i] /
                      ((double)dims[N_DIMS - 1] * (double)dims[N_DIMS - 1]);
    }
    for (int e = 0; e <= N_EPS; e++) {
        if (e < N_EPS) snprintf(labels[e], sizeof labels[e], "eps = %g", eps_list[e]);
        ser[e] = (otg_series){e < N_EPS ? labels[e] : "c d^2 (the bound)", x, y[e], N_DIMS};
    }
    draw(out, "samples_vs_d.png", ser, N_EPS + 1, "dimension d");
}

/* n against 1/eps, one line per d, and the reference c / eps^2 through the largest d at the
 * smallest eps. */
static void chart_vs_eps(const char *out, const summary *s) {
    static double x[N_EPS], y[N_DIMS + 1][N_EPS];
    static char labels[N_DIMS][32];
    otg_series ser[N_DIMS + 1];
    for (int e = 0; e < N_EPS; e++) {
        x[e] = 1.0 / eps_list[e];
        for (int i = 0; i < N_DIMS; i++)
            y[i][e] = s->med[i * N_EPS + e];
        y[N_DIMS][e] =
            s->med[N_DIMS * N_EPS - 1] * x[e] * x[e] * eps_list[N_EPS - 1] * eps_list[N_EPS - 1];
    }
    for (int i = 0; i <= N_DIMS; i++) {
        if (i < N_DIMS) snprintf(labels[i], sizeof labels[i], "d = %lld", (long long)dims[i]);
        ser[i] = (otg_series){i < N_DIMS ? labels[i] : "c / eps^2 (the bound)", x, y[i], N_EPS};
    }
    draw(out, "samples_vs_eps.png", ser, N_DIMS + 1, "1 / eps");
}

/* samples.csv: d, eps, seed, samples (tail average), samples (last iterate); empty: not reached */
static void write_csv(const char *out, const table *avg, const table *last) {
    char path[1024];
    snprintf(path, sizeof path, "%s/samples.csv", out);
    FILE *f = fopen(path, "w");
    if (!f) fprintf(stderr, "onelayer_samples: cannot write %s\n", path), exit(1);
    fprintf(f, "d,eps,seed,samples_avg,samples_last\n");
    for (int i = 0; i < N_DIMS; i++)
        for (int e = 0; e < N_EPS; e++)
            for (int r = 0; r < avg->seeds; r++) {
                int c = (i * N_EPS + e) * avg->seeds + r;
                fprintf(f, "%lld,%g,%d,", (long long)dims[i], eps_list[e], r);
                if (isfinite(avg->v[c])) fprintf(f, "%.0f", avg->v[c]);
                fprintf(f, ",");
                if (isfinite(last->v[c])) fprintf(f, "%.0f", last->v[c]);
                fprintf(f, "\n");
            }
    if (fclose(f)) fprintf(stderr, "onelayer_samples: cannot write %s\n", path), exit(1);
    printf("table: %s\n", path);
}

int main(int argc, char **argv) {
    int seeds = 16;
    double max_samples = 3.2e7;
    const char *out = "runs/examples/onelayer_samples";
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--seeds"))
            seeds = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--max-samples"))
            max_samples = atof(argv[i + 1]);
        else if (!strcmp(argv[i], "--out"))
            out = argv[i + 1];
        else
            return fprintf(stderr, "onelayer_samples: unknown option '%s'\n", argv[i]), 2;
    }
    if (argc % 2 == 0)
        return fprintf(stderr, "onelayer_samples: '%s' needs a value\n", argv[argc - 1]), 2;
    if (seeds < 2 || seeds > MAX_SEEDS || !(max_samples >= 64 * BATCH))
        return fprintf(stderr, "onelayer_samples: need --seeds in [2, %d], --max-samples >= %d\n",
                       MAX_SEEDS, 64 * BATCH),
               2;
    if (otg_mkdir_p(out) != OTG_OK) die();
    table avg = {seeds, calloc((size_t)(N_DIMS * N_EPS * seeds), sizeof(double))};
    table last = {seeds, calloc((size_t)(N_DIMS * N_EPS * seeds), sizeof(double))};
    if (!avg.v || !last.v) return fprintf(stderr, "onelayer_samples: out of memory\n"), 1;
    for (int i = 0; i < N_DIMS; i++) {
#pragma omp parallel for schedule(dynamic, 1)
        for (int r = 0; r < seeds; r++) {
            seed_result sr = run_seed(dims[i], (uint64_t)r, max_samples);
            for (int e = 0; e < N_EPS; e++) {
                avg.v[(i * N_EPS + e) * seeds + r] = sr.avg[e];
                last.v[(i * N_EPS + e) * seeds + r] = sr.last[e];
            }
        }
        fprintf(stderr, "onelayer_samples: d = %lld done\n", (long long)dims[i]);
    }
    summary sa = summarise(&avg), sl = summarise(&last);
    print_summary("tail average (iterates in (K/2, K])", &sa);
    print_summary("last iterate", &sl);
    printf("%d seeds per d; W* fixed per d (condition number 2); at most %.3g samples per run;"
           " nan: not reached by half the seeds; %d runs diverged\n",
           seeds, max_samples, diverged);
    write_csv(out, &avg, &last);
    chart_vs_d(out, &sa);
    chart_vs_eps(out, &sa);
    free(avg.v), free(last.v);
    return 0;
}
