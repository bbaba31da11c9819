/* Graceful stops for the long-running subcommands (train, game, particles): SIGTERM, SIGINT and
 * SIGHUP ask the run to stop after its current step with a checkpoint; a second signal ends the
 * process at once. Exit status 128 + signal either way. */
#ifndef OTGEN_STOP_H
#define OTGEN_STOP_H

#include "otgen/core.h"

#include <stdint.h>

/* Installs the handlers (first signal: stop_signal() becomes nonzero; second: _exit). */
void stop_catch_signals(void);
/* The first stop signal received, 0 if none. */
int stop_signal(void);

#endif
