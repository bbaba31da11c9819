/* otgen plot: pictures people look at, written as PNG. Pixel grids of images through libpng;
 * charts with axes, ticks, labels, legends and log scales through PLplot's cairo driver. Every
 * writer writes a temporary file and renames it (a reader never sees half a picture) and refuses
 * to replace an existing file unless overwrite is set. Not thread-safe (PLplot has global state).
 */
#ifndef OTGEN_PLOT_H
#define OTGEN_PLOT_H

#include "otgen/core.h"

#ifdef __cplusplus
extern "C" {
#endif

/* A grid of n grayscale images [n, h * w] with values in [0, 1] (clamped; NaN drawn black), `cols`
 * per row (at most n), 1-pixel gray separators, each image scaled up by an integer `zoom` >= 1. */
OTG_NODISCARD otg_status otg_png_write_grid(const char *path, const float *images, int64_t n,
                                            int64_t h, int64_t w, int64_t cols, int zoom,
                                            int overwrite);

/* A 2-D scatter chart: points a [na, 2] (e.g. generated, drawn on top in red) over points b
 * [nb, 2] (e.g. target: from 200 points on drawn as a density, a 3 x 3-smoothed 2-D histogram of
 * square bins, 72 across, in eight greys; fewer as light-blue points; at most 64 distinct points
 * as rings), with a title and legend labels. */
OTG_NODISCARD otg_status otg_plot_scatter(const char *path, const float *a, int64_t na,
                                          const char *label_a, const float *b, int64_t nb,
                                          const char *label_b, const char *title, int overwrite);

/* Trajectories: n_paths points followed over n_snap snapshots, xy [n_snap, n_paths, 2]
 * (snapshot-major), each drawn as a thin line in its own colour with a ring at its start and a dot
 * at its end, over the points truth [nt, 2] (e.g. a teacher's neurons) drawn as black crosses;
 * equal scales, a legend row and a title. */
OTG_NODISCARD otg_status otg_plot_paths(const char *path, const float *xy, int64_t n_snap,
                                        int64_t n_paths, const float *truth, int64_t nt,
                                        const char *label_truth, const char *title, int overwrite);

/* One line of a line chart: n points (x[i], y[i]); non-finite and, on a log axis, non-positive
 * points are skipped. */
typedef struct {
    const char *label;
    const double *x, *y;
    int64_t n;
} otg_series;

/* A line chart of several series with a legend (right of the plot; labels cut to 24 characters);
 * logx/logy select log10 axes. OTG_EINVAL, and no file, when no series has a valid point. */
OTG_NODISCARD otg_status otg_plot_lines(const char *path, const otg_series *series, int n_series,
                                        const char *title, const char *xlabel, const char *ylabel,
                                        int logx, int logy, int overwrite);
/* The same line chart on a linear y axis fixed to [ylo, yhi] (e.g. [0, 1] for a fraction), so
 * that constant series are not zoomed into. OTG_EINVAL unless ylo < yhi are finite, and as
 * otg_plot_lines. */
OTG_NODISCARD otg_status otg_plot_lines_ylim(const char *path, const otg_series *series,
                                             int n_series, const char *title, const char *xlabel,
                                             const char *ylabel, int logx, double ylo, double yhi,
                                             int overwrite);

#ifdef __cplusplus
}
#endif
#endif
