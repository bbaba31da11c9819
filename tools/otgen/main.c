/* otgen: the command-line tool. Dispatches to one cmd_<name>.c per subcommand; the only part of
 * otgen that prints to the terminal or exits. */
#include "cli.h"
#include "ot/ot_internal.h"
#include "otgen/otgen.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *summary;
} subcommand;

static const subcommand commands[] = {
    {"train", cmd_train, "train a generator with an SW loss (SGD, npSGD, momentum, Adam)"},
    {"sample", cmd_sample, "draw samples from a trained generator (NPY or PNG)"},
    {"eval", cmd_eval, "SW and energy distance between samples and a data set"},
    {"demo", cmd_demo, "fit a small MLP to a 2-D target by SGD and show the loss falling"},
    {"sw", cmd_sw, "Sliced-Wasserstein distance between two NPY point clouds (POT conventions)"},
    {"energy", cmd_energy, "energy distance between two NPY point clouds (sliced, or exact)"},
    {"particles", cmd_particles, "mean-field particle gradient flows (Chizat & Bach 2018)"},
    {"game", cmd_game, "min-max dynamics: simGD, altGDA, optimistic, anchored, extragradient"},
    {"ad-check", cmd_ad_check, "check backprop against the path identity along random curves"},
    {"ad-study", cmd_ad_study, "does relu'(0) change training? s = 0 vs 1, float32 vs float64"},
    {"bench", cmd_bench, "built-in benchmarks: bench sw, train, sort, particles, cnn, gemm, mpi"},
};
#define N_COMMANDS ((int)(sizeof commands / sizeof commands[0]))

static void usage(FILE *f) {
    fprintf(f, "usage: otgen <command> [options]   (otgen <command> --help for its options)\n\n"
               "commands:\n");
    for (int i = 0; i < N_COMMANDS; i++)
        fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].summary);
    fprintf(f, "\n  --version  print the version\n  --help     this text\n");
}

int main(int argc, char **argv) {
    if (argc < 2) {
        usage(stderr);
        return OTG_EXIT_USAGE;
    }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
        usage(stdout);
        return OTG_EXIT_OK;
    }
    if (!strcmp(argv[1], "--version")) {
        printf("otgen %s\n", otg_version());
        return OTG_EXIT_OK;
    }
    const char *sort_engine = getenv("OTGEN_SORT"); /* the SW sorts' engine (src/ot/sort.c) */
    if (!otgi_sort_mode_valid(sort_engine)) {
        fprintf(stderr, "otgen: OTGEN_SORT must be c, vq or auto, not '%s'\n", sort_engine);
        return OTG_EXIT_USAGE;
    }
    for (int i = 0; i < N_COMMANDS; i++)
        if (!strcmp(argv[1], commands[i].name)) {
            cli_mpi_init(commands[i].name, &argc, &argv);
            int rc = commands[i].run(argc - 1, argv + 1);
            cli_mpi_end(rc);
            return rc;
        }
    fprintf(stderr, "otgen: unknown command '%s' (otgen --help lists them)\n", argv[1]);
    return OTG_EXIT_USAGE;
}
