/* otgen energy: the energy distance between two NPY point clouds, by its sliced form (sorted
 * projections along L directions, O(L (n + m) log(n + m))) and, with --exact, by the O((n + m)^2 d)
 * pair sums. */
#define _POSIX_C_SOURCE 200809L
#include "cli.h"
#include "options.h"
#include "otgen/otgen.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>

typedef struct {
    int64_t L, seed, threads, exact;
    char kind[16];
} energy_opts;

#define OFF(f) offsetof(energy_opts, f), 0
static const otg_param_def defs[] = {
    {"projections", OTG_PARAM_INT, OFF(L), "L", "directions of the sliced estimate", 1, 1 << 24, 0},
    {"seed", OTG_PARAM_INT, OFF(seed), "S", "seed of the directions (stream (S, 1), as otgen sw)",
     0, 9e15, 0},
    {"kind", OTG_PARAM_STR, OTG_PARAM_STR_FIELD(energy_opts, kind), "K",
     "directions: gaussian (uniform on the sphere) or orthogonal", 0, 0, 0},
    {"exact", OTG_PARAM_FLAG, OFF(exact), NULL, "also the O(n^2) energy distance (exact=)", 0, 0,
     0},
    {"threads", OTG_PARAM_INT, OFF(threads), "N", "threads, 0 = all cores", 0, 1024, 0},
};
#undef OFF
static const int n_defs = (int)(sizeof defs / sizeof defs[0]);

static const char *USAGE =
    "usage: otgen energy A.npy B.npy [options]\n"
    "Energy distance 2 E|X - Y| - E|X - X'| - E|Y - Y'| (Euclidean; within-sample means over\n"
    "pairs i != j) between the rows of A [n, d] and B [m, d], n, m >= 2, estimated by the sliced\n"
    "energy distance of Hertrich et al. (2024): c_d times the mean over L directions of the 1-D\n"
    "energy distances of the projections, each from sorted values. Prints energy= (on the scale "
    "of\n"
    "the exact value) and its Monte-Carlo stderr=; with --exact also exact= (O((n + m)^2 d)).\n"
    "float64 input is shifted by the common mean (in double) before float32 (the distance is\n"
    "translation invariant).\n";

/* A cloud of at least 2 points (cli_read_cloud), or exit 2 with the reason. */
static otg_tensor *read_cloud(const char *path, double **f64) {
    otg_tensor *t = cli_read_cloud_f64("energy", path, f64);
    if (t->shape[0] < 2) cli_usage_error("energy", "%s: needs at least 2 points", path);
    return t;
}

int cmd_energy(int argc, char **argv) {
    energy_opts o = {.L = 1024, .kind = "gaussian"};
    char *pos[2];
    params_parse_argv_pos("energy", USAGE, defs, n_defs, &o, argc, argv, 2, pos,
                          "needs two NPY files A and B (otgen energy --help)");
    otg_dir_kind kind;
    if (otg_dir_parse(o.kind, &kind) != OTG_OK)
        cli_usage_error("energy", "--kind: %s", otg_last_error());
    if (otg_threads_set((int)o.threads) != OTG_OK)
        cli_usage_error("energy", "--threads: %s", otg_last_error());
    double *wide[2];
    otg_tensor *a = read_cloud(pos[0], &wide[0]), *b = read_cloud(pos[1], &wide[1]);
    const int64_t d = a->shape[1];
    if (b->shape[1] != d)
        cli_usage_error("energy", "%s has dimension %lld, %s has %lld", pos[0], (long long)d,
                        pos[1], (long long)b->shape[1]);
    cli_centre_clouds((otg_tensor *[]){a, b}, wide, 2); /* float64: shifted by a common mean */
    otg_tensor *th = otg_tensor_new(2, (int64_t[]){d, o.L});
    otg_rng r = otg_rng_make((uint64_t)o.seed, 1);
    otg_sliced_energy_result res;
    double exact = 0.0;
    otg_status st = th ? otg_sw_directions(&r, kind, d, o.L, th->data) : OTG_ENOMEM;
    if (st == OTG_OK) st = otg_sliced_energy(a, b, th, &res, NULL);
    if (st == OTG_OK && o.exact) st = otg_energy_distance(a, b, &exact);
    int rc = OTG_EXIT_OK;
    if (st != OTG_OK) {
        fprintf(stderr, "otgen energy: %s\n", otg_last_error());
        rc = st == OTG_ENOMEM ? OTG_EXIT_FAIL : OTG_EXIT_USAGE;
    } else {
        printf("energy=%.9g stderr=%.3g", res.value, res.stderr_value);
        if (o.exact) printf(" exact=%.9g", exact);
        printf(" estimator=sliced projections=%lld directions=%s seed=%lld n=%lld m=%lld d=%lld\n",
               (long long)o.L, o.kind, (long long)o.seed, (long long)a->shape[0],
               (long long)b->shape[0], (long long)d);
    }
    otg_tensor_free(a), otg_tensor_free(b), otg_tensor_free(th);
    return rc;
}
