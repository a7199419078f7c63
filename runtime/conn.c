/*
 * conn: what every connection shares (see conn.h and conn_int.h): releasing a
 * connection and an exec result, the clean environment of a command, starting
 * one command (rt_start_child: a vfork-like clone, cheap even from a big kiln, that
 * dies with its parent),
 * and kiln's side of a running command: one poll loop that writes its stdin
 * and reads its stdout and stderr together, so neither side can fill a pipe
 * and wait for the other. Each output keeps its first half as it came and a
 * ring of its latest bytes: memory stays bounded by EXEC_OUTPUT_MAX however
 * much a command prints.
 */
#include "conn_int.h"

#include "atomic.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

struct conn *conn_free(struct conn *c)
{
	if (c)
		c->ops->close(c);
	return NULL;
}

void exec_res_release(struct exec_res *res)
{
	if (!res)
		return;
	free(res->out);
	free(res->err);
	res->out = res->err = NULL;
	res->out_len = res->err_len = 0;
}

uint64_t conn_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

int conn_ms_left(uint64_t deadline_ns)
{
	if (!deadline_ns)
		return -1;
	uint64_t now = conn_now_ns();
	if (now >= deadline_ns)
		return 0;
	uint64_t ms = (deadline_ns - now + 999999) / 1000000;
	return ms > INT_MAX ? INT_MAX : (int)ms;
}

/* ---- environment ----------------------------------------------------------------------- */

static const char *const default_env[] = {
    "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    "HOME=/root",
    "LANG=C.UTF-8",
    "DEBIAN_FRONTEND=noninteractive",
};

#define ENV_MAX 4096 /* entries a request may add */

char **conn_env_free(char **envp)
{
	if (envp) {
		for (char **e = envp; *e; e++)
			free(*e);
		free(envp);
	}
	return NULL;
}

int conn_env_build(const char *const *env, char ***ret_envp, struct rt_error *err)
{
	size_t nd = sizeof(default_env) / sizeof(default_env[0]);
	size_t ne = 0;
	while (env && env[ne])
		ne++;
	if (ne > ENV_MAX)
		return rt_error_set(err, -E2BIG, "too many environment variables (%zu, at most %d)",
		                    ne, ENV_MAX);
	char **envp = calloc(nd + ne + 1, sizeof(*envp));
	if (!envp)
		return rt_error_errno(err, -ENOMEM, "building a command's environment");
	size_t n = 0;
	int r = 0;
	for (size_t i = 0; i < nd && r == 0; i++)
		if (!(envp[n++] = strdup(default_env[i])))
			r = -ENOMEM;
	for (size_t i = 0; i < ne && r == 0; i++) {
		const char *eq = strchr(env[i], '=');
		if (!eq || eq == env[i]) {
			r = rt_error_set(err, -EINVAL, "environment entry '%s' is not NAME=VALUE",
			                 env[i]);
			break;
		}
		size_t namelen = (size_t)(eq - env[i]) + 1;
		char *copy = strdup(env[i]);
		if (!copy) {
			r = -ENOMEM;
			break;
		}
		size_t j = 0;
		while (j < n && strncmp(envp[j], env[i], namelen) != 0)
			j++;
		if (j < n)
			free(envp[j]);
		else
			n++;
		envp[j] = copy;
	}
	if (r == -ENOMEM)
		rt_error_errno(err, r, "building a command's environment");
	if (r < 0) {
		conn_env_free(envp);
		return r;
	}
	*ret_envp = envp;
	return 0;
}

/* ---- starting a command ------------------------------------------------------------------ */

/* Write a line about a command that did not start to its stderr; returns status. */
static int not_started(int fd, int status, const char *name, const char *why)
{
	char line[PATH_MAX + 256];
	int n = snprintf(line, sizeof(line), "kiln: %s: %s\n", name, why);
	if (n > (int)sizeof(line) - 1)
		n = (int)sizeof(line) - 1;
	(void)fd_write_all(fd, line, (size_t)n);
	return status;
}

/* An executable regular file at p (relative to cwd_fd): 0, or -errno. */
static int executable(int cwd_fd, const char *p)
{
	struct stat st;
	if (fstatat(cwd_fd, p, &st, 0) < 0)
		return -errno;
	if (!S_ISREG(st.st_mode))
		return S_ISDIR(st.st_mode) ? -EISDIR : -EACCES;
	if (faccessat(cwd_fd, p, X_OK, AT_EACCESS) < 0)
		return -errno;
	return 0;
}

