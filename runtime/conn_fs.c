/*
 * conn_fs: the file primitives of a connection, on a directory fd (see
 * conn_int.h). Input: paths inside the target; output: files changed there.
 *
 * The invariant: no lookup ever leaves the root. Every path is resolved by
 * the kernel with openat2(root_fd, path, RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS)
 * (for a rootfs): absolute symlinks and ".." stop at the root, /proc magic
 * links are refused. What creates, replaces or removes a name first opens the
 * parent directory that way (O_PATH) and then acts on the final component
 * alone with an *at() call, so a final symlink is replaced, never written
 * through; what acts on an existing object (stat, chmod, chown, readlink,
 * touch) opens it O_PATH and works on that fd (AT_EMPTY_PATH). A write is a
 * temporary file in the same directory (O_EXCL, random name), fsync'd and
 * renamed over the name: the old content or the new, never half, and other
 * hard links keep the old content. The temporary (".kiln-" and 16 hex
 * digits) holds an flock until the rename; one that nobody holds was left by
 * a killed kiln and goes at the next write into that directory. A recursive remove walks with
 * RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_XDEV: it never follows a
 * symlink nor crosses into a mount.
 */
#include "conn_int.h"

#include "atomic.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#ifndef SYS_fchmodat2
#define SYS_fchmodat2 452 /* Linux 6.6; the same number on every architecture */
#endif

/* Directory depth a recursive remove goes to (each level holds one fd). */
#define REMOVE_DEPTH_MAX 256

static int sys_openat2(int dirfd, const char *path, int flags, mode_t mode, uint64_t resolve)
{
	struct open_how how = {
	    .flags = (uint64_t)(unsigned)(flags | O_CLOEXEC),
	    .mode = (flags & O_CREAT) ? (uint64_t)mode : 0,
	    .resolve = resolve,
	};
	/* RESOLVE_IN_ROOT answers EAGAIN when a rename raced with the lookup: try again */
	for (int tries = 0;; tries++) {
		long fd = syscall(SYS_openat2, dirfd, path, &how, sizeof(how));
		if (fd >= 0)
			return (int)fd;
		if ((errno == EAGAIN || errno == EINTR) && tries < 64)
			continue;
		if (errno == ENOSYS && resolve == 0) {
			int f = openat(dirfd, path, flags | O_CLOEXEC, mode);
			return f >= 0 ? f : -errno;
		}
		return -errno;
	}
}

int conn_fs_open(const struct conn_fs *fs, const char *path, int flags, mode_t mode)
{
	return sys_openat2(fs->base, path, flags, mode, fs->resolve);
}

int conn_fs_init(struct conn_fs *fs, const char *dir, bool in_root, struct rt_error *err)
{
	fs->resolve = in_root ? RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS : 0;
	fs->base = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (fs->base < 0)
		return rt_error_errno(err, -errno, "cannot open directory '%s'", dir);
	if (in_root) {
		int fd = sys_openat2(fs->base, ".", O_PATH | O_DIRECTORY, 0, fs->resolve);
		if (fd < 0) {
			int r = fd;
			conn_fs_release(fs);
			if (r == -ENOSYS || r == -E2BIG || r == -EINVAL)
				return rt_error_set(err, -ENOSYS,
				                    "this kernel has no openat2(RESOLVE_IN_ROOT), "
				                    "which confines file operations to a rootfs "
				                    "(Linux 5.6 or later is needed)");
			return rt_error_errno(err, r, "cannot open directory '%s'", dir);
		}
		close(fd);
	}
	return 0;
}

void conn_fs_release(struct conn_fs *fs)
{
	if (fs->base >= 0)
		close(fs->base);
	fs->base = -1;
}

/* ---- helpers ------------------------------------------------------------------------------- */

static int check_path(const char *path, struct rt_error *err)
{
	if (!path || !*path)
		return rt_error_set(err, -EINVAL, "empty path");
	if (strlen(path) >= PATH_MAX)
		return rt_error_set(err, -ENAMETOOLONG, "path too long: '%.64s...'", path);
	return 0;
}

/*
 * Split path into its parent directory (opened O_PATH, returned) and its final component
 * (*ret_name, pointing into buf). Returns -EBUSY for the root itself ("/", "//"), with no
 * message: callers say what that means for them.
 */
