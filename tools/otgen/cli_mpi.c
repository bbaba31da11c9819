/* The CLI's MPI mode: started only when the process was launched by mpirun (Open MPI's or a PMI
 * launcher's environment), so a plain `otgen` never touches MPI; stubs when built without MPI. */
#define _POSIX_C_SOURCE 200809L
#include "cli.h"
#include "otgen/comm.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The launcher's world size (0 when not launched by mpirun). */
static int launched_size(void) {
    const char *s = getenv("OMPI_COMM_WORLD_SIZE");
    if (!s) s = getenv("PMI_SIZE");
    if (!s && getenv("PMIX_RANK")) s = "1";
    return s ? atoi(s) : 0;
}

/* Under mpirun -np > 1: only the distributed commands run; the others would each write the same
 * files. */
static int refuse(const char *cmd) {
    int size = launched_size();
    if (size <= 1) return 0;
#ifndef OTGEN_HAVE_MPI
    cli_usage_error(cmd, "this otgen was built without MPI (install libopenmpi-dev and rebuild; "
                         "docs/mpi.md)");
#endif
    if (strcmp(cmd, "train") && strcmp(cmd, "sw") && strcmp(cmd, "bench"))
        cli_usage_error(cmd,
                        "runs in one process: not under mpirun with %d ranks (train, sw and "
                        "bench are distributed; docs/mpi.md)",
                        size);
    return 0;
}

#ifdef OTGEN_HAVE_MPI
#include "otgen/mpi.h"

static otg_comm *world;

void cli_mpi_init(const char *cmd, int *argc, char ***argv) {
    refuse(cmd);
    if (!launched_size() || (strcmp(cmd, "train") && strcmp(cmd, "sw") && strcmp(cmd, "bench")))
        return;
    MPI_Init(argc, argv);
    if (!(world = otg_comm_mpi_new(MPI_COMM_WORLD))) {
        fprintf(stderr, "otgen: %s\n", otg_last_error());
        MPI_Abort(MPI_COMM_WORLD, OTG_EXIT_FAIL);
    }
}

void cli_mpi_end(int rc) {
    if (!world || rc != OTG_EXIT_OK) return;
    otg_comm_mpi_free(world);
    world = NULL;
    MPI_Finalize();
}

otg_comm *cli_comm(void) {
    return world;
}
#else
void cli_mpi_init(const char *cmd, int *argc, char ***argv) {
    refuse(cmd);
}
void cli_mpi_end(int rc) {}
otg_comm *cli_comm(void) {
    return NULL;
}
#endif

int cli_rank(void) {
    return cli_comm() ? cli_comm()->rank : 0;
}
