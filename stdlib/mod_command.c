/*
 * command: run a program on the target, without a shell (Ansible's
 * command). The label is the command line.
 */
#include "entries.h"

static const struct kiln_arg args[] = {
    {"cmd", "string", true, NULL,
     "the command line, split into words as sh would, but with no $VAR, globs, | or >"},
    {"creates", "string", false, NULL, "skip the task when this path exists on the target"},
    {"removes", "string", false, NULL, "run the task only when this path exists on the target"},
    {"chdir", "string", false, NULL, "directory on the target to run the command in"},
    {"env", "map<string|secret>", false, NULL, "extra environment variables of the command"},
    {"stdin", "string|secret", false, NULL, "text fed to the command's standard input"},
    {0},
};

const struct kiln_schema mod_command_schema = {
    .kind = SCHEMA_MODULE,
    .name = "command",
    .doc = "run a command on the target, without a shell",
    .label = "cmd",
    .args = args,
    .example = "command \"apachectl -t\" { chdir = \"/etc/apache2\" }",
};
