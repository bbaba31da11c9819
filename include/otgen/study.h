/* otgen study: the statistics of a convergence study over repeats (per-row mean and standard
 * error, non-finite rows skipped), the 1/k-weighted log-log slope, and the CSV of one or several
 * series, written atomically; the game study loop; and the ad-study (relu'(0) = 0 vs 1 training
 * pairs, float32 tape vs a float64 reference). Used by `otgen game` and `otgen ad-study`; a C
 * program running its own repeats uses the same calls. */
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
OTG_NODISCARD otg_status otg_series_stats_write_csv(const otg_series_stats *s,
                                                    const char *const *cols, const int64_t *steps,
                                                    const char *path, int overwrite);
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
    /* checkpoints (optional): on_checkpoint gets the study's whole state as JSON text (borrowed
     * for the call) after step k of a repeat when k % checkpoint_every == 0 (k < steps) or when
     * should_stop asks (the study then returns OTG_CONTINUE), and once at the end; a failure
     * stops the study with its status. resume (a text on_checkpoint gave, or NULL) continues
     * from that state: the study ends bit-identical to an uninterrupted one. */
    int64_t checkpoint_every;
    otg_status (*on_checkpoint)(void *user, const char *state_json);
    int (*should_stop)(void *user);
    const char *resume;
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
 * OTG_EFORMAT on a resume state that does not fit (another study, a malformed text), OTG_CONTINUE
 * after a stop asked by o->should_stop, or the oracle's status. */
OTG_NODISCARD otg_status otg_game_study_run(otg_game *g, const otg_minimax_type *t,
                                            const otg_minimax_params *mp,
                                            const otg_game_study_opts *o, otg_game_study *out);
void otg_game_study_free(otg_game_study *s);

/* The checkpoint file of several studies run one after the other (otgen game: one per method or
 * swept value; docs/games.md): the JSON text {"format": "otgen-game-checkpoint", "schema": 1,
 * "otgen": version, "options_hash": FNV-1a 64 of key, "series": [states[0], ..., states[n-1]]}
 * and a newline, each state a text on_checkpoint gave (null for NULL: a study not begun).
 * key (required): the run's identity as text (its options); a load with another key is refused.
 * Save: written atomically, replacing path; OTG_EINVAL on bad arguments, OTG_ENOMEM, OTG_EIO. */
OTG_NODISCARD otg_status otg_game_checkpoint_save(const char *path, const char *key,
                                                  const char *const *states, int n);
/* Load: states[0..max) = the file's states (each allocated, the caller frees; NULL for null or
 * absent), *n = the count in the file (<= max); on failure every states[i] is NULL, *n = 0.
 * otg_file_read's status (OTG_EIO: cannot read); OTG_EFORMAT "... is not a checkpoint of this
 * run (malformed)" (not JSON, another format, more than max states); OTG_EINVAL "... belongs to
 * another run" (another key); OTG_ENOMEM. */
OTG_NODISCARD otg_status otg_game_checkpoint_load(const char *path, const char *key, int max,
                                                  char **states, int *n);

/* ---- the ad-study: does relu'(0) change a float32 training run? ----------------------------- */

#define OTG_AD_STUDY_MAX_SWEEP 16 /* widths and depths per sweep */
#define OTG_AD_STUDY_MAX_DEPTH 8  /* hidden layers */
#define OTG_AD_STUDY_MAX_WIDTH 4096

/* What the study trains; a plain value (copy it). Every field has a default
 * (otg_ad_study_config_default): moons from gaussian latents, widths 16..256, depths 1..4,
 * 4 seeds from 0, 300 steps, batch 128, 32 directions, lr 0.005, reference 16 x 2, val_n 512. */
typedef struct {
    char data[64];   /* 2-D target law (otg_source_open name): "moons" */
    char source[64]; /* 2-D latent law sampled afresh: "gaussian", "uniform", "grid", ... */
    int64_t widths[OTG_AD_STUDY_MAX_SWEEP]; /* hidden widths swept [n_widths], 1..4096 */
    int n_widths;
    int64_t depths[OTG_AD_STUDY_MAX_SWEEP]; /* hidden layers swept [n_depths], 1..8 */
    int n_depths;
    int64_t seeds;       /* runs per width and depth, seeds seed, seed + 1, ... (>= 1) */
    int64_t seed;        /* first seed (>= 0) */
    int64_t steps;       /* SGD steps per run (>= 1) */
    int64_t batch;       /* generated and target points per step (>= 2) */
    int64_t projections; /* SW directions per step, fresh each step (>= 1) */
    int64_t ref_width;   /* float64 reference model: hidden width (1..4096) */
    int64_t ref_depth;   /* float64 reference model: hidden layers (1..8) */
    int64_t val_n;       /* validation points, rounded up to a multiple of batch (>= 2) */
    double lr;           /* fixed SGD step (> 0) */
} otg_ad_study_config;

