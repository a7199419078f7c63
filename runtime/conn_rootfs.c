/*
 * conn_rootfs: a rootfs directory as a target (see conn.h). File operations
 * go through conn_fs (openat2 RESOLVE_IN_ROOT from the root's O_PATH fd);
 * commands go to the namespace holder (ns.c), started by the first command
 * (a connection that runs none makes no namespace) and ended by close.
 *
 * What the first command adds to the image so that commands behave — the mount points
 * /proc, /sys and /dev when the image lacks them, an empty /etc/resolv.conf
 * to bind the build machine's over, and a /usr/sbin/policy-rc.d that keeps
 * package scripts from starting services — close takes away again, if it is
 * still as kiln left it, and gives the parent directory back its times, so a
 * build step's layer holds only what its tasks did. (After a SIGKILL of kiln
 * they stay; the next open recognises kiln's resolv.conf and policy-rc.d by
 * their content, and the next write into a directory removes the temporary
 * files a killed write left there: see conn_fs.c.)
 */
#include "conn_int.h"
#include "ns.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* what the build machine's resolv.conf is bound over; its content tells a killed kiln's */
static const char resolv_placeholder[] =
    "# kiln: the build machine's resolv.conf is bound here during a build step\n";

static const char policy_rc_d[] =
    "#!/bin/sh\n"
    "# kiln: no service starts while an image is built; removed after the build step\n"
    "exit 101\n";

enum made { MADE_PROC, MADE_SYS, MADE_DEV, MADE_RESOLV, MADE_POLICY, MADE_N };

static const struct {
	const char *path, *parent;
	mode_t mode; /* directories */
} made_paths[MADE_N] = {
    [MADE_PROC] = {"/proc", "/", 0555},
    [MADE_SYS] = {"/sys", "/", 0555},
    [MADE_DEV] = {"/dev", "/", 0755},
    [MADE_RESOLV] = {"/etc/resolv.conf", "/etc", 0},
    [MADE_POLICY] = {"/usr/sbin/policy-rc.d", "/usr/sbin", 0},
};

struct conn_rootfs {
	struct conn conn;
	struct conn_fs fs;
	char *root;
	struct ns_holder *ns;
	bool wrote; /* an operation that may change the tree ran (a write, a command) */
	bool made[MADE_N];
	/* the parent's times before kiln added the path, and its mtime right after */
	struct timespec before[MADE_N][2], after[MADE_N];
};

static struct conn_rootfs *rootfs_of(struct conn *c)
{
	return (struct conn_rootfs *)c;
}

/* ---- what open adds, and close takes away ------------------------------------------------ */

static int dir_times(const struct conn_fs *fs, const char *dir, struct timespec ts[2])
{
	int fd = conn_fs_open(fs, dir, O_PATH | O_DIRECTORY, 0);
	if (fd < 0)
		return fd;
	struct stat st;
	int r = fstat(fd, &st) < 0 ? -errno : 0;
	close(fd);
	if (r == 0) {
		ts[0] = st.st_atim;
		ts[1] = st.st_mtim;
	}
	return r;
}

static bool is_dir(const struct conn_fs *fs, const char *path)
{
	struct conn_stat st;
	return conn_fs_stat(fs, path, true, &st, NULL) == 0 && st.exists && S_ISDIR(st.mode);
}

static bool is_ours(const struct conn_fs *fs, enum made m)
{
	struct conn_stat st;
	if (conn_fs_stat(fs, made_paths[m].path, false, &st, NULL) < 0 || !st.exists)
		return false;
	switch (m) {
	case MADE_RESOLV:
	case MADE_POLICY: {
		const char *want = m == MADE_RESOLV ? resolv_placeholder : policy_rc_d;
		size_t n = strlen(want);
		char *data;
		size_t len;
		if (!S_ISREG(st.mode) ||
		    conn_fs_read(fs, made_paths[m].path, n + 1, &data, &len, NULL) < 0)
			return false;
		bool same = len == n && memcmp(data, want, len) == 0;
		free(data);
		return same;
	}
	default:
		return S_ISDIR(st.mode);
	}
}

