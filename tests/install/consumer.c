/* A program outside the build tree that uses the installed libotgen: SW_2 between two small
 * clouds through the public API, printed with the library version. Built by tests/install.sh with
 * pkg-config and with find_package(otgen). */
#include <otgen/otgen.h>

#include <stdio.h>

int main(void) {
    otg_tensor *x = otg_tensor_new(2, (int64_t[]){64, 3}),
               *y = otg_tensor_new(2, (int64_t[]){64, 3});
    otg_tensor *theta = otg_tensor_new(2, (int64_t[]){3, 16});
    otg_sw_workspace *ws = otg_sw_workspace_new();
    otg_rng r = otg_rng_make(7, 1);
    if (!x || !y || !theta || !ws) return 1;
    otg_rng_fill_normal(&r, 64 * 3, x->data);
    otg_rng_fill_normal(&r, 64 * 3, y->data);
    for (int64_t i = 0; i < 64 * 3; i++)
        y->data[i] += 1.0f;
    otg_sw_opts so = otg_sw_opts_default();
    otg_sw_result res;
    int rc = otg_sw_directions(&r, OTG_DIR_GAUSSIAN, 3, 16, theta->data) != OTG_OK ||
             otg_sw(ws, x, NULL, y, NULL, theta, &so, &res, NULL, NULL) != OTG_OK;
    if (rc)
        fprintf(stderr, "consumer: %s\n", otg_last_error());
    else
        printf("otgen %s sw=%.6f\n", otg_version(), res.distance);
    otg_sw_workspace_free(ws);
    otg_tensor_free(x), otg_tensor_free(y), otg_tensor_free(theta);
    return rc;
}
