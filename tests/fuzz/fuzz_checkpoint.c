/* Checkpoint readers: the container (otg_checkpoint_read), a training checkpoint restored into a
 * small trainer (header, identity, run state) and a trainer rebuilt from one (otg_trainer_load,
 * for configs on the built-in 2-D laws and small sizes, so that an execution stays fast). Byte 0
 * picks the mode: odd = the rest is taken as the file; even = the rest is the file without its
 * CRC-32, which is fixed up here, so that mutations of the header and buffers get past it. */
#include "common.h"
#include "otgen/io.h"
#include "otgen/train.h"

#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

static otg_trainer *small(void) {
    static otg_trainer *t;
    if (!t) {
        otg_train_config c = otg_train_config_default();
        strcpy(c.hidden, "8"), c.batch = 32, c.val_n = 64, c.val_projections = 16;
        c.projections = 16, c.steps = 20;
        t = otg_trainer_new(&c);
    }
    return t;
}

/* The header's config is cheap to build from: a built-in law and small sizes. */
static int cheap(const char *header) {
    cJSON *h = cJSON_Parse(header);
    const cJSON *c = cJSON_GetObjectItemCaseSensitive(h, "config");
    const cJSON *d = cJSON_GetObjectItemCaseSensitive(c, "data");
    int ok = cJSON_IsObject(c) && cJSON_IsString(d) &&
             (!strcmp(d->valuestring, "moons") || !strcmp(d->valuestring, "rings") ||
              !strcmp(d->valuestring, "gaussians8"));
    static const char *const big[] = {"batch",       "val-n",  "val-projections",
                                      "projections", "latent", "channels"};
    for (int i = 0; ok && i < 6; i++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(c, big[i]);
        ok = !v || (cJSON_IsNumber(v) && v->valuedouble <= 512);
    }
    const cJSON *hid = cJSON_GetObjectItemCaseSensitive(c, "hidden");
    ok = ok && (!hid || (cJSON_IsString(hid) && strlen(hid->valuestring) <= 12));
    cJSON_Delete(h);
    return ok;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t n) {
    if (n < 1 || n > (1 << 20)) return 0;
    int fix = !(data[0] & 1);
    data++, n--;
    uint8_t *buf = malloc(n + 4);
    if (!buf) return 0;
    memcpy(buf, data, n);
    if (fix) {
        uint32_t c = (uint32_t)crc32(0L, buf, (uInt)n);
        for (int i = 0; i < 4; i++)
            buf[n + (size_t)i] = (uint8_t)(c >> (8 * i));
    }
    const char *p = fuzz_file("c.otg", buf, n + (fix ? 4 : 0));
    free(buf);
    otg_checkpoint ck;
    if (otg_checkpoint_read(p, &ck) != OTG_OK) return 0;
    int build = cheap(ck.header);
    otg_checkpoint_release(&ck);
    otg_trainer *t = small();
    if (t && otg_trainer_restore(t, p) == OTG_OK) {
        otg_train_row row;
        if (otg_trainer_step(t, &row) != OTG_OK) {
        }
    }
    int threads;
    if (otg_train_checkpoint_threads(p, &threads) != OTG_OK) {
    }
    otg_trainer *u = NULL;
    if (build && otg_trainer_load(p, &u) == OTG_OK) otg_trainer_free(u);
    return 0;
}
