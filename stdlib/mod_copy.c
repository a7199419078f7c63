/*
 * copy: put a file or a directory tree from the build machine, or a given
 * content, at a path on the target (Ansible's copy, Packer's file
 * provisioner). The label is a free description.
 */
#include "entries.h"

static const struct kiln_arg args[] = {
    {"src", "path", false, NULL,
     "file or directory on the build machine, relative to the .img file; "
     "\"dir/\" copies the directory's contents, \"dir\" the directory itself"},
    {"content", "string|secret", false, NULL, "the content of dest, instead of src"},
    {"dest", "string", true, NULL,
     "path on the target; a path ending in / is a directory the file goes into"},
    {"mode", "mode", false, NULL, "permission bits of what is copied, e.g. 0644"},
    {"owner", "string", false, NULL, "user owning what is copied"},
    {"group", "string", false, NULL, "group owning what is copied"},
    {0},
};

static const char *const one_of[] = {"src|content", NULL};

const struct kiln_schema mod_copy_schema = {
    .kind = SCHEMA_MODULE,
    .name = "copy",
    .doc = "copy files from the build machine, or a given content, to the target",
    .label = NULL,
    .args = args,
    .one_of = one_of,
    .example =
        "copy \"upload the app\" { src = \"app/\", dest = \"/srv/app/\", owner = \"www-data\" }",
};
