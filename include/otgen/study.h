/* otgen study: the statistics of a convergence study over repeats (per-row mean and standard
 * error, non-finite rows skipped), the 1/k-weighted log-log slope, and the CSV of one or several
 * series, written atomically. Used by `otgen game` and `otgen ad-study`; a C program running its
 * own repeats uses the same calls. */
#ifndef OTGEN_STUDY_H
#define OTGEN_STUDY_H

#include "otgen/core.h"
#include "otgen/games.h"
#include "otgen/minimax.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct otg_series_stats otg_series_stats;

/* rows x cols running sums (rows >= 1, cols in [1, 64]), all zero; NULL (error set) on bad sizes
 * or out of memory. Free with otg_series_stats_free (NULL-safe). */
otg_series_stats *otg_series_stats_new(int64_t rows, int cols);
void otg_series_stats_free(otg_series_stats *s);
int64_t otg_series_stats_rows(const otg_series_stats *s);
int otg_series_stats_cols(const otg_series_stats *s);
/* Adds one repeat's values v [cols] to row `row`; the whole row is skipped when any value is not
 * finite (a diverged repeat counts in no column). Out-of-range rows are ignored. */
void otg_series_stats_add(otg_series_stats *s, int64_t row, const double *v);
/* Repeats counted in row `row` (0 out of range). */
int64_t otg_series_stats_count(const otg_series_stats *s, int64_t row);
/* Mean (NaN with no repeat) and standard error sqrt(var / n) (NaN with fewer than 2; var the
 * unbiased sample variance, clamped at 0) of column col at row `row`. */
void otg_series_stats_get(const otg_series_stats *s, int col, int64_t row, double *mean,
                          double *se);

/* Least-squares slope of log y against log k over the entries with k >= k_min, k > 0 and y > 0
 * finite, each weighted by 1/k so that every decade counts alike. NaN with fewer than 3 usable
 * entries. k, y [n]. */
double otg_loglog_slope(const double *k, const double *y, int64_t n, double k_min);

/* How a CSV of series is laid out: header "step[,samples],<cols>,<cols>_se[,method]", one line
 * per row and series (series after series), values "%.10g", NaN se left empty. */
typedef struct {
    const char *const *cols;       /* column names [cols] */
    const int64_t *steps;          /* first column [rows] */
    const int64_t *const *samples; /* optional: a "samples" column per series [n][rows] */
    const char *const *labels;     /* optional: a trailing "method" column per series [n] */
    const unsigned char *blank;    /* optional [cols]: 1 leaves that column (mean, se) empty */
} otg_series_csv;

/* One series: columns cols [otg_series_stats_cols(s)], steps [rows]. The file is written
 * atomically (otg_write_file_atomic); an existing file is an error unless overwrite.
 * OTG_EINVAL, OTG_ENOMEM, OTG_EIO. */
OTG_NODISCARD otg_status otg_series_stats_write_csv(const otg_series_stats *s, const char *const *cols,
                                      const int64_t *steps, const char *path, int overwrite);
/* n >= 1 series of the same shape laid out by spec. */
OTG_NODISCARD otg_status otg_series_stats_write_csv_ex(const otg_series_stats *const *s, int n,
                                         const otg_series_csv *spec, const char *path,
                                         int overwrite);

/* ---- one method on one game, over repeats ------------------------------------------------- */

typedef struct {
    int64_t steps;  /* iterations per repeat, >= 1 */
    int64_t every;  /* a row every `every` steps, and the last, >= 1 */
    int64_t repeat; /* repeats, >= 1 */
    uint64_t seed;  /* repeat r: z_0 from stream (seed + r, 1), the oracle from (seed + r, 2) */
    double init;    /* scale of otg_game_initial_point, > 0 */
    /* optional: called after each step k (1-based) of repeat rep */
    void (*on_step)(void *user, int rep, int64_t k);
    /* optional: repeat rep stopped at step k, its iterate not finite (otg_last_error says why);
     * the repeat's later rows are not logged and the study goes on with the next repeat */
    void (*on_diverge)(void *user, int rep, int64_t k, uint64_t seed);
    void *user;
} otg_game_study_opts;

/* What a study logs: rows = steps / every + 1 (+ 1 when every does not divide steps). */
typedef struct {
    int64_t rows;
    int64_t *steps;          /* [rows] the step of each row: 0, every, 2 every, ..., steps */
    int64_t *samples;        /* [rows] target samples drawn by that step (every oracle call) */
    otg_series_stats *stats; /* [rows, 3 + n_metrics]: grad_sq = |G(z_k)|^2, dist = |z_k - z*|
                                (0 without a saddle), loss, then otg_game_metrics */
    double *path;            /* games with nx + ny = 2: the first repeat's z per row [rows, 2];
                                NULL otherwise */
    double *zlast;           /* the first repeat's last finite iterate [nx + ny] */
    int64_t diverged_at;     /* the first repeat's divergence step, -1 if none */
} otg_game_study;

/* Runs method t with parameters mp on g for o->repeat repeats: each repeat resets the method,
 * draws z_0 with otg_game_initial_point, then steps with otg_game_oracle, projecting after every
 * step, and logs a row of statistics every o->every steps. Fills *out (free with
 * otg_game_study_free, also on error). OTG_EINVAL on bad options or method parameters, OTG_ENOMEM,
 * or the oracle's status. */
OTG_NODISCARD otg_status otg_game_study_run(otg_game *g, const otg_minimax_type *t, const otg_minimax_params *mp,
                              const otg_game_study_opts *o, otg_game_study *out);
void otg_game_study_free(otg_game_study *s);

#ifdef __cplusplus
}
#endif
#endif
