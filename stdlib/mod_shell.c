/*
 * shell: run a command line through /bin/sh on the target (Ansible's
 * shell), for pipes, redirections and variables. The label is the command
 * line.
 */
#include "entries.h"

static const struct kiln_arg args[] = {
    {"cmd", "string", true, NULL, "the command line, run as: executable -c cmd"},
    {"creates", "string", false, NULL, "skip the task when this path exists on the target"},
    {"removes", "string", false, NULL, "run the task only when this path exists on the target"},
    {"chdir", "string", false, NULL, "directory on the target to run the command in"},
    {"env", "map<string|secret>", false, NULL, "extra environment variables of the command"},
    {"stdin", "string|secret", false, NULL, "text fed to the command's standard input"},
    {"executable", "string", false, "\"/bin/sh\"", "the shell on the target that runs cmd"},
    {0},
};

const struct kiln_schema mod_shell_schema = {
    .kind = SCHEMA_MODULE,
    .name = "shell",
    .doc = "run a command line through the shell on the target",
    .label = "cmd",
    .args = args,
    .example = "shell \"ls /etc | wc -l > /root/etc-count\" { creates = \"/root/etc-count\" }",
};
