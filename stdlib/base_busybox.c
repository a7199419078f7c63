/*
 * busybox(): the smallest useful root filesystem: a static busybox of the
 * build machine, its applet links and a minimal /etc. No package manager.
 */
#include "entries.h"

static const struct kiln_arg args[] = {
    {0},
};

const struct kiln_schema base_busybox_schema = {
    .kind = SCHEMA_BASE,
    .name = "busybox",
    .doc = "a minimal root filesystem of a static busybox and its applets",
    .args = args,
    .example = "image hello from busybox() {}",
    .no_kernel = true,
};
