/*
 * output_tarw: tar streams on a byte sink (output_impl.h): libarchive pax,
 * ustar headers where they suffice, names written as UTF-8.
 */
#include "output_impl.h"

#include "arena.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <locale.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- tar streams ----------------------------------------------------------------------- */

static la_ssize_t tar_write_cb(struct archive *a, void *data, const void *buf, size_t n)
{
	struct out_tar *t = data;
	if (!t->sink) { /* taken away after a failure (out_tar_drop_sink) */
		archive_set_error(a, EPIPE, "the tar stream's output is gone");
		return -1;
	}
	if (out_sink_write(t->sink, buf, n, &t->werr) < 0) {
		archive_set_error(a, -t->werr.code, "%s", t->werr.msg);
		return -1;
	}
	return (la_ssize_t)n;
}

int out_tar_open(struct out_tar *t, struct out_sink *sink, struct rt_error *err)
{
	memset(t, 0, sizeof(*t));
	t->sink = sink;
	locale_t loc = newlocale(LC_CTYPE_MASK, "C.UTF-8", (locale_t)0);
	if (loc) {
		t->loc = loc;
		t->saved_loc = uselocale(loc);
	}
	t->a = archive_write_new();
	if (!t->a)
		return rt_error_set(err, -ENOMEM, "libarchive: cannot create a writer");
	if (archive_write_set_format_pax_restricted(t->a) != ARCHIVE_OK ||
	    archive_write_set_options(t->a, "xattrheader=SCHILY") != ARCHIVE_OK ||
	    archive_write_set_bytes_per_block(t->a, 0) != ARCHIVE_OK ||
	    archive_write_open(t->a, t, NULL, tar_write_cb, NULL) != ARCHIVE_OK)
		return out_tar_fail(t, "tar", err);
	return 0;
}

int out_tar_fail(struct out_tar *t, const char *what, struct rt_error *err)
{
	if (t->werr.code < 0) {
		*err = t->werr;
		return err->code;
	}
	if (rt_interrupted)
		return rt_error_set(err, -EINTR, "interrupted");
	int e = t->a ? archive_errno(t->a) : 0;
	const char *m = t->a ? archive_error_string(t->a) : NULL;
	return rt_error_set(err, e > 0 ? -e : -EIO, "%s: %s", what, m ? m : "tar write failed");
}

static struct archive_entry *new_entry(const char *name, mode_t mode, uint64_t size, time_t mtime)
{
	struct archive_entry *e = archive_entry_new();
	if (!e)
		abort();
	archive_entry_set_pathname(e, name);
	archive_entry_set_mode(e, mode);
	archive_entry_set_size(e, (la_int64_t)size);
	archive_entry_set_mtime(e, mtime, 0);
	archive_entry_set_uid(e, 0);
	archive_entry_set_gid(e, 0);
	return e;
}

int out_tar_add_mem(struct out_tar *t, const char *name, const void *buf, size_t len, time_t mtime,
                    struct rt_error *err)
{
	struct archive_entry *e = new_entry(name, S_IFREG | 0644, len, mtime);
	int r = archive_write_header(t->a, e);
	archive_entry_free(e);
	if (r < ARCHIVE_WARN || (len && archive_write_data(t->a, buf, len) != (la_ssize_t)len))
		return out_tar_fail(t, name, err);
	return 0;
}

int out_tar_add_dir(struct out_tar *t, const char *name, time_t mtime, struct rt_error *err)
{
	struct archive_entry *e = new_entry(name, S_IFDIR | 0755, 0, mtime);
	int r = archive_write_header(t->a, e);
	archive_entry_free(e);
	return r < ARCHIVE_WARN ? out_tar_fail(t, name, err) : 0;
}

int out_tar_add_file(struct out_tar *t, const char *name, const char *path, time_t mtime,
                     struct rt_error *err)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return rt_error_errno(err, -errno, "open %s", path);
	struct stat st;
	char *buf = NULL;
	int r = 0;
	if (fstat(fd, &st) < 0) {
		r = rt_error_errno(err, -errno, "stat %s", path);
		goto out;
	}
	struct archive_entry *e = new_entry(name, S_IFREG | 0644, (uint64_t)st.st_size, mtime);
	int ar = archive_write_header(t->a, e);
	archive_entry_free(e);
	if (ar < ARCHIVE_WARN) {
		r = out_tar_fail(t, name, err);
		goto out;
	}
	buf = xmalloc(OUT_FILE_BUF);
	off_t left = st.st_size;
	while (left > 0) {
		ssize_t n = read(fd, buf, (size_t)(left < OUT_FILE_BUF ? left : OUT_FILE_BUF));
		if (n < 0 && errno == EINTR && !rt_interrupted)
			continue;
		if (n <= 0) {
			r = n < 0 ? rt_error_errno(err, -errno, "read %s", path)
			          : rt_error_set(err, -EIO, "%s: shrank while being read", path);
			goto out;
		}
		if (archive_write_data(t->a, buf, (size_t)n) != n) {
			r = out_tar_fail(t, name, err);
			goto out;
		}
		left -= n;
	}
out:
	free(buf);
	close(fd);
	return r;
}

int out_tar_close(struct out_tar *t, struct rt_error *err)
{
	if (archive_write_close(t->a) != ARCHIVE_OK)
		return out_tar_fail(t, "tar", err);
	return 0;
}

void out_tar_release(struct out_tar *t)
{
	if (!t)
		return;
	if (t->a) {
		archive_write_free(t->a); /* closes first if needed: only after a failure */
		t->a = NULL;
	}
	if (t->loc) {
		uselocale((locale_t)t->saved_loc);
		freelocale((locale_t)t->loc);
		t->loc = NULL;
	}
}
