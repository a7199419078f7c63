/*
 * conn_int: what the connections share inside runtime/ (conn.c, conn_rootfs.c,
 * conn_local.c, ns.c). Not for modules: they see only conn.h.
 *
 * - conn_fs_*: the file primitives of conn.h on a directory fd. A rootfs
 *   resolves every path with openat2(RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS)
 *   from the root's O_PATH fd, so a symlink or ".." in the image can never
 *   reach the host; the build machine (conn_local) resolves from its cwd with
 *   no restriction. Whatever creates or replaces a name works on the parent
 *   directory's fd and the final component, never following a final symlink.
 * - conn_env_*, conn_spawn: one command in a clean environment, in its own
 *   session, with exactly fds 0-2 open (the rootfs holder and conn_local).
 * - conn_relay_*: kiln's side of a running command: write its stdin, read its
 *   stdout and stderr at once (no deadlock on big outputs), keep the head and
 *   the tail of each within EXEC_OUTPUT_MAX.
 */
#ifndef KILN_CONN_INT_H
#define KILN_CONN_INT_H

#include "conn.h"

#include <signal.h>
#include <stdint.h>

/* ---- file operations on a directory fd ------------------------------------------------- */

struct conn_fs {
	int base;           /* O_PATH directory fd that paths resolve from */
	uint64_t resolve;   /* openat2 RESOLVE_* flags for every lookup (0: none) */
	bool sync_at_close; /* no fsync per file: one syncfs when the connection closes */
};

/* Open base (O_PATH, a directory) for fs; in_root: confine lookups to it. Checks that the
   kernel has openat2 when in_root. */
int conn_fs_init(struct conn_fs *fs, const char *dir, bool in_root, struct rt_error *err);
void conn_fs_release(struct conn_fs *fs);

/* openat2(fs->base, path, flags | O_CLOEXEC, mode, fs->resolve): an fd or -errno. */
int conn_fs_open(const struct conn_fs *fs, const char *path, int flags, mode_t mode);

/* The primitives of struct conn_ops, with the same meaning. */
int conn_fs_read(const struct conn_fs *fs, const char *path, size_t max, char **ret_data,
                 size_t *ret_len, struct rt_error *err);
int conn_fs_write(const struct conn_fs *fs, const char *path, const void *data, size_t len,
                  const struct conn_attrs *attrs, struct rt_error *err);
int conn_fs_stat(const struct conn_fs *fs, const char *path, bool follow, struct conn_stat *ret,
                 struct rt_error *err);
int conn_fs_mkdir(const struct conn_fs *fs, const char *path, const struct conn_attrs *attrs,
                  struct rt_error *err);
int conn_fs_chmod(const struct conn_fs *fs, const char *path, mode_t mode, struct rt_error *err);
int conn_fs_chown(const struct conn_fs *fs, const char *path, uid_t uid, gid_t gid,
                  struct rt_error *err);
int conn_fs_symlink(const struct conn_fs *fs, const char *target, const char *path,
                    struct rt_error *err);
int conn_fs_readlink(const struct conn_fs *fs, const char *path, char **ret_target,
                     struct rt_error *err);
int conn_fs_remove(const struct conn_fs *fs, const char *path, bool recursive,
                   struct rt_error *err);
int conn_fs_touch(const struct conn_fs *fs, const char *path, const struct conn_attrs *attrs,
                  struct rt_error *err);
/* Set a path's access and modification times (a final symlink is followed). */
int conn_fs_utimes(const struct conn_fs *fs, const char *path, const struct timespec times[2],
                   struct rt_error *err);

/* ---- one command --------------------------------------------------------------------------- */

/* The environment a command gets: PATH, HOME=/root, LANG=C.UTF-8,
   DEBIAN_FRONTEND=noninteractive, then env (a NAME=VALUE replaces the default of the same
   NAME). A NULL-terminated malloc'd vector of malloc'd strings; -EINVAL for an entry
   without '='. */
int conn_env_build(const char *const *env, char ***ret_envp, struct rt_error *err);
char **conn_env_free(char **envp);

