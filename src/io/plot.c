/* Charts through PLplot's cairo driver ("pngcairo"): a 2-D scatter (generated points over target
 * points, equal scales) and a line chart (several series, optional log10 axes, legend outside the
 * plot box on the right). PLplot has global state, so calls must be serial. PLplot's fatal errors
 * would end the process; an exit handler longjmps back here instead and the call fails with
 * OTG_EIO. Each chart is rendered in a child process: cairo, pango and GLib abort the process
 * on some failures (a thread they cannot create under a low `ulimit -v`), which must not take a
 * finished training run with them; the chart then fails with OTG_EIO. The file appears
 * atomically: PLplot writes "<path>.tmp.<pid>", committed by io_internal.h's writer (fsync,
 * rename, directory fsync). */
#define _POSIX_C_SOURCE 200809L
#include "otgen/plot.h"
#include "io_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <plplot.h>
#include <setjmp.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define CHART_W 900
#define CHART_H 700
#define TEXT_MAX 256 /* labels longer than this are cut */

/* cmap0 entries: 0 background, 1 axes and text, 2 grid, then the series palette. */
enum { COL_BG = 0, COL_FG = 1, COL_GRID = 2, COL_LIGHT = 3, COL_STRONG = 4, COL_SERIES = 5 };
#define N_SERIES_COLORS 10
#define N_GREYS 8                               /* shades of a scatter's target density */
#define COL_GREY (COL_SERIES + N_SERIES_COLORS) /* the lightest; COL_GREY + N_GREYS - 1 darkest */
/* Tableau-10: distinct on white and for most colour-vision deficiencies. */
static const unsigned char series_rgb[N_SERIES_COLORS][3] = {
    {31, 119, 180}, {255, 127, 14},  {44, 160, 44},   {214, 39, 40},  {148, 103, 189},
    {140, 86, 75},  {227, 119, 194}, {127, 127, 127}, {188, 189, 34}, {23, 190, 207}};

/* ---- PLplot session: error capture, palette, file handling ---------------------------------- */

static jmp_buf pl_jump;
static char pl_msg[256];

/* plexit would print and end the process; unwind to the setjmp in render() instead. */
static int pl_exit_cb(const char *msg) {
    snprintf(pl_msg, sizeof pl_msg, "%s", msg && *msg ? msg : "fatal PLplot error");
    longjmp(pl_jump, 1);
}

/* plabort reports a non-fatal error (a bad call): keep the first one, fail after plend. */
static void pl_abort_cb(const char *msg) {
    if (!pl_msg[0]) snprintf(pl_msg, sizeof pl_msg, "%s", msg && *msg ? msg : "PLplot error");
}

/* 1 if PLplot was built with the pngcairo file device (checked once). Without this check plinit
 * would prompt for a device on stdin. */
static int have_pngcairo(void) {
    static int known = -1;
    if (known >= 0) return known;
    enum { MAX_DEVS = 128 };
    const char *menu[MAX_DEVS], *names[MAX_DEVS];
    const char **pm = menu, **pn = names; /* PLplot fills the caller's arrays */
    int n = MAX_DEVS;
    plgFileDevs(&pm, &pn, &n);
    known = 0;
    for (int i = 0; i < n && i < MAX_DEVS; i++)
        if (names[i] && !strcmp(names[i], "pngcairo")) known = 1;
    return known;
}

static void set_palette(void) {
    plscmap0n(COL_GREY + N_GREYS);
    plscol0(COL_BG, 255, 255, 255);
    plscol0(COL_FG, 0, 0, 0);
    plscol0(COL_GRID, 221, 221, 221);
    plscol0(COL_LIGHT, 160, 190, 225); /* light blue: target points under generated ones */
    plscol0(COL_STRONG, 214, 39, 40);  /* strong red: generated points */
    for (int i = 0; i < N_SERIES_COLORS; i++)
        plscol0(COL_SERIES + i, series_rgb[i][0], series_rgb[i][1], series_rgb[i][2]);
    for (int i = 0; i < N_GREYS; i++) { /* grey 232 (sparse) to 120 (densest) */
        const int v = 232 - (112 * i) / (N_GREYS - 1);
        plscol0(COL_GREY + i, v, v, v);
    }
}

typedef void (*chart_fn)(const void *ctx);

/* Runs one PLplot session that renders draw(ctx) to tmp. */
static otg_status render(const char *path, const char *tmp, chart_fn draw, const void *ctx) {
    pl_msg[0] = '\0';
    plsexit(pl_exit_cb);
    plsabort(pl_abort_cb);
    if (setjmp(pl_jump)) {
        plsexit(NULL); /* a fatal error inside plend would jump back here forever */
        plend();
        plsabort(NULL);
        return otgi_fail(OTG_EIO, "%s: PLplot: %s", path, pl_msg);
    }
    plsdev("pngcairo");
    plsfnam(tmp);
    plspage(0.0, 0.0, CHART_W, CHART_H, 0, 0);
    set_palette();
    plinit();
    pladv(0);
    draw(ctx);
    plend();
    plsexit(NULL);
    plsabort(NULL);
    if (pl_msg[0]) return otgi_fail(OTG_EIO, "%s: PLplot: %s", path, pl_msg);
    return OTG_OK;
}

/* render() in a child process; its status and message come back through a pipe. When the child
 * cannot be made, the chart is rendered here. */
static otg_status render_isolated(const char *path, const char *tmp, chart_fn draw,
                                  const void *ctx) {
    int fds[2];
    if (pipe(fds) != 0) return render(path, tmp, draw, ctx);
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        close(fds[0]), close(fds[1]);
        return render(path, tmp, draw, ctx);
    }
    if (pid == 0) {
        close(fds[0]);
#ifdef __linux__
        prctl(PR_SET_PDEATHSIG, SIGKILL); /* a chart is not worth outliving a killed run */
#endif
        char msg[600];
        msg[0] = (char)render(path, tmp, draw, ctx);
        size_t n = 1 + (size_t)snprintf(msg + 1, sizeof msg - 1, "%s", otg_last_error());
        if (n > sizeof msg) n = sizeof msg;
        _exit(write(fds[1], msg, n) == (ssize_t)n ? 0 : 1);
    }
    close(fds[1]);
    char msg[600] = {0};
    size_t got = 0;
    for (ssize_t r;
         got < sizeof msg - 1 &&
         ((r = read(fds[0], msg + got, sizeof msg - 1 - got)) > 0 || (r < 0 && errno == EINTR));)
        got += r > 0 ? (size_t)r : 0;
    close(fds[0]);
    int ws = 0;
    while (waitpid(pid, &ws, 0) < 0 && errno == EINTR) {
    }
    if (WIFSIGNALED(ws))
        return otgi_fail(OTG_EIO,
                         "%s: the drawing process died of signal %d (cairo/GLib abort, "
                         "e.g. too little address space for its threads)",
                         path, WTERMSIG(ws));
    if (got == 0) return otgi_fail(OTG_EIO, "%s: the drawing process failed", path);
    otg_status st = (otg_status)msg[0];
    return st == OTG_OK ? OTG_OK : otgi_fail(st, "%s", msg + 1);
}

