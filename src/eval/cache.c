/* The classifier cache: one NPY of parameters per recipe, training set and BLAS kernel, named by
 * a 64-bit FNV-1a hash of them (so a file of another recipe, another version of the training
 * code, other data or another BLAS kernel, whose GEMMs give other bits, is never used), under
 * $XDG_CACHE_HOME/otgen or ~/.cache/otgen. The write is atomic (otg_npy_write), so two processes
 * training at once leave one complete file. */
#define _POSIX_C_SOURCE 200809L
#include "eval/eval_internal.h"
#include "otgen/io.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Bump when the training code changes the bits of a recipe. */
#define CLASSIFIER_CODE_VERSION 1

uint64_t otg_classifier_key(const otg_classifier_recipe *r, const otg_tensor *x,
                            const uint8_t *labels) {
    char text[256];
    int len =
        snprintf(text, sizeof text,
                 "otgen-classifier v%d mlp relu h1=%lld h2=%lld epochs=%lld batch=%lld "
                 "lr=%.17g seed=%llu n=%lld d=%lld blas=%s",
                 CLASSIFIER_CODE_VERSION, (long long)r->hidden1, (long long)r->hidden2,
                 (long long)r->epochs, (long long)r->batch, r->lr, (unsigned long long)r->seed,
                 (long long)x->shape[0], (long long)x->shape[1], otgi_blas_kernel());
    uint64_t h = otgi_fnv1a(OTGI_FNV_BASIS, text, (size_t)len);
    h = otgi_fnv1a(h, x->data, (size_t)otg_tensor_numel(x) * sizeof(float));
    return otgi_fnv1a(h, labels, (size_t)x->shape[0]);
}

otg_status otg_classifier_cache_dir(char *path, size_t cap) {
    const char *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
    int len;
    if (xdg && xdg[0])
        len = snprintf(path, cap, "%s/otgen", xdg);
    else if (home && home[0])
        len = snprintf(path, cap, "%s/.cache/otgen", home);
    else
        return otgi_fail(OTG_EINVAL, "classifier cache: neither XDG_CACHE_HOME nor HOME is set");
    if (len < 0 || (size_t)len >= cap)
        return otgi_fail(OTG_EINVAL, "classifier cache: directory name too long");
    return OTG_OK;
}

otg_classifier *otg_classifier_cached(const char *cache_dir, const otg_classifier_recipe *r,
                                      const otg_tensor *x, const uint8_t *labels, int classes,
                                      int *trained) {
    char dir[3800], path[4096];
    if (trained) *trained = 0;
    if (!r || !x || !labels || x->ndim != 2)
        return otgi_fail(OTG_EINVAL, "classifier cache: NULL argument"), NULL;
    if (cache_dir && cache_dir[0]) {
        if (strlen(cache_dir) >= sizeof dir)
            return otgi_fail(OTG_EINVAL, "classifier cache: directory name too long"), NULL;
        strcpy(dir, cache_dir);
    } else if (otg_classifier_cache_dir(dir, sizeof dir) != OTG_OK) {
        return NULL;
    }
    snprintf(path, sizeof path, "%s/fd-classifier-%016llx.npy", dir,
             (unsigned long long)otg_classifier_key(r, x, labels));
    otg_classifier *c = otg_classifier_load(path, r, x->shape[1], classes);
    if (c) return c;
    if (!(c = otg_classifier_train(x, labels, classes, r))) return NULL;
    if (trained) *trained = 1;
    /* a cache that cannot be written costs a retraining next time, nothing else */
    otg_status ws = otg_mkdir_p(dir);
    if (ws == OTG_OK) ws = otg_classifier_save(c, path);
    (void)ws;
    return c;
}