static int add_path(struct conn_rootfs *c, enum made m, struct rt_error *err)
{
	const char *path = made_paths[m].path;
	struct timespec ts[2];
	int r = dir_times(&c->fs, made_paths[m].parent, ts);
	if (r < 0)
		return rt_error_errno(err, r, "cannot prepare '%s' in the rootfs", path);
	struct conn_attrs a = CONN_ATTRS_DEFAULT;
	a.uid = 0;
	a.gid = 0;
	switch (m) {
	case MADE_RESOLV:
		a.mode = 0644;
		r = conn_fs_write(&c->fs, path, resolv_placeholder, sizeof(resolv_placeholder) - 1,
		                  &a, err);
		break;
	case MADE_POLICY:
		a.mode = 0755;
		r = conn_fs_write(&c->fs, path, policy_rc_d, sizeof(policy_rc_d) - 1, &a, err);
		break;
	default:
		a.mode = made_paths[m].mode;
		r = conn_fs_mkdir(&c->fs, path, &a, err);
		break;
	}
	if (r < 0)
		return r;
	c->made[m] = true;
	c->before[m][0] = ts[0];
	c->before[m][1] = ts[1];
	struct timespec now[2];
	if (dir_times(&c->fs, made_paths[m].parent, now) == 0)
		c->after[m] = now[1];
	return 0;
}

static void take_back(struct conn_rootfs *c)
{
	for (int m = MADE_N - 1; m >= 0; m--) {
		if (!c->made[m])
			continue;
		c->made[m] = false;
		if (!is_ours(&c->fs, (enum made)m))
			continue;
		/* the parent's times go back only if nothing else changed it meanwhile */
		struct timespec ts[2];
		bool untouched = dir_times(&c->fs, made_paths[m].parent, ts) == 0 &&
		                 ts[1].tv_sec == c->after[m].tv_sec &&
		                 ts[1].tv_nsec == c->after[m].tv_nsec;
		if (conn_fs_remove(&c->fs, made_paths[m].path, false, NULL) < 0)
			continue; /* a directory something was put in: it stays */
		if (untouched)
			(void)conn_fs_utimes(&c->fs, made_paths[m].parent, c->before[m], NULL);
	}
}

/*
 * What a command needs in the rootfs: mount points, a resolv.conf to bind the
 * host's over, a policy-rc.d. add false (open): only adopt what a killed kiln
 * left, for close to take away; add true (the first command): add what is
 * missing.
 */
static int prepare(struct conn_rootfs *c, struct ns_opts *opts, bool add, struct rt_error *err)
{
	int r;
	for (int m = MADE_PROC; add && m <= MADE_DEV; m++) {
		struct conn_stat st;
		if ((r = conn_fs_stat(&c->fs, made_paths[m].path, false, &st, err)) < 0)
			return r;
		if (!st.exists && (r = add_path(c, (enum made)m, err)) < 0)
			return r;
	}
	struct stat host;
	if (stat("/etc/resolv.conf", &host) == 0 && S_ISREG(host.st_mode) &&
	    is_dir(&c->fs, "/etc")) {
		struct conn_stat st;
		if ((r = conn_fs_stat(&c->fs, "/etc/resolv.conf", false, &st, err)) < 0)
			return r;
		if (add && !st.exists && (r = add_path(c, MADE_RESOLV, err)) < 0)
			return r;
		if (st.exists && !c->made[MADE_RESOLV] && is_ours(&c->fs, MADE_RESOLV)) {
			c->made[MADE_RESOLV] = true; /* left by a kiln that was killed */
			c->after[MADE_RESOLV].tv_nsec = -1;
		}
		opts->bind_resolv = true;
	}
	if (is_dir(&c->fs, "/usr/sbin")) {
		struct conn_stat st;
		if ((r = conn_fs_stat(&c->fs, "/usr/sbin/policy-rc.d", false, &st, err)) < 0)
			return r;
		if (!st.exists) {
			if (add && (r = add_path(c, MADE_POLICY, err)) < 0)
				return r;
		} else if (!c->made[MADE_POLICY] && is_ours(&c->fs, MADE_POLICY)) {
			c->made[MADE_POLICY] = true; /* left by a kiln that was killed */
			c->after[MADE_POLICY].tv_nsec = -1;
		}
	}
	return 0;
}

/* ---- operations -------------------------------------------------------------------------- */

static int rootfs_exec(struct conn *conn, const struct exec_req *req, struct exec_res *ret,
                       struct rt_error *err)
{
	struct conn_rootfs *c = rootfs_of(conn);
	c->wrote = true;
	if (!c->ns) {
		/* the namespace is made for the first command: an apply that runs none (all in
		   place) pays for no process, mount or file of it */
		struct ns_opts opts = {.root = c->root};
		int r = prepare(c, &opts, true, err);
		if (r < 0 || (r = ns_holder_start(&opts, &c->ns, err)) < 0)
			return r;
	}
	return ns_holder_exec(c->ns, req, ret, err);
}

static int rootfs_read(struct conn *conn, const char *path, size_t max, char **ret_data,
                       size_t *ret_len, struct rt_error *err)
{
	return conn_fs_read(&rootfs_of(conn)->fs, path, max, ret_data, ret_len, err);
}

