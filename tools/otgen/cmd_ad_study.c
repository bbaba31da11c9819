#include "cli.h"
int cmd_ad_study(int argc, char **argv) { (void)argc, (void)argv; return 0; }