/* Look argv[0] up in PATH: 0 and the path in out, or the status (message written to fd). */
static int find_command(int cwd_fd, const char *name, char *const *envp, int fd, char *out,
                        size_t outsize)
{
	if (!*name)
		return not_started(fd, CONN_STATUS_NOT_FOUND, "''", "command not found");
	if (strlen(name) >= outsize)
		return not_started(fd, CONN_STATUS_NOT_FOUND, "(command)", "name too long");
	if (strchr(name, '/')) {
		int r = executable(cwd_fd, name);
		if (r == -ENOENT || r == -ENOTDIR)
			return not_started(fd, CONN_STATUS_NOT_FOUND, name, strerror(-r));
		if (r < 0)
			return not_started(fd, CONN_STATUS_NOEXEC, name, strerror(-r));
		strcpy(out, name);
		return 0;
	}
	const char *path = default_env[0] + 5;
	for (char *const *e = envp; *e; e++)
		if (strncmp(*e, "PATH=", 5) == 0)
			path = *e + 5;
	int denied = 0;
	for (const char *p = path;; p++) {
		const char *end = strchrnul(p, ':');
		size_t dl = (size_t)(end - p);
		if (dl == 0) {
			if (strlen(name) + 1 < outsize)
				strcpy(out, name);
		} else if (dl + 1 + strlen(name) < outsize) {
			memcpy(out, p, dl);
			out[dl] = '/';
			strcpy(out + dl + 1, name);
		} else {
			out[0] = 0;
		}
		if (out[0]) {
			int r = executable(cwd_fd, out);
			if (r == 0)
				return 0;
			if (r == -EACCES || r == -EPERM)
				denied = r;
		}
		if (!*end)
			break;
		p = end;
	}
	if (denied)
		return not_started(fd, CONN_STATUS_NOEXEC, name, strerror(-denied));
	return not_started(fd, CONN_STATUS_NOT_FOUND, name, "command not found");
}

int conn_spawn(int cwd_fd, const char *const *argv, char *const *envp, const int fds[3],
               pid_t *ret_pid)
{
	/* Make every fd handed over >= 3, so the dup2s below cannot overwrite one another. */
	int fd[3] = {-1, -1, -1};
	int r = 0;
	for (int i = 0; i < 3; i++) {
		fd[i] = fds[i] >= 3 ? fds[i] : fcntl(fds[i], F_DUPFD_CLOEXEC, 3);
		if (fd[i] < 0) {
			r = -errno;
			goto out;
		}
	}

	char path[PATH_MAX];
	r = find_command(cwd_fd, argv[0], envp, fd[2], path, sizeof(path));
	if (r != 0)
		goto out;

	struct rt_child child = {.path = path,
	                         .argv = argv,
	                         .envp = envp,
	                         .cwd_fd = cwd_fd,
	                         .fd = {fd[0], fd[1], fd[2]},
	                         .new_session = true};
	pid_t pid = -1;
	int e = rt_start_child(&child, &pid);
	if (e == 0) {
		*ret_pid = pid;
		r = 0;
	} else if (e == ENOMEM || e == EAGAIN) {
		r = -e;
	} else if (e == ENOENT) {
		r = not_started(fd[2], CONN_STATUS_NOT_FOUND, path,
		                "No such file or directory (a missing interpreter or loader?)");
	} else {
		r = not_started(fd[2], CONN_STATUS_NOEXEC, path, strerror(e));
	}
out:
	for (int i = 0; i < 3; i++)
		if (fd[i] >= 0 && fd[i] != fds[i])
			close(fd[i]);
	return r;
}

int conn_status_of(const siginfo_t *si)
{
	if (si->si_code == CLD_EXITED)
		return si->si_status & 0xff;
	return 128 + si->si_status;
}

/* ---- output capture ------------------------------------------------------------------------ */

#define HEAD_MAX (EXEC_OUTPUT_MAX / 2)
#define RING_MAX (EXEC_OUTPUT_MAX - HEAD_MAX)

int conn_capture_add(struct conn_capture *c, const char *p, size_t n)
{
	if (c->on_output && n)
		c->on_output(c->on_output_data, c->stream, p, n);
	c->total += n;
	if (c->head_len < HEAD_MAX) {
		size_t k = n < HEAD_MAX - c->head_len ? n : HEAD_MAX - c->head_len;
		if (c->head_len + k > c->head_cap) {
			size_t cap = c->head_cap ? c->head_cap : 4096;
			while (cap < c->head_len + k)
				cap *= 2;
			if (cap > HEAD_MAX)
				cap = HEAD_MAX;
			char *h = realloc(c->head, cap);
			if (!h)
				return -ENOMEM;
			c->head = h;
			c->head_cap = cap;
		}
		memcpy(c->head + c->head_len, p, k);
		c->head_len += k;
		p += k;
		n -= k;
	}
	if (!n)
		return 0;
	if (!c->ring && !(c->ring = malloc(RING_MAX)))
		return -ENOMEM;
	if (n > RING_MAX) {
		p += n - RING_MAX;
		n = RING_MAX;
	}
	while (n) {
		size_t k = RING_MAX - c->ring_pos;
		if (k > n)
			k = n;
		memcpy(c->ring + c->ring_pos, p, k);
		c->ring_pos = (c->ring_pos + k) % RING_MAX;
		c->ring_len = c->ring_len + k > RING_MAX ? RING_MAX : c->ring_len + k;
		p += k;
		n -= k;
	}
	return 0;
}

