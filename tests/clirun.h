/* Test helper: runs the otgen binary as a user would and captures what it prints. The binary is
 * $OTGEN_BINARY, else ./otgen (ctest runs the tests in the build directory). Include after
 * cmocka.h. */
#ifndef OTGEN_TEST_CLIRUN_H
#define OTGEN_TEST_CLIRUN_H

#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>

/* The otgen binary to run. */
static inline const char *otgen_bin(void) {
    const char *b = getenv("OTGEN_BINARY");
    return b ? b : "./otgen";
}

/* Runs `otgen <args>` capturing stdout (and stderr when merge is set) into out [cap], NUL
 * terminated and cut at cap - 1 bytes; returns the exit status (-1 if killed by a signal). */
static inline int otgen_run(const char *args, int merge, char *out, size_t cap) {
    char cmd[8192];
    snprintf(cmd, sizeof cmd, "%s %s %s", otgen_bin(), args, merge ? "2>&1" : "2>/dev/null");
    FILE *f = popen(cmd, "r");
    assert_non_null(f);
    size_t n = fread(out, 1, cap - 1, f);
    out[n] = '\0';
    int st = pclose(f);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

#endif
