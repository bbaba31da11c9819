/* Private cross-file interface of src/data (never installed): the laws (laws.c), the file readers
 * (files.c, fashion_mnist.c) and the unbiased index draw, used by the sources (source.c).
 * Dependency rule: data depends on core only (it reads NPY through core's otgi_npy_read, not
 * through io). */
#ifndef OTGEN_DATA_INTERNAL_H
#define OTGEN_DATA_INTERNAL_H

#include "internal.h"
#include "otgen/data.h"

/* laws.c: the index of the law called name, or -1; its name; its options with the defaults
 * resolved (OTG_EINVAL on bad ones); n points out[n, dim] drawn from rng. */
int otgi_data_law_find(const char *name);
const char *otgi_data_law_name(int law);
otg_status otgi_data_law_resolve(int law, otg_source_opts *o);
otg_status otgi_data_law_sample(int law, const otg_source_opts *o, otg_rng *rng, int64_t n,
                                float *out);
/* otgi_data_draw_below (laws.c) is declared in internal.h: the ot module's bootstrap uses it. */

/* files.c: an NPY file as [n, d] (finite values; *img_h, *img_w > 0 for [n, h, w] and
 * [n, 1, h, w] images), a CSV file as [n, d]; *out is the caller's. */
otg_status otgi_data_read_npy(const char *path, otg_tensor **out, int64_t *img_h, int64_t *img_w);
otg_status otgi_data_read_csv(const char *path, otg_tensor **out);

/* fashion_mnist.c: a split ("train" / "test") of the gzipped IDX files under root, restricted to
 * classes[n_classes] (all when classes is NULL): images [n, 784] in [0, 1] and labels [n]. */
otg_status otgi_data_read_fashion_mnist(const char *root, const char *split, const int *classes,
                                        int n_classes, otg_tensor **images, uint8_t **labels);

#endif
