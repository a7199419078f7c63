/* Unit tests of env() and file(), the two functions that read the world. */
#include "fn_test.h"

#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

static char dir[64];

/* Write `len` bytes of `text` to dir/name; returns the path as a JSON argument list. */
static const char *put(const char *name, const char *text, size_t len)
{
	static char args[256];
	char path[128];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	FILE *f = fopen(path, "wb");
	CHECK(f != NULL);
	if (f) {
		CHECK(fwrite(text, 1, len, f) == len);
		fclose(f);
	}
	snprintf(args, sizeof(args), "[\"%s\"]", path);
	return args;
}

/* An expected message, formatted (with dir as its argument); static storage. */
static const char *err_in_dir(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static const char *err_in_dir(const char *fmt, ...)
{
	static char buf[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	return buf;
}

static void test_env(void)
{
	setenv("KILN_TEST_SET", "value 1", 1);
	setenv("KILN_TEST_EMPTY", "", 1);
	setenv("KILN_TEST_LATIN1", "caf\xe9", 1);
	unsetenv("KILN_TEST_UNSET");

	EXPECT("env", "[\"KILN_TEST_SET\"]", "\"value 1\"");
	EXPECT("env", "[\"KILN_TEST_SET\", \"other\"]", "\"value 1\"");
	EXPECT("env", "[\"KILN_TEST_EMPTY\", \"other\"]", "\"\"");
	EXPECT("env", "[\"KILN_TEST_UNSET\", \"fallback\"]", "\"fallback\"");
	EXPECT("env", "[\"KILN_TEST_UNSET\", \"\"]", "\"\"");
	EXPECT("env", "[\"KILN_TEST_UNSET\"]",
	       "error: environment variable 'KILN_TEST_UNSET' is not set");
	EXPECT("env", "[\"KILN_TEST_LATIN1\"]",
	       "error: environment variable 'KILN_TEST_LATIN1' is not valid UTF-8");
	EXPECT("env", "[\"\"]", "error: invalid environment variable name ''");
	EXPECT("env", "[\"A=B\"]", "error: invalid environment variable name 'A=B'");
	EXPECT("env", "[\"KILN_TEST_SET\\u0000X\"]",
	       "error: invalid environment variable name 'KILN_TEST_SET'");
	EXPECT("env", "[]", "error: env() needs argument 'name'");
	EXPECT("env", "[\"A\", \"b\", \"c\"]",
	       "error: env() takes at most 2 arguments, but 3 were given");
}

static void test_file(void)
{
	char path[128];

	EXPECT("file", put("hello.txt", "hello\n", 6), "\"hello\\n\"");
	EXPECT("file", put("empty.txt", "", 0), "\"\"");
	EXPECT("file", put("utf8.txt", "gr\xc3\xbc\xc3\x9f dich \xf0\x9f\x98\x80", 16),
	       "\"gr\xc3\xbc\xc3\x9f dich \xf0\x9f\x98\x80\"");

	EXPECT("file", put("latin1.txt", "caf\xe9\n", 5),
	       err_in_dir("error: file '%s/latin1.txt' is not valid UTF-8 (byte 3)", dir));
	EXPECT("file", put("overlong.txt", "a\xc0\xaf", 3),
	       err_in_dir("error: file '%s/overlong.txt' is not valid UTF-8 (byte 1)", dir));
	EXPECT("file", put("surrogate.txt", "\xed\xa0\x80", 3),
	       err_in_dir("error: file '%s/surrogate.txt' is not valid UTF-8 (byte 0)", dir));
	EXPECT("file", put("cut.txt", "ok\xe2\x82", 4),
	       err_in_dir("error: file '%s/cut.txt' is not valid UTF-8 (byte 2)", dir));
	EXPECT("file", put("nul.txt", "a\0b", 3),
	       err_in_dir("error: file '%s/nul.txt' holds a NUL byte (byte 1); file() reads text",
	                  dir));

	char args[256];
	snprintf(args, sizeof(args), "[\"%s/missing.txt\"]", dir);
	EXPECT("file", args, err_in_dir("error: file '%s/missing.txt' not found", dir));
	snprintf(args, sizeof(args), "[\"%s/hello.txt/below\"]", dir);
	EXPECT("file", args, err_in_dir("error: file '%s/hello.txt/below' not found", dir));
	snprintf(args, sizeof(args), "[\"%s\"]", dir);
	EXPECT("file", args, err_in_dir("error: '%s' is a directory, not a file", dir));
	EXPECT("file", "[\"\"]", "error: file() needs a path, not an empty string");
	EXPECT("file", "[\"/etc/hostname\\u0000.txt\"]",
	       "error: file() path '/etc/hostname' holds a NUL byte");

	/* a FIFO is refused at once, not waited on */
	snprintf(path, sizeof(path), "%s/fifo", dir);
	CHECK(mkfifo(path, 0600) == 0);
	snprintf(args, sizeof(args), "[\"%s\"]", path);
	EXPECT("file", args, err_in_dir("error: '%s/fifo' is not a regular file", dir));

	/* the 64 MiB limit: a sparse file one byte over it is refused without reading it */
	snprintf(path, sizeof(path), "%s/big", dir);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	CHECK(fd >= 0 && ftruncate(fd, ((off_t)64 << 20) + 1) == 0);
	close(fd);
	snprintf(args, sizeof(args), "[\"%s\"]", path);
	EXPECT("file", args, err_in_dir("error: file '%s/big' is larger than 64 MiB", dir));

	/* unreadable (only when not root, who reads everything) */
	if (geteuid() != 0) {
		put("secret.txt", "x", 1);
		snprintf(path, sizeof(path), "%s/secret.txt", dir);
		CHECK(chmod(path, 0) == 0);
		snprintf(args, sizeof(args), "[\"%s\"]", path);
		EXPECT("file", args, "error~ Permission denied");
	}
}

int main(void)
{
	const char *tmp = getenv("TMPDIR");

	snprintf(dir, sizeof(dir), "%s/kiln-test-XXXXXX",
	         tmp && *tmp && strlen(tmp) < 32 ? tmp : "/tmp");
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	test_env();
	test_file();

	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", dir);
	return CHECK_DONE();
}