/* Checks that tmp holds a PNG. */
static otg_status check_png(const char *path, const char *tmp) {
    unsigned char sig[8];
    int fd = open(tmp, O_RDONLY);
    if (fd < 0) return otgi_fail(OTG_EIO, "%s: PLplot wrote nothing: %s", path, strerror(errno));
    ssize_t got = read(fd, sig, sizeof sig);
    otg_status st = OTG_OK;
    if (got != (ssize_t)sizeof sig || memcmp(sig, "\x89PNG\r\n\x1a\n", 8))
        st = otgi_fail(OTG_EIO, "%s: PLplot did not write a PNG", path);
    close(fd);
    return st;
}

/* Renders a chart to path through a temporary file, refusing to replace a file unless overwrite. */
static otg_status write_chart(const char *path, int overwrite, chart_fn draw, const void *ctx) {
    char tmp[4096];
    otg_status st = otgi_atomic_begin(path, overwrite, tmp, sizeof tmp);
    if (st != OTG_OK) return st;
    if (!have_pngcairo())
        return otgi_fail(OTG_EIO,
                         "%s: PLplot has no pngcairo device (install "
                         "plplot-driver-cairo)",
                         path);
    /* Create the file first: PLplot would end the process if it could not open it. */
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0666);
    if (fd < 0) return otgi_fail(OTG_EIO, "%s: cannot create: %s", tmp, strerror(errno));
    close(fd);
    st = render_isolated(path, tmp, draw, ctx);
    if (st == OTG_OK) st = check_png(path, tmp);
    return otgi_atomic_commit(path, tmp, st);
}

/* ---- text and layout ------------------------------------------------------------------------- */

#define TEXT_SCALE 1.1        /* tick labels and axis labels, relative to PLplot's default size */
#define TITLE_SCALE 1.3       /* the title */
#define LEGEND_SCALE 0.9      /* legend text, relative to TEXT_SCALE */
#define LEGEND_CHARS 40       /* legend labels are cut to this many characters */
#define LEGEND_SAMPLE 0.04    /* length of a legend's line sample, in page widths */
#define CHAR_ASPECT 0.7       /* mean glyph width / character height of the cairo font (measured) */
#define LEGEND_MAX 32         /* series past this many are drawn but not listed in the legend */
#define ATOMS_MAX 64          /* a scatter target of at most this many distinct points gets rings */
#define RING "\xe2\x97\x8b"   /* U+25CB white circle */
#define SQUARE "\xe2\x96\xa0" /* U+25A0 black square: a density's legend entry */

/* Copies s into out[TEXT_MAX] as literal PLplot text ('#' is PLplot's escape: doubled), cut to
 * max_chars UTF-8 characters with "..." appended when cut. */
static const char *pl_text(const char *s, char *out, int max_chars) {
    size_t j = 0;
    int chars = 0;
    for (; s && *s && j + 6 < TEXT_MAX; s++) {
        int starts_char = ((unsigned char)*s & 0xC0) != 0x80;
        if (starts_char && chars == max_chars) {
            memcpy(out + j, "...", 3), j += 3;
            break;
        }
        chars += starts_char;
        if (*s == '#') out[j++] = '#';
        out[j++] = *s;
    }
    out[j] = '\0';
    return out;
}

/* Number of UTF-8 characters of s. */
static int utf8_chars(const char *s) {
    int n = 0;
    for (; *s; s++)
        n += ((unsigned char)*s & 0xC0) != 0x80;
    return n;
}

/* Character height as a fraction of the page width and height (after plschr). */
static void char_size(double *cw, double *chh) {
    PLFLT def, ht, x0, x1, y0, y1;
    plgchr(&def, &ht);
    plgspa(&x0, &x1, &y0, &y1);
    *cw = ht / (x1 - x0), *chh = ht / (y1 - y0);
}

/* Axis range [lo, hi] widened by frac of its span on each side; a zero span gets a unit-ish one. */
static void pad_range(double *lo, double *hi, double frac) {
    double span = *hi - *lo;
    if (span <= 0.0) span = fabs(*lo) > 0.0 ? fabs(*lo) : 1.0;
    *lo -= frac * span;
    *hi += frac * span;
}

/* A legend of n entries (texts already escaped), line samples or dots in the given colours. */
typedef struct {
    int n;
    const char *const *text;
    const PLINT *colors;
    const PLINT *styles;        /* line styles, or NULL for dots */
    const char *const *markers; /* with styles: each line's marker glyph (or NULL: none) */
} legend_spec;

/* Width of the legend column (page units) for the longest label. */
static double legend_width(const legend_spec *ls) {
    int most = 1;
    for (int i = 0; i < ls->n; i++)
        if (utf8_chars(ls->text[i]) > most) most = utf8_chars(ls->text[i]);
    double cw, chh;
    char_size(&cw, &chh);
    return LEGEND_SAMPLE + (2.0 + CHAR_ASPECT * LEGEND_SCALE * most) * cw; /* 2: offset, slack */
}

/* Height of a one-column legend (page units): pllegend's text spacing of 2 character heights per
 * entry plus a margin. */
static double legend_height(const legend_spec *ls) {
    double cw, chh;
    char_size(&cw, &chh);
    return (2.0 * ls->n + 1.0) * chh * LEGEND_SCALE;
}

/* Where a legend goes: PL_POSITION_* flags relative to the page region it is drawn in, and
 * whether it gets a white box (inside the plot, over the lines). */
typedef struct {
    PLINT pos;
    int boxed;
} legend_place;

/* Draws the legend in the page region [x0, x1] x [y0, y1]: one entry a line at the corner `at`
 * names, or all entries in one row centred at its top when row is set. */
