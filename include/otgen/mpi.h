/* otgen mpi: the otg_comm table over an MPI communicator (libotgen_mpi, built when CMake finds
 * MPI; libotgen itself has no MPI). With it, otg_trainer_new_comm trains and otg_sw_comm
 * estimates on the ranks of the communicator with the bits of one process. docs/mpi.md. */
#ifndef OTGEN_MPI_H
#define OTGEN_MPI_H

#include <mpi.h>

#include "otgen/comm.h"
#include "otgen/train.h"

#ifdef __cplusplus
extern "C" {
#endif

/* A table over a duplicate of comm (the caller's communicator is not used by otgen's traffic).
 * MPI must be initialised. Errors of the MPI calls abort the job (MPI_ERRORS_ARE_FATAL on the
 * duplicate), so a rank that dies ends the job instead of hanging it. NULL on failure. Free with
 * otg_comm_mpi_free before MPI_Finalize. */
otg_comm *otg_comm_mpi_new(MPI_Comm comm);
/* Accepts NULL. */
void otg_comm_mpi_free(otg_comm *c);

/* A trainer over the ranks of an MPI communicator: otg_trainer_new_comm with a table of
 * otg_comm_mpi_new(comm) that the trainer frees. */
otg_trainer *otg_trainer_new_mpi(const otg_train_config *c, MPI_Comm comm);

#ifdef __cplusplus
}
#endif
#endif
