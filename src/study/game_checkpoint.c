/* The checkpoint file of several game studies (otgen game: one study per method or swept value):
 * one JSON text holding the hash of the run's key and the last on_checkpoint state of each study
 * begun, written atomically (docs/games.md). */
#include "internal.h"
#include "internal_state.h"
#include "otgen/io.h"
#include "otgen/study.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <string.h>

#define FORMAT "otgen-game-checkpoint"

otg_status otg_game_checkpoint_save(const char *path, const char *key, const char *const *states,
                                    int n) {
    if (!path || !key || (!states && n) || n < 0)
        return otgi_fail(OTG_EINVAL, "game checkpoint_save: bad argument");
    char hash[17];
    otgi_key_hash(key, hash);
    size_t len = 256;
    for (int i = 0; i < n; i++)
        len += (states[i] ? strlen(states[i]) : 4) + 1;
    char *text = malloc(len);
    if (!text) return otgi_fail(OTG_ENOMEM, "game checkpoint: out of memory");
    size_t k = (size_t)snprintf(text, len,
                                "{\"format\":\"%s\",\"schema\":1,\"otgen\":\"%s\","
                                "\"options_hash\":\"%s\",\"series\":[",
                                FORMAT, otg_version(), hash);
    for (int i = 0; i < n; i++)
        k += (size_t)snprintf(text + k, len - k, "%s%s", i ? "," : "",
                              states[i] ? states[i] : "null");
    k += (size_t)snprintf(text + k, len - k, "]}\n");
    otg_status st = otg_write_file_atomic(path, text, k, 1);
    free(text);
    return st;
}

otg_status otg_game_checkpoint_load(const char *path, const char *key, int max, char **states,
                                    int *n) {
    if (!path || !key || !states || !n || max < 0)
        return otgi_fail(OTG_EINVAL, "game checkpoint_load: bad argument");
    *n = 0;
    for (int i = 0; i < max; i++)
        states[i] = NULL;
    char *text;
    size_t len;
    otg_status st = otg_file_read(path, 0, &text, &len);
    if (st != OTG_OK) return st;
    cJSON *h = cJSON_Parse(text);
    free(text);
    const cJSON *f = cJSON_GetObjectItemCaseSensitive(h, "format");
    const cJSON *hs = cJSON_GetObjectItemCaseSensitive(h, "options_hash");
    const cJSON *ser = cJSON_GetObjectItemCaseSensitive(h, "series");
    char hash[17];
    otgi_key_hash(key, hash);
    if (!cJSON_IsString(f) || strcmp(f->valuestring, FORMAT) || !cJSON_IsArray(ser) ||
        cJSON_GetArraySize(ser) > max)
        st = otgi_fail(OTG_EFORMAT, "%s is not a checkpoint of this run (malformed)", path);
    else if (!cJSON_IsString(hs) || strcmp(hs->valuestring, hash))
        st = otgi_fail(OTG_EINVAL,
                       "%s belongs to another run (its options differ from these: resume with "
                       "the run's own command line)",
                       path);
    int i = 0;
    for (const cJSON *x = st == OTG_OK ? ser->child : NULL; x && st == OTG_OK; x = x->next, i++)
        if (cJSON_IsObject(x) && !(states[i] = cJSON_PrintUnformatted(x)))
            st = otgi_fail(OTG_ENOMEM, "%s: out of memory", path);
    cJSON_Delete(h);
    if (st == OTG_OK) {
        *n = i;
        return OTG_OK;
    }
    for (int j = 0; j < max; j++)
        free(states[j]), states[j] = NULL;
    return st;
}