/* The stream as one NUL-terminated buffer: all of it, or head, a marker line and tail. */
void conn_capture_stream(struct conn_capture *c, const struct exec_req *req, int stream)
{
	c->on_output = req->on_output;
	c->on_output_data = req->on_output_data;
	c->stream = stream;
}

char *conn_capture_take(struct conn_capture *c, size_t *ret_len)
{
	char marker[96] = "";
	size_t head = c->head_len, mlen = 0;
	if (c->total > EXEC_OUTPUT_MAX) {
		/* The marker takes its room from the head, so the whole stays within the limit;
		   its length depends on the count it names, hence the few rounds. */
		for (int i = 0; i < 3; i++) {
			unsigned long long dropped = c->total - (HEAD_MAX - mlen) - c->ring_len;
			mlen =
			    (size_t)snprintf(marker, sizeof(marker),
			                     "\n[kiln: %llu bytes of output dropped]\n", dropped);
		}
		head = HEAD_MAX - mlen;
	}
	char *buf = malloc(head + mlen + c->ring_len + 1);
	if (!buf)
		return NULL;
	size_t n = 0;
	if (head)
		memcpy(buf, c->head, head);
	n += head;
	memcpy(buf + n, marker, mlen);
	n += mlen;
	if (c->ring_len < RING_MAX) {
		if (c->ring_len)
			memcpy(buf + n, c->ring, c->ring_len);
		n += c->ring_len;
	} else {
		memcpy(buf + n, c->ring + c->ring_pos, RING_MAX - c->ring_pos);
		n += RING_MAX - c->ring_pos;
		memcpy(buf + n, c->ring, c->ring_pos);
		n += c->ring_pos;
	}
	buf[n] = 0;
	*ret_len = n;
	return buf;
}

void conn_capture_release(struct conn_capture *c)
{
	free(c->head);
	free(c->ring);
	memset(c, 0, sizeof(*c));
}

/* ---- relay ----------------------------------------------------------------------------------- */

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

static int set_nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);
	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
		return -errno;
	return 0;
}

int conn_relay_start(struct conn_relay *r, const struct exec_req *req, int pipes[3],
                     struct rt_error *err)
{
	int p[3][2] = {{-1, -1}, {-1, -1}, {-1, -1}};
	memset(r, 0, sizeof(*r));
	r->in_fd = r->out_fd = r->err_fd = -1;
	conn_capture_stream(&r->out, req, 1);
	conn_capture_stream(&r->err, req, 2);
	int rc = 0;
	for (int i = 0; i < 3; i++) {
		if (i == 0 && !req->input)
			continue;
		if (pipe2(p[i], O_CLOEXEC) < 0) {
			rc = rt_error_errno(err, -errno, "creating a pipe for a command");
			goto fail;
		}
		int ours = i == 0 ? p[i][1] : p[i][0];
		if ((rc = set_nonblock(ours)) < 0) {
			rt_error_errno(err, rc, "creating a pipe for a command");
			goto fail;
		}
	}
	r->in_fd = p[0][1];
	r->out_fd = p[1][0];
	r->err_fd = p[2][0];
	pipes[0] = p[0][0];
	pipes[1] = p[1][1];
	pipes[2] = p[2][1];
	r->in = req->input;
	r->in_len = req->input_len;
	if (r->in_fd >= 0 && r->in_len == 0)
		close_fd(&r->in_fd);

	sigset_t block;
	sigemptyset(&block);
	sigaddset(&block, SIGPIPE);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	sigprocmask(SIG_BLOCK, &block, &r->oldmask);
	return 0;
fail:
	for (int i = 0; i < 3; i++) {
		close_fd(&p[i][0]);
		close_fd(&p[i][1]);
	}
	return rc;
}

/* Read what fd has now into c (at most budget bytes); closes fd at EOF. */
static void pump_out(int *fd, struct conn_capture *c, size_t budget)
{
	char buf[65536];
	while (*fd >= 0 && budget) {
		ssize_t n = read(*fd, buf, sizeof(buf) < budget ? sizeof(buf) : budget);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return;
		if (n <= 0) {
			close_fd(fd);
			return;
		}
		if (conn_capture_add(c, buf, (size_t)n) < 0) {
			close_fd(fd); /* out of memory: stop reading; the command gets EPIPE */
			return;
		}
		budget -= (size_t)n;
	}
}