/* The exit statuses of a command that could not start; a line on its stderr says why. */
#define CONN_STATUS_NOT_FOUND 127 /* no such command */
#define CONN_STATUS_NOEXEC 126    /* found, but it cannot be executed */
#define CONN_STATUS_NOCWD 125     /* its working directory cannot be entered */

/*
 * Start argv (argv[0] looked up in envp's PATH, relative entries and paths against
 * cwd_fd) in directory cwd_fd, in a new session (so its process group is its pid), with
 * fds[0..2] as its stdin, stdout and stderr and no other fd, every signal at its default.
 * It is killed when the thread that started it ends (PR_SET_PDEATHSIG): kiln's death,
 * however it dies, ends it; start it from a thread that outlives it.
 * Returns 0 and *ret_pid when it started; otherwise a status above (after writing why to
 * fds[2]), or a negative errno when kiln itself failed (-ENOMEM, -EAGAIN).
 */
int conn_spawn(int cwd_fd, const char *const *argv, char *const *envp, const int fds[3],
               pid_t *ret_pid);

/* The exit status a waitid() result stands for: 0-255, or 128 + the signal. */
int conn_status_of(const siginfo_t *si);

/* ---- kiln's side of a running command ---------------------------------------------------- */

/* Output of one stream: the first half kept as it came, then a ring of the latest bytes. */
struct conn_capture {
	char *head;
	size_t head_len, head_cap;
	char *ring;
	size_t ring_len; /* bytes in ring (up to its size) */
	size_t ring_pos; /* next byte to write */
	unsigned long long total;
	/* exec_req's on_output, called with every piece added (stream 1 or 2), or NULL */
	void (*on_output)(void *data, int stream, const char *p, size_t n);
	void *on_output_data;
	int stream;
};

/* Add n bytes of a stream; take it as one NUL-terminated malloc'd buffer (the dropped middle
   marked); release it. Connections that do not relay through pipes (conn_ssh) use these. */
int conn_capture_add(struct conn_capture *c, const char *p, size_t n);
char *conn_capture_take(struct conn_capture *c, size_t *ret_len);
/* Pass what is added on to req's on_output as stream (1 stdout, 2 stderr). */
void conn_capture_stream(struct conn_capture *c, const struct exec_req *req, int stream);
void conn_capture_release(struct conn_capture *c);

struct conn_relay {
	int in_fd, out_fd, err_fd; /* kiln's ends, non-blocking; -1 once closed */
	const char *in;
	size_t in_len, in_off;
	struct conn_capture out, err;
	sigset_t oldmask; /* the signal mask before conn_relay_start */
	bool interrupted; /* conn_relay_poll has reported kiln's interruption */
};

/* Make the pipes kiln reads and writes: pipes[0..2] are the command's stdin (read end, or
   -1 when req has no input), stdout and stderr (write ends), to hand over and close.
   Blocks SIGPIPE, SIGINT and SIGTERM until conn_relay_release (they are waited for in
   conn_relay_poll, so an interrupt is seen without a race). */
int conn_relay_start(struct conn_relay *r, const struct exec_req *req, int pipes[3],
                     struct rt_error *err);
/* Wait up to timeout_ms (-1: no limit) for the pipes or ctl_fd, moving what is ready.
   Returns ctl_fd's revents (0 if none), -EINTR the first time it sees kiln interrupted
   (rt_interrupted; later calls wait on, so the caller can stop the command and see it
   end), or another -errno. */
int conn_relay_poll(struct conn_relay *r, int ctl_fd, int timeout_ms);
/* The command has ended: read what is already in its pipes, without waiting for processes
   it left behind. */
void conn_relay_drain(struct conn_relay *r);
/* Move the outputs into res (head and tail, the dropped middle marked) with status. */
void conn_relay_finish(struct conn_relay *r, int status, struct exec_res *res);
void conn_relay_release(struct conn_relay *r);

/* Milliseconds left until deadline (CLOCK_MONOTONIC ns, 0: none): -1 for none, else >= 0. */
int conn_ms_left(uint64_t deadline_ns);
uint64_t conn_now_ns(void);

#endif
