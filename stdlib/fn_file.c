/*
 * file(path): the text of a file on the build machine. The caller resolves
 * a relative path against the directory of the .img file that names it
 * before the call, so this function uses the path as given. Text only: the
 * file must be a regular file of at most 64 MiB holding UTF-8 without NUL
 * bytes (copy moves binary files into an image).
 */
#include "entries.h"
#include "fnlib.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define FILE_MAX ((size_t)64 << 20)

static json_t *fn_file(json_t *const *args, size_t nargs, char **reterr)
{
	size_t len = 0;
	const char *path = fnlib_string("file", "path", args, nargs, 0, &len, reterr);
	struct strbuf b = STRBUF_INIT;
	json_t *ret = NULL;
	struct stat st;
	int fd;

	if (!path)
		return NULL;
	if (!*path)
		return fnlib_error(reterr, "file() needs a path, not an empty string");
	if (strlen(path) != len)
		return fnlib_error(reterr, "file() path '%s' holds a NUL byte", path);
	/* O_NONBLOCK: opening a FIFO must not wait for a writer; it is refused below. */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0) {
		if (errno == ENOENT || errno == ENOTDIR)
			return fnlib_error(reterr, "file '%s' not found", path);
		return fnlib_error(reterr, "cannot open file '%s': %s", path, strerror(errno));
	}
	if (fstat(fd, &st) < 0) {
		fnlib_error(reterr, "cannot read file '%s': %s", path, strerror(errno));
		goto out;
	}
	if (S_ISDIR(st.st_mode)) {
		fnlib_error(reterr, "'%s' is a directory, not a file", path);
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		fnlib_error(reterr, "'%s' is not a regular file", path);
		goto out;
	}
	if ((unsigned long long)st.st_size > FILE_MAX) {
		fnlib_error(reterr, "file '%s' is larger than 64 MiB", path);
		goto out;
	}
	sb_add(&b, "", 0);
	/* Read to the end, not st_size bytes: the file may be growing. */
	for (;;) {
		char chunk[65536];
		ssize_t n = read(fd, chunk, sizeof(chunk));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			fnlib_error(reterr, "cannot read file '%s': %s", path, strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		if ((size_t)n > FILE_MAX - b.len) {
			fnlib_error(reterr, "file '%s' is larger than 64 MiB", path);
			goto out;
		}
		sb_add(&b, chunk, (size_t)n);
	}
	size_t bad = utf8_validate((const unsigned char *)b.buf, b.len);
	if (bad < b.len) {
		fnlib_error(reterr, "file '%s' is not valid UTF-8 (byte %zu)", path, bad);
		goto out;
	}
	const char *nul = memchr(b.buf, '\0', b.len);
	if (nul) {
		fnlib_error(reterr, "file '%s' holds a NUL byte (byte %zu); file() reads text",
		            path, (size_t)(nul - b.buf));
		goto out;
	}
	ret = fnlib_stringn(b.buf, b.len, reterr);
out:
	close(fd);
	sb_release(&b);
	return ret;
}

static const struct kiln_arg args[] = {
    {"path", "string", true, NULL,
     "file on the build machine; a relative path is relative to the .img file"},
    {0},
};

const struct kiln_schema fn_file_schema = {
    .kind = SCHEMA_FUNCTION,
    .name = "file",
    .doc = "the text of a file on the build machine (UTF-8, at most 64 MiB)",
    .args = args,
    .inputs = (const char *const[]){"path", NULL},
    .returns = "string",
    .fn = fn_file,
    .example = "let motd = file(\"files/motd.txt\")",
};
