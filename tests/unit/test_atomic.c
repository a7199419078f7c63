/* Unit tests of atomic file writing (base/atomic.h), in a temporary directory of their own. */
#include "atomic.h"
#include "check.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

static int write_file(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return -1;
	int r = fd_write_all(fd, text, strlen(text));
	close(fd);
	return r;
}

static int file_is(const char *path, const char *want)
{
	char buf[256] = {0};
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	return n >= 0 && !strcmp(buf, want);
}

static int count_temps(void)
{
	int n = 0;
	FILE *p = popen("ls -A", "r");
	char line[512];
	while (p && fgets(line, sizeof(line), p))
		if (strstr(line, ".kiln-tmp."))
			n++;
	if (p)
		pclose(p);
	return n;
}

int main(void)
{
	char dir[] = "/tmp/kiln-test-atomic.XXXXXX";
	if (!mkdtemp(dir) || chdir(dir) < 0)
		return 1;

	CHECK(atomic_is_temp_name(".plan.json.kiln-tmp.ab12cd34"));
	CHECK(!atomic_is_temp_name("plan.json.kiln-tmp.ab12cd34"));
	CHECK(!atomic_is_temp_name(".plan.json.kiln-tmp.AB12CD34"));
	CHECK(!atomic_is_temp_name(".plan.json.kiln-tmp.ab12cd3"));
	CHECK(!atomic_is_temp_name(".plan.json.kiln-tmp.ab12cd345"));
	CHECK(!atomic_is_temp_name(".kiln-tmp.ab12cd34"));

	/* a new file: written through a temporary, nothing else left */
	struct atomic_file af;
	struct rt_error err = {0};
	CHECK(atomic_file_open(&af, "out", 0644, 0, &err) == 0);
	CHECK(af.tmp && atomic_is_temp_name(strrchr(af.tmp, '/') + 1));
	CHECK(fd_write_all(af.fd, "new\n", 4) == 0);
	CHECK(!file_is("out", "new\n"));
	CHECK(atomic_file_commit(&af, &err) == 0);
	atomic_file_abort(&af);
	CHECK(file_is("out", "new\n"));
	CHECK(count_temps() == 0);

	/* a symlink at the name is replaced, its target untouched */
	CHECK(write_file("target", "precious\n") == 0);
	CHECK(symlink("target", "link") == 0);
	CHECK(atomic_file_open(&af, "link", 0644, 0, &err) == 0);
	CHECK(fd_write_all(af.fd, "plan\n", 5) == 0);
	CHECK(atomic_file_commit(&af, &err) == 0);
	atomic_file_abort(&af);
	struct stat st;
	CHECK(lstat("link", &st) == 0 && S_ISREG(st.st_mode));
	CHECK(file_is("target", "precious\n"));

	/* aborted: the old content stays, no temporary */
	CHECK(atomic_file_open(&af, "out", 0644, 0, &err) == 0);
	CHECK(fd_write_all(af.fd, "half", 4) == 0);
	atomic_file_abort(&af);
	CHECK(file_is("out", "new\n"));
	CHECK(count_temps() == 0);

	/* a FIFO is written through; refused with ATOMIC_NO_DIRECT and for a directory output */
	CHECK(mkfifo("fifo", 0600) == 0);
	CHECK(atomic_file_open(&af, "fifo", 0644, ATOMIC_NO_DIRECT, &err) < 0);
	CHECK(strstr(err.msg, "FIFO") != NULL);
	atomic_file_abort(&af);
	CHECK(atomic_file_open(&af, "fifo", 0777, ATOMIC_DIR, &err) < 0);
	atomic_file_abort(&af);
	int rd = open("fifo", O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	CHECK(rd >= 0);
	CHECK(atomic_file_open(&af, "fifo", 0644, 0, &err) == 0 && af.direct && !af.tmp);
	CHECK(fd_write_all(af.fd, "x", 1) == 0);
	CHECK(atomic_file_commit(&af, &err) == 0);
	atomic_file_abort(&af);
	close(rd);
	CHECK(lstat("fifo", &st) == 0 && S_ISFIFO(st.st_mode));

	/* a directory is refused, saying so */
	CHECK(mkdir("d", 0755) == 0);
	CHECK(atomic_file_open(&af, "d", 0644, 0, &err) == -EISDIR);
	CHECK(strstr(err.msg, "directory") != NULL);
	atomic_file_abort(&af);

	/* leftovers: an unheld temporary goes, a held one and look-alikes stay */
	CHECK(write_file(".out.kiln-tmp.dead0000", "left") == 0);
	CHECK(write_file(".out.kiln-tmp.held0000", "held") == 0);
	CHECK(write_file(".out.kiln-tmp.Dead0000", "user") == 0);
	CHECK(write_file(".outx.kiln-tmp.dead0000", "user") == 0);
	int held = open(".out.kiln-tmp.held0000", O_RDONLY | O_CLOEXEC);
	CHECK(held >= 0 && flock(held, LOCK_EX) == 0);
	CHECK(atomic_remove_stale("out") == 1);
	CHECK(access(".out.kiln-tmp.dead0000", F_OK) < 0);
	CHECK(file_is(".out.kiln-tmp.held0000", "held"));
	CHECK(file_is(".out.kiln-tmp.Dead0000", "user"));
	CHECK(file_is(".outx.kiln-tmp.dead0000", "user"));
	close(held);

	if (chdir("/") == 0) {
		char *cmd = NULL;
		if (asprintf(&cmd, "rm -rf '%s'", dir) > 0 && system(cmd) != 0)
			fprintf(stderr, "cannot remove %s\n", dir);
		free(cmd);
	}
	return CHECK_DONE();
}