static void draw_legend(const legend_spec *ls, double x0, double x1, double y0, double y1, int row,
                        legend_place at) {
    PLINT opt[LEGEND_MAX], text_colors[LEGEND_MAX], styles[LEGEND_MAX], nsym[LEGEND_MAX];
    PLFLT widths[LEGEND_MAX], sym_scales[LEGEND_MAX];
    const char *symbols[LEGEND_MAX];
    int n = ls->n < LEGEND_MAX ? ls->n : LEGEND_MAX;
    for (int i = 0; i < n; i++) {
        int marked = ls->styles && ls->markers && ls->markers[i];
        opt[i] = ls->styles ? PL_LEGEND_LINE | (marked ? PL_LEGEND_SYMBOL : 0) : PL_LEGEND_SYMBOL;
        text_colors[i] = COL_FG, styles[i] = ls->styles ? ls->styles[i] : 1;
        nsym[i] = marked || (ls->markers && ls->markers[i]) ? 1 : 3, widths[i] = 2.5,
        sym_scales[i] = marked ? 0.75 : 0.8;
        symbols[i] = ls->markers && ls->markers[i] ? ls->markers[i] : "\xe2\x97\x8f"; /* U+25CF */
    }
    PLINT pos = PL_POSITION_INSIDE | at.pos;
    PLINT bopt = at.boxed ? PL_LEGEND_BACKGROUND | PL_LEGEND_BOUNDING_BOX : 0;
    PLFLT lw, lh, off = at.boxed ? 0.015 : 0.0;
    plvpor(x0, x1, y0, y1);
    plwind(0.0, 1.0, 0.0, 1.0);
    pllegend(&lw, &lh, bopt, pos, off, off, LEGEND_SAMPLE / (x1 - x0), COL_BG, COL_FG, 1,
             row ? 1 : 0, row ? n : 0, n, opt, 0.6, LEGEND_SCALE, 2.0, 0.0, text_colors, ls->text,
             NULL, NULL, NULL, NULL, ls->colors, styles, widths, ls->colors, sym_scales, nsym,
             symbols);
}

/* The title, bigger than the other text, centred at page x xc (moved right if it would stick
 * out left of xmin, where PLplot puts a y axis' "(x10^k)") and page y y. */
static void draw_title(const char *title, double xc, double xmin, double y) {
    char t[TEXT_MAX];
    if (!title || !*title) return;
    double cw, chh;
    char_size(&cw, &chh);
    double scale = TITLE_SCALE; /* a long title is set smaller until it fits the page */
    double half = 0.5 * utf8_chars(title) * CHAR_ASPECT * cw * scale / TEXT_SCALE;
    if (half > 0.42) scale *= 0.42 / half, half = 0.42; /* the width estimate runs short */
    xc = fmin(fmax(xc, xmin + half), 0.98 - half);
    if (xc - half < 0.02) xc = 0.5;
    plvpor(0.0, 1.0, 0.0, 1.0);
    plwind(0.0, 1.0, 0.0, 1.0);
    plcol0(COL_FG);
    plschr(0.0, scale);
    plptex(xc, y, 1.0, 0.0, 0.5, pl_text(title, t, TEXT_MAX));
    plschr(0.0, TEXT_SCALE);
}

/* A 1-2-5 tick step for the linear axis [lo, hi] such that the labels, side by side, fit in
 * width_chars character heights; 0 (PLplot's choice) if none does. PLplot's own choice ignores
 * label widths, so "10000 15000 20000" collide on a narrow plot. */
static double tick_step(double lo, double hi, double width_chars) {
    static const double mult[] = {1, 2, 5, 10, 20, 50, 100};
    double span = hi - lo, base = pow(10.0, floor(log10(span / 10.0)));
    double big = fmax(fabs(lo), fabs(hi));
    int int_digits = big >= 1.0 ? (int)floor(log10(big)) + 1 : 1;
    for (int i = 0; i < (int)(sizeof mult / sizeof mult[0]); i++) {
        double step = base * mult[i];
        int decimals = step >= 1.0 ? 0 : (int)ceil(-log10(step) - 1e-9);
        int chars = int_digits + (decimals ? decimals + 1 : 0) + (lo < 0.0);
        if ((floor(span / step) + 1.0) * (CHAR_ASPECT * chars + 1.5) <= width_chars) return step;
    }
    return 0.0;
}

/* Axis labels of the current viewport: x below it, y left of it at ydisp character heights. */
static void draw_axis_labels(const char *xlabel, const char *ylabel, double ydisp) {
    char t[TEXT_MAX];
    plcol0(COL_FG);
    if (xlabel && *xlabel) plmtex("b", 3.2, 0.5, 0.5, pl_text(xlabel, t, TEXT_MAX));
    if (ylabel && *ylabel) plmtex("l", ydisp, 0.5, 0.5, pl_text(ylabel, t, TEXT_MAX));
}

/* ---- scatter --------------------------------------------------------------------------------- */

typedef struct {
    PLFLT *x, *y; /* finite points only */
    PLINT n;
} point_set;

typedef struct {
    point_set a, b;
    const char *label_a, *label_b, *title;
    double xlo, xhi, ylo, yhi;
} scatter_ctx;

/* Copies the finite points of p[n, 2] into s (x and y arrays owned by s). */
static otg_status collect_points(const float *p, int64_t n, point_set *s) {
    s->n = 0;
    s->x = otgi_calloc((size_t)(n > 0 ? n : 1), sizeof(PLFLT));
    s->y = otgi_calloc((size_t)(n > 0 ? n : 1), sizeof(PLFLT));
    if (!s->x || !s->y) return OTG_ENOMEM;
    for (int64_t i = 0; i < n; i++) {
        float x = p[2 * i], y = p[2 * i + 1];
        if (!isfinite(x) || !isfinite(y)) continue;
        s->x[s->n] = (PLFLT)x, s->y[s->n] = (PLFLT)y, s->n++;
    }
    return OTG_OK;
}

static void extend_bounds(const point_set *s, scatter_ctx *c) {
    for (PLINT i = 0; i < s->n; i++) {
        c->xlo = fmin(c->xlo, s->x[i]), c->xhi = fmax(c->xhi, s->x[i]);
        c->ylo = fmin(c->ylo, s->y[i]), c->yhi = fmax(c->yhi, s->y[i]);
    }
}

/* Equal scales on both axes; the shorter span is widened (centred) so that the plot box is no
 * flatter than 1:2, then both get a 5% margin. */
