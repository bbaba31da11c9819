/* The CLI's MPI mode: started only when the process was launched by mpirun (Open MPI's or a PMI
 * launcher's environment), so a plain `otgen` never touches MPI; stubs when built without MPI. */
#define _POSIX_C_SOURCE 200809L
#include "cli.h"
#include "otgen/comm.h"

#include <stdio.h>
#include <stdlib.h>

#ifdef OTGEN_HAVE_MPI
#include "otgen/mpi.h"

static otg_comm *world;

static int launched_by_mpirun(void) {
    return getenv("OMPI_COMM_WORLD_SIZE") || getenv("PMI_SIZE") || getenv("PMIX_RANK");
}

void cli_mpi_init(int *argc, char ***argv) {
    if (!launched_by_mpirun()) return;
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
void cli_mpi_init(int *argc, char ***argv) {}
void cli_mpi_end(int rc) {}
otg_comm *cli_comm(void) {
    return NULL;
}
#endif

int cli_rank(void) {
    return cli_comm() ? cli_comm()->rank : 0;
}
