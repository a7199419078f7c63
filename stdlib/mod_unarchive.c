/*
 * unarchive: unpack an archive of the build machine into a directory on
 * the target (Ansible's unarchive). The label is a free description.
 */
#include "entries.h"

static const struct kiln_arg args[] = {
    {"src", "path", true, NULL,
     "tar archive (plain, gzip, xz or zstd) or zip on the build machine, relative to the "
     ".img file"},
    {"dest", "string", true, NULL, "existing directory on the target to unpack into"},
    {"owner", "string", false, NULL, "user owning the unpacked files"},
    {"group", "string", false, NULL, "group owning the unpacked files"},
    {"mode", "mode", false, NULL, "permission bits of the unpacked files"},
    {0},
};

const struct kiln_schema mod_unarchive_schema = {
    .kind = SCHEMA_MODULE,
    .name = "unarchive",
    .doc = "unpack an archive from the build machine into a directory on the target",
    .label = NULL,
    .args = args,
    .example = "unarchive \"unpack the app\" { src = \"dist/app.tar.gz\", dest = \"/srv/app\" }",
};
