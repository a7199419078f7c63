/* rt: errors of the runtime and the modules; see rt.h. */
#include "rt.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

volatile sig_atomic_t rt_interrupted;

static int vset(struct rt_error *err, int code, bool with_errno, const char *fmt, va_list ap)
    __attribute__((format(printf, 4, 0)));

static int vset(struct rt_error *err, int code, bool with_errno, const char *fmt, va_list ap)
{
	if (!err)
		return code;
	err->code = code;
	int n = vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	if (with_errno && n >= 0 && (size_t)n < sizeof(err->msg))
		snprintf(err->msg + n, sizeof(err->msg) - (size_t)n, ": %s", strerror(-code));
	return code;
}

int rt_error_set(struct rt_error *err, int code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vset(err, code, false, fmt, ap);
	va_end(ap);
	return code;
}

int rt_error_errno(struct rt_error *err, int code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vset(err, code, true, fmt, ap);
	va_end(ap);
	return code;
}

/* The child of rt_start_child, on its own stack, sharing the caller's memory until execve
   (the caller waits: CLONE_VFORK): system calls only. */
struct child_run {
	const struct rt_child *c;
	pid_t parent;
	int err; /* set when the program could not run */
};

static int child_main(void *data)
{
	struct child_run *run = data;
	const struct rt_child *c = run->c;
	/* the caller's signal handlers are not the program's */
	for (int s = 1; s < NSIG; s++) {
		struct sigaction sa = {.sa_handler = SIG_DFL};
		if (s != SIGKILL && s != SIGSTOP)
			(void)sigaction(s, &sa, NULL);
	}
	if ((c->new_session && setsid() < 0) || prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 ||
	    getppid() != run->parent) /* the caller is gone already */
		goto fail;
	if (c->cwd_fd >= 0 && fchdir(c->cwd_fd) < 0)
		goto fail;
	for (int i = 0; i < 3; i++)
		if (dup2(c->fd[i], i) < 0)
			goto fail;
	if (close_range(3, ~0u, 0) < 0)
		goto fail;
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	execve(c->path, (char *const *)c->argv, c->envp);
fail:
	run->err = errno ? errno : EINVAL;
	_exit(127);
}

int rt_start_child(const struct rt_child *c, pid_t *ret_pid)
{
	enum { STACK = 256 * 1024 };
	char *stack = mmap(NULL, STACK, PROT_READ | PROT_WRITE,
	                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
	if (stack == MAP_FAILED)
		return errno;
	struct child_run run = {.c = c, .parent = getpid()};
	/* no handler of the caller's may run in the child before it resets them */
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	pid_t pid = clone(child_main, stack + STACK, CLONE_VM | CLONE_VFORK | SIGCHLD, &run);
	int e = pid < 0 ? errno : 0;
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	munmap(stack, STACK);
	if (pid > 0 && run.err) { /* it ended without running the program */
		e = run.err;
		while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
			;
	}
	if (e)
		return e;
	*ret_pid = pid;
	return 0;
}

/* name found in PATH (as execvp does) into buf; false when it is nowhere */
static bool find_in_path(const char *name, char *buf, size_t size)
{
	if (strchr(name, '/'))
		return snprintf(buf, size, "%s", name) < (int)size;
	const char *path = getenv("PATH");
	if (!path || !*path)
		path = "/usr/local/bin:/usr/bin:/bin";
	for (const char *p = path;; p++) {
		size_t n = strcspn(p, ":");
		int k = snprintf(buf, size, "%.*s%s%s", (int)n, n ? p : ".", "/", name);
		struct stat st;
		if (k > 0 && (size_t)k < size && stat(buf, &st) == 0 && S_ISREG(st.st_mode) &&
		    access(buf, X_OK) == 0)
			return true;
		p += n;
		if (!*p)
			return false;
	}
}

int rt_spawn(const char *const *argv, int out_fd, pid_t *ret_pid, struct rt_error *err)
{
	return rt_spawn_env(argv, environ, out_fd, -1, ret_pid, err);
}

int rt_spawn_env(const char *const *argv, char *const *envp, int out_fd, int err_fd, pid_t *ret_pid,
                 struct rt_error *err)
{
	char path[PATH_MAX];
	if (!find_in_path(argv[0], path, sizeof(path)))
		return rt_error_set(err, -ENOENT, "'%s' not found", argv[0]);
	int null = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (null < 0)
		return rt_error_errno(err, -errno, "cannot run '%s'", argv[0]);
	struct rt_child c = {.path = path, .argv = argv, .envp = envp, .cwd_fd = -1};
	int want[3] = {null, out_fd >= 0 ? out_fd : null, err_fd >= 0 ? err_fd : null};
	int r = 0;
	for (int i = 0; i < 3; i++)
		c.fd[i] = -1;
	for (int i = 0; i < 3 && !r; i++) { /* each >= 3: no dup2 overwrites another */
		c.fd[i] = fcntl(want[i], F_DUPFD_CLOEXEC, 3);
		if (c.fd[i] < 0)
			r = errno;
	}
	if (!r)
		r = rt_start_child(&c, ret_pid);
	for (int i = 0; i < 3; i++)
		if (c.fd[i] >= 3)
			close(c.fd[i]);
	close(null);
	if (r == ENOENT)
		return rt_error_set(err, -ENOENT, "'%s' not found", argv[0]);
	if (r != 0)
		return rt_error_errno(err, -r, "cannot run '%s'", argv[0]);
	return 0;
}

int rt_wait_child(pid_t pid, struct rt_error *err)
{
	int status;
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return rt_error_errno(err, -errno, "waitpid");
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

int rt_run(const char *const *argv, struct rt_error *err)
{
	pid_t pid;
	int r = rt_spawn(argv, -1, &pid, err);
	return r < 0 ? r : rt_wait_child(pid, err);
}
