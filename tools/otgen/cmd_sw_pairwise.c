/* otgen sw --pairwise C1.npy C2.npy ... --out D.npy: the K x K matrix of SW_p distances between
 * K point clouds (K files [n_k, d], or one [K, n, d] array) along shared directions, each cloud
 * projected and sorted once per direction (otg_sw_pairwise). Entry (i, j) is what
 * `otgen sw Ci.npy Cj.npy` with the same options prints, bit for bit (float32 files). */
#define _GNU_SOURCE
#include "cli.h"
#include "options.h"
#include "otgen/otgen.h"

#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct {
    char dir_path[4096], out_path[4096], kind_name[16];
    double p;
    int64_t L, seed, threads, chunk;
    int pairwise, squared, force;
} pairwise_opts;

#define OFF(f) offsetof(pairwise_opts, f), 0
#define STR(f) OTG_PARAM_STR_FIELD(pairwise_opts, f)
static const otg_param_def defs[] = {
    {"pairwise", OTG_PARAM_FLAG, OFF(pairwise), NULL, "the matrix of SW between every pair", 0, 0,
     0},
    {"out", OTG_PARAM_STR, STR(out_path), "D.npy",
     "write the K x K matrix here: float64 NPY, or CSV when the name ends in .csv (required)", 0, 0,
     0},
    {"p", OTG_PARAM_REAL, OFF(p), "P", "order of the cost |x - y|^p, P >= 1", 1, 1e6, 0},
    {"projections", OTG_PARAM_INT, OFF(L), "L", "number of random directions", 1, 2147483648.0, 0},
    {"kind", OTG_PARAM_STR, STR(kind_name), "K",
     "gaussian (uniform on the sphere) | orthogonal (Haar blocks)", 0, 0, 0},
    {"directions", OTG_PARAM_STR, STR(dir_path), "D.npy",
     "use the columns of D [d, L] as given (not normalised, as POT)", 0, 0, 0},
    {"seed", OTG_PARAM_INT, OFF(seed), "S", "seed of the direction stream (as otgen sw)", 0, 9.2e18,
     0},
    {"squared", OTG_PARAM_FLAG, OFF(squared), NULL, "write SW_p^p instead of SW_p", 0, 0, 0},
    {"chunk", OTG_PARAM_INT, OFF(chunk), "C",
     "directions held in memory at once (results do not depend on it)", 1, 2147483648.0, 0},
    {"threads", OTG_PARAM_INT, OFF(threads), "N", "threads, 0 = all cores", 0, 1024, 0},
    {"force", OTG_PARAM_FLAG, OFF(force), NULL, "overwrite an existing output file", 0, 0, 0},
};
#undef OFF
#undef STR
static const int n_defs = (int)(sizeof defs / sizeof defs[0]);

static const char *USAGE =
    "usage: otgen sw --pairwise C1.npy C2.npy ... --out D.npy [options]\n"
    "   or: otgen sw --pairwise CLOUDS.npy --out D.npy   (one [K, n, d] array)\n"
    "SW_p between every pair of K >= 2 point clouds (uniform weights; sizes may differ) along\n"
    "shared directions: each cloud is projected and sorted once per direction, then all\n"
    "K (K - 1) / 2 distances come from the sorted projections. Writes the K x K matrix (zero\n"
    "diagonal); entry (i, j) equals what `otgen sw Ci.npy Cj.npy` prints with the same options,\n"
    "bit for bit for float32 files (float64 files: all clouds are shifted by their common mean in\n"
    "double before float32, which changes only the rounding). Prints one summary line.\n";

static _Noreturn void out_of_memory(void) {
    fprintf(stderr, "otgen sw: out of memory\n");
    exit(OTG_EXIT_FAIL);
}

/* The clouds [n_k, d] from the files (or one [K, n, d] file), centred when float64; *k clouds
 * as views into *owned[]; exits 2 on bad input. */
static otg_tensor *read_clouds(char **paths, int n_paths, otg_tensor ***owned, int *k) {
    otg_tensor **t = calloc((size_t)n_paths, sizeof *t);
    double **wide = calloc((size_t)n_paths, sizeof *wide);
    if (!t || !wide) out_of_memory();
    for (int c = 0; c < n_paths; c++) {
        if (otg_npy_read_f64(paths[c], 1, &t[c], &wide[c]) != OTG_OK)
            cli_usage_error("sw", "%s", otg_last_error());
        const int want = n_paths == 1 ? 3 : 2;
        if (t[c]->ndim == 1 && n_paths > 1 &&
            otg_tensor_reshape(t[c], 2, (int64_t[]){t[c]->shape[0], 1}) != OTG_OK)
            cli_usage_error("sw", "%s", otg_last_error());
        if (t[c]->ndim != want)
            cli_usage_error("sw",
                            n_paths == 1 ? "--pairwise: %s is not a [K, n, d] array (one file "
                                           "must hold K clouds; or give 2 or more files)"
                                         : "--pairwise: %s is not a 2-D array [n, d]",
                            paths[c]);
        if (c > 0 && t[c]->shape[1] != t[0]->shape[1])
            cli_usage_error("sw", "--pairwise: %s has dimension %lld, %s has %lld", paths[c],
                            (long long)t[c]->shape[1], paths[0], (long long)t[0]->shape[1]);
    }
    cli_centre_clouds(t, wide, n_paths);
    free(wide);
    *k = n_paths == 1 ? (int)t[0]->shape[0] : n_paths;
    if (n_paths == 1 && *k < 2)
        cli_usage_error("sw", "--pairwise: %s holds K = %d cloud, need 2 or more", paths[0], *k);
    otg_tensor *clouds = calloc((size_t)*k, sizeof *clouds);
    if (!clouds) out_of_memory();
    for (int c = 0; c < *k; c++) {
        const otg_tensor *s = n_paths == 1 ? t[0] : t[c];
        const int64_t n = n_paths == 1 ? s->shape[1] : s->shape[0], d = s->shape[s->ndim - 1];
        clouds[c] = otg_tensor_view(s->data + (n_paths == 1 ? (int64_t)c * n * d : 0), 2,
                                    (int64_t[]){n, d});
    }
    *owned = t;
    return clouds;
}

