/*
 * debian(...): a Debian root filesystem made by debootstrap on the build
 * machine, from a mirror (downloads cached, packages pinned in the lock
 * file).
 */
#include "entries.h"

static const struct kiln_arg args[] = {
    {"suite", "string", false, "\"bookworm\"", "the release: a codename or stable, testing"},
    {"variant", "enum(minbase, buildd, standard)", false, "\"minbase\"",
     "debootstrap's package set: minbase (essential and apt), buildd (and build-essential), "
     "standard (required and important)"},
    {"mirror", "string", false, NULL,
     "the archive to download from; default: the build machine's apt mirror, else "
     "http://deb.debian.org/debian"},
    {"components", "list<string>", false, "[\"main\"]",
     "archive areas, e.g. [\"main\", \"contrib\"]"},
    {"include", "list<string>", false, "[]", "more packages to install with the base system"},
    {0},
};

const struct kiln_schema base_debian_schema = {
    .kind = SCHEMA_BASE,
    .name = "debian",
    .doc = "a Debian root filesystem built by debootstrap",
    .args = args,
    .example = "image base from debian(\"bookworm\", variant = \"minbase\") {}",
};
