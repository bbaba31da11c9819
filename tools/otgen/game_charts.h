/* What `otgen game` (cmd_game.c) hands its chart writers (game_charts.c): the series of a run,
 * each a method with one value of the swept option, and the run's shared settings. */
#ifndef OTGEN_GAME_CHARTS_H
#define OTGEN_GAME_CHARTS_H

#include "otgen/games.h"
#include "otgen/minimax.h"
#include "otgen/study.h"

#define GAME_MAX_SERIES 8

typedef struct {
    const otg_minimax_type *type;
    char label[64];     /* "anchored" or "anchored p=0.6": legend, file and stdout name */
    void *opts;         /* this series' options with the swept value applied (owned) */
    int p_given;        /* --p given or swept */
    otg_game *g;        /* this series' game (owned) */
    otg_game_study res; /* its statistics over the repeats (owned) */
} game_series;

typedef struct {
    const char *out, *game;
    int force;
    int64_t steps, repeat, seed, rows;
    const int64_t *step_at; /* [rows] */
    double noise, init;
    char knobs[160]; /* " gan-loss=standard batch=128": the knobs for chart titles */
} game_run;

/* 1 when g's convergence is read off |z_k - z*| (its field jumps at a known saddle), not |G|^2. */
int game_rate_on_dist(otg_game *g);

/* convergence.png, trajectory.png (2-D games), one chart per metric with a label (against the
 * samples drawn, or against k) and the samples pictures (games with samples). 0 or exit 1. */
int game_charts_write(const game_run *r, game_series *s, int n);

#endif
