/* Config JSON: the training config (otgen train --config, the run directory's config.json) and
 * the games' knob tables (the same otg_params_apply_json path). */
#include "common.h"
#include "otgen/games.h"
#include "otgen/io.h"
#include "otgen/train.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t n) {
    char *text;
    size_t len;
    /* through the size-bounded reader, as the CLI reads config files */
    if (otg_file_read(fuzz_file("c.json", data, n), 1 << 20, &text, &len) != OTG_OK) return 0;
    otg_train_config c = otg_train_config_default();
    if (otg_train_config_from_json(text, &c) == OTG_OK) {
        char *back = otg_train_config_to_json(&c);
        otg_train_config d = otg_train_config_default();
        if (back && otg_train_config_from_json(back, &d) != OTG_OK) abort(); /* round trip */
        free(back);
    }
    int nt = otg_game_type_count();
    const otg_game_type *g = nt > 0 ? otg_game_type_at((int)(n % (size_t)nt)) : NULL;
    if (g && g->n_params) {
        void *knobs = calloc(1, g->params_size);
        if (knobs && otg_game_type_defaults(g, knobs) == OTG_OK &&
            otg_params_apply_json(g->params, g->n_params, knobs, text, "knobs", NULL, NULL)) {
        }
        free(knobs);
    }
    free(text);
    return 0;
}