otg_ad_study_config otg_ad_study_config_default(void);

/* One run pair (relu'(0) = 0 and relu'(0) = 1 from the same seed on the same batches). */
typedef struct {
    const char *path; /* "f32" (the sweep), "f32-ref" (the reference model on the tape) or "f64"
                         (the reference model on the float64 path); static strings */
    int64_t width, depth, seed, steps;
    int64_t first_diff;    /* 1-based step whose update first made the parameters differ; 0 none */
    int64_t diverged;      /* 1-based step of the first non-finite loss (the pair stops); 0 none */
    int64_t kinks;         /* ReLU inputs exactly 0 in the s = 0 run (over the run) */
    int64_t kinks_to_diff; /* the same, up to and including first_diff */
    int64_t ties;          /* SW sort ties of the s = 0 run (0 on the f64 path) */
    double loss0, loss1;   /* last training losses, s = 0 and s = 1 */
    double val0, val1;     /* final validation SW_2 (f64: parameters rounded to float32) */
    double drift;          /* f64 rows: |u32 - u64| / |u64| after the last step (0 otherwise) */
    double grad_rel;       /* f64 rows: |g32 - g64| / |g64| at step 1 (0 otherwise) */
} otg_ad_study_row;

/* The sweep's runs of one width and depth. */
typedef struct {
    int64_t width, depth, runs, affected, diverged;
    double fraction;           /* affected / runs */
    double kinks_per_run;      /* mean kink hits per run */
    int64_t median_first_diff; /* of the affected runs (upper median); 0 when none */
    double dval;               /* mean |val0 - val1| over the runs that did not diverge; NaN none */
} otg_ad_study_cell;

/* Totals: `runs`, `affected`, `kinks` over the sweep's float32 runs; f64_* over the reference
 * model's float64 runs, with the worst grad_rel and drift. */
typedef struct {
    int64_t runs, affected, kinks, f64_runs, f64_affected, f64_kinks;
    double f64_grad_rel, f32_drift;
} otg_ad_study_totals;

/* Optional callbacks (any may be NULL), called in this order: on_row for each sweep run (rows
 * "f32", width by width within depth by depth, seed by seed), on_cell after each width and
 * depth, then per seed of the reference model on_row for its "f32-ref" row and its "f64" row.
 * The pointers are valid during the call only. */
typedef struct {
    void (*on_row)(void *user, const otg_ad_study_row *row);
    void (*on_cell)(void *user, const otg_ad_study_cell *cell);
    void *user;
} otg_ad_study_hooks;

typedef struct otg_ad_study otg_ad_study;

/* Checks the config and opens its laws: data must be a 2-D non-image data law, source a 2-D
 * law sampled afresh; draws the fixed validation set (n latents and target points, 128
 * directions, from streams (seed, 10..12)). *out owned by the caller (otg_ad_study_free), NULL
 * on error. OTG_EINVAL ("ad-study: <field>: ...", NULL c or out), OTG_ENOMEM, or the data module's
 * status. */
OTG_NODISCARD otg_status otg_ad_study_new(const otg_ad_study_config *c, otg_ad_study **out);
void otg_ad_study_free(otg_ad_study *s);

/* Runs the study: for every depth, width and seed it trains the MLP generator 2 -> width^depth
 * -> 2 (ReLU, otg_mlp_build, init stream (seed, 0)) twice on the float32 tape, relu'(0) = 0 and
 * 1, by plain SGD u -= lr g on SW_2^2 with the same batches (latents, target points, directions
 * from streams (seed, 1..3)), comparing the parameters bit for bit after every step; then, per
 * seed, the reference model's pair on the tape and on the float64 path (ad_study_ref.c, fed the
 * same float32 draws). Never prints. Fills *totals (may be NULL). OTG_ENOMEM, or the status of a
 * failed forward/backward pass, sampling or SW call (error set). */
OTG_NODISCARD otg_status otg_ad_study_run(otg_ad_study *s, const otg_ad_study_hooks *hooks,
                                          otg_ad_study_totals *totals);

#ifdef __cplusplus
}
#endif
#endif
