#define _POSIX_C_SOURCE 200809L
/* Command-line option values: every row of the training config's table (the flags of otgen
 * train) and of the games' knob tables set from text, the integer-list parser of --hidden and
 * --classes, and the formatting back. The input is lines "NAME VALUE". */
#include "common.h"
#include "otgen/games.h"
#include "otgen/train.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static void apply(const otg_param_def *defs, int nd, void *obj, const char *name,
                  const char *value) {
    int i = otg_params_find(defs, nd, name);
    if (i < 0) i = (int)((unsigned char)name[0] % (unsigned)nd);
    if (otg_param_set_text(&defs[i], obj, value) == OTG_OK) {
        char buf[512];
        otg_param_format(&defs[i], obj, buf, sizeof buf);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t n) {
    char *text = malloc(n + 1);
    if (!text) return 0;
    memcpy(text, data, n);
    text[n] = '\0';
    int nd;
    const otg_param_def *defs = otg_train_config_params(&nd);
    otg_train_config c = otg_train_config_default();
    const otg_game_type *g = otg_game_type_at(0);
    void *knobs = g ? calloc(1, g->params_size ? g->params_size : 1) : NULL;
    if (knobs && otg_game_type_defaults(g, knobs) != OTG_OK) {
    }
    char *save = NULL;
    for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        char *value = strchr(line, ' ');
        if (!value) continue;
        *value++ = '\0';
        apply(defs, nd, &c, line, value);
        if (knobs && g->n_params) apply(g->params, g->n_params, knobs, line, value);
        int64_t list[8];
        int nl;
        if (otg_parse_int_list(value, "list", 0, 1000000, list, 8, &nl) != OTG_OK) {
        }
    }
    free(knobs);
    free(text);
    return 0;
}
