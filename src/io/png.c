/* PNG grid writer: n grayscale images [n, h * w] tiled `cols` per row, each scaled up by pixel
 * replication, separated by 1-pixel gray lines, written as an 8-bit grayscale PNG with libpng.
 * The file appears atomically (io_internal.h: temporary file, fsync, rename, directory fsync). */
#define _POSIX_C_SOURCE 200809L
#include "io_internal.h"
#include "otgen/plot.h"

#include <errno.h>
#include <math.h>
#include <png.h>
#include <setjmp.h>
#include <string.h>
#include <unistd.h>

#define GRID_SEPARATOR 160    /* gray level of separators and empty cells: visible on 0 and 1 */
#define GRID_MAX_SIDE 1000000 /* libpng's default limit on width and height */

/* Output geometry of the grid, in pixels. */
typedef struct {
    int64_t n, h, w, cols, rows, zoom;
    int64_t cell_h, cell_w; /* h * zoom, w * zoom */
    int64_t width, height;  /* cols * cell_w + cols - 1, rows * cell_h + rows - 1 */
} grid_geom;

static otg_status grid_geometry(const char *path, int64_t n, int64_t h, int64_t w, int64_t cols,
                                int zoom, grid_geom *g) {
    if (n < 1 || h < 1 || w < 1 || cols < 1 || zoom < 1)
        return otgi_fail(OTG_EINVAL,
                         "%s: png grid needs n, h, w, cols, zoom >= 1 (got n=%lld "
                         "h=%lld w=%lld cols=%lld zoom=%d)",
                         path, (long long)n, (long long)h, (long long)w, (long long)cols, zoom);
    g->n = n, g->h = h, g->w = w, g->zoom = zoom;
    g->cols = cols < n ? cols : n; /* no empty columns when there are fewer images than cols */
    g->rows = (n + g->cols - 1) / g->cols;
    if (h > GRID_MAX_SIDE || w > GRID_MAX_SIDE || zoom > GRID_MAX_SIDE) goto too_large;
    g->cell_h = h * zoom, g->cell_w = w * zoom;
    if (g->cell_h > GRID_MAX_SIDE || g->cell_w > GRID_MAX_SIDE) goto too_large;
    if (g->rows > GRID_MAX_SIDE || g->cols > GRID_MAX_SIDE) goto too_large;
    g->width = g->cols * (g->cell_w + 1) - 1;
    g->height = g->rows * (g->cell_h + 1) - 1;
    if (g->width > GRID_MAX_SIDE || g->height > GRID_MAX_SIDE) goto too_large;
    return OTG_OK;
too_large:
    return otgi_fail(OTG_EINVAL,
                     "%s: png grid of %lld images of %lldx%lld at zoom %d exceeds "
                     "%d pixels a side",
                     path, (long long)n, (long long)h, (long long)w, zoom, GRID_MAX_SIDE);
}

/* One pixel value: clamped to [0, 1], NaN drawn as 0 (black). */
static png_byte gray_of(float v) {
    if (!(v > 0.0f)) return 0; /* also NaN */
    if (v >= 1.0f) return 255;
    return (png_byte)lrintf(v * 255.0f);
}

/* Fills row[width] with output row y of the grid. images is [n, h * w]. */
static void grid_row(const grid_geom *g, const float *images, int64_t y, png_byte *row) {
    int64_t gr = y / (g->cell_h + 1), iy = y % (g->cell_h + 1);
    memset(row, GRID_SEPARATOR, (size_t)g->width);
    if (iy == g->cell_h) return; /* horizontal separator */
    const int64_t src_y = iy / g->zoom;
    for (int64_t gc = 0; gc < g->cols; gc++) {
        int64_t k = gr * g->cols + gc;
        if (k >= g->n) break; /* empty cells of the last row stay gray */
        const float *src = images + k * g->h * g->w + src_y * g->w;
        png_byte *dst = row + gc * (g->cell_w + 1);
        for (int64_t x = 0; x < g->w; x++)
            memset(dst + x * g->zoom, gray_of(src[x]), (size_t)g->zoom);
    }
}

