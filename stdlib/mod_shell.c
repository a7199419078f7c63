/*
 * shell: run a command line through /bin/sh on the target (Ansible's
 * shell), for pipes, redirections and variables. The label is the command
 * line, unless the body sets cmd; then it describes the task.
 */
#include "entries.h"
#include "modlib.h"

#include <stdlib.h>
#include <string.h>

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

/* executable -c cmd */
static int run(struct task_ctx *ctx, struct task_result *res)
{
	const char *argv[] = {task_arg_str(ctx, "executable", "/bin/sh"), "-c",
	                      task_arg_str(ctx, "cmd", ""), NULL};
	return mod_command_task(ctx, res, argv);
}

const struct kiln_schema mod_shell_schema = {
    .kind = SCHEMA_MODULE,
    .name = "shell",
    .doc = "run a command line through the shell on the target",
    .label = "cmd",
    .args = args,
    .example = "shell \"ls /etc | wc -l > /root/etc-count\" { creates = \"/root/etc-count\" }",
    .run = run,
};
