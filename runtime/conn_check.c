/*
 * conn_check: the connection a module gets in --check (see conn.h). It
 * passes on what only looks (read, stat, readlink, and the commands that
 * only query state, listed below) and fails everything that changes the
 * target with EROFS, whatever the module does: a module that forgets its
 * ctx->check guard fails loudly instead of changing a host.
 *
 * Commands that only look, and so run in check mode (argv[0], then the
 * first argument if one is required):
 *   dpkg-query                    (apt: which packages are installed)
 *   apt-cache policy|show|madison (what a package's candidate is)
 *   systemctl is-enabled|is-active|is-failed|show|status|cat (service)
 *   getent, id                    (users and groups)
 *   /etc/init.d/NAME status, service NAME status
 *                                 (service, on a host without systemd)
 *   find, without an action that writes or runs (-delete, -exec, -ok,
 *                                 -fprint, -fls, ...)       (file: a listing)
 *   stat, and date +%s exactly    (apt: how old the package lists are)
 * Any other command (a shell, a package manager, useradd, ...) fails with
 * EROFS: a module decides in check mode without running it.
 */
#include "conn_int.h"

#include "arena.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct conn_check {
	struct conn conn;
	struct conn *inner;
};

static struct conn *inner_of(struct conn *c)
{
	return ((struct conn_check *)c)->inner;
}

static const struct {
	const char *cmd;
	const char *const *verbs; /* NULL: any arguments */
} probes[] = {
    {"dpkg-query", NULL},
    {"apt-cache", (const char *const[]){"policy", "show", "madison", NULL}},
    {"systemctl",
     (const char *const[]){"is-enabled", "is-active", "is-failed", "show", "status", "cat", NULL}},
    {"getent", NULL},
    {"id", NULL},
    {"stat", NULL},
};

/* Whether argv only queries the target's state. */
static bool is_probe(const char *const *argv)
{
	if (!argv || !argv[0])
		return false;
	const char *cmd = strrchr(argv[0], '/');
	cmd = cmd ? cmd + 1 : argv[0];
	/* an init script's status, run directly or through service */
	if (!strncmp(argv[0], "/etc/init.d/", 12) && argv[1] && !strcmp(argv[1], "status") &&
	    !argv[2])
		return !strchr(argv[0] + 12, '/');
	if (!strcmp(argv[0], "service") && argv[1] && argv[2] && !strcmp(argv[2], "status") &&
	    !argv[3])
		return true;
	/* the target's clock, never setting it (date -s, date MMDDhhmm) */
	if (!strcmp(cmd, "date"))
		return argv[1] && !strcmp(argv[1], "+%s") && !argv[2];
	if (!strcmp(cmd, "find")) {
		static const char *const acts[] = {"-delete", "-exec",   "-execdir", "-ok",
		                                   "-okdir",  "-fprint", "-fprint0", "-fprintf",
		                                   "-fls",    NULL};
		for (size_t k = 1; argv[k]; k++)
			for (size_t a = 0; acts[a]; a++)
				if (!strcmp(argv[k], acts[a]))
					return false;
		return true;
	}
	for (size_t i = 0; i < sizeof(probes) / sizeof(probes[0]); i++) {
		if (strcmp(cmd, probes[i].cmd))
			continue;
		if (!probes[i].verbs)
			return true;
		/* the verb: the first argument that is not an option */
		const char *verb = NULL;
		for (size_t k = 1; argv[k] && !verb; k++)
			if (argv[k][0] != '-')
				verb = argv[k];
		for (size_t v = 0; verb && probes[i].verbs[v]; v++)
			if (!strcmp(verb, probes[i].verbs[v]))
				return true;
		return false;
	}
	return false;
}

static int refuse(struct rt_error *err, const char *what, const char *path)
{
	return rt_error_set(
	    err, -EROFS,
	    "check mode: the module tried to %s '%s', which check mode never "
	    "does (a bug in the module: it must not change the target with --check)",
	    what, path);
}

static int check_exec(struct conn *c, const struct exec_req *req, struct exec_res *ret,
                      struct rt_error *err)
{
	if (is_probe(req->argv))
		return inner_of(c)->ops->exec(inner_of(c), req, ret, err);
	return refuse(err, "run", req->argv && req->argv[0] ? req->argv[0] : "?");
}

static int check_read(struct conn *c, const char *path, size_t max, char **ret_data,
                      size_t *ret_len, struct rt_error *err)
{
	return inner_of(c)->ops->read(inner_of(c), path, max, ret_data, ret_len, err);
}

static int check_write(struct conn *c, const char *path, const void *data, size_t len,
                       const struct conn_attrs *attrs, struct rt_error *err)
{
	(void)c, (void)data, (void)len, (void)attrs;
	return refuse(err, "write", path);
}

static int check_stat(struct conn *c, const char *path, bool follow, struct conn_stat *ret,
                      struct rt_error *err)
{
	return inner_of(c)->ops->stat(inner_of(c), path, follow, ret, err);
}

static int check_mkdir(struct conn *c, const char *path, const struct conn_attrs *attrs,
                       struct rt_error *err)
{
	(void)c, (void)attrs;
	return refuse(err, "create the directory", path);
}

static int check_chmod(struct conn *c, const char *path, mode_t mode, struct rt_error *err)
{
	(void)c, (void)mode;
	return refuse(err, "change the mode of", path);
}

static int check_chown(struct conn *c, const char *path, uid_t uid, gid_t gid, struct rt_error *err)
{
	(void)c, (void)uid, (void)gid;
	return refuse(err, "change the owner of", path);
}

static int check_symlink(struct conn *c, const char *target, const char *path, struct rt_error *err)
{
	(void)c, (void)target;
	return refuse(err, "make the symlink", path);
}

static int check_readlink(struct conn *c, const char *path, char **ret_target, struct rt_error *err)
{
	return inner_of(c)->ops->readlink(inner_of(c), path, ret_target, err);
}

static int check_remove(struct conn *c, const char *path, bool recursive, struct rt_error *err)
{
	(void)c, (void)recursive;
	return refuse(err, "remove", path);
}

static int check_touch(struct conn *c, const char *path, const struct conn_attrs *attrs,
                       struct rt_error *err)
{
	(void)c, (void)attrs;
	return refuse(err, "touch", path);
}

static void check_close(struct conn *c)
{
	free(c); /* the connection it wraps is its owner's */
}

static const struct conn_ops check_ops = {
    .name = "check",
    .exec = check_exec,
    .read = check_read,
    .write = check_write,
    .stat = check_stat,
    .mkdir = check_mkdir,
    .chmod = check_chmod,
    .chown = check_chown,
    .symlink = check_symlink,
    .readlink = check_readlink,
    .remove = check_remove,
    .touch = check_touch,
    .close = check_close,
};

struct conn *conn_check_open(struct conn *inner)
{
	struct conn_check *c = xcalloc(1, sizeof(*c));
	c->conn.ops = &check_ops;
	c->inner = inner;
	return &c->conn;
}
