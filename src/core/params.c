/* Named parameters: a table of otg_param_def rows describes the fields of a by-value params
 * struct; this file parses text and JSON into those fields (with the range and type checks),
 * formats them back, and writes the config rows as JSON. Used by the training config, the games'
 * knobs and the CLI's flags, so a flag, a config key and a --help line cannot disagree. */
#include "internal.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FIELD(obj, d, type) ((type *)((char *)(obj) + (d)->offset))
#define CFIELD(obj, d, type) ((const type *)((const char *)(obj) + (d)->offset))

int otg_params_find(const otg_param_def *defs, int n, const char *name) {
    for (int i = 0; name && i < n; i++)
        if (!strcmp(defs[i].name, name)) return i;
    return -1;
}

static otg_status set_int(const otg_param_def *d, void *obj, const char *s) {
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || end == s || *end != '\0')
        return otgi_fail(OTG_EINVAL, "--%s: '%s' is not an integer", d->name, s);
    if ((double)v < d->lo || (double)v > d->hi)
        return otgi_fail(OTG_EINVAL, "--%s: %lld outside [%lld, %lld]", d->name, v,
                         (long long)d->lo, (long long)d->hi);
    *FIELD(obj, d, int64_t) = v;
    return OTG_OK;
}

static otg_status set_real(const otg_param_def *d, void *obj, const char *s) {
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end != '\0' || !isfinite(v))
        return otgi_fail(OTG_EINVAL, "--%s: '%s' is not a finite number", d->name, s);
    if (v < d->lo || v > d->hi)
        return otgi_fail(OTG_EINVAL, "--%s: %g outside [%g, %g]", d->name, v, d->lo, d->hi);
    *FIELD(obj, d, double) = v;
    return OTG_OK;
}

static otg_status set_str(const otg_param_def *d, void *obj, const char *s) {
    size_t len = strlen(s);
    if (len >= d->size)
        return otgi_fail(OTG_EINVAL, "--%s: value of %zu characters (at most %zu)", d->name, len,
                         d->size ? d->size - 1 : 0);
    memcpy(FIELD(obj, d, char), s, len + 1);
    return OTG_OK;
}

otg_status otg_param_set_text(const otg_param_def *d, void *obj, const char *text) {
    if (!d || !obj || !text) return otgi_fail(OTG_EINVAL, "params: NULL argument");
    switch (d->kind) {
    case OTG_PARAM_INT:
        return set_int(d, obj, text);
    case OTG_PARAM_REAL:
        return set_real(d, obj, text);
    case OTG_PARAM_STR:
        return set_str(d, obj, text);
    case OTG_PARAM_FLAG:
        if (!strcmp(text, "1") || !strcmp(text, "true"))
            *FIELD(obj, d, int) = 1;
        else if (!strcmp(text, "0") || !strcmp(text, "false"))
            *FIELD(obj, d, int) = 0;
        else
            return otgi_fail(OTG_EINVAL, "--%s: '%s' is not true or false", d->name, text);
        return OTG_OK;
    }
    return otgi_fail(OTG_EINVAL, "--%s: unknown parameter kind", d->name);
}

void otg_param_format(const otg_param_def *d, const void *obj, char *buf, size_t cap) {
    if (!cap) return;
    switch (d->kind) {
    case OTG_PARAM_INT:
        snprintf(buf, cap, "%lld", (long long)*CFIELD(obj, d, int64_t));
        break;
    case OTG_PARAM_REAL:
        snprintf(buf, cap, "%g", *CFIELD(obj, d, double));
        break;
    case OTG_PARAM_STR:
        snprintf(buf, cap, "%s", CFIELD(obj, d, char));
        break;
    case OTG_PARAM_FLAG:
        snprintf(buf, cap, "%s", *CFIELD(obj, d, int) ? "true" : "false");
        break;
    default:
        buf[0] = '\0';
    }
}

/* Sets row d from one JSON value, checking its type and range. */
static otg_status set_json(const otg_param_def *d, void *obj, const cJSON *v, const char *what) {
    if (d->kind == OTG_PARAM_STR) {
        if (cJSON_IsNull(v)) return set_str(d, obj, "");
        if (!cJSON_IsString(v))
            return otgi_fail(OTG_EINVAL, "%s: \"%s\" must be a string", what, d->name);
        otg_status st = set_str(d, obj, v->valuestring);
        return st == OTG_OK ? st
                            : otgi_fail(st, "%s: \"%s\" is longer than %zu characters", what,
                                        d->name, d->size - 1);
    }
    if (d->kind == OTG_PARAM_FLAG) {
        if (!cJSON_IsBool(v))
            return otgi_fail(OTG_EINVAL, "%s: \"%s\" must be true or false", what, d->name);
        *FIELD(obj, d, int) = cJSON_IsTrue(v);
        return OTG_OK;
    }
    if (!cJSON_IsNumber(v))
        return otgi_fail(OTG_EINVAL, "%s: \"%s\" must be a number", what, d->name);
    double x = v->valuedouble;
    if (!isfinite(x) || x < d->lo || x > d->hi || (d->kind == OTG_PARAM_INT && x != floor(x)))
        return otgi_fail(OTG_EINVAL, "%s: \"%s\" = %g outside [%g, %g]%s", what, d->name, x, d->lo,
                         d->hi, d->kind == OTG_PARAM_INT ? " or not an integer" : "");
    if (d->kind == OTG_PARAM_INT)
        *FIELD(obj, d, int64_t) = (int64_t)x;
    else
        *FIELD(obj, d, double) = x;
    return OTG_OK;
}

