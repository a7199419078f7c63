/*
 * output_tmp: temporary names (output_impl.h). Artifacts are written under
 * a temporary name beside the destination and renamed into place once
 * complete and synced, so the final name holds either the previous
 * artifact or the new one.
 */
#include "output_impl.h"

#include "arena.h"
#include "path.h"
#include "strbuf.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- temporary names ------------------------------------------------------------------- */

/* mkdir -p dir (absolute or relative to the current directory). */
static int mkdir_p(const char *dir, struct rt_error *err)
{
	struct stat st;
	if (stat(dir, &st) == 0)
		return S_ISDIR(st.st_mode)
		           ? 0
		           : rt_error_set(err, -ENOTDIR, "%s: not a directory", dir);
	char *parent = path_dirname(dir);
	int r = 0;
	if (strcmp(parent, dir) && strcmp(parent, ".") && strcmp(parent, "/"))
		r = mkdir_p(parent, err);
	free(parent);
	if (r < 0)
		return r;
	if (mkdir(dir, 0777) < 0 && errno != EEXIST)
		return rt_error_errno(err, -errno, "mkdir %s", dir);
	return 0;
}

static int tmp_prepare(struct out_tmp *t, const char *final, bool is_dir, struct rt_error *err)
{
	memset(t, 0, sizeof(*t));
	t->af.fd = t->af.lock_fd = -1;
	t->final = path_normalize(final);
	t->is_dir = is_dir;
	char *dir = path_dirname(t->final);
	int r = mkdir_p(dir, err);
	free(dir);
	return r;
}

/* What is at t->final may be replaced by what t makes (see out_tmp_file, out_tmp_dir). */
static int check_replaceable(const struct out_tmp *t, struct rt_error *err)
{
	struct stat st;
	if (lstat(t->final, &st) < 0)
		return errno == ENOENT ? 0 : rt_error_errno(err, -errno, "stat %s", t->final);
	if (!S_ISDIR(st.st_mode))
		return 0;
	if (!t->is_dir)
		return rt_error_set(err, -EISDIR, "%s is a directory: not replaced", t->final);
	char *m = xasprintf("%s/%s", t->final, t->marker ? t->marker : ".");
	bool marked = t->marker && lstat(m, &st) == 0;
	free(m);
	if (marked)
		return 0;
	DIR *d = opendir(t->final);
	if (!d)
		return rt_error_errno(err, -errno, "open %s", t->final);
	struct dirent *de;
	bool empty = true;
	while (empty && (de = readdir(d)))
		empty = !strcmp(de->d_name, ".") || !strcmp(de->d_name, "..");
	closedir(d);
	if (empty)
		return 0;
	return rt_error_set(err, -EEXIST, "%s is a directory without %s: not replaced", t->final,
	                    t->marker ? t->marker : "the marks of an earlier output");
}

/* Make the temporary: a file (*ret_fd, the caller's to close) or a directory (atomic.h). */
static int tmp_create(struct out_tmp *t, int *ret_fd, struct rt_error *err)
{
	/* the modes are masked by the umask, as for any new file */
	int r = atomic_file_open(&t->af, t->final, t->is_dir ? 0777 : 0666,
	                         t->is_dir ? ATOMIC_DIR : 0, err);
	if (r < 0)
		return r;
	t->tmp = t->af.tmp;
	if (ret_fd) {
		*ret_fd = t->af.fd;
		t->af.fd = -1; /* the lock stays on the temporary until commit or release */
	}
	return 0;
}

int out_tmp_file(struct out_tmp *t, const char *final, int *ret_fd, struct rt_error *err)
{
	int r = tmp_prepare(t, final, false, err);
	if (r >= 0)
		r = check_replaceable(t, err);
	if (r >= 0)
		r = tmp_create(t, ret_fd, err);
	return r;
}

int out_tmp_dir(struct out_tmp *t, const char *final, const char *marker, struct rt_error *err)
{
	int r = tmp_prepare(t, final, true, err);
	t->marker = marker;
	if (r >= 0)
		r = check_replaceable(t, err);
	if (r >= 0)
		r = tmp_create(t, NULL, err);
	return r;
}

/* fsync the file or directory at name under dfd, and what a directory holds. */
static int sync_tree(int dfd, const char *name, int depth, struct rt_error *err)
{
	int fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return errno == ELOOP ? 0 : rt_error_errno(err, -errno, "open %s", name);
	struct stat st;
	int r = 0;
	if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode) && depth < 16) {
		int dup_fd = dup(fd);
		DIR *d = dup_fd >= 0 ? fdopendir(dup_fd) : NULL;
		if (!d) {
			if (dup_fd >= 0)
				close(dup_fd);
			close(fd);
			return rt_error_errno(err, -errno, "read directory %s", name);
		}
		struct dirent *de;
		while (r >= 0 && (de = readdir(d)))
			if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
				r = sync_tree(fd, de->d_name, depth + 1, err);
		closedir(d);
	}
	if (r >= 0 && fsync(fd) < 0 && errno != EINVAL)
		r = rt_error_errno(err, -errno, "fsync %s", name);
	close(fd);
	return r;
}

int out_tmp_commit(struct out_tmp *t, struct rt_error *err)
{
	if (rt_interrupted)
		return rt_error_set(err, -EINTR, "interrupted");
	if (t->af.direct) /* a character device or a FIFO, written through */
		return atomic_file_commit(&t->af, err);
	int r = t->no_sync ? 0 : sync_tree(AT_FDCWD, t->tmp, 0, err);
	if (r >= 0)
		r = check_replaceable(t, err); /* again: it may have come meanwhile */
	if (r < 0)
		return r;
	if (t->no_sync)
		t->af.flags |= ATOMIC_NO_SYNC;
	r = atomic_file_commit(&t->af, err);
	t->tmp = t->af.tmp;
	return r;
}

void out_tmp_release(struct out_tmp *t)
{
	if (!t)
		return;
	if (t->final) /* else never prepared */
		atomic_file_abort(&t->af);
	free(t->final);
	t->tmp = t->final = NULL;
}

int out_rm_rf(int dfd, const char *name)
{
	return rm_rf_at(dfd, name);
}
