/*
 * tarball(path): a root filesystem unpacked from a tar archive of the
 * build machine (e.g. one made by debootstrap or exported by docker).
 */
#include "entries.h"

static const struct kiln_arg args[] = {
    {"path", "path", true, NULL,
     "tar archive (plain, gzip, xz or zstd) on the build machine, relative to the .img file"},
    {0},
};

const struct kiln_schema base_tarball_schema = {
    .kind = SCHEMA_BASE,
    .name = "tarball",
    .doc = "a root filesystem from a tar archive",
    .args = args,
    .inputs = (const char *const[]){"path", NULL},
    .example = "image base from tarball(\"rootfs/bookworm.tar.zst\") {}",
};
