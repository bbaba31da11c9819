/* File-system helpers of the io module: the one `mkdir -p` of the code base (run directories,
 * game and particles outputs). */
#define _POSIX_C_SOURCE 200809L
#include "internal.h"
#include "otgen/io.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>

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