static void scatter_window(scatter_ctx *c) {
    c->xlo = c->ylo = INFINITY, c->xhi = c->yhi = -INFINITY;
    extend_bounds(&c->a, c), extend_bounds(&c->b, c);
    double sx = c->xhi - c->xlo, sy = c->yhi - c->ylo, s = fmax(sx, sy);
    if (s <= 0.0) s = fmax(fabs(c->xlo), fabs(c->ylo)); /* all points equal: a span from size */
    if (s <= 0.0) s = 1.0;
    double wx = fmax(sx, 0.5 * s), wy = fmax(sy, 0.5 * s);
    double cx = 0.5 * (c->xlo + c->xhi), cy = 0.5 * (c->ylo + c->yhi);
    c->xlo = cx - 0.5 * wx, c->xhi = cx + 0.5 * wx;
    c->ylo = cy - 0.5 * wy, c->yhi = cy + 0.5 * wy;
    pad_range(&c->xlo, &c->xhi, 0.05);
    pad_range(&c->ylo, &c->yhi, 0.05);
}

/* Number of distinct points of s, or most + 1 as soon as there are more than most. */
static int distinct_points(const point_set *s, int most) {
    int n = 0;
    PLFLT ux[64], uy[64];
    if (most > 64) most = 64;
    for (PLINT i = 0; i < s->n; i++) {
        int seen = 0;
        for (int j = 0; j < n && !seen; j++)
            seen = ux[j] == s->x[i] && uy[j] == s->y[i];
        if (seen) continue;
        if (n == most) return most + 1;
        ux[n] = s->x[i], uy[n] = s->y[i], n++;
    }
    return n;
}

/* Black rings, on top of everything, at the points of a target made of few atoms (e.g. the grid
 * law), which the generated points drawn over them would otherwise hide. */
/* A ring of radius r (axis units, equal scales) at (x, y), as a polygon: glyphs sit a little off
 * their point. */
static void draw_ring(PLFLT x, PLFLT y, PLFLT r) {
    enum { SIDES = 24 };
    const double two_pi = 6.283185307179586;
    PLFLT px[SIDES + 1], py[SIDES + 1];
    for (int k = 0; k <= SIDES; k++)
        px[k] = x + r * cos(two_pi * k / SIDES), py[k] = y + r * sin(two_pi * k / SIDES);
    plline(SIDES + 1, px, py);
}

static void draw_rings(const scatter_ctx *c, const point_set *s) {
    plcol0(COL_FG);
    plwidth(2.0);
    for (PLINT i = 0; i < s->n; i++)
        draw_ring(s->x[i], s->y[i], 0.014 * (c->xhi - c->xlo));
    plwidth(1.0);
}

#define DENSITY_MIN 200 /* a target of at least this many points is drawn as a density */
#define DENSITY_BINS 72 /* square bins across the x range of the window */

/* Counts of s's points in the nx x ny square bins of side `side` from (xlo, ylo), smoothed by the
 * 3 x 3 kernel (1 2 1) x (1 2 1) / 16 into out[ny * nx]; returns the largest value. */
static double density_bins(const scatter_ctx *c, const point_set *s, double side, int nx, int ny,
                           double *count, double *out) {
    for (PLINT i = 0; i < s->n; i++) {
        int bx = (int)((s->x[i] - c->xlo) / side), by = (int)((s->y[i] - c->ylo) / side);
        bx = bx < 0 ? 0 : bx >= nx ? nx - 1 : bx, by = by < 0 ? 0 : by >= ny ? ny - 1 : by;
        count[(int64_t)by * nx + bx] += 1.0;
    }
    double most = 0.0;
    for (int by = 0; by < ny; by++)
        for (int bx = 0; bx < nx; bx++) {
            double v = 0.0;
            for (int dy = -1; dy <= 1; dy++)
                for (int dx = -1; dx <= 1; dx++) {
                    const int x = bx + dx, y = by + dy;
                    if (x >= 0 && x < nx && y >= 0 && y < ny)
                        v += (2 - abs(dx)) * (2 - abs(dy)) * count[(int64_t)y * nx + x];
                }
            out[(int64_t)by * nx + bx] = v / 16.0;
            most = fmax(most, v / 16.0);
        }
    return most;
}

/* The target s as a smoothed 2-D histogram in grey (density_bins; a bin's shade grows with the
 * square root of its value relative to the fullest bin, so sparse regions still show), under the
 * generated points. Returns 0 (nothing drawn) when out of memory. */
static int draw_density(const scatter_ctx *c, const point_set *s) {
    const double side = (c->xhi - c->xlo) / DENSITY_BINS;
    const int nx = DENSITY_BINS, ny = (int)ceil((c->yhi - c->ylo) / side);
    double *count = calloc((size_t)nx * (size_t)ny * 2, sizeof *count);
    if (!count) return 0;
    double *smooth = count + (int64_t)nx * ny;
    const double most = density_bins(c, s, side, nx, ny, count, smooth);
    for (int by = 0; by < ny; by++)
        for (int bx = 0; bx < nx; bx++) {
            const double v = smooth[(int64_t)by * nx + bx];
            if (v <= 0.0) continue;
            const int shade = (int)(N_GREYS * sqrt(v / most));
            plcol0(COL_GREY + (shade >= N_GREYS ? N_GREYS - 1 : shade));
            const PLFLT x0 = c->xlo + bx * side, y0 = c->ylo + by * side;
            PLFLT px[4] = {x0, x0 + side, x0 + side, x0}, py[4] = {y0, y0, y0 + side, y0 + side};
            plfill(4, px, py);
        }
    free(count);
    return 1;
}

/* Marker size falls with the number of points so that dense clouds stay readable. */
static PLFLT marker_scale(PLINT n) {
    if (n <= 300) return 1.4;
    if (n <= 3000) return 0.6;
    return 0.45;
}

static void draw_points(const point_set *s, PLINT color) {
    if (s->n == 0) return;
    plcol0(color);
    plssym(0.0, marker_scale(s->n));
    plpoin(s->n, s->x, s->y, 17);
    plssym(0.0, 1.0);
}

/* Grid lines (light, under the data) for the current window. */
/* PLplot custom label for a log axis: "10^n" on every k-th decade (k = *data), blank between. */
static void decade_label(PLINT axis, PLFLT value, char *label, PLINT length, PLPointer data) {
    int every = *(const int *)data;
    long n = lround(value);
    if (fabs(value - (double)n) > 1e-6 || n % every)
        label[0] = '\0';
    else
        snprintf(label, (size_t)length, "10#u%ld#d", n);
}

