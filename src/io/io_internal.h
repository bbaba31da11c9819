/* The one atomic-file writer of src/io, shared by the NPY, checkpoint, text, PNG and chart
 * writers: write to "<path>.tmp.<pid>" in the same directory, then commit (fsync the file, rename
 * it over path, fsync the directory), so a reader sees the old file or the whole new one. */
#ifndef OTGEN_IO_INTERNAL_H
#define OTGEN_IO_INTERNAL_H

#include "internal.h"

/* Refuses (OTG_EIO, "exists (pass --force to overwrite)") an existing path unless overwrite, and
 * forms the temporary path in tmp[cap] (OTG_EINVAL when too long). Nothing is created. */
otg_status otgi_atomic_begin(const char *path, int overwrite, char *tmp, size_t cap);
/* Ends a write begun with otgi_atomic_begin whose outcome so far is st: when st is OTG_OK, fsyncs
 * tmp, renames it over path and fsyncs path's directory; otherwise, or when one of those fails,
 * removes tmp. Returns st, or the first failure of the commit (OTG_EIO naming path). */
otg_status otgi_atomic_commit(const char *path, const char *tmp, otg_status st);
/* data[len] into path atomically (begin, write, commit). */
otg_status otgi_atomic_write(const char *path, const void *data, size_t len, int overwrite);

#endif