static int open_parent(const struct conn_fs *fs, const char *path, char buf[PATH_MAX],
                       const char **ret_name, const char *what, struct rt_error *err)
{
	int r = check_path(path, err);
	if (r < 0)
		return r;
	strcpy(buf, path);
	size_t n = strlen(buf);
	while (n > 1 && buf[n - 1] == '/')
		buf[--n] = 0;
	if (strspn(buf, "/") == n)
		return -EBUSY;
	char *slash = strrchr(buf, '/');
	const char *parent, *name;
	if (!slash) {
		parent = ".";
		name = buf;
	} else if (slash == buf) {
		parent = "/";
		name = buf + 1;
	} else {
		*slash = 0;
		parent = buf;
		name = slash + 1;
	}
	if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
		return rt_error_set(err, -EINVAL, "cannot %s '%s': it ends in '%s'", what, path,
		                    name);
	if (strlen(name) > NAME_MAX)
		return rt_error_set(err, -ENAMETOOLONG, "cannot %s '%s': name too long", what,
		                    path);
	int fd = sys_openat2(fs->base, parent, O_PATH | O_DIRECTORY, 0, fs->resolve);
	if (fd < 0)
		return rt_error_errno(err, fd, "cannot %s '%s'", what, path);
	*ret_name = name;
	return fd;
}

/* A fresh name for a temporary file beside the final one. */
static void temp_name(char out[32])
{
	unsigned char rnd[8];
	if (getrandom(rnd, sizeof(rnd), GRND_NONBLOCK) != (ssize_t)sizeof(rnd)) {
		/* no entropy yet: the O_EXCL retry loop copes with a collision */
		uint64_t t = conn_now_ns() ^ ((uint64_t)getpid() << 32);
		memcpy(rnd, &t, sizeof(rnd));
	}
	snprintf(out, 32, ".kiln-%02x%02x%02x%02x%02x%02x%02x%02x", rnd[0], rnd[1], rnd[2], rnd[3],
	         rnd[4], rnd[5], rnd[6], rnd[7]);
}

/* Whether name is one of temp_name's: ".kiln-" and 16 lowercase hex digits. */
static bool is_temp_name(const char *name)
{
	if (strncmp(name, ".kiln-", 6))
		return false;
	for (int i = 6; i < 22; i++)
		if (!name[i] || !strchr("0123456789abcdef", name[i]))
			return false;
	return name[22] == '\0';
}

/*
 * Remove from the directory pfd the temporaries a killed kiln left there: a file that no
 * writer holds (a writer keeps an flock until its rename), a symlink older than a minute
 * (a writer renames its own at once). Nothing else, whatever its name. Once per directory
 * and process.
 */
/* Whether this process has cleaned the directory already: once is enough (a write per
   file into a big directory would else read it again each time). */
static bool scanned_before(int pfd)
{
	enum { NSLOTS = 4096 };
	static struct {
		dev_t dev;
		ino_t ino;
		bool used;
	} slots[NSLOTS];
	static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
	struct stat st;
	if (fstat(pfd, &st) < 0)
		return false;
	size_t h = ((size_t)st.st_ino * 2654435761u ^ (size_t)st.st_dev) % NSLOTS;
	bool seen = false;
	pthread_mutex_lock(&lock);
	for (size_t k = 0; k < NSLOTS; k++) {
		size_t i = (h + k) % NSLOTS;
		if (!slots[i].used) {
			slots[i].dev = st.st_dev;
			slots[i].ino = st.st_ino;
			slots[i].used = true;
			break;
		}
		if (slots[i].dev == st.st_dev && slots[i].ino == st.st_ino) {
			seen = true;
			break;
		}
	}
	pthread_mutex_unlock(&lock);
	return seen; /* a full table: every directory is cleaned each time */
}

