/*
 * file: the state of one path on the target: a file with given content, a
 * directory, a symbolic link, nothing; with its mode and owner (Ansible's
 * file, plus content). The label is the path.
 */
#include "entries.h"

static const struct kiln_arg args[] = {
    {"path", "string", true, NULL, "the path on the target; the task's label sets it"},
    {"state", "enum(file, directory, link, absent, touch)", false, "\"file\"",
     "file: a regular file; directory: with its parents; link: a symlink to src; "
     "absent: removed, recursively; touch: created empty, or its times updated"},
    {"content", "string|secret", false, NULL,
     "state = file: the whole content; without it, the file must exist already"},
    {"src", "string", false, NULL, "state = link: the target of the symlink, as it is written"},
    {"mode", "mode", false, NULL, "permission bits, e.g. 0644 or \"0755\""},
    {"owner", "string", false, NULL, "user owning the path (a name, or a uid as digits)"},
    {"group", "string", false, NULL, "group owning the path (a name, or a gid as digits)"},
    {"recurse", "bool", false, "false",
     "state = directory: apply mode, owner and group to everything inside too"},
    {0},
};

const struct kiln_schema mod_file_schema = {
    .kind = SCHEMA_MODULE,
    .name = "file",
    .doc = "make a path a file with given content, a directory, a symlink, or absent",
    .label = "path",
    .args = args,
    .example = "file \"/srv/app\" { state = directory, owner = \"www-data\", mode = 0755 }",
};
