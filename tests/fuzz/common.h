/* Shared by the libFuzzer targets: the input as a file in a private scratch directory (the
 * readers take paths), and quiet start-up. */
#ifndef OTGEN_FUZZ_COMMON_H
#define OTGEN_FUZZ_COMMON_H

#include <stddef.h>
#include <stdint.h>

/* The scratch directory (created once, in /dev/shm when it exists). */
const char *fuzz_dir(void);
/* Writes data[n] to fuzz_dir()/name and returns the path (static storage). */
const char *fuzz_file(const char *name, const uint8_t *data, size_t n);

#endif
