/* otgen core: status codes and last-error text, counter-based RNG streams, float32 tensors and
 * views, GEMM through CBLAS, and thread settings. Everything else in libotgen is built on this.
 * Conventions: element counts and dimensions are int64_t, storage is float, accumulators double. */
#ifndef OTGEN_CORE_H
#define OTGEN_CORE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Marks a function whose status must be checked (GCC/Clang warn when it is dropped). */
#if defined(__GNUC__) || defined(__clang__)
#define OTG_NODISCARD __attribute__((warn_unused_result))
#else
#define OTG_NODISCARD
#endif

/* ---- status and errors ---------------------------------------------------------------------- */

typedef enum {
    OTG_OK = 0,
    OTG_ENOMEM,     /* allocation failed */
    OTG_EINVAL,     /* invalid argument (NULL, zero size, out of range) */
    OTG_ESHAPE,     /* shapes do not match */
    OTG_EIO,        /* a read or write failed */
    OTG_EFORMAT,    /* malformed file or header */
    OTG_ENONFINITE, /* NaN or Inf where a finite value is required */
    OTG_CONTINUE,   /* an iteration is not finished (convergence tests) */
    OTG_ENOCONV     /* an iterative solve failed to converge (or its linear system is singular) */
} otg_status;

/* The detail of the last error set on this thread ("dense: input dim 784 != 512"); "" if none. */
const char *otg_last_error(void);
/* Short name of a status ("OTG_ESHAPE"). */
const char *otg_status_name(otg_status s);
/* Clears this thread's last-error text. */
void otg_clear_error(void);
/* Sets this thread's last-error text (printf-style) and returns s: for code built on the public
 * API that reports errors the library's way (src/train/run.c). The arguments may include
 * otg_last_error() itself, to prefix the current message. */
