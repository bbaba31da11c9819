/* otgen bench sort: nanoseconds per element of the SW kernel's sorts (src/ot/sort.c), one
 * thread, on slices of n standard normal float32 values as the projections are. Per size it
 * times the C radix engine and vqsort (when built with Highway), each with and without the
 * permutation, interleaved, and checks that the two give the same bits; pick_k and pick_p show
 * which engine otgi_sort_f32 uses at n (its own timing at the first sort of the size class, or
 * OTGEN_SORT). bench sw and bench train use bench_sort_ns for their limits. */
#define _POSIX_C_SOURCE 200809L
#include "cli.h"
#include "options.h"
#include "ot/ot_internal.h"
#include "otgen/otgen.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { SLICE_TOTAL = 1 << 18 }; /* values per timed sample: slices of n summing to about this */

typedef int64_t (*sort_fn)(const float *, int64_t, float *, int32_t *, otgi_sort_scratch *);

typedef struct {
    int64_t n, slices;
    float *x, *out;
    int32_t *perm;
    otgi_sort_scratch sc;
} sort_bench;

static int sort_bench_init(sort_bench *b, int64_t n) {
    memset(b, 0, sizeof *b);
    b->n = n, b->slices = (SLICE_TOTAL + n - 1) / n;
    b->x = malloc((size_t)(b->slices * n) * sizeof *b->x);
    b->out = malloc((size_t)n * sizeof *b->out), b->perm = malloc((size_t)n * sizeof *b->perm);
    if (!b->x || !b->out || !b->perm || otgi_sort_reserve(&b->sc, n) != OTG_OK) return 0;
    otg_rng r = otg_rng_make(7, (uint64_t)n);
    otg_rng_fill_normal(&r, b->slices * n, b->x);
    return 1;
}

static void sort_bench_free(sort_bench *b) {
    free(b->x), free(b->out), free(b->perm);
    otgi_sort_release(&b->sc);
}

/* ns per element of one pass of fn over every slice. */
static double time_pass(sort_bench *b, sort_fn fn, int with_perm) {
    double t0 = cli_now();
    for (int64_t s = 0; s < b->slices; s++)
        fn(b->x + s * b->n, b->n, b->out, with_perm ? b->perm : NULL, &b->sc);
    return (cli_now() - t0) * 1e9 / (double)(b->slices * b->n);
}

static double median_ns(sort_bench *b, sort_fn fn, int with_perm, int64_t reps) {
    double *t = malloc((size_t)reps * sizeof *t);
    if (!t) return -1.0;
    time_pass(b, fn, with_perm); /* warm-up */
    for (int64_t r = 0; r < reps; r++)
        t[r] = time_pass(b, fn, with_perm);
    double med = cli_sort_median(t, reps);
    free(t);
    return med;
}

double bench_sort_ns(int64_t n, int with_perm, int64_t reps) {
    sort_bench b;
    double ns = sort_bench_init(&b, n) ? median_ns(&b, otgi_sort_f32, with_perm, reps) : -1.0;
    sort_bench_free(&b);
    return ns;
}

/* Whether the two engines give the same values, permutation and ties on every slice. */
static int engines_agree(sort_bench *b) {
    float *o2 = malloc((size_t)b->n * sizeof *o2);
    int32_t *p2 = malloc((size_t)b->n * sizeof *p2);
    int ok = o2 && p2;
    for (int64_t s = 0; ok && s < b->slices; s++) {
        const float *x = b->x + s * b->n;
        int64_t t1 = otgi_sort_f32_c(x, b->n, b->out, b->perm, &b->sc);
        int64_t t2 = otgi_sort_f32_vq(x, b->n, o2, p2, &b->sc);
        ok = t1 == t2 && !memcmp(b->out, o2, (size_t)b->n * sizeof *o2) &&
             !memcmp(b->perm, p2, (size_t)b->n * sizeof *p2);
    }
    free(o2), free(p2);
    return ok;
}

typedef struct {
    int64_t reps;
} bench_sort_opts;

static const otg_param_def defs[] = {
    {"reps", OTG_PARAM_INT, offsetof(bench_sort_opts, reps), 0, "R",
     "timed passes over 2^18 values per figure (median)", 1, 100000, 0},
};

int bench_sort(int argc, char **argv) {
    bench_sort_opts o = {9};
    params_parse_argv("bench",
                      "usage: otgen bench sort [--reps R]\n"
                      "ns per element of the SW sorts (one thread): C radix and vqsort.\n",
                      defs, (int)(sizeof defs / sizeof defs[0]), &o, argc, argv, NULL);
    static const int64_t sizes[] = {64, 128, 256, 512, 1024, 2048, 4096, 10000, 65536};
    const char *mode = getenv("OTGEN_SORT");
    printf("# otgen bench sort: ns per element, one thread, slices of n normal float32 values; "
           "pick: the dispatch's engine (OTGEN_SORT=%s)\n",
           mode ? mode : "auto");
    printf("%8s %10s %10s %10s %10s %8s %8s %6s\n", "n", "c_keys", "vq_keys", "c_perm", "vq_perm",
           "pick_k", "pick_p", "same");
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        sort_bench b;
        if (!sort_bench_init(&b, sizes[i])) {
            fprintf(stderr, "otgen bench: sort: out of memory\n");
            sort_bench_free(&b);
            return OTG_EXIT_FAIL;
        }
        double ck = median_ns(&b, otgi_sort_f32_c, 0, o.reps);
        double vk = median_ns(&b, otgi_sort_f32_vq, 0, o.reps);
        double cp = median_ns(&b, otgi_sort_f32_c, 1, o.reps);
        double vp = median_ns(&b, otgi_sort_f32_vq, 1, o.reps);
        int same = engines_agree(&b);
        double t0 = cli_now(); /* the dispatch's first query of the class times both engines */
        const char *pk = otgi_sort_engine(sizes[i], 0) ? "vq" : "c";
        const char *pp = otgi_sort_engine(sizes[i], 1) ? "vq" : "c";
        double pick_ms = (cli_now() - t0) * 1e3;
        printf("%8lld %10.2f %10.2f %10.2f %10.2f %8s %8s %6s\n", (long long)sizes[i], ck, vk, cp,
               vp, pk, pp, same ? "yes" : "NO");
        printf("tool=otgen bench=sort n=%lld c_keys_ns=%.2f vq_keys_ns=%.2f c_perm_ns=%.2f "
               "vq_perm_ns=%.2f pick_keys=%s pick_perm=%s pick_ms=%.2f same_bits=%d\n",
               (long long)sizes[i], ck, vk, cp, vp, pk, pp, pick_ms, same);
        sort_bench_free(&b);
        if (!same) return OTG_EXIT_FAIL;
    }
    return OTG_EXIT_OK;
}