/* libpng error callback: keep the message for otgi_fail and unwind to the setjmp in encode(). */
static void png_error_cb(png_structp png, png_const_charp msg) {
    char *buf = png_get_error_ptr(png);
    snprintf(buf, 200, "%s", msg);
    png_longjmp(png, 1);
}

static void png_warning_cb(png_structp png, png_const_charp msg) {
    (void)png, (void)msg;
}

/* Encodes the grid to f. err[200] receives libpng's message; it lives in the caller's frame and
 * no local read after the longjmp is modified after setjmp, so nothing needs to be volatile. */
static otg_status encode(FILE *f, const char *path, const grid_geom *g, const float *images,
                         png_byte *row, char *err) {
    png_structp png =
        png_create_write_struct(PNG_LIBPNG_VER_STRING, err, png_error_cb, png_warning_cb);
    png_infop info = png ? png_create_info_struct(png) : NULL;
    if (!info) {
        png_destroy_write_struct(&png, NULL);
        return otgi_fail(OTG_ENOMEM, "%s: out of memory creating the PNG writer", path);
    }
    if (setjmp(png_jmpbuf(png))) {
        png_destroy_write_struct(&png, &info);
        return otgi_fail(OTG_EIO, "%s: PNG write failed: %s", path, err);
    }
    png_init_io(png, f);
    png_set_IHDR(png, info, (png_uint_32)g->width, (png_uint_32)g->height, 8, PNG_COLOR_TYPE_GRAY,
                 PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    png_write_info(png, info);
    for (int64_t y = 0; y < g->height; y++) {
        grid_row(g, images, y, row);
        png_write_row(png, row);
    }
    png_write_end(png, NULL);
    png_destroy_write_struct(&png, &info);
    return OTG_OK;
}

/* Writes the grid to tmp; the caller commits or removes it (otgi_atomic_commit). */
static otg_status write_tmp(const char *tmp, const char *path, const grid_geom *g,
                            const float *images) {
    png_byte *row = otgi_calloc((size_t)g->width, 1);
    if (!row) return OTG_ENOMEM;
    FILE *f = fopen(tmp, "wb");
    if (!f) {
        free(row);
        return otgi_fail(OTG_EIO, "%s: cannot create: %s", tmp, strerror(errno));
    }
    char err[200] = "unknown libpng error";
    otg_status st = encode(f, path, g, images, row, err);
    if (st == OTG_OK && fflush(f) != 0)
        st = otgi_fail(OTG_EIO, "%s: write failed: %s", path, strerror(errno));
    if (fclose(f) != 0 && st == OTG_OK)
        st = otgi_fail(OTG_EIO, "%s: write failed: %s", path, strerror(errno));
    free(row);
    return st;
}

/* Details beyond plot.h: NaN is drawn black (+-Inf clamp to white/black); with cols > n the grid
 * has n columns; cells after the last image are separator gray. OTG_EINVAL for NULL arguments,
 * n, h, w, cols or zoom < 1, or more than 1,000,000 pixels a side; OTG_EIO if path exists and
 * overwrite is 0, or on a failed write (the temporary file is removed); OTG_ENOMEM. */
otg_status otg_png_write_grid(const char *path, const float *images, int64_t n, int64_t h,
                              int64_t w, int64_t cols, int zoom, int overwrite) {
    if (!path || !images) return otgi_fail(OTG_EINVAL, "png_write_grid: NULL argument");
    grid_geom g;
    otg_status st = grid_geometry(path, n, h, w, cols, zoom, &g);
    if (st != OTG_OK) return st;
    char tmp[4096];
    if ((st = otgi_atomic_begin(path, overwrite, tmp, sizeof tmp)) != OTG_OK) return st;
    return otgi_atomic_commit(path, tmp, write_tmp(tmp, path, &g, images));
}
