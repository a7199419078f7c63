/*
 * conn_local: the build machine itself as a target (the 'local' module, what
 * Packer calls shell-local). Commands run directly — no namespace, no chroot —
 * in the connection's directory (or req->cwd, relative to it), with the same
 * clean environment and result as in a rootfs: kiln spawns them itself
 * (conn_spawn, in a new session) and waits on a pidfd beside their pipes; a guard
 * process kills the command's process group if kiln dies first.
 * File operations take host paths, relative ones against that directory.
 */
#include "conn_int.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

struct conn_local {
	struct conn conn;
	struct conn_fs fs; /* the working directory; lookups unrestricted */
};

static struct conn_local *local_of(struct conn *c)
{
	return (struct conn_local *)c;
}

static void kill_group(pid_t pid)
{
	kill(-pid, SIGKILL);
	kill(pid, SIGKILL);
}

/* A guard of the command's process group (its pid: conn_spawn starts a session): a small
   fork of kiln, waiting, that kills the group when kiln dies first (PR_SET_PDEATHSIG sends
   it SIGTERM), since the command's own PR_SET_PDEATHSIG reaches only the command, not what
   it started (a shell's children). Killed itself once the command is reaped (stop_guard);
   -1 when it could not start. Only system calls in the child: kiln may have threads. */
