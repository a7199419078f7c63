/* Unit tests of rt_spawn, rt_wait_child and rt_run: real children, no mocks. */
#include "check.h"
#include "rt.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

int main(void)
{
	struct rt_error err = {0};
	CHECK(rt_run((const char *const[]){"true", NULL}, &err) == 0);
	CHECK(rt_run((const char *const[]){"false", NULL}, &err) == 1);
	CHECK(rt_run((const char *const[]){"sh", "-c", "exit 7", NULL}, &err) == 7);
	CHECK(rt_run((const char *const[]){"sh", "-c", "kill -TERM $$", NULL}, &err) == 128 + 15);
	CHECK(rt_run((const char *const[]){"kiln-no-such-command", NULL}, &err) == -ENOENT);
	CHECK(strstr(err.msg, "'kiln-no-such-command' not found") != NULL);

	/* stdout to a pipe, stdin from /dev/null */
	int pfd[2];
	CHECK(pipe(pfd) == 0);
	pid_t pid;
	CHECK(rt_spawn((const char *const[]){"sh", "-c", "echo hi; cat", NULL}, pfd[1], &pid,
	               &err) == 0);
	close(pfd[1]);
	char buf[16] = "";
	ssize_t n = read(pfd[0], buf, sizeof(buf) - 1);
	close(pfd[0]);
	CHECK(n == 3 && !strcmp(buf, "hi\n"));
	CHECK(rt_wait_child(pid, &err) == 0);
	CHECK(rt_wait_child(pid, &err) == -ECHILD);
	return CHECK_DONE();
}