otg_status otg_set_error(otg_status s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The library version string ("0.1.0"). */
const char *otg_version(void);

/* ---- threads -------------------------------------------------------------------------------- */

/* Sets the number of threads for otgen's OpenMP loops and OpenBLAS (one shared OpenMP pool).
 * n <= 0 selects the number of cores. Returns OTG_EINVAL for n > 1024. */
otg_status otg_threads_set(int n);
/* The current thread count. */
int otg_threads_get(void);

/* ---- counter-based random streams (Philox4x32-10, Random123) --------------------------------- */

/* A stream keyed by (seed, stream id); `counter` is the index of the next 128-bit Philox block.
 * Draw k of a stream depends only on (seed, stream, counter) and never on the thread count.
 * Plain value type: copy it to fork, store counter to checkpoint. */
typedef struct {
    uint64_t seed;
    uint64_t stream;
    uint64_t counter; /* next block index */
    uint32_t buf[4];  /* outputs of the last block, consumed by single draws */
    int buf_left;     /* unused words left in buf */
} otg_rng;

/* A stream at counter 0. Different (seed, stream) pairs give independent sequences. */
otg_rng otg_rng_make(uint64_t seed, uint64_t stream);
/* One raw 32-bit draw. */
uint32_t otg_rng_u32(otg_rng *r);
/* One uniform draw in the open interval (0, 1) with 32 random bits. */
double otg_rng_uniform(otg_rng *r);
/* One standard normal draw (Box-Muller on two uniforms). */
double otg_rng_normal(otg_rng *r);
/* Fills out[n] with uniforms in (0, 1) / standard normals. Element i comes from Philox block
 * counter + i/4 whatever the thread count (normals: two single-precision Box-Muller pairs per
 * block); the stream then advances past the blocks used. Any buffered single-draw words are
 * discarded first. */
void otg_rng_fill_uniform(otg_rng *r, int64_t n, float *out);
void otg_rng_fill_normal(otg_rng *r, int64_t n, float *out);
/* Fills the k columns of out[d, k] (row-major, one direction per column, POT's orientation) with
 * independent uniform draws on the unit sphere S^{d-1}: column = g/|g|, g ~ N(0, I_d). */
otg_status otg_rng_fill_sphere(otg_rng *r, int64_t d, int64_t k, float *out);

/* ---- tensors -------------------------------------------------------------------------------- */

#define OTG_MAX_DIMS 4

/* A float32 row-major array. `owns` says whether otg_tensor_free releases data (views never own).
 */
typedef struct {
    float *data;
    int64_t shape[OTG_MAX_DIMS];
    int ndim;
    int owns;
} otg_tensor;

/* A new zero-filled tensor of shape[ndim]; NULL with the reason in otg_last_error() on a bad
 * shape (ndim outside 1..4, a dimension <= 0, overflow) or out of memory. Free with
 * otg_tensor_free. */
otg_tensor *otg_tensor_new(int ndim, const int64_t *shape);
/* Releases t and, if it owns it, its data. Accepts NULL. */
void otg_tensor_free(otg_tensor *t);
/* A non-owning view of data with the given shape (by value; nothing to free).
 * On a bad shape the view has data == NULL and ndim == 0. */
otg_tensor otg_tensor_view(float *data, int ndim, const int64_t *shape);
/* Rows [row0, row0 + nrows) of a tensor, viewed along its first dimension. */
otg_status otg_tensor_view_rows(const otg_tensor *t, int64_t row0, int64_t nrows, otg_tensor *out);
/* Gives t (owning or a view) another shape of the same number of elements, in place (a 1-D array
 * of n as [n, 1], say); the data is untouched. OTG_ESHAPE when the counts differ, OTG_EINVAL on a
 * bad shape; t is unchanged on failure. */
otg_status otg_tensor_reshape(otg_tensor *t, int ndim, const int64_t *shape);
/* Number of elements (product of the shape). */
int64_t otg_tensor_numel(const otg_tensor *t);
/* Sets every element to v. */
void otg_tensor_fill(otg_tensor *t, float v);
/* Copies src into dst (same number of elements). */
otg_status otg_tensor_copy(otg_tensor *dst, const otg_tensor *src);
/* OTG_ENONFINITE (naming `what`) if any element is NaN or Inf. */
otg_status otg_tensor_check_finite(const otg_tensor *t, const char *what);

/* ---- dense algebra through CBLAS ------------------------------------------------------------ */

/* C = alpha * op(A) op(B) + beta * C for 2-D tensors, op = transpose when trans_* is nonzero.
 * A [m, k] (or [k, m]), B [k, n] (or [n, k]), C [m, n]. OTG_ESHAPE on mismatched shapes. */
otg_status otg_tensor_gemm(int trans_a, int trans_b, float alpha, const otg_tensor *a,
                           const otg_tensor *b, float beta, otg_tensor *c);
/* The raw kernel on row-major arrays: C[m, n] = alpha op(A) op(B) + beta C, lda/ldb/ldc the row
 * strides. No checks: callers validate shapes when they build. Thread-count invariant: the bits
 * of one single-threaded cblas_sgemm for any thread count (large products run as row blocks fixed
 * by m, n, k, one single-threaded SGEMM each, in an OpenMP loop; inside a parallel region, one
 * call). Both gemm entry points go through it. */
void otg_gemm(int trans_a, int trans_b, int64_t m, int64_t n, int64_t k, float alpha,
              const float *a, int64_t lda, const float *b, int64_t ldb, float beta, float *c,
              int64_t ldc);

/* ---- named parameters ----------------------------------------------------------------------
 * A table of otg_param_def describes the fields of a by-value params struct (a training config,
 * a game's knobs): one table gives the command-line flags, the JSON keys of config files, the
 * range checks and the --help text with the current defaults. Strings are fixed-size char arrays
 * inside the struct, so a params struct is a plain value (copy it; nothing to free). */

typedef enum { OTG_PARAM_INT, OTG_PARAM_REAL, OTG_PARAM_STR, OTG_PARAM_FLAG } otg_param_kind;

typedef struct {
    const char *name; /* flag name without dashes, and JSON key ("val-every") */
    otg_param_kind
        kind;         /* field type: int64_t (INT), double (REAL), char[size] (STR), int (FLAG) */
    size_t offset;    /* of the field in the struct */
    size_t size;      /* STR: capacity of the char array, NUL included; 0 otherwise */
    const char *meta; /* "N", "A", "NAME" in help texts; NULL for FLAG */
    const char *help; /* one line; the default comes from the struct, not from here */
    double lo, hi;    /* inclusive range of INT and REAL values */
    int in_config;    /* 1: part of the config JSON; 0: run-time only (threads, output paths) */
} otg_param_def;

/* Offset and capacity of a char-array field, for STR rows: {"data", OTG_PARAM_STR,
 * OTG_PARAM_STR_FIELD(my_config, data), "NAME", "target law", 0, 0, 1}. */
#define OTG_PARAM_STR_FIELD(type, field) offsetof(type, field), sizeof(((type *)0)->field)

/* Index of the row called name, -1 if none. */
int otg_params_find(const otg_param_def *defs, int n, const char *name);
/* Sets the field of row d in obj from text: the whole string must parse (INT: decimal integer,
 * REAL: finite number, both within [lo, hi]; STR: shorter than size; FLAG: 1/0/true/false).
 * OTG_EINVAL with "--name: 'text' is not an integer" style messages; obj unchanged on error. */
otg_status otg_param_set_text(const otg_param_def *d, void *obj, const char *text);
/* The current value of row d as text ("128", "0.001", "moons", "true"), into buf[cap]. */
void otg_param_format(const otg_param_def *d, const void *obj, char *buf, size_t cap);
/* Applies the members of a JSON object (text) to obj: every key must name an in_config row
 * (except those listed in `ignore`, a NULL-terminated list, or NULL) and have that row's type:
 * a string (or null, which sets "") for STR, a number in range (integral for INT) for INT/REAL,
 * true/false for FLAG. Rows with skip[i] set are left alone (flags given on the command line
 * win); skip may be NULL. `what` names the source in messages ("run.json: \"lr\" must be a
 * number"). OTG_EFORMAT on malformed JSON (with the byte offset), OTG_EINVAL on an unknown key, a
 * wrong type or an out-of-range value; on error obj may be partly updated. */
otg_status otg_params_apply_json(const otg_param_def *defs, int n, void *obj, const char *json,
                                 const char *what, const int *skip, const char *const *ignore);
/* Parses a comma-separated list of integers in [lo, hi] ("512,512") into out[max] and its length
 * into *n. OTG_EINVAL, with the message starting "what: ", on an empty list, a malformed entry, a
 * value outside [lo, hi] or more than max entries. */
OTG_NODISCARD otg_status otg_parse_int_list(const char *s, const char *what, int64_t lo, int64_t hi,
                                            int64_t *out, int max, int *n);
/* The in_config rows of obj as a JSON object, pretty-printed in table order (an empty STR is
 * written as null). Caller frees with free(); NULL on out of memory. */
char *otg_params_to_json(const otg_param_def *defs, int n, const void *obj);

#ifdef __cplusplus
}
#endif
#endif
