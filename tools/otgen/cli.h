/* Shared helpers of the otgen subcommands: strict number parsing that names the flag on error,
 * the usage-error exit (status 2), and the progress display on stderr. */
#ifndef OTGEN_CLI_H
#define OTGEN_CLI_H

#include "otgen/core.h"
#include "otgen/ot.h"

#include <stdint.h>

#define OTG_EXIT_OK 0
#define OTG_EXIT_FAIL 1  /* internal failure */
#define OTG_EXIT_USAGE 2 /* bad usage or bad input */

/* Prints "otgen <cmd>: <message>" on stderr and exits with status 2. */
_Noreturn void cli_usage_error(const char *cmd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* A finite point cloud [n, d] from an NPY file (a 1-D array: n points in dimension 1); exits 2
 * naming the file and the problem otherwise. */
otg_tensor *cli_read_cloud(const char *cmd, const char *path);
/* As cli_read_cloud; *f64 (f64 may be NULL) receives the file's float64 values [n d] when it
 * holds float64, NULL for float32 (for cli_centre_clouds). */
otg_tensor *cli_read_cloud_f64(const char *cmd, const char *path, double **f64);
/* otg_clouds_centre_f64 (io.h: the common mean shift of float64 clouds before float32), then
 * frees f64[] and sets it to NULL; exits 1 on out of memory. Returns 1 when it centred, 0
 * (nothing changed) for float32 input. */
int cli_centre_clouds(otg_tensor **t, double **f64, int k);
/* Parses "512,512" into out[max]; returns the count; exit 2 on a malformed list. */
int cli_parse_int_list(const char *cmd, const char *flag, const char *s, int64_t *out, int max);

/* A progress display: a bar with rate and ETA redrawn in place on a terminal; otherwise (a log)
 * plain lines on multiples of `every` steps, at most one per tenth of the run unless 10 s passed
 * since the last line, and the last step. */
typedef struct {
    int64_t total, every;
    double t0, last_draw;
    int tty, last_tenth;
} cli_progress;

double cli_now(void);
/* Sorts t[n] (n >= 1) ascending and returns its median (timings of the benchmarks). */
double cli_sort_median(double *t, int64_t n);
void cli_progress_start(cli_progress *p, int64_t total, int64_t every);
/* Reports step (1-based) with a short status text ("loss 0.0123"). */
void cli_progress_update(cli_progress *p, int64_t step, const char *status);
/* Ends the display (newline on a terminal). */
void cli_progress_end(cli_progress *p);

/* The MPI mode (cli_mpi.c; docs/mpi.md): under mpirun (built with MPI), cli_mpi_init starts MPI
 * for the distributed commands (train, sw, bench) and cli_comm() is the world's communicator
 * table; otherwise cli_comm() is NULL. Other commands, or a build without MPI, under mpirun with
 * more than one rank: exit 2. cli_mpi_end finalises after a successful command (a failing rank
 * exits without it: mpirun ends the job). */
struct otg_comm;
void cli_mpi_init(const char *cmd, int *argc, char ***argv);
void cli_mpi_end(int rc);
struct otg_comm *cli_comm(void);
/* This process's rank (0 without MPI): only rank 0 prints results and writes files. */
int cli_rank(void);

int cmd_demo(int argc, char **argv);
int cmd_sw(int argc, char **argv);
/* otgen sw --pairwise (cmd_sw_pairwise.c), dispatched by cmd_sw when the flag is given. */
int cmd_sw_pairwise(int argc, char **argv);
int cmd_energy(int argc, char **argv);
int cmd_bench(int argc, char **argv);
int cmd_train(int argc, char **argv);
int cmd_sample(int argc, char **argv);
int cmd_eval(int argc, char **argv);
int cmd_game(int argc, char **argv);
int cmd_particles(int argc, char **argv);
int cmd_ad_check(int argc, char **argv);
int cmd_ad_study(int argc, char **argv);
/* otgen bench train (bench_train.c); peak(reps) measures the SGEMM peak in GFLOP/s. */
int bench_train(int argc, char **argv, double (*peak)(int64_t));
/* otgen bench sort (bench_sort.c): the sorts' ns per element per engine and size; and
 * bench_sort_ns, ns per element of otgi_sort_f32 on n normal values (one thread, median of reps).
 */
int bench_sort(int argc, char **argv);
double bench_sort_ns(int64_t n, int with_perm, int64_t reps);
/* otgen bench particles (bench_particles.c): relu2 forward Euler steps per second. */
int bench_particles(int argc, char **argv);
/* otgen bench cnn (bench_cnn.c): the convolutional generator's training steps per second. */
int bench_cnn(int argc, char **argv);
/* otgen bench mpi and mpi-model (bench_mpi.c): the MPI mode's step time and bytes; its model. */
int bench_mpi(int argc, char **argv);
int bench_mpi_model(int argc, char **argv);

/* The SW directions [d, L] of otgen sw: read from dir_path (non-empty; checked to be [d, L], a
 * 1-D file allowed for d = 1; exit 2 otherwise) or drawn from stream (seed, 1) of `kind`; a kind
 * the data cannot take (rqmc on d != 3) exits 2 with the library's reason, out of memory 1. */
otg_tensor *cli_sw_directions(const char *cmd, const char *dir_path, otg_dir_kind kind, int64_t d,
                              int64_t L, int64_t seed);

#endif
