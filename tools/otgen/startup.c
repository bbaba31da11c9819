/* What runs before any library constructor (the executable's .preinit_array):
 *
 * A check: under an address-space limit (ulimit -v) too small for OpenBLAS's start-up,
 * OpenBLAS (0.3.21) would retry its buffer allocation forever inside its constructor, before main,
 * and the command would hang. Instead otgen says so and exits 1. Measured on Debian 12
 * (libopenblas0-openmp 0.3.21, 2 cores): otgen --version hangs with 253 MiB of address space free
 * at this point and starts with 258.
 *
 * Then the OpenMP wait policy. libgomp reads OMP_WAIT_POLICY and GOMP_SPINCOUNT once, in its own
 * constructor. By default it spins about 3 ms at every barrier before it sleeps; when another
 * process holds a core, the spinning thread takes the time the working one needs, and the default
 * two threads ran 4-10x slower than --threads 1 (moons, 200 steps, a background `yes`: 66 s
 * against 9.5 s; 4.4 s with passive waiting). So when the user set neither variable, otgen
 * re-executes itself (its /proc/self/exe path, same arguments) with OMP_WAIT_POLICY=passive added:
 * idle threads sleep at once. A setenv here or in main would be lost or too late (libc installs the
 * process environment after this runs, and libgomp has read it before main). OpenBLAS (the OpenMP
 * variant) runs on the same libgomp pool, so this covers its threads too. If the exec fails, otgen
 * carries on with libgomp's defaults. Measured in docs/performance.md ("A busy machine",
 * bench/busy.sh). */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
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

static void check_address_space(void) {
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

enum { MAX_ENV = 4096 }; /* larger environments keep libgomp's defaults */

/* Re-executes otgen with OMP_WAIT_POLICY=passive unless the environment names a wait policy or
 * a spin count; returns only when it does not (or the exec fails). */
static void set_wait_policy(char **argv, char **envp) {
    static char *env[MAX_ENV + 2];
    static char passive[] = "OMP_WAIT_POLICY=passive";
    int n = 0;
    for (; envp && envp[n]; n++) {
        if (!strncmp(envp[n], "OMP_WAIT_POLICY=", 16) || !strncmp(envp[n], "GOMP_SPINCOUNT=", 15))
            return;
        if (n == MAX_ENV) return;
        env[n] = envp[n];
    }
    env[n] = passive, env[n + 1] = NULL;
    /* by its real path, so the process keeps its name (ps, pgrep: "otgen", not "exe") */
    static char self[4096];
    ssize_t len = readlink("/proc/self/exe", self, sizeof self - 1);
    if (len <= 0 || len >= (ssize_t)sizeof self - 1) return;
    self[len] = '\0';
    execve(self, argv, env);
}

static void startup(int argc, char **argv, char **envp) {
    (void)argc;
    check_address_space();
    set_wait_policy(argv, envp);
}

__attribute__((section(".preinit_array"), used)) static void (*const preinit)(int, char **,
                                                                              char **) = startup;
