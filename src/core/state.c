/* Checkpoint state of an RNG stream as a cJSON object, and the decimal-string 64-bit integers of
 * every checkpoint header (cJSON numbers are doubles, exact only up to 2^53). */
#include "internal.h"
#include "internal_state.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int otgi_cjson_add_u64(cJSON *o, const char *key, uint64_t v) {
    char buf[32];
    snprintf(buf, sizeof buf, "%" PRIu64, v);
    return cJSON_AddStringToObject(o, key, buf) != NULL;
}

/* Digits only (strtoull alone would take "-1", " 7" or "+7"), and no overflow. */
int otgi_cjson_get_u64(const cJSON *o, const char *key, uint64_t *v) {
    const cJSON *x = cJSON_GetObjectItemCaseSensitive(o, key);
    if (!cJSON_IsString(x) || x->valuestring[0] < '0' || x->valuestring[0] > '9') return -1;
    char *end;
    errno = 0;
    *v = strtoull(x->valuestring, &end, 10);
    return *end || errno ? -1 : 0;
}

int otgi_cjson_get_i64(const cJSON *o, const char *key, int64_t *v) {
    uint64_t u;
    if (otgi_cjson_get_u64(o, key, &u) || u > (uint64_t)INT64_MAX) return -1;
    *v = (int64_t)u;
    return 0;
}

uint64_t otgi_fnv1a(uint64_t h, const void *data, size_t len) {
    const unsigned char *p = data;
    for (size_t i = 0; i < len; i++)
        h = (h ^ p[i]) * 1099511628211ull;
    return h;
}

void otgi_key_hash(const char *key, char hash[17]) {
    const uint64_t h = otgi_fnv1a(OTGI_KEY_HASH_BASIS, key, key ? strlen(key) : 0);
    snprintf(hash, 17, "%016" PRIx64, h);
}

int otgi_cjson_int_in(const cJSON *x, double lo, double hi) {
    return cJSON_IsNumber(x) && x->valuedouble >= lo && x->valuedouble <= hi &&
           x->valuedouble == floor(x->valuedouble);
}

int otgi_rng_state_write(cJSON *parent, const char *key, const otg_rng *r) {
    cJSON *o = cJSON_AddObjectToObject(parent, key), *b = NULL;
    int ok = o && otgi_cjson_add_u64(o, "seed", r->seed) &&
             otgi_cjson_add_u64(o, "stream", r->stream) &&
             otgi_cjson_add_u64(o, "counter", r->counter) &&
             cJSON_AddNumberToObject(o, "buf_left", r->buf_left) &&
             (b = cJSON_AddArrayToObject(o, "buf"));
    for (int i = 0; ok && i < 4; i++) {
        cJSON *x = cJSON_CreateNumber((double)r->buf[i]);
        ok = x && cJSON_AddItemToArray(b, x);
    }
    return ok;
}

otg_status otgi_rng_state_read(const cJSON *parent, const char *key, otg_rng *r) {
    const cJSON *o = cJSON_GetObjectItemCaseSensitive(parent, key);
    const cJSON *bl = cJSON_GetObjectItemCaseSensitive(o, "buf_left");
    const cJSON *b = cJSON_GetObjectItemCaseSensitive(o, "buf");
    if (!o || otgi_cjson_get_u64(o, "seed", &r->seed) ||
        otgi_cjson_get_u64(o, "stream", &r->stream) ||
        otgi_cjson_get_u64(o, "counter", &r->counter) || !cJSON_IsNumber(bl) || !cJSON_IsArray(b) ||
        cJSON_GetArraySize(b) != 4 || !otgi_cjson_int_in(bl, 0, 4))
        return otgi_fail(OTG_EFORMAT, "rng state \"%s\": missing or malformed", key);
    r->buf_left = bl->valueint;
    for (int i = 0; i < 4; i++) {
        const cJSON *x = cJSON_GetArrayItem(b, i);
        if (!otgi_cjson_int_in(x, 0, 4294967295.0))
            return otgi_fail(OTG_EFORMAT, "rng state \"%s\": malformed buffer", key);
        r->buf[i] = (uint32_t)x->valuedouble;
    }
    return OTG_OK;
}
