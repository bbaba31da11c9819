/* bench_estimators: the cost of the SW estimators (otg_sw_estimate: lcv, ucv, ebsw) next to the
 * plain fused kernel (otg_sw, mc) on one problem, value and gradient, calls interleaved (mc, lcv,
 * ucv, ebsw, mc, ...) so that machine load hits all alike; medians over the repetitions and the
 * ratios to mc. A benchmark, not a test. Usage: bench_estimators [n d L reps]
 * (default 1024 784 512 15). Last line: key=value pairs. */
#define _POSIX_C_SOURCE 200809L

#include "otgen/core.h"
#include "otgen/ot.h"

#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "bench_timing.h"

int main(int argc, char **argv) {
    const int64_t n = argc > 1 ? atoll(argv[1]) : 1024, d = argc > 2 ? atoll(argv[2]) : 784;
    const int64_t L = argc > 3 ? atoll(argv[3]) : 512;
    const int reps = argc > 4 ? atoi(argv[4]) : 15;
    if (n < 2 || d < 1 || L < 2 || reps < 1 || reps > 1000) {
        fprintf(stderr, "usage: bench_estimators [n d L reps]\n");
        return 2;
    }
    otg_tensor *x = otg_tensor_new(2, (int64_t[]){n, d}), *y = otg_tensor_new(2, (int64_t[]){n, d});
    otg_tensor *th = otg_tensor_new(2, (int64_t[]){d, L}),
               *g = otg_tensor_new(2, (int64_t[]){n, d});
    otg_sw_workspace *ws = otg_sw_workspace_new();
    double *t = malloc(4 * 2 * (size_t)reps * sizeof *t);
    if (!x || !y || !th || !g || !ws || !t) return 1;
    otg_rng r = otg_rng_make(1, 0);
    otg_rng_fill_normal(&r, n * d, x->data);
    otg_rng_fill_normal(&r, n * d, y->data);
    for (int64_t i = 0; i < n * d; i++)
        y->data[i] = 1.2f * y->data[i] + 0.1f;
    if (otg_sw_directions(&r, OTG_DIR_GAUSSIAN, d, L, th->data) != OTG_OK) return 1;
    const char *names[4] = {"mc", "lcv", "ucv", "ebsw"};
    otg_sw_result res;
    for (int rep = -1; rep < reps; rep++) /* rep -1: warm-up (workspace growth) */
        for (int grad = 0; grad < 2; grad++)
            for (int k = 0; k < 4; k++) {
                otg_sw_estimator_opts e = otg_sw_estimator_opts_default();
                e.kind = (otg_sw_estimator)k;
                double t0 = now_s();
                otg_status st = k == 0 ? otg_sw(ws, x, NULL, y, NULL, th, NULL, &res,
                                                grad ? g->data : NULL, NULL)
                                       : otg_sw_estimate(ws, x, NULL, y, NULL, th, NULL, &e, &res,
                                                         NULL, grad ? g->data : NULL, NULL);
                if (st != OTG_OK) return 1;
                if (rep >= 0) t[(grad * 4 + k) * reps + rep] = now_s() - t0;
            }
    printf("n=%lld m=%lld d=%lld L=%lld reps=%d threads=%d (medians, interleaved calls)\n",
           (long long)n, (long long)n, (long long)d, (long long)L, reps, otg_threads_get());
    double med[8];
    for (int j = 0; j < 8; j++) {
        med[j] = median(t + j * reps, reps);
    }
    for (int grad = 0; grad < 2; grad++)
        for (int k = 0; k < 4; k++)
            printf("%-5s %-14s %8.2f ms  ratio to mc %.3f\n", names[k],
                   grad ? "value+gradient" : "value", 1e3 * med[grad * 4 + k],
                   med[grad * 4 + k] / med[grad * 4]);
    printf("ratio_lcv_grad=%.3f ratio_ucv_grad=%.3f ratio_ebsw_grad=%.3f ratio_lcv=%.3f "
           "ratio_ucv=%.3f ratio_ebsw=%.3f\n",
           med[5] / med[4], med[6] / med[4], med[7] / med[4], med[1] / med[0], med[2] / med[0],
           med[3] / med[0]);
    otg_tensor_free(x), otg_tensor_free(y), otg_tensor_free(th), otg_tensor_free(g);
    otg_sw_workspace_free(ws);
    free(t);
    return 0;
}
