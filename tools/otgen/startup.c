/* A check that runs before any library constructor (the executable's .preinit_array): under an
 * address-space limit (ulimit -v) too small for OpenBLAS's start-up, OpenBLAS (0.3.21) would retry
 * its buffer allocation forever inside its constructor, before main, and the command would hang.
 * Instead otgen says so and exits 1. Measured on Debian 12 (libopenblas0-openmp 0.3.21, 2 cores):
 * otgen --version hangs with 253 MiB of address space free at this point and starts with 258. */
#define _GNU_SOURCE
#include <stdio.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <unistd.h>

#define NEED_MIB 272 /* 256 MiB measured + a margin */

/* An address range of this many bytes can still be mapped (nothing is touched or reserved). */
static int can_map(size_t bytes) {
    void *p = mmap(NULL, bytes, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED) return 0;
    munmap(p, bytes);
    return 1;
}

static void check_address_space(int argc, char **argv, char **envp) {
    (void)argc, (void)argv, (void)envp;
    struct rlimit rl;
    const size_t mib = (size_t)1 << 20;
    if (getrlimit(RLIMIT_AS, &rl) != 0 || rl.rlim_cur == RLIM_INFINITY) return;
    if (can_map(NEED_MIB * mib)) return;
    size_t lo = 0, hi = NEED_MIB; /* the free MiB, by bisection */
    while (hi - lo > 1) {
        size_t m = (lo + hi) / 2;
        *(can_map(m * mib) ? &lo : &hi) = m;
    }
    char msg[320];
    int n = snprintf(msg, sizeof msg,
                     "otgen: the address-space limit (ulimit -v %llu) leaves %zu MiB, and "
                     "OpenBLAS's start-up needs about %d MiB: raise the limit to at least %llu "
                     "(KiB) or remove it\n",
                     (unsigned long long)(rl.rlim_cur >> 10), lo, NEED_MIB,
                     (unsigned long long)((rl.rlim_cur >> 10) + (NEED_MIB - lo) * 1024));
    if (n > 0 && write(2, msg, (size_t)n) < 0) _exit(1);
    _exit(1);
}

__attribute__((section(".preinit_array"),
               used)) static void (*const preinit)(int, char **, char **) = check_address_space;
