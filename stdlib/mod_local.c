/*
 * local: run a command line through /bin/sh on the build machine, not the
 * target (Packer's shell-local), e.g. to pack files a later copy uploads.
 * Relative paths, and the default working directory, are those of the
 * .img file. The label is the command line, unless the body sets cmd;
 * then it describes the task.
 */
#include "entries.h"
#include "modlib.h"

#include <stdlib.h>
#include <string.h>

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
 * The executor gives this task a connection to the build machine (conn_local_open), so it
 * is shell's behaviour with the paths made absolute against the .img file's directory.
 */
static int run(struct task_ctx *ctx, struct task_result *res)
{
	json_t *copy = ctx->args ? json_deep_copy(ctx->args) : json_object();
	const char *names[] = {"creates", "removes", "chdir"};
	for (size_t i = 0; i < 3; i++) {
		const char *v = task_arg_str(ctx, names[i], NULL);
		if (v) {
			char *abs = mod_local_path(ctx, v);
			json_object_set_new(copy, names[i], json_string(abs));
			free(abs);
		}
	}
	if (!task_arg_str(ctx, "chdir", NULL) && ctx->local_root && *ctx->local_root)
		json_object_set_new(copy, "chdir", json_string(ctx->local_root));
	struct task_ctx c = *ctx;
	c.args = copy;
	const char *argv[] = {"/bin/sh", "-c", task_arg_str(ctx, "cmd", ""), NULL};
	int r = mod_command_task(&c, res, argv);
	json_decref(copy);
	return r;
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