static void draw_grid(const char *xopt, double xtick, const char *yopt, double ytick) {
    plcol0(COL_GRID);
    plwidth(1.0);
    plbox(xopt, xtick, 0, yopt, ytick, 0);
}

/* Page-space right edge of the plot area, leaving the legend column at the right. */
static double plot_right(const legend_spec *ls) {
    return 0.98 - legend_width(ls) - 0.03;
}

/* Layout: title, then the legend in one row, then the plot box with equal scales. */
static void draw_scatter(const void *vctx) {
    const scatter_ctx *c = vctx;
    char ta[TEXT_MAX], tb[TEXT_MAX];
    const char *text[2], *marks[2] = {NULL, NULL};
    PLINT colors[2];
    int atoms = c->b.n > 0 && distinct_points(&c->b, ATOMS_MAX) <= ATOMS_MAX;
    int density = !atoms && c->b.n >= DENSITY_MIN;
    legend_spec ls = {0, text, colors, NULL, marks}; /* entries only for non-empty sets */
    if (c->a.n) text[ls.n] = pl_text(c->label_a, ta, LEGEND_CHARS), colors[ls.n++] = COL_STRONG;
    if (c->b.n) {
        if (atoms) marks[ls.n] = RING;
        if (density) marks[ls.n] = SQUARE;
        text[ls.n] = pl_text(c->label_b, tb, LEGEND_CHARS);
        colors[ls.n++] = atoms ? COL_FG : density ? COL_GREY + N_GREYS / 2 : COL_LIGHT;
    }
    plschr(0.0, TEXT_SCALE);
    plvpas(0.08, 0.96, 0.07, c->title[0] ? 0.83 : 0.89, (c->yhi - c->ylo) / (c->xhi - c->xlo));
    plwind(c->xlo, c->xhi, c->ylo, c->yhi);
    draw_grid("g", 0.0, "g", 0.0);
    if (density) density = draw_density(c, &c->b);
    if (!atoms && !density) draw_points(&c->b, COL_LIGHT);
    draw_points(&c->a, COL_STRONG);
    if (atoms) draw_rings(c, &c->b);
    plcol0(COL_FG);
    plbox("bcnst", 0.0, 0, "bcnstv", 0.0, 0);
    PLFLT vx0, vx1, vy0, vy1; /* the box plvpas chose */
    plgvpd(&vx0, &vx1, &vy0, &vy1);
    draw_legend(&ls, vx0, vx1, vy1 + 0.015, vy1 + 0.06, 1, (legend_place){PL_POSITION_TOP, 0});
    draw_title(c->title, 0.5 * (vx0 + vx1), 0.0, vy1 + 0.095);
}

/* Details beyond plot.h: a 900x700 chart; points with a NaN or Inf coordinate are skipped; a or b
 * may be NULL when its count is 0 (an empty set gets no legend entry); NULL labels read
 * "generated" and "target", a NULL or empty title leaves none. OTG_EINVAL for NULL arguments,
 * negative or > INT32_MAX counts, or no finite point at all (no file is written); OTG_EIO if path
 * exists and overwrite is 0, or if writing fails; OTG_ENOMEM. */
otg_status otg_plot_scatter(const char *path, const float *a, int64_t na, const char *label_a,
                            const float *b, int64_t nb, const char *label_b, const char *title,
                            int overwrite) {
    if (!path || (na > 0 && !a) || (nb > 0 && !b))
        return otgi_fail(OTG_EINVAL, "plot_scatter: NULL argument");
    if (na < 0 || nb < 0 || na > INT32_MAX || nb > INT32_MAX)
        return otgi_fail(OTG_EINVAL, "%s: scatter point counts %lld, %lld out of range", path,
                         (long long)na, (long long)nb);
    scatter_ctx c = {.label_a = label_a ? label_a : "generated",
                     .label_b = label_b ? label_b : "target",
                     .title = title ? title : ""};
    otg_status st = collect_points(a, na, &c.a);
    if (st == OTG_OK) st = collect_points(b, nb, &c.b);
    if (st == OTG_OK && c.a.n + c.b.n == 0)
        st = otgi_fail(OTG_EINVAL, "%s: scatter has no finite points", path);
    if (st == OTG_OK) {
        scatter_window(&c);
        st = write_chart(path, overwrite, draw_scatter, &c);
    }
    free(c.a.x), free(c.a.y), free(c.b.x), free(c.b.y);
    return st;
}

/* ---- trajectories ------------------------------------------------------------------------------
 */

#define CROSS "\xe2\x9c\x96" /* U+2716 heavy multiplication x: the truth's points */
#define DOT "\xe2\x97\x8f"   /* U+25CF black circle: where a path ends */

typedef struct {
    scatter_ctx s;   /* a: every path point (for the window), b: the truth */
    const float *xy; /* [n_snap, n_paths, 2] */
    int64_t n_snap, n_paths;
    const char *label_truth;
    PLFLT *bx, *by; /* scratch [n_snap] */
} paths_ctx;

/* Path j's finite points in order into c->bx, c->by; their count. */
static PLINT path_points(const paths_ctx *c, int64_t j) {
    PLINT m = 0;
    for (int64_t t = 0; t < c->n_snap; t++) {
        const float *p = c->xy + (t * c->n_paths + j) * 2;
        if (!isfinite(p[0]) || !isfinite(p[1])) continue;
        c->bx[m] = p[0], c->by[m] = p[1], m++;
    }
    return m;
}

/* One thin line per path (colours cycling through the palette), a ring where it starts and a dot
 * where it ends in the same colour, the truth as black crosses on top; legend row above. */
