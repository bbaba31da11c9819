/* The FD judge of a labelled data set with two splits: the train split trains (or the cache
 * provides) the classifier, the test split measures its accuracy and is the reference of every
 * evaluation, the train split is searched for memorised images. */
#include "eval/eval_internal.h"
#include "otgen/data.h"

#include <stdlib.h>

struct otg_fd_judge {
    otg_source *train, *test;
    otg_classifier *c;
    double accuracy;
    int trained;
    double *ref_mu, *ref_cov; /* the test split's features [f], [f, f], described once */
};

void otg_fd_judge_free(otg_fd_judge *j) {
    if (!j) return;
    otg_classifier_free(j->c);
    free(j->ref_mu), free(j->ref_cov);
    otg_source_free(j->train), otg_source_free(j->test);
    free(j);
}

otg_fd_judge *otg_fd_judge_open(const char *data, const char *root, const char *cache_dir,
                                const otg_classifier_recipe *r) {
    otg_classifier_recipe def = otg_classifier_recipe_default();
    otg_source_opts so = otg_source_opts_default();
    if (root) so.root = root;
    otg_fd_judge *j = calloc(1, sizeof *j);
    if (!j) return otgi_fail(OTG_ENOMEM, "fd judge: out of memory"), NULL;
    if (!(j->train = otg_source_open(data ? data : "fashion-mnist", &so))) goto fail;
    if (!otg_source_has_test_split(j->train) || !otg_source_labels(j->train)) {
        otgi_fail(OTG_EINVAL, "fd: %s has no labelled test split (fashion-mnist has)",
                  otg_source_name(j->train));
        goto fail;
    }
    so.split = "test";
    if (!(j->test = otg_source_open(data ? data : "fashion-mnist", &so))) goto fail;
    j->c = otg_classifier_cached(cache_dir, r ? r : &def, otg_source_data(j->train),
                                 otg_source_labels(j->train), 10, &j->trained);
    if (!j->c) goto fail;
    if (otg_classifier_accuracy(j->c, otg_source_data(j->test), otg_source_labels(j->test),
                                &j->accuracy) != OTG_OK)
        goto fail;
    return j;
fail:
    otg_fd_judge_free(j);
    return NULL;
}

double otg_fd_judge_accuracy(const otg_fd_judge *j) {
    return j ? j->accuracy : 0.0;
}
int otg_fd_judge_trained(const otg_fd_judge *j) {
    return j ? j->trained : 0;
}
otg_classifier *otg_fd_judge_classifier(otg_fd_judge *j) {
    return j ? j->c : NULL;
}
const otg_tensor *otg_fd_judge_test(const otg_fd_judge *j) {
    return j ? otg_source_data(j->test) : NULL;
}
const otg_tensor *otg_fd_judge_train(const otg_fd_judge *j) {
    return j ? otg_source_data(j->train) : NULL;
}

otg_status otg_fd_judge_evaluate(otg_fd_judge *j, const otg_tensor *x, int64_t memo_n,
                                 otg_fd_report *report) {
    if (!j) return otgi_fail(OTG_EINVAL, "fd judge: NULL");
    const otg_tensor *test = otg_source_data(j->test);
    if (!j->ref_mu) { /* the reference is the same at every evaluation: describe it once */
        const int64_t f = otg_classifier_features(j->c);
        double *mu = malloc((size_t)f * sizeof *mu), *cov = malloc((size_t)(f * f) * sizeof *cov);
        otg_status st = mu && cov ? otgi_fd_reference(j->c, test, mu, cov)
                                  : otgi_fail(OTG_ENOMEM, "fd judge: out of memory");
        if (st != OTG_OK) {
            free(mu), free(cov);
            return st;
        }
        j->ref_mu = mu, j->ref_cov = cov;
    }
    return otgi_fd_evaluate_against(j->c, x, test, j->ref_mu, j->ref_cov, otg_source_data(j->train),
                                    memo_n, report);
}
