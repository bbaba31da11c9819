/* File-system helpers of the io module: the one whole-file reader (checkpoints, metrics files,
 * config files) and the one `mkdir -p` of the code base (run directories, game and particles
 * outputs). */
#define _POSIX_C_SOURCE 200809L
#include "internal.h"
#include "otgen/io.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* Reads f to its end into *buf (cap bytes to start, doubled as needed), stopping once more than
 * max bytes have come; -1 on a read error, -2 when there were more than max, -3 out of memory. */
static int read_all(FILE *f, size_t cap, size_t max, char **buf, size_t *len) {
    char *b = malloc(cap + 1);
    for (size_t k = 1; b && k > 0 && *len <= max;) {
        if (*len == cap) {
            char *nb = realloc(b, 2 * cap + 1);
            if (!nb) free(b);
            b = nb, cap *= 2;
            if (!b) break;
        }
        *len += k = fread(b + *len, 1, cap - *len, f);
    }
    *buf = b;
    if (!b) return -3;
    if (ferror(f)) return -1;
    return *len > max ? -2 : 0;
}

otg_status otg_file_read(const char *path, size_t max_bytes, char **text, size_t *len) {
    if (!path || !text || !len) return otgi_fail(OTG_EINVAL, "read: NULL argument");
    *text = NULL, *len = 0;
    FILE *f = fopen(path, "rb");
    if (!f) return otgi_fail(OTG_EIO, "%s: cannot open: %s", path, strerror(errno));
    struct stat sb;
    size_t max = max_bytes ? max_bytes : (size_t)-2;
    /* the file's size + 1, so that a regular file is read by one fread and a second that meets
     * its end; pipes and devices start at 4 KiB */
    size_t cap = fstat(fileno(f), &sb) == 0 && sb.st_size > 0 ? (size_t)sb.st_size + 1 : 4096;
    char *buf = NULL;
    errno = 0;
    int rc = read_all(f, cap <= max ? cap : max + 1, max, &buf, len), e = errno;
    fclose(f);
    if (rc) {
        free(buf);
        *len = 0;
        return rc == -1
                   ? otgi_fail(OTG_EIO, "%s: read failed: %s", path, e ? strerror(e) : "I/O error")
               : rc == -2 ? otgi_fail(OTG_EFORMAT, "%s: larger than %zu bytes", path, max_bytes)
                          : otgi_fail(OTG_ENOMEM, "%s: out of memory reading it", path);
    }
    buf[*len] = '\0';
    *text = buf;
    return OTG_OK;
}

/* mkdir of one level; an existing directory is not an error. */
static int make_one(const char *path) {
    struct stat st;
    if (mkdir(path, 0755) == 0) return 0;
    if (errno == EEXIST && stat(path, &st) == 0 && S_ISDIR(st.st_mode)) return 0;
    if (errno == EEXIST) errno = ENOTDIR;
    return -1;
}

otg_status otg_mkdir_p(const char *dir) {
    if (!dir || !*dir) return otgi_fail(OTG_EINVAL, "mkdir: empty path");
    size_t len = strlen(dir);
    char *tmp = otgi_calloc(len + 1, 1);
    if (!tmp) return OTG_ENOMEM;
    memcpy(tmp, dir, len + 1);
    int rc = 0;
    for (char *p = tmp + 1; *p && !rc; p++)
        if (*p == '/' && p[-1] != '/') {
            *p = '\0';
            rc = make_one(tmp);
            *p = '/';
        }
    if (!rc) rc = make_one(tmp);
    otg_status st =
        rc ? otgi_fail(OTG_EIO, "%s: cannot create the directory: %s", tmp, strerror(errno))
           : OTG_OK;
    free(tmp);
    return st;
}
