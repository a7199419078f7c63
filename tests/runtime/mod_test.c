/*
 * mod_test: run one module of the stdlib once, on a root filesystem directory, and print
 * its result as one JSON object. The runtime tests t11NN-*.sh drive it.
 *
 *   mod_test [--check] [--diff] [--in-image] [--local-root DIR]
 *            [--ssh USER@HOST:PORT --ssh-key KEY --known-hosts FILE]
 *            ROOTFS MODULE ARGS_JSON|@FILE
 *
 * prints {"status": "ok|changed|failed|skipped", "msg": ..., "diff": ..., "cmd": ...,
 * "exit_status": N, "stderr_tail": ...} and exits 0; 2 on a usage error, 3 when the module
 * returned a failure of kiln itself.
 *
 * The directory is opened with conn_rootfs_open, as an image build does; the module local
 * gets conn_local_open(--local-root), as the executor gives it. With --ssh the module
 * acts on that host over SSH instead (ROOTFS is then unused): the t12NN tests point it
 * at an sshd chrooted into their rootfs (lib-sshd.sh).
 * With --check, the connection is wrapped in conn_check_open, as the executor does.
 */
#include "builtins.h"
#include "conn.h"
#include "module.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ==== the driver =========================================================================== */

static const char *status_name(enum task_status s)
{
	switch (s) {
	case TASK_OK:
		return "ok";
	case TASK_CHANGED:
		return "changed";
	case TASK_FAILED:
		return "failed";
	case TASK_SKIPPED:
		return "skipped";
	}
	return "?";
}

static void usage(void)
{
	fprintf(stderr, "usage: mod_test [--check] [--diff] [--in-image] [--local-root DIR] "
	                "[--ssh USER@HOST:PORT --ssh-key KEY --known-hosts FILE] ROOTFS MODULE "
	                "ARGS_JSON\n");
	exit(2);
}

int main(int argc, char **argv)
{
	struct task_ctx ctx = {0};
	int i = 1;
	struct ssh_opts so = {0};
	char *target = NULL;

	for (; i < argc && argv[i][0] == '-'; i++) {
		if (!strcmp(argv[i], "--check"))
			ctx.check = true;
		else if (!strcmp(argv[i], "--diff"))
			ctx.diff = true;
		else if (!strcmp(argv[i], "--in-image"))
			ctx.in_image = true;
		else if (!strcmp(argv[i], "--local-root") && i + 1 < argc)
			ctx.local_root = argv[++i];
		else if (!strcmp(argv[i], "--ssh") && i + 1 < argc)
			target = argv[++i];
		else if (!strcmp(argv[i], "--ssh-key") && i + 1 < argc)
			so.key_file = argv[++i];
		else if (!strcmp(argv[i], "--known-hosts") && i + 1 < argc)
			so.known_hosts = argv[++i];
		else
			usage();
	}
	if (argc - i != 3)
		usage();
	const char *root = argv[i], *module = argv[i + 1];
	const struct kiln_schema *s = stdlib_lookup(SCHEMA_MODULE, module);
	if (!s || !s->run) {
		fprintf(stderr, "mod_test: no module '%s' with a run function\n", module);
		return 2;
	}
	json_error_t jerr;
	/* @FILE: the arguments from a file (for contents too big for a command line) */
	if (argv[i + 2][0] == '@')
		ctx.args = json_load_file(argv[i + 2] + 1, 0, &jerr);
	else
		ctx.args = json_loads(argv[i + 2], 0, &jerr);
	if (!ctx.args || !json_is_object(ctx.args)) {
		fprintf(stderr, "mod_test: bad args: %s\n", jerr.text);
		return 2;
	}
	if (!ctx.local_root)
		ctx.local_root = ".";
	ctx.facts = json_object();

	struct conn *c = NULL;
	struct rt_error err = {0};
	/* as the executor does: local runs on the build machine */
	int r;
	if (!strcmp(module, "local")) {
		r = conn_local_open(ctx.local_root, &c, &err);
	} else if (target) {
		/* USER@HOST:PORT */
		char *at = strchr(target, '@'), *colon = strrchr(target, ':');
		if (!at || !colon || colon < at)
			usage();
		*at = *colon = 0;
		so.user = target;
		so.host = at + 1;
		so.port = atoi(colon + 1);
		r = conn_ssh_open(&so, &c, &err);
	} else {
		r = conn_rootfs_open(root, &c, &err);
	}
	if (r < 0) {
		fprintf(stderr, "mod_test: %s\n", err.msg);
		return 2;
	}
	/* as the executor does: in check mode, a connection that cannot change the target */
	struct conn *ro = ctx.check ? conn_check_open(c) : NULL;
	ctx.conn = ro ? ro : c;

	struct task_result res = {0};
	r = s->run(&ctx, &res);

	json_t *out =
	    json_pack("{s:s, s:s}", "status", status_name(res.status), "conn", c->ops->name);
	json_object_set_new(out, "msg", res.msg ? json_string(res.msg) : json_null());
	if (res.diff)
		json_object_set_new(out, "diff", json_string(res.diff));
	if (res.cmd) {
		json_object_set_new(out, "cmd", json_string(res.cmd));
		json_object_set_new(out, "exit_status", json_integer(res.exit_status));
		json_object_set_new(out, "stderr_tail",
		                    json_string(res.stderr_tail ? res.stderr_tail : ""));
	}
	char *text = json_dumps(out, JSON_SORT_KEYS | JSON_ENSURE_ASCII);
	puts(text);
	free(text);
	json_decref(out);
	task_result_release(&res);
	json_decref(ctx.args);
	json_decref(ctx.facts);
	conn_free(ro);
	conn_free(c);
	return r < 0 ? 3 : 0;
}
