/*
 * conn: a target that tasks act on — a rootfs directory entered with
 * namespaces and chroot (conn_rootfs.c), a host over SSH (conn_ssh.c, later),
 * or the build machine itself (conn_local.c, for the 'local' module).
 * Modules use only these few primitives, so one module serves every target.
 *
 * Order: conn_*_open() -> conn->ops->exec()/read()/write()/... -> conn_free().
 * Paths are absolute paths inside the target. For a rootfs, no operation may
 * reach outside the root through a symlink, "..", or a hard link: file
 * operations resolve paths with openat2(RESOLVE_IN_ROOT) (or an equivalent
 * that provably cannot escape), and commands run chrooted in their own mount,
 * pid, uts and ipc namespaces. None of these functions print; they fill
 * *err and return < 0. A missing file is -ENOENT.
 */
#ifndef KILN_CONN_H
#define KILN_CONN_H

#include "rt.h"

#include <stdint.h>
#include <sys/types.h>

struct conn;

/* What exec runs. argv[0] is looked up in the target's PATH. */
struct exec_req {
	const char *const *argv; /* NULL-terminated */
	const char *const *env;  /* NAME=VALUE pairs added to a clean default
	                            environment (PATH, HOME=/root, LANG=C.UTF-8,
	                            DEBIAN_FRONTEND=noninteractive), NULL-terminated, or NULL */
	const char *cwd;         /* in the target; NULL is "/" */
	const void *input;       /* bytes on stdin (then EOF); NULL: /dev/null */
	size_t input_len;
	int timeout_s; /* 0: none; on expiry the command is killed: status 128+SIGKILL */
};

/* Output beyond this is dropped from the middle: the head and the tail are kept. */
#define EXEC_OUTPUT_MAX (1024 * 1024)

struct exec_res {
	int status; /* exit status 0-255, or 128 + the signal that killed it */
	char *out;  /* stdout, NUL-terminated (malloc'd) */
	size_t out_len;
	char *err; /* stderr, NUL-terminated (malloc'd) */
	size_t err_len;
};

void exec_res_release(struct exec_res *res);

struct conn_stat {
	bool exists;
	mode_t mode; /* type and permission bits (S_IFREG | 0644, ...) */
	uid_t uid;
	gid_t gid;
	off_t size;
};

/* Ownership and permissions a write or mkdir sets; -1 / (mode_t)-1: the default
   (root:root, 0644 for files, 0755 for directories) or, when replacing, the old one. */
struct conn_attrs {
	mode_t mode;
	uid_t uid;
	gid_t gid;
};

#define CONN_ATTRS_DEFAULT ((struct conn_attrs){(mode_t)-1, (uid_t)-1, (gid_t)-1})

struct conn_ops {
	const char *name; /* "rootfs", "ssh", "local" */
	/* Run a command to completion. Returns 0 when it ran (whatever its status). */
	int (*exec)(struct conn *c, const struct exec_req *req, struct exec_res *ret,
	            struct rt_error *err);
	/* Read a whole regular file (at most max bytes, else -EFBIG). */
	int (*read)(struct conn *c, const char *path, size_t max, char **ret_data, size_t *ret_len,
	            struct rt_error *err);
	/* Replace a file atomically: write a temporary file in the same directory,
	   fsync, rename. A kill at any moment leaves the old or the new content. */
	int (*write)(struct conn *c, const char *path, const void *data, size_t len,
	             const struct conn_attrs *attrs, struct rt_error *err);
	/* follow: stat the target of a final symlink; else lstat. Missing: 0 and !exists. */
	int (*stat)(struct conn *c, const char *path, bool follow, struct conn_stat *ret,
	            struct rt_error *err);
	/* Create one directory (not its parents); -EEXIST if it is there. */
	int (*mkdir)(struct conn *c, const char *path, const struct conn_attrs *attrs,
	             struct rt_error *err);
	int (*chmod)(struct conn *c, const char *path, mode_t mode, struct rt_error *err);
	/* Change owner (-1 keeps one); a symlink itself, not its target. */
	int (*chown)(struct conn *c, const char *path, uid_t uid, gid_t gid, struct rt_error *err);
	/* Create or atomically replace path with a symlink to target. */
	int (*symlink)(struct conn *c, const char *target, const char *path, struct rt_error *err);
	int (*readlink)(struct conn *c, const char *path, char **ret_target, struct rt_error *err);
	/* Remove a file, link or (recursive) directory; missing is not an error. */
	int (*remove)(struct conn *c, const char *path, bool recursive, struct rt_error *err);
	/* Update a file's modification time to now, creating it empty if missing. */
	int (*touch)(struct conn *c, const char *path, const struct conn_attrs *attrs,
	             struct rt_error *err);
	void (*close)(struct conn *c);
};

struct conn {
	const struct conn_ops *ops;
};

/* Release a connection (takes NULL; returns NULL: c = conn_free(c)). */
struct conn *conn_free(struct conn *c);

/*
 * A rootfs directory as a target. Commands run chrooted into it in new mount,
 * pid, uts and ipc namespaces, set up once (by conn_rootfs_open) and kept
 * until conn_free: /proc, /sys (read-only), a minimal /dev, the build
 * machine's resolv.conf and a policy-rc.d that stops package installs from
 * starting daemons. Everything is torn down by the kernel when the namespace's
 * first process ends, which it does when kiln ends, even by SIGKILL.
 */
int conn_rootfs_open(const char *rootfs_dir, struct conn **ret, struct rt_error *err);

/* The build machine itself (the 'local' module): commands run with /bin/sh in cwd. */
int conn_local_open(const char *cwd, struct conn **ret, struct rt_error *err);

#endif
