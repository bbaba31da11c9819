/* particles: the registry of built-in problem types (GSL's types_setup): lookup by name with an
 * error that lists the names, enumeration, and the default chart coordinates. A problem of the
 * caller's own is passed to otg_particles_new directly and needs no entry here. */
#include "internal.h"
#include "otgen/particles.h"

#include <string.h>

/* The built-in problems in the order of help texts; a new one is appended here. */
static const otg_particles_type *const all[] = {&otg_particles_relu2, &otg_particles_sigmoid2,
                                                &otg_particles_deconv};
#define N_TYPES ((int)(sizeof all / sizeof all[0]))

int otg_particles_type_count(void) {
    return N_TYPES;
}

const otg_particles_type *otg_particles_type_at(int i) {
    return i >= 0 && i < N_TYPES ? all[i] : NULL;
}

const otg_particles_type *otg_particles_type_by_name(const char *name) {
    for (int i = 0; name && i < N_TYPES; i++)
        if (!strcmp(all[i]->name, name)) return all[i];
    char names[256] = "";
    for (int i = 0; i < N_TYPES; i++) {
        if (i) strncat(names, ", ", sizeof names - strlen(names) - 1);
        strncat(names, all[i]->name, sizeof names - strlen(names) - 1);
    }
    otgi_fail(OTG_EINVAL, "particles: unknown problem '%s' (%s)", name ? name : "(null)", names);
    return NULL;
}

const char *otg_particles_type_name(const otg_particles_type *t) {
    return t ? t->name : NULL;
}

const char *otg_particles_type_summary(const otg_particles_type *t) {
    return t ? t->summary : NULL;
}

void otg_particles_type_xy(const otg_particles_type *t, const float *u, int64_t dim, int64_t m,
                           float *xy) {
    if (t->xy) {
        t->xy(u, dim, m, xy);
    } else {
        xy[0] = u[0], xy[1] = u[dim > 1 ? 1 : 0];
    }
}
