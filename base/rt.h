/*
 * rt: what every part of the runtime shares. Functions that can fail return
 * int: >= 0 on success, a negative errno-style code on failure, with the
 * details in a struct rt_error the caller passed (systemd's habit). A task
 * that fails on its target is a result (TASK_FAILED), not a C error.
 * Nothing in the runtime prints; the executor reports through events.h.
 */
#ifndef KILN_RT_H
#define KILN_RT_H

#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct rt_error {
	int code;       /* negative errno, or 0 when unset */
	char msg[1024]; /* what went wrong, for a person; no trailing newline */
};

/* Fill err (if not NULL) and return code (negative). Always returns code. */
int rt_error_set(struct rt_error *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* The same, appending ": strerror(-code)". */
int rt_error_errno(struct rt_error *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* A child process to start (rt_start_child). */
struct rt_child {
	const char *path;        /* the program's file (not looked up in PATH) */
	const char *const *argv; /* its arguments, argv[0] first */
	char *const *envp;       /* its environment */
	int cwd_fd;              /* its working directory, or -1: the caller's */
	int fd[3];               /* its stdin, stdout and stderr; each >= 3 */
	bool new_session;        /* setsid(): a session and process group of its own */
};

/*
 * Start c as posix_spawn does (a vfork-like clone, cheap even from a big kiln; system calls
 * only in the child) with every signal at its default and none blocked, no fd but its
 * three — and with what posix_spawn cannot do, PR_SET_PDEATHSIG(SIGKILL): it is killed
 * when the thread that started it ends, so kiln's death, however kiln dies, ends it. Start
 * it from a thread that outlives it. 0 and *ret_pid, or a positive errno (the child's when
 * it could not run the program: ENOENT, EACCES, ENOEXEC...).
 */
int rt_start_child(const struct rt_child *c, pid_t *ret_pid);

/*
 * Start argv[0] (looked up in PATH) with argv, stdin and stderr on /dev/null and
 * stdout on out_fd (-1: /dev/null); it dies with kiln (rt_start_child). 0 with *ret_pid set, or a
 * negative errno with err set ("'cp' not found"). Reap it with rt_wait_child.
 */
int rt_spawn(const char *const *argv, int out_fd, pid_t *ret_pid, struct rt_error *err);
/* The same with the environment envp and stderr on err_fd (-1: /dev/null). */
int rt_spawn_env(const char *const *argv, char *const *envp, int out_fd, int err_fd, pid_t *ret_pid,
                 struct rt_error *err);
/* Wait for the child pid (through EINTR): its exit status, or 128 + the signal that
   killed it; a negative errno with err set when it cannot be waited for. */
int rt_wait_child(pid_t pid, struct rt_error *err);
/* rt_spawn and rt_wait_child in one: the command's exit status, or a negative errno. */
int rt_run(const char *const *argv, struct rt_error *err);

/* The number of the SIGINT or SIGTERM that came (0: none): long operations check it and
   stop with -EINTR; the command then exits with 128 + that number (130, 143). */
extern volatile sig_atomic_t rt_interrupted;

#endif
