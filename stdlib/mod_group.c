/*
 * group: a group on the target, present or absent (Ansible's group). The
 * label is a free description.
 */
#include "entries.h"

static const struct kiln_arg args[] = {
    {"name", "string", true, NULL, "the group's name"},
    {"gid", "int", false, NULL, "the group id; default: the next free one"},
    {"system", "bool", false, "false", "a system group (gid below GID_MIN)"},
    {"state", "enum(present, absent)", false, "\"present\"", "whether the group exists"},
    {0},
};

const struct kiln_schema mod_group_schema = {
    .kind = SCHEMA_MODULE,
    .name = "group",
    .doc = "create, change or remove a group",
    .label = NULL,
    .args = args,
    .example = "group \"add the wheel group\" { name = \"wheel\", system = true }",
};
