/*
 * local: run a command line through /bin/sh on the build machine, not the
 * target (Packer's shell-local), e.g. to pack files a later copy uploads.
 * Relative paths, and the default working directory, are those of the
 * .img file. The label is the command line, unless the body sets cmd;
 * then it describes the task.
 */
#include "entries.h"
#include "modlib.h"

static const struct kiln_arg args[] = {
    {"cmd", "string", true, NULL, "the command line, run by /bin/sh -c on the build machine"},
    {"creates", "path", false, NULL, "skip the task when this path exists on the build machine"},
    {"removes", "path", false, NULL,
     "run the task only when this path exists on the build machine"},
    {"chdir", "path", false, NULL, "directory to run in; default: the .img file's directory"},
    {"env", "map<string|secret>", false, NULL, "extra environment variables of the command"},
    {0},
};

/*
 * The executor gives this task a connection to the build machine (conn_local_open) whose
 * directory is the .img file's: relative paths (creates, removes, chdir) and the default
 * working directory resolve against it there, so this is shell's behaviour as it is. (They
 * are not joined to local_root here: a relative local_root, "build" from
 * 'kiln apply build/x.img', would then count twice: build/build.)
 */
static int run(struct task_ctx *ctx, struct task_result *res)
{
	const char *argv[] = {"/bin/sh", "-c", task_arg_str(ctx, "cmd", ""), NULL};
	return mod_command_task(ctx, res, argv);
}

const struct kiln_schema mod_local_schema = {
    .kind = SCHEMA_MODULE,
    .name = "local",
    .doc = "run a command line on the build machine, not on the target",
    .label = "cmd",
    .args = args,
    .example = "local \"pack the app\" { cmd = \"tar -czf toupload/app.tar.gz app\" }",
    .run = run,
    .on_build_machine = true,
};