static void pump_in(struct conn_relay *r)
{
	while (r->in_fd >= 0 && r->in_off < r->in_len) {
		size_t k = r->in_len - r->in_off;
		if (k > 65536)
			k = 65536;
		ssize_t n = write(r->in_fd, r->in + r->in_off, k);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return;
		if (n <= 0) { /* EPIPE: the command does not read its input; not an error */
			close_fd(&r->in_fd);
			return;
		}
		r->in_off += (size_t)n;
	}
	if (r->in_off >= r->in_len)
		close_fd(&r->in_fd);
}

/* kiln's interruption, reported once per command */
static bool interrupted(struct conn_relay *r)
{
	if (!rt_interrupted || r->interrupted)
		return false;
	r->interrupted = true;
	return true;
}

int conn_relay_poll(struct conn_relay *r, int ctl_fd, int timeout_ms)
{
	if (interrupted(r))
		return -EINTR;
	struct pollfd pfd[4];
	int n = 0, ictl = -1, iout = -1, ierr = -1, iin = -1;
	if (ctl_fd >= 0) {
		ictl = n;
		pfd[n++] = (struct pollfd){.fd = ctl_fd, .events = POLLIN};
	}
	if (r->out_fd >= 0) {
		iout = n;
		pfd[n++] = (struct pollfd){.fd = r->out_fd, .events = POLLIN};
	}
	if (r->err_fd >= 0) {
		ierr = n;
		pfd[n++] = (struct pollfd){.fd = r->err_fd, .events = POLLIN};
	}
	if (r->in_fd >= 0) {
		iin = n;
		pfd[n++] = (struct pollfd){.fd = r->in_fd, .events = POLLOUT};
	}
	struct timespec ts, *tsp = NULL;
	if (timeout_ms >= 0) {
		ts.tv_sec = timeout_ms / 1000;
		ts.tv_nsec = (long)(timeout_ms % 1000) * 1000000L;
		tsp = &ts;
	}
	/* While waiting, SIGINT and SIGTERM come through (as before the command); SIGPIPE
	   stays blocked: a write to a closed stdin is an EPIPE, not kiln's death. */
	sigset_t waitmask = r->oldmask;
	sigaddset(&waitmask, SIGPIPE);
	int k = ppoll(pfd, (nfds_t)n, tsp, &waitmask);
	if (k < 0) {
		if (errno != EINTR)
			return -errno;
		return interrupted(r) ? -EINTR : 0;
	}
	if (iout >= 0 && pfd[iout].revents)
		pump_out(&r->out_fd, &r->out, 1u << 20);
	if (ierr >= 0 && pfd[ierr].revents)
		pump_out(&r->err_fd, &r->err, 1u << 20);
	if (iin >= 0 && pfd[iin].revents)
		pump_in(r);
	return ictl >= 0 ? pfd[ictl].revents : 0;
}

void conn_relay_drain(struct conn_relay *r)
{
	/* Only what is there now: processes the command left behind may keep the pipes open
	   and keep writing; the budget bounds that. */
	pump_out(&r->out_fd, &r->out, 4 * (size_t)EXEC_OUTPUT_MAX);
	pump_out(&r->err_fd, &r->err, 4 * (size_t)EXEC_OUTPUT_MAX);
	close_fd(&r->out_fd);
	close_fd(&r->err_fd);
	close_fd(&r->in_fd);
}

void conn_relay_finish(struct conn_relay *r, int status, struct exec_res *res)
{
	memset(res, 0, sizeof(*res));
	res->status = status;
	res->out = conn_capture_take(&r->out, &res->out_len);
	res->err = conn_capture_take(&r->err, &res->err_len);
	if (!res->out || !res->err) {
		/* keep the promise of NUL-terminated strings even when memory ran out */
		free(res->out);
		free(res->err);
		res->out = calloc(1, 1);
		res->err = calloc(1, 1);
		res->out_len = res->err_len = 0;
	}
}

void conn_relay_release(struct conn_relay *r)
{
	close_fd(&r->in_fd);
	close_fd(&r->out_fd);
	close_fd(&r->err_fd);
	conn_capture_release(&r->out);
	conn_capture_release(&r->err);
	/* A SIGPIPE from a write to a closed stdin is pending: take it before unblocking. */
	sigset_t pipe;
	sigemptyset(&pipe);
	sigaddset(&pipe, SIGPIPE);
	struct timespec zero = {0, 0};
	while (sigtimedwait(&pipe, NULL, &zero) == SIGPIPE)
		;
	sigprocmask(SIG_SETMASK, &r->oldmask, NULL);
}
