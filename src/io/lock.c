/* Run-directory locks: flock on DIR/.otgen.lock (which records the holder's pid, for the message
 * a second writer gets), re-entrant within a process (the CLI locks before it checks the
 * directory, otg_train_run again around the run), released by the kernel when the process dies.
 * Also the clean-up of the temporary files an interrupted atomic write leaves. */
#define _DEFAULT_SOURCE
#include "internal.h"
#include "otgen/io.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

struct otg_dir_lock {
    int fd;
    dev_t dev;
    ino_t ino;
    int refs;
    pid_t pid; /* the holder: a forked child inherits the list, not the lock */
    otg_dir_lock *next;
};

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static otg_dir_lock *held; /* the locks this process holds */
static pthread_once_t atfork_once = PTHREAD_ONCE_INIT;

/* In a forked child (e.g. the chart renderer of src/io/plot.c): close the inherited lock
 * descriptors, so that a child outliving a killed parent does not keep its run directory locked
 * (a flock belongs to the open file, which the child's copy would otherwise keep open). */
static void close_in_child(void) {
    for (otg_dir_lock *l = held; l; l = l->next)
        close(l->fd);
}

static void register_atfork(void) {
    if (pthread_atfork(NULL, NULL, close_in_child) != 0) {
        /* without the handler a chart child holds the lock only while it draws */
    }
}

/* The pid recorded in the lock file, 0 when unreadable. The holder writes it just after its
 * flock succeeds: a second writer that comes in between finds the file empty (or the pid of an
 * earlier holder that has ended), so it reads again for up to 100 ms until the pid is a live
 * process. */
static long holder_pid(int fd) {
    for (int tries = 0; tries < 20; tries++) {
        char buf[32] = {0};
        ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
        long pid = n > 0 ? strtol(buf, NULL, 10) : 0;
        if (pid > 0 && (kill((pid_t)pid, 0) == 0 || errno == EPERM)) return pid;
        struct timespec ts = {0, 5000000};
        nanosleep(&ts, NULL);
    }
    return 0;
}

/* Opens and locks path (retrying when the file was replaced between open and flock). */
static otg_status lock_file(const char *dir, const char *path, otg_dir_lock *l) {
    for (int tries = 0; tries < 8; tries++) {
        int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
        if (fd < 0)
            return otgi_fail(OTG_EIO, "%s: cannot create the lock file: %s", path, strerror(errno));
        if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
            int e = errno;
            long pid = holder_pid(fd);
            close(fd);
            if (e != EWOULDBLOCK)
                return otgi_fail(OTG_EIO, "%s: cannot lock: %s", path, strerror(e));
            return pid > 0 ? otgi_fail(OTG_EINVAL,
                                       "%s: another otgen (pid %ld) is writing this run "
                                       "directory; wait for it to end or stop it first",
                                       dir, pid)
                           : otgi_fail(OTG_EINVAL,
                                       "%s: another process is writing this run directory", dir);
        }
        struct stat a, b;
        if (fstat(fd, &a) == 0 && stat(path, &b) == 0 && a.st_dev == b.st_dev &&
            a.st_ino == b.st_ino) {
            char pid[32];
            int n = snprintf(pid, sizeof pid, "%ld\n", (long)getpid());
            if (ftruncate(fd, 0) != 0 || pwrite(fd, pid, (size_t)n, 0) != n) {
                /* the lock holds without the pid: a second writer is told without it */
            }
            l->fd = fd, l->dev = a.st_dev, l->ino = a.st_ino;
            return OTG_OK;
        }
        close(fd); /* replaced meanwhile: lock the new one */
    }
    return otgi_fail(OTG_EIO, "%s: the lock file keeps changing", path);
}

otg_status otg_dir_lock_acquire(const char *dir, otg_dir_lock **out) {
    if (!out) return otgi_fail(OTG_EINVAL, "lock: NULL output");
    *out = NULL;
    if (!dir || !*dir) return otgi_fail(OTG_EINVAL, "lock: empty directory");
    size_t cap = strlen(dir) + 16;
    char *path = otgi_calloc(cap, 1);
    if (!path) return OTG_ENOMEM;
    snprintf(path, cap, "%s/.otgen.lock", dir);
    struct stat sb;
    otg_status st = OTG_OK;
    pthread_once(&atfork_once, register_atfork);
    pthread_mutex_lock(&mu);
    otg_dir_lock *l = NULL;
    if (stat(path, &sb) == 0)
        for (l = held; l && !(l->dev == sb.st_dev && l->ino == sb.st_ino && l->pid == getpid());
             l = l->next) {
        }
    if (l) {
        l->refs++;
    } else if (!(l = otgi_calloc(1, sizeof *l))) {
        st = OTG_ENOMEM;
    } else if ((st = lock_file(dir, path, l)) != OTG_OK) {
        free(l);
        l = NULL;
    } else {
        l->refs = 1, l->pid = getpid(), l->next = held, held = l;
    }
    pthread_mutex_unlock(&mu);
    free(path);
    *out = l;
    return st;
}

void otg_dir_lock_release(otg_dir_lock *l) {
    if (!l) return;
    pthread_mutex_lock(&mu);
    if (--l->refs == 0) {
        for (otg_dir_lock **p = &held; *p; p = &(*p)->next)
            if (*p == l) {
                *p = l->next;
                break;
            }
        close(l->fd); /* the file stays: removing it would race with a waiting writer */
        free(l);
    }
    pthread_mutex_unlock(&mu);
}

/* NAME.tmp.PID, PID all digits and not this process. */
static int stale_temp(const char *name) {
    const char *t = strstr(name, ".tmp.");
    if (!t || t == name) return 0;
    const char *p = t + 5;
    if (!*p) return 0;
    for (const char *q = p; *q; q++)
        if (*q < '0' || *q > '9') return 0;
    return strtol(p, NULL, 10) != (long)getpid();
}

int otg_remove_stale_temps(const char *dir) {
    DIR *d = dir ? opendir(dir) : NULL;
    if (!d) return 0;
    int removed = 0;
    for (struct dirent *e; (e = readdir(d));)
        if (stale_temp(e->d_name) && unlinkat(dirfd(d), e->d_name, 0) == 0) removed++;
    closedir(d);
    return removed;
}
