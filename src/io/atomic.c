/* Atomic file writes for every writer of src/io (io_internal.h): a temporary file beside the
 * target, fsync, rename over the target, fsync of the directory so the rename itself is durable. */
#define _POSIX_C_SOURCE 200809L
#include "io_internal.h"
#include "otgen/io.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

otg_status otgi_atomic_begin(const char *path, int overwrite, char *tmp, size_t cap) {
    if (!path || !*path) return otgi_fail(OTG_EINVAL, "write: empty path");
    if (!overwrite && access(path, F_OK) == 0)
        return otgi_fail(OTG_EIO, "%s: exists (pass --force to overwrite)", path);
    if (snprintf(tmp, cap, "%s.tmp.%ld", path, (long)getpid()) >= (int)cap)
        return otgi_fail(OTG_EINVAL, "%s: path too long", path);
    return OTG_OK;
}

/* fsync of an existing file or directory; file systems that cannot sync a directory are fine. */
static int sync_path(const char *p, int is_dir) {
    int fd = open(p, is_dir ? O_RDONLY | O_DIRECTORY : O_RDONLY);
    if (fd < 0) return is_dir ? 0 : -1;
    int rc = fsync(fd);
    if (rc && is_dir && (errno == EINVAL || errno == ENOTSUP || errno == EBADF)) rc = 0;
    int e = errno;
    close(fd);
    errno = e;
    return rc;
}

/* fsync of the directory holding path. */
static int sync_dir(const char *path) {
    const char *slash = strrchr(path, '/');
    if (!slash) return sync_path(".", 1);
    if (slash == path) return sync_path("/", 1);
    char dir[4096];
    size_t n = (size_t)(slash - path);
    if (n >= sizeof dir) return 0;
    memcpy(dir, path, n);
    dir[n] = '\0';
    return sync_path(dir, 1);
}

otg_status otgi_atomic_commit(const char *path, const char *tmp, otg_status st) {
    if (st == OTG_OK && sync_path(tmp, 0) != 0)
        st = otgi_fail(OTG_EIO, "%s: fsync failed: %s", path, strerror(errno));
    if (st == OTG_OK && rename(tmp, path) != 0)
        st = otgi_fail(OTG_EIO, "%s: cannot rename %s into place: %s", path, tmp, strerror(errno));
    if (st != OTG_OK) {
        unlink(tmp);
        return st;
    }
    if (sync_dir(path) != 0)
        return otgi_fail(OTG_EIO, "%s: fsync of the directory failed: %s", path, strerror(errno));
    return OTG_OK;
}

otg_status otgi_atomic_write(const char *path, const void *data, size_t len, int overwrite) {
    if (!data && len) return otgi_fail(OTG_EINVAL, "write: NULL data");
    char tmp[4096];
    otg_status st = otgi_atomic_begin(path, overwrite, tmp, sizeof tmp);
    if (st != OTG_OK) return st;
    FILE *f = fopen(tmp, "wb");
    if (!f) return otgi_fail(OTG_EIO, "%s: cannot create: %s", tmp, strerror(errno));
    int ok = (!len || fwrite(data, 1, len, f) == len) && fflush(f) == 0;
    ok = (fclose(f) == 0) && ok;
    if (!ok) st = otgi_fail(OTG_EIO, "%s: write failed: %s", path, strerror(errno));
    return otgi_atomic_commit(path, tmp, st);
}

otg_status otg_write_file_atomic(const char *path, const char *text, size_t len, int overwrite) {
    if (!path || (!text && len)) return otgi_fail(OTG_EINVAL, "write: NULL argument");
    return otgi_atomic_write(path, text, len, overwrite);
}
