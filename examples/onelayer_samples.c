/* Kontonis, Liu & Tzamos (2020) as an experiment: SGDA learns a one-layer generator phi(W* x)
 * (relu, W* of condition number 2) with O~(d^2 / eps^2) samples. For each d, run simGD with
 * a_k = 1/(k+1)^0.6 on the onelayer game (otgen's moment-matching discriminator, lambda = 1,
 * batches of 32 target and 32 generator samples) from several seeds, and record the target
 * samples after which cov_err = |W W^T - W* W*^T|_F / |W* W*^T|_F stays below eps. Prints a table
 * (median, min, max over seeds and median / d^2) and the least-squares slope of log median
 * against log d (the bound's exponent is 2), and draws runs/examples/onelayer_samples/
 * samples_vs_d.png with the reference line c d^2 through the smallest d.
 * Usage: build/onelayer_samples [--eps E] [--seeds S] [--steps K] [--out DIR] */
#define _POSIX_C_SOURCE 200809L
#include "otgen/otgen.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* A library call failed where the example cannot go on: say why and stop. */
static void die(void) {
    fprintf(stderr, "%s\n", otg_last_error());
    exit(1);
}

#define N_DIMS 6
#define MAX_SEEDS 16
#define EVERY 100
static const int64_t dims[N_DIMS] = {2, 3, 4, 6, 8, 12};

/* Target samples after which this seed's cov_err stays below eps; NAN if never. */
static double samples_to_eps(int64_t d, uint64_t seed, double eps, int64_t steps) {
    otg_game_onelayer_params gp;
    if (otg_game_type_defaults(otg_game_onelayer, &gp) != OTG_OK) die();
    gp.dim = d, gp.cond = 2.0, gp.batch = 32;
    otg_game *g = otg_game_new(otg_game_onelayer, &gp, 0, 0.0); /* seed 0: W* depends on d only */
    if (!g) return NAN;
    otg_minimax_params mp = otg_minimax_params_default();
    mp.lr = 1.0, mp.lr_exp = 0.6;
    otg_minimax *m = otg_minimax_new(otg_minimax_simgd, otg_game_nx(g), otg_game_ny(g), &mp);
    int64_t n = otg_game_nx(g) + otg_game_ny(g);
    double *z = malloc((size_t)n * sizeof(double)), met[2], need = NAN;
    otg_rng init = otg_rng_make(seed, 1), batches = otg_rng_make(seed, 2);
    otg_game_initial_point(g, 1.0, &init, z);
    for (int64_t k = 1; k <= steps; k++) {
        if (otg_minimax_step(m, z, otg_game_oracle, g, &batches) != OTG_OK) break;
        if (k % EVERY || otg_game_metrics(g, z, met) != OTG_OK) continue;
        if (!(met[0] < eps))
            need = NAN;
        else if (isnan(need))
            need = (double)(k * gp.batch);
    }
    free(z), otg_minimax_free(m), otg_game_free(g);
    return need;
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static int write_chart(const char *out, const double *dd, const double *med, const double *lo,
                       const double *hi, double eps) {
    double ref[N_DIMS];
    for (int i = 0; i < N_DIMS; i++)
        ref[i] = med[0] * dd[i] * dd[i] / (dd[0] * dd[0]);
    otg_series s[4] = {{"median over seeds", dd, med, N_DIMS},
                       {"fastest seed", dd, lo, N_DIMS},
                       {"slowest seed", dd, hi, N_DIMS},
                       {"c d^2 (bound's rate)", dd, ref, N_DIMS}};
    char path[1024], title[128];
    snprintf(path, sizeof path, "%s/samples_vs_d.png", out);
    snprintf(title, sizeof title, "onelayer relu: target samples until cov_err < %g", eps);
    if (otg_plot_lines(path, s, 4, title, "dimension d", "target samples", 1, 1, 1) != OTG_OK) {
        fprintf(stderr, "onelayer_samples: %s\n", otg_last_error());
        return 1;
    }
    printf("chart: %s\n", path);
    return 0;
}

int main(int argc, char **argv) {
    double eps = 0.1;
    int seeds = 5;
    int64_t steps = 40000;
    const char *out = "runs/examples/onelayer_samples";
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!strcmp(argv[i], "--eps"))
            eps = atof(argv[i + 1]);
        else if (!strcmp(argv[i], "--seeds"))
            seeds = atoi(argv[i + 1]);
        else if (!strcmp(argv[i], "--steps"))
            steps = atoll(argv[i + 1]);
        else if (!strcmp(argv[i], "--out"))
            out = argv[i + 1];
        else
            return fprintf(stderr, "onelayer_samples: unknown option '%s'\n", argv[i]), 2;
    }
    if (!(eps > 0.0) || seeds < 1 || seeds > MAX_SEEDS || steps < EVERY)
        return fprintf(stderr,
                       "onelayer_samples: need --eps > 0, --seeds in [1, %d], --steps >= %d\n",
                       MAX_SEEDS, EVERY),
               2;
    char cmd[1100];
    snprintf(cmd, sizeof cmd, "mkdir -p '%s'", out);
    if (system(cmd)) return fprintf(stderr, "onelayer_samples: cannot create %s\n", out), 1;
    double dd[N_DIMS], med[N_DIMS], lo[N_DIMS], hi[N_DIMS], sx = 0, sy = 0, sxx = 0, sxy = 0;
    int used = 0;
    printf("%4s %12s %12s %12s %10s %8s\n", "d", "median", "min", "max", "median/d^2", "reached");
    for (int i = 0; i < N_DIMS; i++) {
        double v[MAX_SEEDS];
        int ok = 0;
        for (int r = 0; r < seeds; r++) {
            double s = samples_to_eps(dims[i], (uint64_t)r, eps, steps);
            if (!isnan(s)) v[ok++] = s;
        }
        qsort(v, (size_t)ok, sizeof v[0], cmp_double);
        dd[i] = (double)dims[i];
        /* the median over all seeds, counting a seed that never got there as infinite */
        med[i] = 2 * ok > seeds ? v[seeds / 2] : (double)NAN;
        lo[i] = ok ? v[0] : (double)NAN, hi[i] = ok == seeds ? v[ok - 1] : (double)NAN;
        printf("%4lld %12.0f %12.0f %12.0f %10.0f %5d/%d\n", (long long)dims[i], med[i], lo[i],
               hi[i], med[i] / (dd[i] * dd[i]), ok, seeds);
        if (isnan(med[i])) continue;
        double lx = log(dd[i]), ly = log(med[i]);
        sx += lx, sy += ly, sxx += lx * lx, sxy += lx * ly, used++;
    }
    if (used >= 2)
        printf("slope of log median samples on log d: %.2f (bound: 2)\n",
               (used * sxy - sx * sy) / (used * sxx - sx * sx));
    printf("eps %g, %d seeds, at most %lld steps of 32 samples; NaN: not reached\n", eps, seeds,
           (long long)steps);
    return write_chart(out, dd, med, lo, hi, eps);
}
