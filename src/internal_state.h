/* Checkpoint state of library value types as cJSON members, written and read in one place each:
 * 64-bit integers as decimal strings (they may exceed 2^53), an RNG stream (src/core/state.c) and
 * a schedule's run state (src/optim/schedule.c). Used by the checkpoints of src/train,
 * src/particles and src/study. Never installed.
 */
#ifndef OTGEN_INTERNAL_STATE_H
#define OTGEN_INTERNAL_STATE_H

#include "otgen/optim.h"

#include <cjson/cJSON.h>

/* o[key] = "v" (decimal); 0 on out of memory. */
int otgi_cjson_add_u64(cJSON *o, const char *key, uint64_t v);
/* v = o[key] parsed from a decimal string (digits only, no overflow); -1 when absent or
 * malformed. */
int otgi_cjson_get_u64(const cJSON *o, const char *key, uint64_t *v);
/* As otgi_cjson_get_u64, for counts stored in int64_t: -1 also above INT64_MAX. */
int otgi_cjson_get_i64(const cJSON *o, const char *key, int64_t *v);

/* x is a JSON number that is an integer in [lo, hi] (checked before any cast). */
int otgi_cjson_int_in(const cJSON *x, double lo, double hi);

/* The identity of a run in a checkpoint: otgi_fnv1a from OTGI_KEY_HASH_BASIS over key, as 16
 * lowercase hex digits (particles and game checkpoints' "options_hash"). */
void otgi_key_hash(const char *key, char hash[17]);

/* {"seed", "stream", "counter" (decimal strings), "buf_left", "buf" [4]} as parent[key]. */
int otgi_rng_state_write(cJSON *parent, const char *key, const otg_rng *r);
/* Reads parent[key] into r; OTG_EFORMAT when missing or malformed (r may be partly set). */
otg_status otgi_rng_state_read(const cJSON *parent, const char *key, otg_rng *r);

/* The schedule's run state {"lr", "best" (1e308 for +inf), "bad" (decimal)} as parent[key]. */
int otgi_schedule_state_write(cJSON *parent, const char *key, const otg_schedule *s);
/* Reads parent[key] into s's run state; OTG_EFORMAT when missing or malformed. */
otg_status otgi_schedule_state_read(const cJSON *parent, const char *key, otg_schedule *s);

#endif
