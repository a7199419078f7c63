/*
 * scratch(): an empty root filesystem, for images whose tasks bring
 * everything (Docker's FROM scratch).
 */
#include "entries.h"

static const struct kiln_arg args[] = {
    {0},
};

const struct kiln_schema base_scratch_schema = {
    .kind = SCHEMA_BASE,
    .name = "scratch",
    .doc = "an empty root filesystem",
    .args = args,
    .example = "image static_app from scratch() {}",
    .no_kernel = true,
};