static int ends_with(const char *s, const char *tail) {
    size_t n = strlen(s), k = strlen(tail);
    return n >= k && !strcmp(s + n - k, tail);
}

/* m [k, k] to path: CSV (%.17g, every double exactly) or float64 NPY. */
static otg_status write_matrix(const char *path, const double *m, int k, int force) {
    if (!ends_with(path, ".csv")) return otg_npy_write_f64(path, m, 2, (int64_t[]){k, k}, force);
    size_t cap = (size_t)k * (size_t)k * 26 + 1, at = 0;
    char *text = malloc(cap);
    if (!text) return OTG_ENOMEM;
    for (int i = 0; i < k; i++)
        for (int j = 0; j < k; j++)
            at += (size_t)snprintf(text + at, cap - at, "%.17g%s", m[i * k + j],
                                   j + 1 < k ? "," : "\n");
    otg_status st = otg_write_file_atomic(path, text, at, force);
    free(text);
    return st;
}

int cmd_sw_pairwise(int argc, char **argv) {
    pairwise_opts o = {.p = 2.0, .L = 256, .chunk = 256, .kind_name = "gaussian"};
    const int first = params_parse_argv_rest("sw", USAGE, defs, n_defs, &o, argc, argv);
    const int n_paths = argc - first;
    otg_dir_kind kind;
    if (n_paths < 1)
        cli_usage_error("sw", "--pairwise needs 2 or more NPY files, or one [K, n, d] array");
    if (!o.out_path[0]) cli_usage_error("sw", "--pairwise needs --out D.npy (or D.csv)");
    if (!o.force && access(o.out_path, F_OK) == 0) /* before the work, not after it */
        cli_usage_error("sw", "%s exists (pass --force to overwrite)", o.out_path);
    if (otg_dir_parse(o.kind_name, &kind) != OTG_OK)
        cli_usage_error("sw", "--kind: %s", otg_last_error());
    if (cli_comm()) cli_usage_error("sw", "--pairwise: one process only (not under mpirun)");
    if (otg_threads_set((int)o.threads) != OTG_OK)
        cli_usage_error("sw", "--threads: %s", otg_last_error());
    otg_tensor **owned;
    int k;
    otg_tensor *clouds = read_clouds(argv + first, n_paths, &owned, &k);
    otg_tensor *th = cli_sw_directions("sw", o.dir_path, kind, clouds[0].shape[1], o.L, o.seed);
    double *dist = malloc((size_t)k * (size_t)k * sizeof *dist),
           *value = malloc((size_t)k * (size_t)k * sizeof *value);
    otg_sw_opts so = {o.p, o.chunk, NULL, NULL};
    otg_status st = dist && value ? otg_sw_pairwise(clouds, k, th, &so, dist, value) : OTG_ENOMEM;
    int rc = OTG_EXIT_OK;
    for (int i = 0; st == OTG_OK && i < k * k; i++)
        if (!isfinite(value[i])) {
            fprintf(stderr,
                    "otgen sw: SW_p^p is not finite (%g) with --p %g: |x - y|^p overflows\n",
                    fabs(value[i]), o.p);
            rc = OTG_EXIT_USAGE;
            break;
        }
    if (st == OTG_OK && rc == OTG_EXIT_OK)
        st = write_matrix(o.out_path, o.squared ? value : dist, k, o.force);
    if (st != OTG_OK) {
        fprintf(stderr, "otgen sw: %s\n", otg_last_error());
        rc = st == OTG_ENOMEM ? OTG_EXIT_FAIL : OTG_EXIT_USAGE;
    } else if (rc == OTG_EXIT_OK) {
        printf("pairwise=%s clouds=%d quantity=%s p=%g projections=%lld directions=%s seed=%lld "
               "d=%lld\n",
               o.out_path, k, o.squared ? "SW_p^p" : "SW_p", o.p, (long long)th->shape[1],
               o.dir_path[0] ? "file(as-given,not-normalised)" : o.kind_name, (long long)o.seed,
               (long long)clouds[0].shape[1]);
    }
    for (int c = 0; c < n_paths; c++)
        otg_tensor_free(owned[c]);
    free(owned), free(clouds), free(dist), free(value);
    otg_tensor_free(th);
    return rc;
}