static int rootfs_write(struct conn *conn, const char *path, const void *data, size_t len,
                        const struct conn_attrs *attrs, struct rt_error *err)
{
	rootfs_of(conn)->wrote = true;
	return conn_fs_write(&rootfs_of(conn)->fs, path, data, len, attrs, err);
}

static int rootfs_stat(struct conn *conn, const char *path, bool follow, struct conn_stat *ret,
                       struct rt_error *err)
{
	return conn_fs_stat(&rootfs_of(conn)->fs, path, follow, ret, err);
}

static int rootfs_mkdir(struct conn *conn, const char *path, const struct conn_attrs *attrs,
                        struct rt_error *err)
{
	rootfs_of(conn)->wrote = true;
	return conn_fs_mkdir(&rootfs_of(conn)->fs, path, attrs, err);
}

static int rootfs_chmod(struct conn *conn, const char *path, mode_t mode, struct rt_error *err)
{
	rootfs_of(conn)->wrote = true;
	return conn_fs_chmod(&rootfs_of(conn)->fs, path, mode, err);
}

static int rootfs_chown(struct conn *conn, const char *path, uid_t uid, gid_t gid,
                        struct rt_error *err)
{
	rootfs_of(conn)->wrote = true;
	return conn_fs_chown(&rootfs_of(conn)->fs, path, uid, gid, err);
}

static int rootfs_symlink(struct conn *conn, const char *target, const char *path,
                          struct rt_error *err)
{
	rootfs_of(conn)->wrote = true;
	return conn_fs_symlink(&rootfs_of(conn)->fs, target, path, err);
}

static int rootfs_readlink(struct conn *conn, const char *path, char **ret_target,
                           struct rt_error *err)
{
	return conn_fs_readlink(&rootfs_of(conn)->fs, path, ret_target, err);
}

static int rootfs_remove(struct conn *conn, const char *path, bool recursive, struct rt_error *err)
{
	rootfs_of(conn)->wrote = true;
	return conn_fs_remove(&rootfs_of(conn)->fs, path, recursive, err);
}

static int rootfs_touch(struct conn *conn, const char *path, const struct conn_attrs *attrs,
                        struct rt_error *err)
{
	rootfs_of(conn)->wrote = true;
	return conn_fs_touch(&rootfs_of(conn)->fs, path, attrs, err);
}

static void rootfs_close(struct conn *conn)
{
	struct conn_rootfs *c = rootfs_of(conn);
	/* first the namespace (its processes and mounts), then what the first command added */
	if (c->ns)
		c->ns = ns_holder_stop(c->ns);
	take_back(c);
	/* what this connection wrote reaches the disk; an apply that changed nothing (what
	   open added, close took away) has nothing to sync */
	if (c->fs.base >= 0 && c->wrote)
		(void)syncfs(c->fs.base);
	conn_fs_release(&c->fs);
	free(c->root);
	free(c);
}

static const struct conn_ops rootfs_ops = {
    .name = "rootfs",
    .exec = rootfs_exec,
    .read = rootfs_read,
    .write = rootfs_write,
    .stat = rootfs_stat,
    .mkdir = rootfs_mkdir,
    .chmod = rootfs_chmod,
    .chown = rootfs_chown,
    .symlink = rootfs_symlink,
    .readlink = rootfs_readlink,
    .remove = rootfs_remove,
    .touch = rootfs_touch,
    .close = rootfs_close,
};

int conn_rootfs_open(const char *rootfs_dir, struct conn **ret, struct rt_error *err)
{
	char *root = realpath(rootfs_dir, NULL);
	if (!root)
		return rt_error_errno(err, -errno, "cannot use '%s' as a rootfs", rootfs_dir);
	if (strcmp(root, "/") == 0) {
		free(root);
		return rt_error_set(err, -EINVAL,
		                    "refusing to use the build machine's / as a rootfs");
	}
	struct conn_rootfs *c = calloc(1, sizeof(*c));
	if (!c) {
		free(root);
		return rt_error_errno(err, -ENOMEM, "opening rootfs '%s'", rootfs_dir);
	}
	c->conn.ops = &rootfs_ops;
	c->root = root;
	int r = conn_fs_init(&c->fs, root, true, err);
	c->fs.sync_at_close = true;
	if (r < 0) {
		free(root);
		free(c);
		return r;
	}
	struct ns_opts opts = {.root = root};
	if ((r = prepare(c, &opts, false, err)) < 0) {
		rootfs_close(&c->conn);
		return r;
	}
	*ret = &c->conn;
	return 0;
}
