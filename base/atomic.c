/* atomic: write a file on the build machine safely; see atomic.h. */
#include "atomic.h"

#include "arena.h"
#include "path.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static const char TMP_MARK[] = ".kiln-tmp.";
enum { RND_LEN = 8, MARK_LEN = sizeof(TMP_MARK) - 1 };
static const char rnd_chars[] = "abcdefghijklmnopqrstuvwxyz0123456789";

/* ---- temporaries a signal handler removes ---------------------------------------------- */

enum { NPENDING = 8 };
static char pending[NPENDING][PATH_MAX];
static volatile sig_atomic_t pending_used[NPENDING];

static int pending_add(const char *tmp)
{
	if (strlen(tmp) >= PATH_MAX)
		return -1;
	for (int i = 0; i < NPENDING; i++)
		if (!pending_used[i]) {
			strcpy(pending[i], tmp);
			pending_used[i] = 1;
			return i;
		}
	return -1; /* more at once than this: the next run removes what a kill leaves */
}

static void pending_del(const char *tmp)
{
	for (int i = 0; i < NPENDING; i++)
		if (pending_used[i] && !strcmp(pending[i], tmp))
			pending_used[i] = 0;
}

void atomic_unlink_pending(void)
{
	for (int i = 0; i < NPENDING; i++)
		if (pending_used[i])
			(void)unlink(pending[i]);
}

/* ---- writing ---------------------------------------------------------------------------- */

