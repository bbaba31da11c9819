/* Private helpers shared by libotgen's source files: error setting, the invariant assert,
 * checked allocation. Never installed; public code includes only include/otgen/. */
#ifndef OTGEN_INTERNAL_H
#define OTGEN_INTERNAL_H

#include "otgen/core.h"

#include <stdio.h>
#include <stdlib.h>

/* Sets this thread's last-error text (printf-style) and returns s. */
otg_status otgi_fail(otg_status s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* FNV-1a 64 of data[len] continued from h (src/core/state.c). OTGI_FNV_BASIS is the standard
 * offset basis (the FD classifier cache); OTGI_KEY_HASH_BASIS, one digit short of it, is the one
 * the checkpoints' run hashes were first written with, kept so that older checkpoints resume. */
#define OTGI_FNV_BASIS 14695981039346656037ull
#define OTGI_KEY_HASH_BASIS 1469598103934665603ull
uint64_t otgi_fnv1a(uint64_t h, const void *data, size_t len);
/* The BLAS kernel's name (OpenBLAS's core name, or "unknown"): src/core/blas_kernel.c. */
const char *otgi_blas_kernel(void);

/* Reads an NPY file (float32 or float64, converted) into a new float32 tensor *out of its shape
 * (caller frees; NULL on error). require_finite: OTG_ENONFINITE on a NaN or Inf element. OTG_EIO
 * (cannot open), OTG_EFORMAT (bad magic, header, dtype, order, shape or size), OTG_ENOMEM.
 * src/core/npy_read.c: every module may use it (data reads its NPY sources through it and so
 * does not depend on io); io's otg_npy_read is the public face of the same format. */
otg_status otgi_npy_read(const char *path, int require_finite, otg_tensor **out);
otg_status otgi_npy_read_f64(const char *path, int require_finite, otg_tensor **out, double **f64);

/* Elementwise loops also built for AVX2 and picked at load time: ISO C compiles them without
 * contracting a * x + y into an FMA, and the avx2 target has no FMA, so both builds round every
 * operation alike (the same bits on every CPU). */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
#define OTGI_WIDE_SIMD __attribute__((target_clones("avx2", "default")))
#else
#define OTGI_WIDE_SIMD
#endif

/* Broken invariant: print file:line and abort, in release builds too. Keep out of inner loops. */
#define OTG_ASSERT(cond)                                                                           \
    do {                                                                                           \
        if (!(cond)) otgi_assert_fail(#cond, __FILE__, __LINE__);                                  \
    } while (0)
_Noreturn void otgi_assert_fail(const char *cond, const char *file, int line);

/* calloc of n * size bytes, NULL (with OTG_ENOMEM set) on overflow or failure. */
void *otgi_calloc(size_t n, size_t size);
/* When > 0, otg_param refuses (OTG_EFORMAT) to grow a graph beyond this many parameters on this
 * thread, before allocating: set by otg_trainer_load to the checkpoint's count, so a crafted
 * header cannot make it build (and allocate) a larger model. */
extern _Thread_local int64_t otgi_param_budget;
/* n * m with overflow detection: returns 0 and sets *out, or -1 on overflow / negative input. */
int otgi_mul_i64(int64_t n, int64_t m, int64_t *out);
/* A uniform integer in [0, range), range >= 1, unbiased: one or more 32-bit words of rng
 * (src/data/laws.c). */
/* In place: each of the n images [h, w] of x [n, h w] through the 5-point median of otg_median5
 * (ad/ops_filter.c), the same bits; OTG_ENOMEM if a plane of more than 4096 pixels finds no
 * scratch. */
otg_status otgi_median5_rows(float *x, int64_t n, int64_t h, int64_t w);
uint32_t otgi_data_draw_below(otg_rng *rng, uint32_t range);
/* perm [n] = a uniform permutation of 0..n-1 (Fisher-Yates, one uniform of rng per swap, the
 * index clamped to i; src/core/rng.c). */
void otgi_rng_permutation(otg_rng *rng, int64_t *perm, int64_t n);
/* pick [n]: its first k entries are k distinct indices of 0..n-1 drawn uniformly without
 * replacement, in draw order (the first k swaps of a Fisher-Yates shuffle from the bottom, one
 * uniform of rng each; src/core/rng.c). */
void otgi_rng_draw_distinct(otg_rng *rng, int64_t *pick, int64_t n, int64_t k);

/* Named parameters (core.h) through cJSON objects, for library modules that add members of their
 * own around a params table (a training config adds "version"). */
struct cJSON;
struct cJSON *otgi_params_to_cjson(const otg_param_def *defs, int n, const void *obj);
otg_status otgi_params_apply_cjson(const otg_param_def *defs, int n, void *obj,
                                   const struct cJSON *o, const char *what, const int *skip,
                                   const char *const *ignore);

#endif
