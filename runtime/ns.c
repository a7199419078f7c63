/*
 * ns: the namespace holder of a rootfs connection (see ns.h). Input: a rootfs
 * directory and, per command, argv, environment, working directory, timeout
 * and the command's pipe ends (SCM_RIGHTS); output: its exit status.
 *
 * The protocol, on a SOCK_SEQPACKET socketpair (one record per message):
 *   holder -> kiln  READY | FAILED(code, text)  once, when set up
 *   kiln -> holder  EXEC(header, body start, fds) MORE(body)*  per command
 *   kiln -> holder  CANCEL                      kiln was interrupted
 *   holder -> kiln  DONE(status) | FAILED(code, text)
 * The body is "cwd\0argv[0]\0...\0env[0]\0...\0". The holder serves one
 * command at a time; kiln relays the command's stdin, stdout and stderr itself.
 *
 * Invariant: every mount is made by the holder after it unshared its mount
 * namespace and made the whole tree private, so none can reach kiln's
 * namespace; mount targets are resolved inside the rootfs (after pivot_root,
 * or with openat2(RESOLVE_IN_ROOT) before it), never through the image's
 * symlinks to the host.
 */
#include "ns.h"

#include "conn_int.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

enum {
	NS_READY = 1,
	NS_FAILED,
	NS_EXEC,
	NS_MORE,
	NS_CANCEL,
	NS_DONE,
};

struct ns_msg {
	uint32_t type;
	int32_t code;      /* FAILED: a negative errno */
	int32_t status;    /* DONE: the command's exit status */
	int32_t timeout_s; /* EXEC: 0 for none */
	uint32_t argc, envc;
	uint32_t body_len;  /* EXEC: the whole body, over this record and the MORE ones */
	uint32_t has_stdin; /* EXEC: three fds (stdin, stdout, stderr), else two */
};

#define CHUNK (60 * 1024)           /* body bytes in one record */
#define RECORD_MAX (CHUNK + 1024)   /* the largest record */
#define BODY_MAX (8u * 1024 * 1024) /* argv, environment and cwd together */

struct ns_holder {
	pid_t pid;
	int sock;
	bool dead; /* the holder ended: no more commands */
};

/* ---- messages ---------------------------------------------------------------------------- */

static int send_record(int sock, const struct ns_msg *m, const void *data, size_t len,
                       const int *fds, int nfds)
{
	struct iovec iov[2] = {{(void *)m, sizeof(*m)}, {(void *)data, len}};
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(3 * sizeof(int))];
	} cm;
	struct msghdr mh = {.msg_iov = iov, .msg_iovlen = len ? 2 : 1};
	if (nfds > 0) {
		memset(&cm, 0, sizeof(cm));
		mh.msg_control = cm.buf;
		mh.msg_controllen = CMSG_SPACE((size_t)nfds * sizeof(int));
		struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN((size_t)nfds * sizeof(int));
		memcpy(CMSG_DATA(c), fds, (size_t)nfds * sizeof(int));
	}
	for (;;) {
		ssize_t n = sendmsg(sock, &mh, MSG_NOSIGNAL);
		if (n >= 0)
			return 0;
		if (errno != EINTR)
			return -errno;
	}
}

static int send_simple(int sock, uint32_t type, int code, int status, const char *text)
{
	struct ns_msg m = {.type = type, .code = code, .status = status};
	return send_record(sock, &m, text, text ? strlen(text) : 0, NULL, 0);
}

/* Receive one record into buf (RECORD_MAX bytes): its length (0 at the peer's end), or
   -errno. Passed fds land in fds[] (at most 3, close-on-exec), their count in *nfds. */