static void draw_paths(const void *vctx) {
    const paths_ctx *c = vctx;
    const scatter_ctx *s = &c->s;
    char tt[TEXT_MAX];
    const char *text[3] = {"start", "end", NULL}, *marks[3] = {RING, DOT, CROSS};
    PLINT colors[3] = {COL_FG, COL_FG, COL_FG};
    legend_spec ls = {2, text, colors, NULL, marks};
    if (s->b.n) text[ls.n++] = pl_text(c->label_truth, tt, LEGEND_CHARS);
    plschr(0.0, TEXT_SCALE);
    plvpas(0.08, 0.96, 0.07, s->title[0] ? 0.83 : 0.89, (s->yhi - s->ylo) / (s->xhi - s->xlo));
    plwind(s->xlo, s->xhi, s->ylo, s->yhi);
    draw_grid("g", 0.0, "g", 0.0);
    plwidth(1.5);
    for (int64_t j = 0; j < c->n_paths; j++) {
        PLINT m = path_points(c, j);
        if (m == 0) continue;
        plcol0(COL_SERIES + (PLINT)(j % N_SERIES_COLORS));
        if (m > 1) plline(m, c->bx, c->by);
        draw_ring(c->bx[0], c->by[0], 0.008 * (s->xhi - s->xlo));
        plschr(0.0, TEXT_SCALE * 0.7);
        plstring(1, &c->bx[m - 1], &c->by[m - 1], DOT);
        plschr(0.0, TEXT_SCALE);
    }
    plwidth(1.0);
    plcol0(COL_FG);
    plschr(0.0, TEXT_SCALE * 1.2);
    if (s->b.n) plstring(s->b.n, s->b.x, s->b.y, CROSS);
    plschr(0.0, TEXT_SCALE);
    plbox("bcnst", 0.0, 0, "bcnstv", 0.0, 0);
    PLFLT vx0, vx1, vy0, vy1;
    plgvpd(&vx0, &vx1, &vy0, &vy1);
    draw_legend(&ls, vx0, vx1, vy1 + 0.015, vy1 + 0.06, 1, (legend_place){PL_POSITION_TOP, 0});
    draw_title(s->title, 0.5 * (vx0 + vx1), 0.0, vy1 + 0.095);
}

/* Details beyond plot.h: a 900x700 chart; non-finite points are skipped; truth may be NULL when
 * nt is 0; a NULL label reads "truth". OTG_EINVAL for NULL arguments, negative or too large
 * counts, or no finite point; OTG_EIO if path exists and overwrite is 0, or if writing fails. */
otg_status otg_plot_paths(const char *path, const float *xy, int64_t n_snap, int64_t n_paths,
                          const float *truth, int64_t nt, const char *label_truth,
                          const char *title, int overwrite) {
    if (!path || (n_snap > 0 && n_paths > 0 && !xy) || (nt > 0 && !truth))
        return otgi_fail(OTG_EINVAL, "plot_paths: NULL argument");
    if (n_snap < 0 || n_paths < 0 || nt < 0 || nt > INT32_MAX || n_snap > INT32_MAX ||
        (n_paths > 0 && n_snap > INT32_MAX / n_paths))
        return otgi_fail(OTG_EINVAL, "%s: path counts %lld x %lld, %lld out of range", path,
                         (long long)n_snap, (long long)n_paths, (long long)nt);
    paths_ctx c = {.s = {.title = title ? title : ""},
                   .xy = xy,
                   .n_snap = n_snap,
                   .n_paths = n_paths,
                   .label_truth = label_truth ? label_truth : "truth"};
    otg_status st = collect_points(xy, n_snap * n_paths, &c.s.a);
    if (st == OTG_OK) st = collect_points(truth, nt, &c.s.b);
    if (st == OTG_OK && c.s.a.n + c.s.b.n == 0)
        st = otgi_fail(OTG_EINVAL, "%s: trajectories have no finite points", path);
    c.bx = otgi_calloc((size_t)(n_snap > 0 ? n_snap : 1), sizeof(PLFLT));
    c.by = otgi_calloc((size_t)(n_snap > 0 ? n_snap : 1), sizeof(PLFLT));
    if (st == OTG_OK && (!c.bx || !c.by)) st = OTG_ENOMEM;
    if (st == OTG_OK) {
        scatter_window(&c.s);
        st = write_chart(path, overwrite, draw_paths, &c);
    }
    free(c.s.a.x), free(c.s.a.y), free(c.s.b.x), free(c.s.b.y), free(c.bx), free(c.by);
    return st;
}

/* ---- line chart ------------------------------------------------------------------------------ */

typedef struct {
    const otg_series *series;
    int n_series, logx, logy;
    const char *title, *xlabel, *ylabel;
    double xlo, xhi, ylo, yhi; /* window, in log10 units on log axes */
    PLFLT *bx, *by;            /* scratch [max n] for one run of valid points */
} lines_ctx;

/* Point i of series s on the plot's axes (log10 where the axis is logarithmic); 0 if invalid. */
static int line_point(const lines_ctx *c, const otg_series *s, int64_t i, PLFLT *x, PLFLT *y) {
    double xv = s->x[i], yv = s->y[i];
    if (!isfinite(xv) || !isfinite(yv)) return 0;
    if ((c->logx && xv <= 0.0) || (c->logy && yv <= 0.0)) return 0;
    *x = c->logx ? log10(xv) : xv;
    *y = c->logy ? log10(yv) : yv;
    return 1;
}

/* A 4% margin; on a log axis (log10 units) the window is widened to whole decades when it would
 * otherwise hold fewer than two powers of ten, as PLplot labels only those. */
static void axis_window(double *lo, double *hi, int log_axis) {
    pad_range(lo, hi, 0.04);
    if (log_axis && floor(*hi) - ceil(*lo) < 1.0) {
        *lo = floor(*lo), *hi = ceil(*hi);
        if (*hi - *lo < 1.0) *hi = *lo + 1.0;
    }
}

/* Sets the window from the valid points; returns the number of valid points. */
static int64_t lines_window(lines_ctx *c) {
    int64_t count = 0;
    c->xlo = c->ylo = INFINITY, c->xhi = c->yhi = -INFINITY;
    for (int k = 0; k < c->n_series; k++) {
        const otg_series *s = &c->series[k];
        for (int64_t i = 0; i < s->n; i++) {
            PLFLT x, y;
            if (!line_point(c, s, i, &x, &y)) continue;
            c->xlo = fmin(c->xlo, x), c->xhi = fmax(c->xhi, x);
            c->ylo = fmin(c->ylo, y), c->yhi = fmax(c->yhi, y);
            count++;
        }
    }
    if (count == 0) return 0;
    axis_window(&c->xlo, &c->xhi, c->logx);
    axis_window(&c->ylo, &c->yhi, c->logy);
    return count;
}

/* Draws series s as polylines broken at invalid points; an isolated valid point gets a marker. */
static void draw_series(const lines_ctx *c, const otg_series *s) {
    PLINT m = 0;
    for (int64_t i = 0; i <= s->n; i++) {
        if (i < s->n && line_point(c, s, i, &c->bx[m], &c->by[m])) {
            m++;
            continue;
        }
        if (m == 1) plpoin(1, c->bx, c->by, 17);
        if (m > 1) plline(m, c->bx, c->by);
        m = 0;
    }
}