static int ignored(const char *key, const char *const *ignore) {
    for (; ignore && *ignore; ignore++)
        if (!strcmp(*ignore, key)) return 1;
    return 0;
}

otg_status otgi_params_apply_cjson(const otg_param_def *defs, int n, void *obj, const cJSON *o,
                                   const char *what, const int *skip, const char *const *ignore) {
    if (!cJSON_IsObject(o))
        return otgi_fail(OTG_EINVAL, "%s: expected a JSON object of options", what);
    for (const cJSON *v = o->child; v; v = v->next) {
        if (ignored(v->string, ignore)) continue;
        int i = otg_params_find(defs, n, v->string);
        if (i < 0 || !defs[i].in_config)
            return otgi_fail(OTG_EINVAL, "%s: unknown option \"%s\"", what, v->string);
        if (skip && skip[i]) continue;
        otg_status st = set_json(&defs[i], obj, v, what);
        if (st != OTG_OK) return st;
    }
    return OTG_OK;
}

otg_status otg_params_apply_json(const otg_param_def *defs, int n, void *obj, const char *json,
                                 const char *what, const int *skip, const char *const *ignore) {
    if (!defs || !obj || !json) return otgi_fail(OTG_EINVAL, "params: NULL argument");
    what = what ? what : "config";
    const char *end = NULL;
    cJSON *o = cJSON_ParseWithOpts(json, &end, 1);
    if (!o)
        return otgi_fail(OTG_EFORMAT, "%s: malformed JSON near byte %ld", what,
                         end ? (long)(end - json) : -1L);
    otg_status st = otgi_params_apply_cjson(defs, n, obj, o, what, skip, ignore);
    cJSON_Delete(o);
    return st;
}

/* Adds row d's value to o; 0 on out of memory. */
static int add_json(cJSON *o, const otg_param_def *d, const void *obj) {
    const char *s = CFIELD(obj, d, char);
    switch (d->kind) {
    case OTG_PARAM_INT:
        return !!cJSON_AddNumberToObject(o, d->name, (double)*CFIELD(obj, d, int64_t));
    case OTG_PARAM_REAL:
        return !!cJSON_AddNumberToObject(o, d->name, *CFIELD(obj, d, double));
    case OTG_PARAM_FLAG:
        return !!cJSON_AddBoolToObject(o, d->name, *CFIELD(obj, d, int));
    case OTG_PARAM_STR:
        return *s ? !!cJSON_AddStringToObject(o, d->name, s) : !!cJSON_AddNullToObject(o, d->name);
    }
    return 0;
}

cJSON *otgi_params_to_cjson(const otg_param_def *defs, int n, const void *obj) {
    cJSON *o = cJSON_CreateObject();
    for (int i = 0; o && i < n; i++)
        if (defs[i].in_config && !add_json(o, &defs[i], obj)) {
            cJSON_Delete(o);
            o = NULL;
        }
    if (!o) otgi_fail(OTG_ENOMEM, "params: out of memory writing JSON");
    return o;
}

char *otg_params_to_json(const otg_param_def *defs, int n, const void *obj) {
    cJSON *o = otgi_params_to_cjson(defs, n, obj);
    char *text = o ? cJSON_Print(o) : NULL;
    cJSON_Delete(o);
    if (o && !text) otgi_fail(OTG_ENOMEM, "params: out of memory writing JSON");
    return text;
}

otg_status otg_parse_int_list(const char *s, const char *what, int64_t lo, int64_t hi, int64_t *out,
                              int max, int *n) {
    if (!s || !out || !n) return otgi_fail(OTG_EINVAL, "params: NULL argument");
    what = what ? what : "list";
    *n = 0;
    for (const char *p = s; *p;) {
        char *end;
        errno = 0;
        long long v = strtoll(p, &end, 10);
        if (errno || end == p || (*end != ',' && *end != '\0') || v < lo || v > hi)
            return otgi_fail(OTG_EINVAL,
                             "%s: '%s' is not a comma-separated list of integers in [%lld, %lld]",
                             what, s, (long long)lo, (long long)hi);
        if (*n == max) return otgi_fail(OTG_EINVAL, "%s: more than %d entries", what, max);
        out[(*n)++] = v;
        p = *end == ',' ? end + 1 : end;
    }
    return *n ? OTG_OK : otgi_fail(OTG_EINVAL, "%s: empty list", what);
}
