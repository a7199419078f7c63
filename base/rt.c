/* rt: errors of the runtime and the modules; see rt.h. */
#include "rt.h"

#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>

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

int rt_spawn(const char *const *argv, int out_fd, pid_t *ret_pid, struct rt_error *err)
{
	posix_spawn_file_actions_t fa;
	int r = posix_spawn_file_actions_init(&fa);
	if (r != 0)
		return rt_error_errno(err, -r, "cannot run '%s'", argv[0]);
	r = posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	if (r == 0)
		r = out_fd >= 0
		        ? posix_spawn_file_actions_adddup2(&fa, out_fd, 1)
		        : posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	if (r == 0)
		r = posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
	if (r == 0)
		r = posix_spawnp(ret_pid, argv[0], &fa, NULL, (char *const *)argv, environ);
	posix_spawn_file_actions_destroy(&fa);
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