static PLINT series_color(int k) {
    return COL_SERIES + k % N_SERIES_COLORS;
}
/* Solid for the first 10 series, then PLplot's dash patterns 2..8 for the next rounds. */
static PLINT series_style(int k) {
    return 1 + (k / N_SERIES_COLORS) % 8;
}
/* One marker glyph per series (DejaVu Sans has them all), so lines that overlap stay apart. */
#define N_MARKERS 8
static const char *const markers[N_MARKERS] = {
    "\xe2\x97\x8f", "\xe2\x96\xa0", "\xe2\x96\xb2", "\xe2\x97\x86",  /* circle square tri diamond */
    "\xe2\x96\xbc", "\xe2\x9c\x9a", "\xe2\x9c\x96", "\xe2\x98\x85"}; /* down-tri plus x star */
static const char *series_marker(int k) {
    return markers[k % N_MARKERS];
}
#define MARKS_PER_SERIES 8 /* markers on a dense series; a series of up to 16 points: all */

/* Position of point (x, y) of c's axes in [0, 1]^2 box units. */
static void box_units(const lines_ctx *c, PLFLT x, PLFLT y, double *u, double *v) {
    *u = (x - c->xlo) / (c->xhi - c->xlo), *v = (y - c->ylo) / (c->yhi - c->ylo);
}

/* Marks series k: every valid point when it has at most 16, otherwise MARKS_PER_SERIES vertices
 * evenly spread along the line's length as drawn (so a log axis does not crowd them), shifted by
 * k / n_series of a spacing so that markers of series lying on top of each other stay apart. */
static void draw_markers(const lines_ctx *c, int k) {
    const otg_series *s = &c->series[k];
    int64_t valid = 0;
    double length = 0.0, pu = 0.0, pv = 0.0, u, v;
    PLFLT x, y;
    for (int64_t i = 0; i < s->n; i++) {
        if (!line_point(c, s, i, &x, &y)) continue;
        box_units(c, x, y, &u, &v);
        if (valid++) length += hypot(u - pu, v - pv);
        pu = u, pv = v;
    }
    if (valid == 0) return;
    int all = valid <= 16 || !(length > 0.0);
    double gap = length / MARKS_PER_SERIES, next = gap * (double)k / c->n_series, at = 0.0;
    /* later series get smaller markers, so markers at the same point nest instead of hiding */
    plschr(0.0, TEXT_SCALE * 0.8 * (1.0 - 0.12 * (k < 5 ? k : 5)));
    for (int64_t i = 0, seen = 0; i < s->n; i++) {
        if (!line_point(c, s, i, &x, &y)) continue;
        box_units(c, x, y, &u, &v);
        if (seen++) at += hypot(u - pu, v - pv);
        pu = u, pv = v;
        if (!all && at + 1e-12 < next) continue;
        plstring(1, &x, &y, series_marker(k));
        while (!all && next <= at + 1e-12)
            next += gap;
    }
    plschr(0.0, TEXT_SCALE);
}

/* Legend entries for the first LEGEND_MAX series; text_buf [LEGEND_MAX][TEXT_MAX]. */
static legend_spec lines_legend(const lines_ctx *c, char (*text_buf)[TEXT_MAX], const char **text,
                                PLINT *colors, PLINT *styles, const char **marks) {
    int n = c->n_series < LEGEND_MAX ? c->n_series : LEGEND_MAX;
    for (int k = 0; k < n; k++) {
        char fallback[32];
        snprintf(fallback, sizeof fallback, "series %d", k + 1);
        const char *label = c->series[k].label ? c->series[k].label : fallback;
        text[k] = pl_text(label, text_buf[k], LEGEND_CHARS);
        colors[k] = series_color(k), styles[k] = series_style(k), marks[k] = series_marker(k);
    }
    return (legend_spec){n, text, colors, styles, marks};
}

/* Points of the series (vertices and 4 points inside each segment), in [0, 1]^2 box units, that
 * fall in the rectangle [u0, u1] x [v0, v1]. */
static int64_t points_in(const lines_ctx *c, double u0, double u1, double v0, double v1) {
    int64_t hits = 0;
    for (int k = 0; k < c->n_series; k++) {
        const otg_series *s = &c->series[k];
        PLFLT px = 0, py = 0, x, y;
        int have = 0;
        for (int64_t i = 0; i < s->n; i++) {
            if (!line_point(c, s, i, &x, &y)) {
                have = 0;
                continue;
            }
            for (int t = have ? 1 : 5; t <= 5; t++) {
                double u = (px + (x - px) * t / 5.0 - c->xlo) / (c->xhi - c->xlo);
                double v = (py + (y - py) * t / 5.0 - c->ylo) / (c->yhi - c->ylo);
                hits += u >= u0 && u <= u1 && v >= v0 && v <= v1;
            }
            px = x, py = y, have = 1;
        }
    }
    return hits;
}

/* The legend's place inside the plot box [x0, x1] x [y0, y1] (page units): the corner whose
 * legend-sized rectangle covers the fewest points (top right, top left, bottom right, bottom left
 * on ties); pos 0 when the legend would take more than half the box's width or 70 % of its
 * height, and then goes in a column at the right. */
static legend_place legend_corner(const lines_ctx *c, const legend_spec *ls, double x0, double x1,
                                  double y0, double y1) {
    static const PLINT corner[4] = {
        PL_POSITION_TOP | PL_POSITION_RIGHT, PL_POSITION_TOP | PL_POSITION_LEFT,
        PL_POSITION_BOTTOM | PL_POSITION_RIGHT, PL_POSITION_BOTTOM | PL_POSITION_LEFT};
    double w = (legend_width(ls) + 0.02) / (x1 - x0), h = (legend_height(ls) + 0.02) / (y1 - y0);
    legend_place best = {0, 1};
    if (w > 0.5 || h > 0.7) return best;
    int64_t fewest = -1;
    for (int i = 0; i < 4; i++) {
        int right = i % 2 == 0, top = i < 2;
        int64_t n = points_in(c, right ? 1.0 - w : 0.0, right ? 1.0 : w, top ? 1.0 - h : 0.0,
                              top ? 1.0 : h);
        if (fewest < 0 || n < fewest) fewest = n, best.pos = corner[i];
    }
    return best;
}

/* Layout: title above, labels left and below, the plot box filling the page and the legend in
 * its emptiest corner; a legend too big for a corner gets a column right of the box. */