static pid_t start_guard(pid_t group)
{
	pid_t parent = getpid();
	sigset_t term, old;
	sigemptyset(&term);
	sigaddset(&term, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &term, &old);
	pid_t g = fork();
	if (g == 0) {
		struct sigaction ign = {.sa_handler = SIG_IGN};
		sigaction(SIGINT, &ign, NULL); /* a ^C is kiln's to handle */
		sigaction(SIGQUIT, &ign, NULL);
		close_range(0, ~0u, 0); /* nothing of kiln's held open, the command's pipes least */
		int sig;
		if (prctl(PR_SET_PDEATHSIG, SIGTERM) == 0 && getppid() == parent)
			sigwait(&term, &sig);
		kill(-group, SIGKILL);
		_exit(0);
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return g;
}

static void stop_guard(pid_t g)
{
	if (g <= 0)
		return;
	kill(g, SIGKILL);
	while (waitpid(g, NULL, 0) < 0 && errno == EINTR)
		;
}

/* Start the command: its status when it could not (why is on its stderr), 0 and *ret_pid
   when it runs, or -errno. */
static int start(struct conn_local *c, const struct exec_req *req, char *const *envp,
                 const int pipes[3], pid_t *ret_pid)
{
	int null = -1, r;
	int cwd = conn_fs_open(&c->fs, req->cwd ? req->cwd : ".", O_PATH | O_DIRECTORY, 0);
	if (cwd < 0) {
		dprintf(pipes[2], "kiln: cannot enter directory '%s': %s\n",
		        req->cwd ? req->cwd : ".", strerror(-cwd));
		return CONN_STATUS_NOCWD;
	}
	if (pipes[0] < 0 && (null = open("/dev/null", O_RDONLY | O_CLOEXEC)) < 0) {
		r = -errno;
		close(cwd);
		return r;
	}
	int io[3] = {pipes[0] >= 0 ? pipes[0] : null, pipes[1], pipes[2]};
	r = conn_spawn(cwd, req->argv, envp, io, ret_pid);
	if (null >= 0)
		close(null);
	close(cwd);
	return r;
}

static int local_exec(struct conn *conn, const struct exec_req *req, struct exec_res *ret,
                      struct rt_error *err)
{
	struct conn_local *c = local_of(conn);
	if (!req->argv || !req->argv[0])
		return rt_error_set(err, -EINVAL, "no command to run");
	if (rt_interrupted)
		return rt_error_set(err, -EINTR, "interrupted");
	char **envp = NULL;
	int r = conn_env_build(req->env, &envp, err);
	if (r < 0)
		return r;
	struct conn_relay rl;
	int pipes[3];
	if ((r = conn_relay_start(&rl, req, pipes, err)) < 0) {
		conn_env_free(envp);
		return r;
	}
	pid_t pid = -1;
	int status = start(c, req, envp, pipes, &pid);
	for (int i = 0; i < 3; i++)
		if (pipes[i] >= 0)
			close(pipes[i]);
	envp = conn_env_free(envp);
	if (status < 0) {
		r = rt_error_errno(err, status, "cannot start '%s'", req->argv[0]);
		goto out;
	}

	bool cancelled = false;
	if (status == 0) {
		pid_t guard = start_guard(pid);
		int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
		if (pidfd < 0) {
			r = rt_error_errno(err, -errno, "cannot wait for '%s'", req->argv[0]);
			kill_group(pid);
			while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
				;
			stop_guard(guard);
			goto out;
		}
		uint64_t deadline =
		    req->timeout_s > 0 ? conn_now_ns() + (uint64_t)req->timeout_s * 1000000000u : 0;
		bool killed = false;
		for (;;) {
			int rev = conn_relay_poll(&rl, pidfd, killed ? -1 : conn_ms_left(deadline));
			if (rev == -EINTR) {
				cancelled = killed = true;
				kill_group(pid);
				continue;
			}
			if (rev < 0) {
				kill_group(pid); /* and reap it below */
				r = rt_error_errno(err, rev, "waiting for '%s'", req->argv[0]);
				break;
			}
			if (rev > 0)
				break;
			if (!killed && deadline && conn_ms_left(deadline) == 0) {
				kill_group(pid);
				killed = true;
			}
		}
		close(pidfd);
		siginfo_t si = {0};
		while (waitid(P_PID, (id_t)pid, &si, WEXITED) < 0 && errno == EINTR)
			;
		stop_guard(guard);
		status = conn_status_of(&si);
		if (r < 0)
			goto out;
	}
	if (cancelled) {
		r = rt_error_set(err, -EINTR, "interrupted: command '%s' was killed", req->argv[0]);
		goto out;
	}
	conn_relay_drain(&rl);
	conn_relay_finish(&rl, status, ret);
	r = 0;
out:
	conn_relay_release(&rl);
	return r;
}

static int local_read(struct conn *conn, const char *path, size_t max, char **ret_data,
                      size_t *ret_len, struct rt_error *err)
{
	return conn_fs_read(&local_of(conn)->fs, path, max, ret_data, ret_len, err);
}

static int local_write(struct conn *conn, const char *path, const void *data, size_t len,
                       const struct conn_attrs *attrs, struct rt_error *err)
{
	return conn_fs_write(&local_of(conn)->fs, path, data, len, attrs, err);
}

static int local_stat(struct conn *conn, const char *path, bool follow, struct conn_stat *ret,
                      struct rt_error *err)
{
	return conn_fs_stat(&local_of(conn)->fs, path, follow, ret, err);
}

static int local_mkdir(struct conn *conn, const char *path, const struct conn_attrs *attrs,
                       struct rt_error *err)
{
	return conn_fs_mkdir(&local_of(conn)->fs, path, attrs, err);
}

static int local_chmod(struct conn *conn, const char *path, mode_t mode, struct rt_error *err)
{
	return conn_fs_chmod(&local_of(conn)->fs, path, mode, err);
}

static int local_chown(struct conn *conn, const char *path, uid_t uid, gid_t gid,
                       struct rt_error *err)
{
	return conn_fs_chown(&local_of(conn)->fs, path, uid, gid, err);
}

static int local_symlink(struct conn *conn, const char *target, const char *path,
                         struct rt_error *err)
{
	return conn_fs_symlink(&local_of(conn)->fs, target, path, err);
}

static int local_readlink(struct conn *conn, const char *path, char **ret_target,
                          struct rt_error *err)
{
	return conn_fs_readlink(&local_of(conn)->fs, path, ret_target, err);
}

static int local_remove(struct conn *conn, const char *path, bool recursive, struct rt_error *err)
{
	return conn_fs_remove(&local_of(conn)->fs, path, recursive, err);
}

static int local_touch(struct conn *conn, const char *path, const struct conn_attrs *attrs,
                       struct rt_error *err)
{
	return conn_fs_touch(&local_of(conn)->fs, path, attrs, err);
}

static void local_close(struct conn *conn)
{
	struct conn_local *c = local_of(conn);
	conn_fs_release(&c->fs);
	free(c);
}

static const struct conn_ops local_ops = {
    .name = "local",
    .exec = local_exec,
    .read = local_read,
    .write = local_write,
    .stat = local_stat,
    .mkdir = local_mkdir,
    .chmod = local_chmod,
    .chown = local_chown,
    .symlink = local_symlink,
    .readlink = local_readlink,
    .remove = local_remove,
    .touch = local_touch,
    .close = local_close,
};

int conn_local_open(const char *cwd, struct conn **ret, struct rt_error *err)
{
	struct conn_local *c = calloc(1, sizeof(*c));
	if (!c)
		return rt_error_errno(err, -ENOMEM, "opening the build machine as a target");
	c->conn.ops = &local_ops;
	int r = conn_fs_init(&c->fs, cwd && *cwd ? cwd : ".", false, err);
	if (r < 0) {
		free(c);
		return r;
	}
	*ret = &c->conn;
	return 0;
}