static void remove_stale_temps(int pfd)
{
	if (scanned_before(pfd))
		return;
	int dfd = openat(pfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d = dfd >= 0 ? fdopendir(dfd) : NULL;
	if (!d) {
		if (dfd >= 0)
			close(dfd);
		return;
	}
	struct dirent *de;
	time_t now = time(NULL);
	while ((de = readdir(d))) {
		struct stat st;
		if (!is_temp_name(de->d_name) ||
		    fstatat(dfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
			continue;
		if (S_ISLNK(st.st_mode)) {
			if (st.st_mtime < now - 60)
				(void)unlinkat(dfd, de->d_name, 0);
			continue;
		}
		if (!S_ISREG(st.st_mode))
			continue;
		int fd = openat(dfd, de->d_name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
		if (fd < 0)
			continue;
		if (flock(fd, LOCK_EX | LOCK_NB) == 0)
			(void)unlinkat(dfd, de->d_name, 0);
		close(fd);
	}
	closedir(d);
}

/* chmod the object fd (O_PATH) refers to: a symlink is refused (-EOPNOTSUPP). */
static int fd_chmod(int fd, mode_t mode)
{
	if (syscall(SYS_fchmodat2, fd, "", mode, AT_EMPTY_PATH) == 0)
		return 0;
	if (errno != ENOSYS && errno != EINVAL)
		return -errno;
	/* Before Linux 6.6: through kiln's own /proc, to exactly the object fd holds. */
	struct stat st;
	if (fstat(fd, &st) < 0)
		return -errno;
	if (S_ISLNK(st.st_mode))
		return -EOPNOTSUPP;
	char p[64];
	snprintf(p, sizeof(p), "/proc/self/fd/%d", fd);
	return chmod(p, mode) < 0 ? -errno : 0;
}

static int fd_utimes(int fd, const struct timespec times[2])
{
	if (utimensat(fd, "", times, AT_EMPTY_PATH) == 0)
		return 0;
	if (errno != EINVAL)
		return -errno;
	char p[64];
	snprintf(p, sizeof(p), "/proc/self/fd/%d", fd);
	return utimensat(AT_FDCWD, p, times, 0) < 0 ? -errno : 0;
}

static bool attr_set(mode_t v)
{
	return v != (mode_t)-1;
}

/* ---- read / write / stat --------------------------------------------------------------- */

int conn_fs_read(const struct conn_fs *fs, const char *path, size_t max, char **ret_data,
                 size_t *ret_len, struct rt_error *err)
{
	int r = check_path(path, err);
	if (r < 0)
		return r;
	/* O_NONBLOCK: a FIFO must not block the open; it is refused just below */
	int fd = conn_fs_open(fs, path, O_RDONLY | O_NOCTTY | O_NONBLOCK, 0);
	if (fd < 0)
		return rt_error_errno(err, fd, "cannot read '%s'", path);
	char *buf = NULL;
	struct stat st;
	if (fstat(fd, &st) < 0) {
		r = rt_error_errno(err, -errno, "cannot read '%s'", path);
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		r = rt_error_set(err, S_ISDIR(st.st_mode) ? -EISDIR : -EINVAL,
		                 "cannot read '%s': not a regular file", path);
		goto out;
	}
	if ((unsigned long long)st.st_size > max) {
		r = rt_error_set(err, -EFBIG, "cannot read '%s': %lld bytes, more than %zu", path,
		                 (long long)st.st_size, max);
		goto out;
	}
	/* st_size + 1 to see EOF in one read; files that report no size (/proc) grow from 4K */
	size_t cap = (size_t)st.st_size + 1, len = 0;
	if (cap < 4096)
		cap = max < 4096 ? max + 1 : 4096;
	buf = malloc(cap + 1);
	if (!buf) {
		r = rt_error_errno(err, -ENOMEM, "cannot read '%s'", path);
		goto out;
	}
	for (;;) {
		if (len == cap) {
			/* the file grew (or reported no size): read on, up to max */
			size_t ncap = cap * 2;
			if (ncap > max + 1)
				ncap = max + 1;
			if (ncap <= cap) {
				r = rt_error_set(err, -EFBIG,
				                 "cannot read '%s': more than %zu bytes", path,
				                 max);
				goto out;
			}
			char *nb = realloc(buf, ncap + 1);
			if (!nb) {
				r = rt_error_errno(err, -ENOMEM, "cannot read '%s'", path);
				goto out;
			}
			buf = nb;
			cap = ncap;
		}
		ssize_t n = read(fd, buf + len, cap - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = rt_error_errno(err, -errno, "cannot read '%s'", path);
			goto out;
		}
		if (n == 0)
			break;
		len += (size_t)n;
		/* all the size fstat gave, in a read that asked for more: the end (no read of 0
		   to see it) */
		if (st.st_size > 0 && len == (size_t)st.st_size && len < cap)
			break;
	}
	if (len > max) {
		r = rt_error_set(err, -EFBIG, "cannot read '%s': more than %zu bytes", path, max);
		goto out;
	}
	buf[len] = 0;
	*ret_data = buf;
	*ret_len = len;
	buf = NULL;
	r = 0;
out:
	free(buf);
	close(fd);
	return r;
}

int conn_fs_write(const struct conn_fs *fs, const char *path, const void *data, size_t len,
                  const struct conn_attrs *attrs, struct rt_error *err)
{
	char buf[PATH_MAX], tmp[32];
	const char *name;
	int pfd = open_parent(fs, path, buf, &name, "write", err);
	if (pfd == -EBUSY)
		return rt_error_set(err, -EISDIR, "cannot write '%s': it is the root", path);
	if (pfd < 0)
		return pfd;
	int fd = -1, lock = -1, r;
	bool made = false;
	struct stat old;
	bool have_old = fstatat(pfd, name, &old, AT_SYMLINK_NOFOLLOW) == 0;
	if (!have_old && errno != ENOENT) {
		r = rt_error_errno(err, -errno, "cannot write '%s'", path);
		goto out;
	}
	if (have_old && S_ISDIR(old.st_mode)) {
		r = rt_error_set(err, -EISDIR, "cannot write '%s': it is a directory", path);
		goto out;
	}
	/* Only a regular file passes on its mode and owner; a symlink there is replaced. */
	bool keep = have_old && S_ISREG(old.st_mode);
	struct conn_attrs a = attrs ? *attrs : CONN_ATTRS_DEFAULT;
	mode_t mode = attr_set(a.mode) ? a.mode & 07777 : keep ? old.st_mode & 07777 : 0644;
	uid_t uid = a.uid != (uid_t)-1 ? a.uid : keep ? old.st_uid : (uid_t)-1;
	gid_t gid = a.gid != (gid_t)-1 ? a.gid : keep ? old.st_gid : (gid_t)-1;

	remove_stale_temps(pfd);
	for (int tries = 0; fd < 0; tries++) {
		temp_name(tmp);
		fd = openat(pfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (fd < 0 && (errno != EEXIST || tries > 100)) {
			r = rt_error_errno(err, -errno, "cannot write '%s'", path);
			goto out;
		}
		/* held until the rename: another kiln's cleanup leaves it alone */
		struct stat st;
		if (fd >= 0 && (flock(fd, LOCK_EX | LOCK_NB) < 0 || fstat(fd, &st) < 0 ||
		                st.st_nlink == 0 || (lock = dup(fd)) < 0)) {
			close(fd);
			fd = -1;
		}
	}
	made = true;
	if ((r = fd_write_all(fd, data, len)) < 0) {
		rt_error_errno(err, r, "cannot write '%s'", path);
		goto out;
	}
	/* owner before mode: a chown clears the set-id bits */
	if ((uid != (uid_t)-1 || gid != (gid_t)-1) && fchown(fd, uid, gid) < 0) {
		r = rt_error_errno(err, -errno, "cannot change the owner of '%s'", path);
		goto out;
	}
	/* the rename makes the replace atomic for every reader and for a killed kiln;
	   a rootfs is synced once at close instead of once per file */
	if (fchmod(fd, mode) < 0 || (!fs->sync_at_close && fsync(fd) < 0)) {
		r = rt_error_errno(err, -errno, "cannot write '%s'", path);
		goto out;
	}
	if (close(fd) < 0) {
		fd = -1;
		r = rt_error_errno(err, -errno, "cannot write '%s'", path);
		goto out;
	}
	fd = -1;
	if (renameat(pfd, tmp, pfd, name) < 0) {
		r = rt_error_errno(err, -errno, "cannot replace '%s'", path);
		goto out;
	}
	made = false;
	r = 0;
out:
	if (fd >= 0)
		close(fd);
	if (made)
		(void)unlinkat(pfd, tmp, 0);
	if (lock >= 0)
		close(lock);
	close(pfd);
	return r;
}

int conn_fs_stat(const struct conn_fs *fs, const char *path, bool follow, struct conn_stat *ret,
                 struct rt_error *err)
{
	int r = check_path(path, err);
	if (r < 0)
		return r;
	int fd = conn_fs_open(fs, path, O_PATH | (follow ? 0 : O_NOFOLLOW), 0);
	if (fd == -ENOENT || fd == -ENOTDIR) {
		*ret = (struct conn_stat){.exists = false};
		return 0;
	}
	if (fd < 0)
		return rt_error_errno(err, fd, "cannot stat '%s'", path);
	struct stat st;
	r = fstat(fd, &st) < 0 ? -errno : 0;
	close(fd);
	if (r < 0)
		return rt_error_errno(err, r, "cannot stat '%s'", path);
	*ret = (struct conn_stat){
	    .exists = true,
	    .mode = st.st_mode,
	    .uid = st.st_uid,
	    .gid = st.st_gid,
	    .size = st.st_size,
	};
	return 0;
}

/* ---- metadata -------------------------------------------------------------------------------- */

int conn_fs_mkdir(const struct conn_fs *fs, const char *path, const struct conn_attrs *attrs,
                  struct rt_error *err)
{
	char buf[PATH_MAX];
	const char *name;
	int pfd = open_parent(fs, path, buf, &name, "create directory", err);
	if (pfd == -EBUSY)
		return rt_error_set(err, -EEXIST, "cannot create directory '%s': it exists", path);
	if (pfd < 0)
		return pfd;
	struct conn_attrs a = attrs ? *attrs : CONN_ATTRS_DEFAULT;
	int r = 0, dfd = -1;
	/* 0700 first, so no one else can use it before its mode is set */
	if (mkdirat(pfd, name, 0700) < 0) {
		r = -errno;
		if (r == -EEXIST)
			rt_error_set(err, r, "cannot create directory '%s': it exists", path);
		else
			rt_error_errno(err, r, "cannot create directory '%s'", path);
		goto out;
	}
	dfd = openat(pfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dfd < 0) {
		r = rt_error_errno(err, -errno, "cannot open new directory '%s'", path);
		goto out;
	}
	if ((a.uid != (uid_t)-1 || a.gid != (gid_t)-1) && fchown(dfd, a.uid, a.gid) < 0) {
		r = rt_error_errno(err, -errno, "cannot change the owner of '%s'", path);
		goto out;
	}
	if (fchmod(dfd, attr_set(a.mode) ? a.mode & 07777 : 0755) < 0)
		r = rt_error_errno(err, -errno, "cannot change the mode of '%s'", path);
out:
	if (dfd >= 0)
		close(dfd);
	close(pfd);
	return r;
}

int conn_fs_chmod(const struct conn_fs *fs, const char *path, mode_t mode, struct rt_error *err)
{
	int r = check_path(path, err);
	if (r < 0)
		return r;
	/* a final symlink is followed, inside the root */
	int fd = conn_fs_open(fs, path, O_PATH, 0);
	if (fd < 0)
		return rt_error_errno(err, fd, "cannot change the mode of '%s'", path);
	r = fd_chmod(fd, mode & 07777);
	close(fd);
	if (r < 0)
		return rt_error_errno(err, r, "cannot change the mode of '%s'", path);
	return 0;
}

int conn_fs_chown(const struct conn_fs *fs, const char *path, uid_t uid, gid_t gid,
                  struct rt_error *err)
{
	int r = check_path(path, err);
	if (r < 0)
		return r;
	int fd = conn_fs_open(fs, path, O_PATH | O_NOFOLLOW, 0);
	if (fd < 0)
		return rt_error_errno(err, fd, "cannot change the owner of '%s'", path);
	r = fchownat(fd, "", uid, gid, AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW) < 0 ? -errno : 0;
	close(fd);
	if (r < 0)
		return rt_error_errno(err, r, "cannot change the owner of '%s'", path);
	return 0;
}

int conn_fs_utimes(const struct conn_fs *fs, const char *path, const struct timespec times[2],
                   struct rt_error *err)
{
	int r = check_path(path, err);
	if (r < 0)
		return r;
	int fd = conn_fs_open(fs, path, O_PATH, 0);
	if (fd < 0)
		return rt_error_errno(err, fd, "cannot set the times of '%s'", path);
	r = fd_utimes(fd, times);
	close(fd);
	if (r < 0)
		return rt_error_errno(err, r, "cannot set the times of '%s'", path);
	return 0;
}

int conn_fs_touch(const struct conn_fs *fs, const char *path, const struct conn_attrs *attrs,
                  struct rt_error *err)
{
	int r = check_path(path, err);
	if (r < 0)
		return r;
	struct conn_attrs a = attrs ? *attrs : CONN_ATTRS_DEFAULT;
	int fd = conn_fs_open(fs, path, O_PATH, 0);
	if (fd >= 0) {
		/* there: now as its times; only the attributes asked for change */
		r = fd_utimes(fd, NULL);
		if (r == 0 && (a.uid != (uid_t)-1 || a.gid != (gid_t)-1) &&
		    fchownat(fd, "", a.uid, a.gid, AT_EMPTY_PATH) < 0)
			r = -errno;
		if (r == 0 && attr_set(a.mode))
			r = fd_chmod(fd, a.mode & 07777);
		close(fd);
		if (r < 0)
			return rt_error_errno(err, r, "cannot touch '%s'", path);
		return 0;
	}
	if (fd != -ENOENT)
		return rt_error_errno(err, fd, "cannot touch '%s'", path);
	/* Missing (or a dangling symlink, whose target is then created inside the root).
	   Not O_EXCL, so a file that appeared meanwhile is only touched. */
	fd = conn_fs_open(fs, path, O_WRONLY | O_CREAT | O_NOCTTY | O_NONBLOCK, 0600);
	if (fd < 0)
		return rt_error_errno(err, fd, "cannot create '%s'", path);
	struct stat st;
	if (fstat(fd, &st) < 0)
		r = -errno;
	else if (!S_ISREG(st.st_mode))
		r = -EINVAL;
	if (r == 0 && (a.uid != (uid_t)-1 || a.gid != (gid_t)-1) && fchown(fd, a.uid, a.gid) < 0)
		r = -errno;
	if (r == 0 && fchmod(fd, attr_set(a.mode) ? a.mode & 07777 : 0644) < 0)
		r = -errno;
	close(fd);
	if (r < 0)
		return rt_error_errno(err, r, "cannot create '%s'", path);
	return 0;
}

/* ---- links ------------------------------------------------------------------------------- */

int conn_fs_symlink(const struct conn_fs *fs, const char *target, const char *path,
                    struct rt_error *err)
{
	if (!target || !*target)
		return rt_error_set(err, -EINVAL, "cannot create symlink '%s': empty target",
		                    path ? path : "");
	if (strlen(target) >= PATH_MAX)
		return rt_error_set(err, -ENAMETOOLONG,
		                    "cannot create symlink '%s': target too long", path);
	char buf[PATH_MAX], tmp[32];
	const char *name;
	int pfd = open_parent(fs, path, buf, &name, "create symlink", err);
	if (pfd == -EBUSY)
		return rt_error_set(err, -EEXIST, "cannot create symlink '%s': it is the root",
		                    path);
	if (pfd < 0)
		return pfd;
	int r;
	remove_stale_temps(pfd);
	for (int tries = 0;; tries++) {
		temp_name(tmp);
		if (symlinkat(target, pfd, tmp) == 0)
			break;
		if (errno != EEXIST || tries > 100) {
			r = rt_error_errno(err, -errno, "cannot create symlink '%s'", path);
			goto out;
		}
	}
	if (renameat(pfd, tmp, pfd, name) < 0) {
		r = rt_error_errno(err, -errno, "cannot create symlink '%s'", path);
		(void)unlinkat(pfd, tmp, 0);
		goto out;
	}
	r = 0;
out:
	close(pfd);
	return r;
}

int conn_fs_readlink(const struct conn_fs *fs, const char *path, char **ret_target,
                     struct rt_error *err)
{
	int r = check_path(path, err);
	if (r < 0)
		return r;
	int fd = conn_fs_open(fs, path, O_PATH | O_NOFOLLOW, 0);
	if (fd < 0)
		return rt_error_errno(err, fd, "cannot read symlink '%s'", path);
	struct stat st;
	char buf[PATH_MAX];
	ssize_t n = -1;
	if (fstat(fd, &st) < 0)
		r = -errno;
	else if (!S_ISLNK(st.st_mode))
		r = -EINVAL;
	else if ((n = readlinkat(fd, "", buf, sizeof(buf))) < 0)
		r = -errno;
	else if (n >= (ssize_t)sizeof(buf))
		r = -ENAMETOOLONG;
	close(fd);
	if (r == -EINVAL)
		return rt_error_set(err, r, "cannot read symlink '%s': not a symlink", path);
	if (r < 0)
		return rt_error_errno(err, r, "cannot read symlink '%s'", path);
	char *t = strndup(buf, (size_t)n);
	if (!t)
		return rt_error_errno(err, -ENOMEM, "cannot read symlink '%s'", path);
	*ret_target = t;
	return 0;
}

/* ---- remove ------------------------------------------------------------------------------ */

/* Empty directory name in dfd: never following a symlink, never crossing a mount. */
static int remove_tree(int dfd, const char *name, int depth, const char *path, struct rt_error *err)
{
	if (depth > REMOVE_DEPTH_MAX)
		return rt_error_set(err, -ELOOP, "cannot remove '%s': deeper than %d directories",
		                    path, REMOVE_DEPTH_MAX);
	int fd = sys_openat2(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW, 0,
	                     RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_XDEV |
	                         RESOLVE_NO_MAGICLINKS);
	if (fd == -EXDEV)
		return rt_error_set(err, fd, "cannot remove '%s': a mount point is inside", path);
	if (fd < 0)
		return rt_error_errno(err, fd, "cannot remove '%s'", path);
	DIR *d = fdopendir(fd);
	if (!d) {
		close(fd);
		return rt_error_errno(err, -errno, "cannot remove '%s'", path);
	}
	int r = 0;
	for (;;) {
		if (rt_interrupted) {
			r = rt_error_set(err, -EINTR, "interrupted while removing '%s'", path);
			break;
		}
		errno = 0;
		struct dirent *de = readdir(d);
		if (!de) {
			if (errno)
				r = rt_error_errno(err, -errno, "cannot remove '%s'", path);
			break;
		}
		const char *n = de->d_name;
		if (strcmp(n, ".") == 0 || strcmp(n, "..") == 0)
			continue;
		bool isdir = de->d_type == DT_DIR;
		if (de->d_type == DT_UNKNOWN) {
			struct stat st;
			if (fstatat(fd, n, &st, AT_SYMLINK_NOFOLLOW) < 0) {
				if (errno == ENOENT)
					continue;
				r = rt_error_errno(err, -errno, "cannot remove '%s/%s'", path, n);
				break;
			}
			isdir = S_ISDIR(st.st_mode);
		}
		if (isdir && (r = remove_tree(fd, n, depth + 1, path, err)) < 0)
			break;
		if (unlinkat(fd, n, isdir ? AT_REMOVEDIR : 0) < 0 && errno != ENOENT) {
			r = rt_error_errno(err, -errno, "cannot remove '%s/%s'", path, n);
			break;
		}
	}
	closedir(d);
	return r;
}

int conn_fs_remove(const struct conn_fs *fs, const char *path, bool recursive, struct rt_error *err)
{
	char buf[PATH_MAX];
	const char *name;
	struct rt_error perr = {0};
	int pfd = open_parent(fs, path, buf, &name, "remove", &perr);
	if (pfd == -EBUSY)
		return rt_error_set(err, -EBUSY, "refusing to remove the root '%s'", path);
	if (pfd == -ENOENT || pfd == -ENOTDIR)
		return 0; /* no parent: nothing to remove */
	if (pfd < 0) {
		if (err)
			*err = perr;
		return pfd;
	}
	int r = 0;
	struct stat st;
	if (fstatat(pfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
		if (errno != ENOENT)
			r = rt_error_errno(err, -errno, "cannot remove '%s'", path);
		goto out;
	}
	if (!S_ISDIR(st.st_mode)) {
		if (unlinkat(pfd, name, 0) < 0 && errno != ENOENT)
			r = rt_error_errno(err, -errno, "cannot remove '%s'", path);
		goto out;
	}
	if (recursive && (r = remove_tree(pfd, name, 0, path, err)) < 0)
		goto out;
	if (unlinkat(pfd, name, AT_REMOVEDIR) < 0 && errno != ENOENT) {
		r = -errno;
		if (r == -ENOTEMPTY || r == -EEXIST)
			rt_error_set(err, -ENOTEMPTY, "cannot remove '%s': directory not empty",
			             path);
		else
			rt_error_errno(err, r, "cannot remove '%s'", path);
	}
out:
	close(pfd);
	return r;
}
