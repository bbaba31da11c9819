/* otgen eval --metric fd: the Frechet distance of the cached classifier's features between the
 * samples and the test split, with class coverage, the confident fraction (the samples' and the
 * test split's own) and the memorisation ratio, on one line of stdout; the classifier's test
 * accuracy and where it came from on stderr. */
#include "eval_fd.h"

#include "cli.h"
#include "otgen/otgen.h"

#include <stdio.h>
#include <stdlib.h>

#define MEMO_ROWS 1000 /* samples (and test images) searched for their nearest training image */

int eval_fd_report(const otg_tensor *x, const char *data, const char *cache, const char *source) {
    fprintf(stderr, "otgen eval: loading the feature classifier (trained once, then cached)\n");
    otg_fd_judge *j = otg_fd_judge_open(data, NULL, cache, NULL);
    if (!j) cli_usage_error("eval", "--metric fd: %s", otg_last_error());
    fprintf(stderr, "otgen eval: classifier %s, test accuracy %.4f\n",
            otg_fd_judge_trained(j) ? "trained and cached" : "from the cache",
            otg_fd_judge_accuracy(j));
    otg_fd_report r, real;
    otg_status st = otg_fd_judge_evaluate(j, x, MEMO_ROWS, &r);
    /* the test split judged against itself: its confident fraction is the target of samples */
    if (st == OTG_OK) st = otg_fd_judge_evaluate(j, otg_fd_judge_test(j), 0, &real);
    int rc = st == OTG_OK                           ? 0
             : st == OTG_EINVAL || st == OTG_ESHAPE ? OTG_EXIT_USAGE
                                                    : OTG_EXIT_FAIL;
    if (rc)
        fprintf(stderr, "otgen eval: %s\n", otg_last_error());
    else
        printf("fd=%.6g coverage=%d confident=%.4f data_confident=%.4f memorisation=%.4f "
               "classifier_accuracy=%.4f n=%lld data=%s split=test source=%s\n",
               r.fd, r.coverage, r.confident, real.confident, r.memorisation,
               otg_fd_judge_accuracy(j), (long long)x->shape[0], data, source);
    otg_fd_judge_free(j);
    return rc;
}