static void draw_lines(const void *vctx) {
    const lines_ctx *c = vctx;
    char text_buf[LEGEND_MAX][TEXT_MAX];
    const char *text[LEGEND_MAX], *marks[LEGEND_MAX];
    PLINT colors[LEGEND_MAX], styles[LEGEND_MAX];
    plschr(0.0, TEXT_SCALE);
    plsxax(6, 0); /* plain labels up to 6 digits (iteration counts), then "(x10^k)" */
    plsyax(5, 0);
    legend_spec ls = lines_legend(c, text_buf, text, colors, styles, marks);
    double x0 = 0.125, x1 = 0.96, cw, chh;
    legend_place at = legend_corner(c, &ls, x0, x1, 0.13, 0.90);
    if (!at.pos) x1 = plot_right(&ls), at = (legend_place){PL_POSITION_TOP | PL_POSITION_LEFT, 0};
    char_size(&cw, &chh);
    double xtick = c->logx ? 0.0 : tick_step(c->xlo, c->xhi, (x1 - x0) / cw);
    /* a log y axis over many decades labels every k-th decade (at most 8 labels), not all */
    int every = c->logy && c->yhi - c->ylo > 8.0 ? (int)ceil((c->yhi - c->ylo) / 8.0) : 1;
    double ytick = 0.0;
    plvpor(x0, x1, 0.13, 0.90);
    plwind(c->xlo, c->xhi, c->ylo, c->yhi);
    draw_grid(c->logx ? "gl" : "g", xtick, c->logy ? "gl" : "g", ytick);
    plwidth(2.0);
    for (int k = 0; k < c->n_series; k++) {
        plcol0(series_color(k));
        pllsty(series_style(k));
        draw_series(c, &c->series[k]);
        pllsty(1);
        draw_markers(c, k);
    }
    plwidth(1.0);
    plcol0(COL_FG);
    plslabelfunc(every > 1 ? decade_label : NULL, &every);
    plbox(c->logx ? "bcnstl" : "bcnst", xtick, 0,
          c->logy ? (every > 1 ? "bcnstlvo" : "bcnstlv") : "bcnstv", ytick, 0);
    plslabelfunc(NULL, NULL);
    draw_axis_labels(c->xlabel, c->ylabel, 5.0);
    if (at.boxed)
        draw_legend(&ls, x0, x1, 0.13, 0.90, 0, at);
    else
        draw_legend(&ls, x1 + 0.03, 0.98, 0.13, 0.90, 0, at);
    draw_title(c->title, 0.5 * (x0 + x1), x0, 0.95);
}

static otg_status check_series(const char *path, const otg_series *series, int n_series,
                               int64_t *max_n) {
    *max_n = 1;
    for (int k = 0; k < n_series; k++) {
        const otg_series *s = &series[k];
        if (s->n < 0 || s->n > INT32_MAX)
            return otgi_fail(OTG_EINVAL, "%s: series %d has %lld points", path, k, (long long)s->n);
        if (s->n > 0 && (!s->x || !s->y))
            return otgi_fail(OTG_EINVAL, "%s: series %d has NULL x or y", path, k);
        if (s->n > *max_n) *max_n = s->n;
    }
    return OTG_OK;
}

/* Details beyond plot.h: a 900x700 chart; lines break at skipped points (an isolated point gets a
 * dot); colours cycle through 10, then dash patterns change; each series carries its own marker
 * glyph (at every point up to 16, else at 8 spread points); the legend lists the first 32 series,
 * labels cut to 40 characters, NULL labels read "series k", in the plot's emptiest corner (or a
 * column at the right when it is too big for one). On a log axis the range is widened to
 * whole decades if it would hold fewer than two powers of ten. OTG_EINVAL for NULL arguments,
 * n_series < 1, a series with n < 0 or NULL x/y, or no valid point in any series (no file is
 * written); OTG_EIO if path exists and overwrite is 0, or if writing fails; OTG_ENOMEM. */
/* The line chart with an optional fixed y window [ylo, yhi] (both finite, ylo < yhi, linear y
 * axis); NaN bounds select the automatic window. */
static otg_status plot_lines(const char *path, const otg_series *series, int n_series,
                             const char *title, const char *xlabel, const char *ylabel, int logx,
                             int logy, double ylo, double yhi, int overwrite) {
    if (!path || !series) return otgi_fail(OTG_EINVAL, "plot_lines: NULL argument");
    if (n_series < 1) return otgi_fail(OTG_EINVAL, "%s: no series to plot", path);
    int64_t max_n;
    otg_status st = check_series(path, series, n_series, &max_n);
    if (st != OTG_OK) return st;
    lines_ctx c = {.series = series,
                   .n_series = n_series,
                   .logx = logx,
                   .logy = logy,
                   .title = title ? title : "",
                   .xlabel = xlabel ? xlabel : "",
                   .ylabel = ylabel ? ylabel : ""};
    if (lines_window(&c) == 0)
        return otgi_fail(OTG_EINVAL, "%s: no point to plot (all non-finite%s)", path,
                         logx || logy ? " or non-positive on a log axis" : "");
    if (!isnan(ylo) || !isnan(yhi)) {
        if (!(isfinite(ylo) && isfinite(yhi) && ylo < yhi) || logy)
            return otgi_fail(OTG_EINVAL,
                             "%s: y window [%g, %g] needs finite ylo < yhi on a linear "
                             "axis",
                             path, ylo, yhi);
        c.ylo = ylo, c.yhi = yhi;
    }
    c.bx = otgi_calloc((size_t)max_n, sizeof(PLFLT));
    c.by = otgi_calloc((size_t)max_n, sizeof(PLFLT));
    st = c.bx && c.by ? write_chart(path, overwrite, draw_lines, &c) : OTG_ENOMEM;
    free(c.bx), free(c.by);
    return st;
}

otg_status otg_plot_lines(const char *path, const otg_series *series, int n_series,
                          const char *title, const char *xlabel, const char *ylabel, int logx,
                          int logy, int overwrite) {
    return plot_lines(path, series, n_series, title, xlabel, ylabel, logx, logy, (double)NAN,
                      (double)NAN, overwrite);
}

otg_status otg_plot_lines_ylim(const char *path, const otg_series *series, int n_series,
                               const char *title, const char *xlabel, const char *ylabel, int logx,
                               double ylo, double yhi, int overwrite) {
    return plot_lines(path, series, n_series, title, xlabel, ylabel, logx, 0, ylo, yhi, overwrite);
}
