/* Status names, the thread-local last-error text, the invariant assert and checked allocation. */
#include "internal.h"

#include <stdarg.h>
#include <string.h>

#ifndef OTGEN_VERSION
#define OTGEN_VERSION "unknown"
#endif

static _Thread_local char last_error[512];

const char *otg_last_error(void) {
    return last_error;
}

void otg_clear_error(void) {
    last_error[0] = '\0';
}

const char *otg_version(void) {
    return OTGEN_VERSION;
}

/* Formats into a local buffer first: fmt's arguments may be otg_last_error() itself, so that
 * otgi_fail(st, "train: --data: %s", otg_last_error()) prefixes the current message. */
static otg_status set_error(otg_status s, const char *fmt, va_list ap) {
    char msg[sizeof last_error];
    vsnprintf(msg, sizeof msg, fmt, ap);
    memcpy(last_error, msg, sizeof msg);
    return s;
}

otg_status otgi_fail(otg_status s, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    set_error(s, fmt, ap);
    va_end(ap);
    return s;
}

otg_status otg_set_error(otg_status s, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    set_error(s, fmt, ap);
    va_end(ap);
    return s;
}

const char *otg_status_name(otg_status s) {
    switch (s) {
    case OTG_OK:
        return "OTG_OK";
    case OTG_ENOMEM:
        return "OTG_ENOMEM";
    case OTG_EINVAL:
        return "OTG_EINVAL";
    case OTG_ESHAPE:
        return "OTG_ESHAPE";
    case OTG_EIO:
        return "OTG_EIO";
    case OTG_EFORMAT:
        return "OTG_EFORMAT";
    case OTG_ENONFINITE:
        return "OTG_ENONFINITE";
    case OTG_CONTINUE:
        return "OTG_CONTINUE";
    case OTG_ENOCONV:
        return "OTG_ENOCONV";
    }
    return "OTG_UNKNOWN";
}

_Noreturn void otgi_assert_fail(const char *cond, const char *file, int line) {
    fprintf(stderr, "otgen: internal invariant broken at %s:%d: %s\n", file, line, cond);
    abort();
}

int otgi_mul_i64(int64_t n, int64_t m, int64_t *out) {
    if (n < 0 || m < 0) return -1;
    if (n != 0 && m > INT64_MAX / n) return -1;
    *out = n * m;
    return 0;
}

void *otgi_calloc(size_t n, size_t size) {
    if (n != 0 && size > SIZE_MAX / n) {
        otgi_fail(OTG_ENOMEM, "allocation of %zu x %zu bytes overflows", n, size);
        return NULL;
    }
    void *p = calloc(n ? n : 1, size ? size : 1);
    if (!p) otgi_fail(OTG_ENOMEM, "out of memory allocating %zu bytes", n * size);
    return p;
}