int fd_write_all(int fd, const void *buf, size_t n)
{
	const char *p = buf;
	while (n > 0) {
		ssize_t w = write(fd, p, n > (1u << 30) ? (1u << 30) : n);
		if (w < 0) {
			if (errno == EINTR && !rt_interrupted)
				continue;
			return -errno;
		}
		if (w == 0)
			return -EIO;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

int rm_rf_at(int dfd, const char *name)
{
	if (unlinkat(dfd, name, 0) == 0 || errno == ENOENT)
		return 0;
	if (errno != EISDIR && errno != EPERM)
		return -errno;
	int fd = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	DIR *d = fdopendir(fd);
	if (!d) {
		int e = -errno;
		close(fd);
		return e;
	}
	int r = 0;
	struct dirent *de;
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		int k = rm_rf_at(dirfd(d), de->d_name);
		if (k < 0 && r == 0)
			r = k;
	}
	closedir(d);
	if (unlinkat(dfd, name, AT_REMOVEDIR) < 0 && r == 0)
		r = -errno;
	return r;
}

/* The last component of path, and how much of it a temporary's name keeps. */
static const char *base_of(const char *path, size_t *ret_len)
{
	const char *b = strrchr(path, '/');
	b = b ? b + 1 : path;
	size_t n = strlen(b);
	size_t max = NAME_MAX - 1 - MARK_LEN - RND_LEN;
	*ret_len = n > max ? max : n;
	return b;
}

static bool is_rnd(const char *s)
{
	for (int i = 0; i < RND_LEN; i++)
		if (!s[i] || !strchr(rnd_chars, s[i]))
			return false;
	return s[RND_LEN] == '\0';
}

bool atomic_is_temp_name(const char *name)
{
	size_t n = strlen(name);
	if (name[0] != '.' || n < 1 + 1 + MARK_LEN + RND_LEN)
		return false;
	const char *mark = name + n - RND_LEN - MARK_LEN;
	return !strncmp(mark, TMP_MARK, MARK_LEN) && is_rnd(mark + MARK_LEN);
}

/* Whether name is a temporary for the final name base (its first blen bytes). */
static bool is_temp_of(const char *name, const char *base, size_t blen)
{
	return name[0] == '.' && !strncmp(name + 1, base, blen) &&
	       !strncmp(name + 1 + blen, TMP_MARK, MARK_LEN) && is_rnd(name + 1 + blen + MARK_LEN);
}

int atomic_remove_stale(const char *path)
{
	size_t blen;
	const char *base = base_of(path, &blen);
	if (!blen || !strcmp(base, ".") || !strcmp(base, ".."))
		return 0;
	char *dir = path_dirname(path);
	int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	free(dir);
	if (dfd < 0)
		return 0;
	int dup_fd = dup(dfd);
	DIR *d = dup_fd >= 0 ? fdopendir(dup_fd) : NULL;
	if (!d) {
		if (dup_fd >= 0)
			close(dup_fd);
		close(dfd);
		return 0;
	}
	int removed = 0;
	struct dirent *de;
	while ((de = readdir(d))) {
		if (!is_temp_of(de->d_name, base, blen))
			continue;
		struct stat st;
		if (fstatat(dfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
		    !(S_ISREG(st.st_mode) || S_ISDIR(st.st_mode)))
			continue; /* kiln makes only files and directories */
		int fd = openat(dfd, de->d_name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
		if (fd < 0)
			continue;
		/* a kiln writing it holds the lock: only a dead one's is free */
		if (flock(fd, LOCK_EX | LOCK_NB) == 0 && rm_rf_at(dfd, de->d_name) == 0)
			removed++;
		close(fd);
	}
	closedir(d);
	close(dfd);
	return removed;
}

static void fill_random(char *x)
{
	unsigned char rnd[RND_LEN];
	if (getrandom(rnd, sizeof(rnd), GRND_NONBLOCK) != (ssize_t)sizeof(rnd)) {
		/* no entropy yet: O_EXCL and the retries cope with a collision */
		struct timespec ts;
		clock_gettime(CLOCK_MONOTONIC, &ts);
		uint64_t t = (uint64_t)ts.tv_nsec * 2654435761u ^ (uint64_t)getpid() << 20;
		for (int i = 0; i < RND_LEN; i++, t >>= 7)
			rnd[i] = (unsigned char)(t ^ (uint64_t)rand());
	}
	for (int i = 0; i < RND_LEN; i++)
		x[i] = rnd_chars[rnd[i] % (sizeof(rnd_chars) - 1)];
}

static const char *kind_of(mode_t m)
{
	return S_ISDIR(m)    ? "a directory"
	       : S_ISSOCK(m) ? "a socket"
	       : S_ISBLK(m)  ? "a block device"
	       : S_ISCHR(m)  ? "a character device"
	       : S_ISFIFO(m) ? "a FIFO"
	                     : "not a regular file";
}

/* What is at path may be replaced (0), written through (1), or neither (< 0). */
static int check_target(const char *path, unsigned flags, struct rt_error *err)
{
	struct stat st;
	if (lstat(path, &st) < 0)
		return errno == ENOENT ? 0 : rt_error_errno(err, -errno, "cannot write %s", path);
	if (S_ISREG(st.st_mode) || S_ISLNK(st.st_mode))
		return 0;
	if (S_ISDIR(st.st_mode) && (flags & ATOMIC_DIR))
		return 0; /* the caller decides whether that directory may go */
	if ((S_ISCHR(st.st_mode) || S_ISFIFO(st.st_mode)) &&
	    !(flags & (ATOMIC_DIR | ATOMIC_NO_DIRECT)))
		return 1;
	return rt_error_set(err, S_ISDIR(st.st_mode) ? -EISDIR : -EEXIST,
	                    "cannot write %s: it is %s, which kiln neither replaces nor writes "
	                    "into; give the name of a file",
	                    path, kind_of(st.st_mode));
}

static int open_direct(struct atomic_file *af, struct rt_error *err)
{
	int fd = open(af->path, O_WRONLY | O_NOFOLLOW | O_NOCTTY | O_CLOEXEC);
	struct stat st;
	if (fd < 0)
		return rt_error_errno(err, -errno, "cannot write %s", af->path);
	if (fstat(fd, &st) < 0 || !(S_ISCHR(st.st_mode) || S_ISFIFO(st.st_mode))) {
		close(fd);
		return rt_error_set(err, -EAGAIN, "cannot write %s: it changed while opened",
		                    af->path);
	}
	af->fd = fd;
	af->direct = true;
	return 0;
}

static int create_temp(struct atomic_file *af, mode_t mode, struct rt_error *err)
{
	size_t blen;
	const char *base = base_of(af->path, &blen);
	char *dir = path_dirname(af->path);
	char *tmp = xasprintf("%s/.%.*s%sXXXXXXXX", dir, (int)blen, base, TMP_MARK);
	free(dir);
	char *x = tmp + strlen(tmp) - RND_LEN;
	bool is_dir = af->flags & ATOMIC_DIR;
	for (int tries = 0; tries < 100; tries++) {
		fill_random(x);
		int fd = -1, lock = -1;
		if (is_dir) {
			if (mkdir(tmp, mode) == 0)
				lock = open(tmp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		} else {
			int slot = pending_add(tmp);
			fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
			if (fd < 0 && slot >= 0)
				pending_used[slot] = 0;
			lock = fd >= 0 ? dup(fd) : -1;
			if (fd >= 0 && lock < 0) {
				int e = -errno;
				unlink(tmp);
				pending_del(tmp);
				close(fd);
				free(tmp);
				return rt_error_errno(err, e, "cannot write %s", af->path);
			}
		}
		if (lock < 0) {
			if (errno == EEXIST)
				continue;
			int e = -errno;
			if (is_dir)
				(void)rmdir(tmp);
			free(tmp);
			return rt_error_errno(err, e, "cannot create a temporary beside %s",
			                      af->path);
		}
		/* held until commit or abort; a cleaner that took it first removed the name */
		struct stat st;
		if (flock(lock, LOCK_EX | LOCK_NB) < 0 || fstat(lock, &st) < 0 ||
		    st.st_nlink == 0) {
			if (!is_dir)
				pending_del(tmp);
			close(lock);
			if (fd >= 0)
				close(fd);
			continue;
		}
		af->tmp = tmp;
		af->fd = fd;
		af->lock_fd = lock;
		return 0;
	}
	free(tmp);
	return rt_error_set(err, -EEXIST, "cannot create a temporary beside %s: all names taken",
	                    af->path);
}

int atomic_file_open(struct atomic_file *af, const char *path, mode_t mode, unsigned flags,
                     struct rt_error *err)
{
	memset(af, 0, sizeof(*af));
	af->fd = af->lock_fd = -1;
	af->flags = flags;
	af->path = xstrdup(path);
	if ((flags & ATOMIC_DASH_STDOUT) && !strcmp(path, "-")) {
		fflush(stdout);
		af->fd = dup(STDOUT_FILENO);
		if (af->fd < 0)
			return rt_error_errno(err, -errno, "cannot write to standard output");
		af->direct = true;
		return 0;
	}
	if (!*path)
		return rt_error_set(err, -ENOENT, "cannot write a file with an empty name");
	int r = check_target(path, flags, err);
	if (r < 0)
		return r;
	if (r == 1)
		return open_direct(af, err);
	(void)atomic_remove_stale(path);
	return create_temp(af, mode, err);
}

static void sync_parent(const char *path)
{
	char *dir = path_dirname(path);
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	free(dir);
	if (fd >= 0) {
		(void)fsync(fd);
		close(fd);
	}
}

int atomic_file_commit(struct atomic_file *af, struct rt_error *err)
{
	if (rt_interrupted)
		return rt_error_set(err, -EINTR, "interrupted: %s not written", af->path);
	int fd = af->fd;
	af->fd = -1;
	if (af->direct) {
		if (fd >= 0 && close(fd) < 0)
			return rt_error_errno(err, -errno, "cannot write %s", af->path);
		return 0;
	}
	if (!af->tmp)
		return rt_error_set(err, -EINVAL, "%s: nothing to commit", af->path);
	bool sync = !(af->flags & ATOMIC_NO_SYNC);
	if (fd >= 0) {
		int r = sync && fsync(fd) < 0 ? -errno : 0;
		if (close(fd) < 0 && r == 0)
			r = -errno;
		if (r < 0)
			return rt_error_errno(err, r, "cannot write %s", af->path);
	}
	/* again: something may have come to the final name meanwhile */
	int r = check_target(af->path, af->flags | ATOMIC_NO_DIRECT, err);
	if (r < 0)
		return r;
	if (rename(af->tmp, af->path) < 0) {
		if (!(af->flags & ATOMIC_DIR) ||
		    (errno != ENOTEMPTY && errno != EEXIST && errno != ENOTDIR && errno != EISDIR))
			return rt_error_errno(err, -errno, "cannot rename to %s", af->path);
		/* a directory (or a file) is there: swap, then remove the old one */
		if (renameat2(AT_FDCWD, af->tmp, AT_FDCWD, af->path, RENAME_EXCHANGE) < 0)
			return rt_error_errno(err, -errno, "cannot replace %s", af->path);
		(void)rm_rf_at(AT_FDCWD, af->tmp);
	}
	if (!(af->flags & ATOMIC_DIR))
		pending_del(af->tmp);
	free(af->tmp);
	af->tmp = NULL;
	if (sync)
		sync_parent(af->path);
	if (af->lock_fd >= 0)
		close(af->lock_fd);
	af->lock_fd = -1;
	return 0;
}

void atomic_file_abort(struct atomic_file *af)
{
	if (!af)
		return;
	if (af->fd >= 0)
		close(af->fd);
	if (af->tmp) {
		(void)rm_rf_at(AT_FDCWD, af->tmp);
		if (!(af->flags & ATOMIC_DIR))
			pending_del(af->tmp);
	}
	if (af->lock_fd >= 0)
		close(af->lock_fd);
	free(af->tmp);
	free(af->path);
	af->fd = af->lock_fd = -1;
	af->tmp = af->path = NULL;
}
