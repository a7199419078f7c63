/*
 * lineinfile: make sure one line is in a text file on the target, or is
 * not (Ansible's lineinfile). The label is a free description.
 */
#include "entries.h"

static const struct kiln_arg args[] = {
    {"path", "string", true, NULL, "the file on the target"},
    {"line", "string", false, NULL, "the line (without its newline); needed when state = present"},
    {"regexp", "string", false, NULL,
     "POSIX extended regex: present replaces the last line it matches, absent removes all"},
    {"state", "enum(present, absent)", false, "\"present\"",
     "present: the line is in the file; absent: no line equal to line, or matching regexp"},
    {"insertafter", "string", false, NULL,
     "where a new line goes: after the last line matching this regex, or \"EOF\" (the end)"},
    {"insertbefore", "string", false, NULL,
     "where a new line goes: before the last line matching this regex, or \"BOF\" (the start); "
     "not with insertafter"},
    {"create", "bool", false, "false", "create the file when it does not exist"},
    {0},
};

const struct kiln_schema mod_lineinfile_schema = {
    .kind = SCHEMA_MODULE,
    .name = "lineinfile",
    .doc = "make sure a line is in a text file, or is not",
    .label = NULL,
    .args = args,
    .example = "lineinfile \"private umask\" { path = \"/etc/login.defs\", regexp = \"^UMASK\", "
               "line = \"UMASK 027\" }",
};