static ssize_t recv_record(int sock, char *buf, int fds[3], int *nfds)
{
	struct iovec iov = {buf, RECORD_MAX};
	union {
		struct cmsghdr h;
		char buf[CMSG_SPACE(4 * sizeof(int))];
	} cm;
	struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};
	if (fds) {
		mh.msg_control = cm.buf;
		mh.msg_controllen = sizeof(cm.buf);
		*nfds = 0;
	}
	ssize_t n;
	do
		n = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	for (struct cmsghdr *c = fds ? CMSG_FIRSTHDR(&mh) : NULL; c; c = CMSG_NXTHDR(&mh, c)) {
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		size_t k = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		int got[4];
		memcpy(got, CMSG_DATA(c), k * sizeof(int));
		for (size_t i = 0; i < k; i++) {
			if (*nfds < 3)
				fds[(*nfds)++] = got[i];
			else
				close(got[i]);
		}
	}
	if (mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC))
		return -EMSGSIZE;
	return n;
}

/* ======================================================================================== */
/* The holder (runs in the new namespaces, as their pid 1)                                    */
/* ======================================================================================== */

static int setup_fail(char *why, size_t size, int code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int setup_fail(char *why, size_t size, int code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(why, size, fmt, ap);
	va_end(ap);
	if (n >= 0 && (size_t)n < size)
		snprintf(why + n, size - (size_t)n, ": %s", strerror(-code));
	return code;
}

#define FAIL(...) return setup_fail(why, size, -errno, __VA_ARGS__)

/* Bind the build machine's resolv.conf, read-only, over the image's (before pivot_root: the
   target is found with RESOLVE_IN_ROOT and named by its fd, so no symlink leads out). */
static int bind_resolv(char *why, size_t size)
{
	struct conn_fs fs = {.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS};
	fs.base = open(".", O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (fs.base < 0)
		FAIL("opening the rootfs");
	char target[64];
	struct stat st;
	int r = 0, t = conn_fs_open(&fs, "etc/resolv.conf", O_PATH, 0);
	if (t < 0 || fstat(t, &st) < 0 || !S_ISREG(st.st_mode))
		goto out; /* a dangling symlink, say: no DNS rather than no build */
	snprintf(target, sizeof(target), "/proc/self/fd/%d", t);
	if (mount("/etc/resolv.conf", target, NULL, MS_BIND, NULL) < 0) {
		r = setup_fail(why, size, -errno, "binding /etc/resolv.conf into the rootfs");
		goto out;
	}
	/* the new mount is on top now: find it again to make it read-only */
	close(t);
	t = conn_fs_open(&fs, "etc/resolv.conf", O_PATH, 0);
	if (t < 0) {
		r = setup_fail(why, size, t, "finding the bound /etc/resolv.conf");
		goto out;
	}
	snprintf(target, sizeof(target), "/proc/self/fd/%d", t);
	if (mount(NULL, target, NULL,
	          MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
		r = setup_fail(why, size, -errno, "making /etc/resolv.conf read-only");
out:
	if (t >= 0)
		close(t);
	close(fs.base);
	return r;
}

static const struct {
	const char *path;
	unsigned major, minor;
} dev_nodes[] = {
    {"/dev/null", 1, 3},   {"/dev/zero", 1, 5},    {"/dev/full", 1, 7},
    {"/dev/random", 1, 8}, {"/dev/urandom", 1, 9}, {"/dev/tty", 5, 0},
};

static const struct {
	const char *target, *path;
} dev_links[] = {
    {"/proc/self/fd", "/dev/fd"},       {"/proc/self/fd/0", "/dev/stdin"},
    {"/proc/self/fd/1", "/dev/stdout"}, {"/proc/self/fd/2", "/dev/stderr"},
    {"pts/ptmx", "/dev/ptmx"},
};

static int setup_dev(char *why, size_t size)
{
	if (mount("tmpfs", "/dev", "tmpfs", MS_NOSUID | MS_NOEXEC | MS_STRICTATIME,
	          "mode=0755,size=65536k") < 0)
		FAIL("mounting a tmpfs on /dev");
	for (size_t i = 0; i < sizeof(dev_nodes) / sizeof(dev_nodes[0]); i++)
		if (mknod(dev_nodes[i].path, S_IFCHR | 0666,
		          makedev(dev_nodes[i].major, dev_nodes[i].minor)) < 0)
			FAIL("creating %s", dev_nodes[i].path);
	if (mkdir("/dev/pts", 0755) < 0)
		FAIL("creating /dev/pts");
	if (mount("devpts", "/dev/pts", "devpts", MS_NOSUID | MS_NOEXEC,
	          "newinstance,ptmxmode=0666,mode=0620") < 0)
		FAIL("mounting devpts on /dev/pts");
	if (mkdir("/dev/shm", 01777) < 0)
		FAIL("creating /dev/shm");
	if (mount("tmpfs", "/dev/shm", "tmpfs", MS_NOSUID | MS_NODEV, "mode=1777") < 0)
		FAIL("mounting a tmpfs on /dev/shm");
	for (size_t i = 0; i < sizeof(dev_links) / sizeof(dev_links[0]); i++)
		if (symlink(dev_links[i].target, dev_links[i].path) < 0)
			FAIL("creating %s", dev_links[i].path);
	return 0;
}

static int setup(const struct ns_opts *o, char *why, size_t size)
{
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		FAIL("making the mount tree private");
	if (mount(o->root, o->root, NULL, MS_BIND | MS_REC, NULL) < 0)
		FAIL("binding %s onto itself", o->root);
	if (chdir(o->root) < 0) /* into the new mount */
		FAIL("entering %s", o->root);
	if (o->bind_resolv) {
		int r = bind_resolv(why, size);
		if (r < 0)
			return r;
	}
	/* The rootfs becomes "/" and the build machine's tree is let go; where pivot_root
	   cannot work (a root on initramfs), chroot. From here on every path is inside. */
	if (syscall(SYS_pivot_root, ".", ".") == 0) {
		if (umount2(".", MNT_DETACH) < 0)
			FAIL("detaching the old root");
	} else if (errno != EINVAL || chroot(".") < 0) {
		FAIL("entering %s", o->root);
	}
	if (chdir("/") < 0)
		FAIL("entering the new root");

	umask(0);
	if (mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
		FAIL("mounting proc on /proc");
	if (mount("sysfs", "/sys", "sysfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
		FAIL("mounting sysfs on /sys");
	int r = setup_dev(why, size);
	if (r < 0)
		return r;
	umask(022);

	const char *host = o->hostname ? o->hostname : "kiln";
	if (sethostname(host, strlen(host)) < 0)
		FAIL("setting the hostname");
	return 0;
}

#undef FAIL

/* Signals: none of kiln's handlers (the holder shares no memory with kiln); terminal
   signals ignored (pid 1 ignores them anyway); commands get every signal at its default. */
static void holder_signals(void)
{
	for (int s = 1; s < NSIG; s++) {
		struct sigaction sa;
		if (s == SIGKILL || s == SIGSTOP || sigaction(s, NULL, &sa) < 0)
			continue;
		if (sa.sa_handler != SIG_DFL) {
			sa.sa_handler = SIG_DFL;
			sa.sa_flags = 0;
			sigaction(s, &sa, NULL);
		}
	}
	int ignored[] = {SIGINT, SIGQUIT, SIGHUP, SIGTERM, SIGPIPE, SIGTSTP, SIGTTIN, SIGTTOU};
	for (size_t i = 0; i < sizeof(ignored) / sizeof(ignored[0]); i++)
		signal(ignored[i], SIG_IGN);
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
}

/* Reap what the commands left behind (the holder is their init). */
static void reap_orphans(void)
{
	for (;;) {
		siginfo_t si = {0};
		if (waitid(P_ALL, 0, &si, WEXITED | WNOHANG) < 0 || si.si_pid == 0)
			return;
	}
}

static void kill_group(pid_t pid)
{
	kill(-pid, SIGKILL);
	kill(pid, SIGKILL);
}

/* Wait for pid (timeout_s > 0: at most that long), answering kiln's CANCEL; the status, or
   -1 when kiln is gone (the caller then ends, and the kernel with it every process). */
static int holder_wait(int sock, pid_t pid, int timeout_s, char *rec)
{
	int pfd = (int)syscall(SYS_pidfd_open, pid, 0);
	uint64_t deadline = timeout_s > 0 ? conn_now_ns() + (uint64_t)timeout_s * 1000000000u : 0;
	bool killed = false;
	while (pfd >= 0) {
		struct pollfd p[2] = {{.fd = pfd, .events = POLLIN},
		                      {.fd = sock, .events = POLLIN}};
		int k = poll(p, 2, killed ? -1 : conn_ms_left(deadline));
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			break;
		if (k == 0) { /* timeout */
			kill_group(pid);
			killed = true;
			continue;
		}
		if (p[0].revents)
			break;
		if (p[1].revents) {
			ssize_t n = recv_record(sock, rec, NULL, NULL);
			if (n <= 0) {
				close(pfd);
				return -1;
			}
			if (((struct ns_msg *)rec)->type == NS_CANCEL) {
				kill_group(pid);
				killed = true;
			}
		}
	}
	if (pfd < 0)
		kill_group(pid); /* cannot wait with a timeout: do not wait forever */
	else
		close(pfd);
	siginfo_t si = {0};
	while (waitid(P_PID, (id_t)pid, &si, WEXITED) < 0 && errno == EINTR)
		;
	return conn_status_of(&si);
}

/* Split the body into cwd, argv and envp (pointers into body, in vec). */
static int parse_body(char *body, size_t len, const struct ns_msg *m, const char **ret_cwd,
                      char ***ret_vec)
{
	size_t want = 1 + (size_t)m->argc + m->envc;
	if (m->argc == 0 || m->argc > BODY_MAX / 2 || m->envc > BODY_MAX / 2)
		return -EINVAL;
	char **vec = calloc(want + 2, sizeof(*vec));
	if (!vec)
		return -ENOMEM;
	size_t k = 0;
	for (size_t off = 0; off < len && k < want; k++) {
		char *end = memchr(body + off, 0, len - off);
		if (!end)
			break;
		vec[k + (k > m->argc ? 1 : 0)] = body + off;
		off = (size_t)(end - body) + 1;
	}
	if (k != want) {
		free(vec);
		return -EINVAL;
	}
	/* vec: cwd, argv..., NULL, env..., NULL */
	*ret_cwd = vec[0];
	*ret_vec = vec;
	return 0;
}

/* The rest of an EXEC's body, from MORE records: 0, -1 when kiln is gone, or -errno. */
static int recv_body(int sock, char *body, size_t have, size_t len)
{
	char *rec = malloc(RECORD_MAX);
	if (!rec)
		return -ENOMEM;
	int r = 0;
	while (have < len) {
		ssize_t n = recv_record(sock, rec, NULL, NULL);
		if (n <= 0) {
			r = -1;
			break;
		}
		const struct ns_msg *m = (const void *)rec;
		size_t k = (size_t)n - sizeof(*m);
		if ((size_t)n < sizeof(*m) || m->type != NS_MORE || k > len - have) {
			r = -EPROTO;
			break;
		}
		memcpy(body + have, rec + sizeof(*m), k);
		have += k;
	}
	free(rec);
	return r;
}

/* Start the command of an EXEC: its status when it could not start (why is on its stderr),
   0 and *ret_pid when it runs, or -errno. */
static int start_command(const char *cwd, char **vec, uint32_t argc, const int io[3],
                         pid_t *ret_pid)
{
	int cwd_fd = open(cwd, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (cwd_fd < 0) {
		char line[512];
		int n = snprintf(line, sizeof(line), "kiln: cannot enter directory '%s': %s\n", cwd,
		                 strerror(errno));
		if (write(io[2], line, n < (int)sizeof(line) ? (size_t)n : sizeof(line) - 1) < 0) {
			/* nobody reads it: kiln is gone, and so will the holder be */
		}
		return CONN_STATUS_NOCWD;
	}
	int r = conn_spawn(cwd_fd, (const char *const *)vec + 1, vec + argc + 2, io, ret_pid);
	close(cwd_fd);
	return r;
}

/* One EXEC: receive its body, run it, answer. Returns -1 when kiln is gone. */
static int holder_exec(int sock, char *rec, size_t reclen, int fds[3], int nfds, int nullfd)
{
	struct ns_msg m;
	memcpy(&m, rec, sizeof(m));
	char *body = NULL, **vec = NULL;
	const char *cwd;
	int r, status;
	size_t have = reclen - sizeof(m);
	if (nfds != (m.has_stdin ? 3 : 2) || m.body_len > BODY_MAX || have > m.body_len) {
		r = -EPROTO;
		goto answer;
	}
	if (!(body = malloc(m.body_len + 1))) {
		r = -ENOMEM;
		goto answer;
	}
	memcpy(body, rec + sizeof(m), have);
	if ((r = recv_body(sock, body, have, m.body_len)) < 0 ||
	    (r = parse_body(body, m.body_len, &m, &cwd, &vec)) < 0)
		goto answer;

	int io[3] = {m.has_stdin ? fds[0] : nullfd, fds[nfds - 2], fds[nfds - 1]};
	pid_t pid;
	status = start_command(cwd, vec, m.argc, io, &pid);
	/* the command has its own copies: kiln sees the pipes' ends when it is done */
	for (int i = 0; i < nfds; i++)
		close(fds[i]);
	nfds = 0;
	if ((r = status) < 0)
		goto answer;
	if (status == 0 && (status = holder_wait(sock, pid, m.timeout_s, rec)) < 0) {
		r = -1;
		goto out;
	}
	r = send_simple(sock, NS_DONE, 0, status, NULL) < 0 ? -1 : 0;
	goto out;
answer:
	if (r != -1) {
		char text[128];
		snprintf(text, sizeof(text), "the rootfs's command runner: %s", strerror(-r));
		r = send_simple(sock, NS_FAILED, r, 0, text) < 0 ? -1 : 0;
	}
out:
	for (int i = 0; i < nfds; i++)
		close(fds[i]);
	free(vec);
	free(body);
	return r;
}

static _Noreturn void holder_main(int sock, const struct ns_opts *o)
{
	/* kiln's death ends the holder (a second way: the socket's hangup, below) */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	prctl(PR_SET_NAME, "kiln-rootfs"); /* its command line stays kiln's */
	holder_signals();
	/* keep only the socket: not kiln's terminal, files, or other holders' sockets */
	if (sock < 3)
		sock = fcntl(sock, F_DUPFD_CLOEXEC, 3);
	int null = open("/dev/null", O_RDWR | O_CLOEXEC);
	for (int i = 0; i < 3; i++)
		if (null >= 0 && null != i)
			dup2(null, i);
	if (sock > 3)
		close_range(3, (unsigned)sock - 1, 0);
	close_range((unsigned)sock + 1, ~0u, 0);

	char why[1024];
	int r = setup(o, why, sizeof(why));
	if (r < 0) {
		struct ns_msg m = {.type = NS_FAILED, .code = r};
		send_record(sock, &m, why, strlen(why), NULL, 0);
		_exit(1);
	}
	int nullfd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	char *rec = malloc(RECORD_MAX);
	if (nullfd < 0 || !rec) {
		send_simple(sock, NS_FAILED, nullfd < 0 ? -errno : -ENOMEM, 0,
		            "the rootfs's command runner could not start");
		_exit(1);
	}
	if (send_simple(sock, NS_READY, 0, 0, NULL) < 0)
		_exit(0);
	for (;;) {
		reap_orphans();
		int fds[3], nfds = 0;
		ssize_t n = recv_record(sock, rec, fds, &nfds);
		if (n == 0 || (n < 0 && n != -EMSGSIZE))
			_exit(0); /* kiln is gone: ending ends everything in the namespace */
		const struct ns_msg *m = (const void *)rec;
		if (n < (ssize_t)sizeof(*m) || m->type != NS_EXEC) {
			for (int i = 0; i < nfds; i++)
				close(fds[i]);
			if (n >= (ssize_t)sizeof(*m) && m->type == NS_CANCEL)
				continue; /* late: the command had already ended */
			if (send_simple(sock, NS_FAILED, -EPROTO, 0, "bad request") < 0)
				_exit(0);
			continue;
		}
		if (holder_exec(sock, rec, (size_t)n, fds, nfds, nullfd) < 0)
			_exit(0);
	}
}

/* ======================================================================================== */
/* kiln's side                                                                                 */
/* ======================================================================================== */

static int host_mnt_ns = -1; /* the namespace kiln left (ns_private_mounts), or -1 */

int ns_private_mounts(struct rt_error *err)
{
	if (host_mnt_ns >= 0)
		return 0;
	int fd = open("/proc/self/ns/mnt", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return rt_error_errno(err, -errno, "cannot open kiln's mount namespace");
	if (unshare(CLONE_NEWNS) < 0) {
		int e = -errno;
		close(fd);
		return rt_error_errno(err, e, "cannot give kiln a mount namespace of its own");
	}
	/* a slave: no mount of kiln's reaches the build machine's namespace, while an unmount
	   there (a disk taken away during a long build) still reaches kiln's copy, which would
	   otherwise keep the file system busy until kiln ends */
	if (mount(NULL, "/", NULL, MS_REC | MS_SLAVE, NULL) < 0) {
		int e = -errno;
		close(fd);
		return rt_error_errno(err, e, "cannot keep kiln's mounts to itself");
	}
	host_mnt_ns = fd;
	return 0;
}

int ns_host_mounts(void)
{
	return host_mnt_ns;
}

/* Read the holder's answer; 0 for DONE (status in *ret_status) or < 0 with err filled. */
static int read_answer(struct ns_holder *h, int *ret_status, struct rt_error *err)
{
	char *rec = malloc(RECORD_MAX + 1);
	if (!rec)
		return rt_error_errno(err, -ENOMEM, "reading from the rootfs's command runner");
	ssize_t n = recv_record(h->sock, rec, NULL, NULL);
	int r;
	const struct ns_msg *m = (const void *)rec;
	if (n <= 0 || n < (ssize_t)sizeof(*m)) {
		h->dead = true;
		r = rt_error_set(err, -EPIPE, "the rootfs's command runner ended unexpectedly");
	} else if (m->type == NS_DONE || m->type == NS_READY) {
		*ret_status = m->status;
		r = 0;
	} else if (m->type == NS_FAILED) {
		rec[n] = 0;
		r = rt_error_set(err, m->code < 0 ? m->code : -EIO, "%s", rec + sizeof(*m));
	} else {
		r = rt_error_set(err, -EPROTO,
		                 "unexpected message from the rootfs's command runner");
	}
	free(rec);
	return r;
}

int ns_holder_start(const struct ns_opts *opts, struct ns_holder **ret, struct rt_error *err)
{
	struct ns_holder *h = calloc(1, sizeof(*h));
	if (!h)
		return rt_error_errno(err, -ENOMEM, "starting the rootfs's command runner");
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) < 0) {
		free(h);
		return rt_error_errno(err, -errno, "starting the rootfs's command runner");
	}
	/* A raw clone (a fork into new namespaces): the child is pid 1 of the new pid
	   namespace, running on a copy of kiln's memory. */
	long pid = syscall(
	    SYS_clone,
	    (unsigned long)(CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWUTS | CLONE_NEWIPC | SIGCHLD),
	    NULL, NULL, NULL, NULL);
	if (pid == 0)
		holder_main(sv[1], opts);
	int saved = errno;
	close(sv[1]);
	if (pid < 0) {
		close(sv[0]);
		free(h);
		return rt_error_errno(err, -saved, "cannot create namespaces for '%s'", opts->root);
	}
	h->pid = (pid_t)pid;
	h->sock = sv[0];
	int status;
	int r = read_answer(h, &status, err);
	if (r < 0) {
		if (r == -EPIPE)
			rt_error_set(err, r,
			             "the rootfs's command runner died while setting up '%s'",
			             opts->root);
		ns_holder_stop(h);
		return r;
	}
	*ret = h;
	return 0;
}

pid_t ns_holder_pid(const struct ns_holder *h)
{
	return h->pid;
}

struct ns_holder *ns_holder_stop(struct ns_holder *h)
{
	if (!h)
		return NULL;
	close(h->sock);
	/* pid 1 of its namespace: its end is the end of every process in it (the kernel waits
	   for them before the holder can be reaped) and of its mounts */
	kill(h->pid, SIGKILL);
	while (waitpid(h->pid, NULL, 0) < 0 && errno == EINTR)
		;
	free(h);
	return NULL;
}

/* The request body: cwd, argv, env, each NUL-terminated. */
static char *make_body(const char *cwd, const char *const *argv, char *const *envp,
                       uint32_t *ret_argc, uint32_t *ret_envc, size_t *ret_len)
{
	size_t len = strlen(cwd) + 1;
	uint32_t argc = 0, envc = 0;
	for (; argv[argc]; argc++)
		len += strlen(argv[argc]) + 1;
	for (; envp[envc]; envc++)
		len += strlen(envp[envc]) + 1;
	if (len > BODY_MAX)
		return NULL;
	char *body = malloc(len), *p = body;
	if (!body)
		return NULL;
	p = stpcpy(p, cwd) + 1;
	for (uint32_t i = 0; i < argc; i++)
		p = stpcpy(p, argv[i]) + 1;
	for (uint32_t i = 0; i < envc; i++)
		p = stpcpy(p, envp[i]) + 1;
	*ret_argc = argc;
	*ret_envc = envc;
	*ret_len = len;
	return body;
}

int ns_holder_exec(struct ns_holder *h, const struct exec_req *req, struct exec_res *ret,
                   struct rt_error *err)
{
	if (!req->argv || !req->argv[0])
		return rt_error_set(err, -EINVAL, "no command to run");
	if (h->dead)
		return rt_error_set(err, -EPIPE, "the rootfs's command runner has ended");
	if (rt_interrupted)
		return rt_error_set(err, -EINTR, "interrupted");
	char **envp = NULL;
	int r = conn_env_build(req->env, &envp, err);
	if (r < 0)
		return r;
	uint32_t argc, envc;
	size_t len;
	char *body = make_body(req->cwd ? req->cwd : "/", req->argv, envp, &argc, &envc, &len);
	envp = conn_env_free(envp);
	if (!body)
		return rt_error_set(err, -E2BIG, "command '%s': arguments and environment too long",
		                    req->argv[0]);

	struct conn_relay rl;
	int pipes[3];
	if ((r = conn_relay_start(&rl, req, pipes, err)) < 0) {
		free(body);
		return r;
	}
	struct ns_msg m = {
	    .type = NS_EXEC,
	    .timeout_s = req->timeout_s > 0 ? req->timeout_s : 0,
	    .argc = argc,
	    .envc = envc,
	    .body_len = (uint32_t)len,
	    .has_stdin = pipes[0] >= 0,
	};
	int nfds = pipes[0] >= 0 ? 3 : 2;
	size_t off = len < CHUNK ? len : CHUNK;
	r = send_record(h->sock, &m, body, off, pipes + 3 - nfds, nfds);
	for (int i = 0; i < 3; i++)
		if (pipes[i] >= 0)
			close(pipes[i]);
	struct ns_msg more = {.type = NS_MORE};
	while (r == 0 && off < len) {
		size_t k = len - off < CHUNK ? len - off : CHUNK;
		r = send_record(h->sock, &more, body + off, k, NULL, 0);
		off += k;
	}
	free(body);
	if (r < 0) {
		h->dead = true;
		rt_error_errno(err, r, "sending a command to the rootfs's command runner");
		goto out;
	}

	/* Relay until the holder answers; kiln's interruption becomes a CANCEL. */
	bool cancelled = false;
	int status = -1;
	for (;;) {
		int rev = conn_relay_poll(&rl, h->sock, -1);
		if (rev == -EINTR && !cancelled) {
			cancelled = true;
			struct ns_msg c = {.type = NS_CANCEL};
			if (send_record(h->sock, &c, NULL, 0, NULL, 0) < 0) {
				h->dead = true;
				r = rt_error_set(err, -EINTR, "interrupted");
				goto out;
			}
			continue;
		}
		if (rev < 0 && rev != -EINTR) {
			r = rt_error_errno(err, rev, "waiting for a command in the rootfs");
			goto out;
		}
		if (rev > 0) {
			r = read_answer(h, &status, err);
			break;
		}
	}
	if (r < 0)
		goto out;
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
