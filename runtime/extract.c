/*
 * extract: safe archive extraction (see extract.h). Input: an archive read
 * by libarchive. Output: its entries under a directory fd. Invariant: every
 * path is resolved by openat2(RESOLVE_IN_ROOT) from that fd and every entry
 * is made relative to its resolved parent without following a final
 * symlink, so nothing is ever written outside the directory.
 */
#include "extract.h"

#include "arena.h"
#include "hashmap.h"

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <linux/openat2.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

/* Deeper trees than this are not removed (each level holds a file descriptor). */
#define REMOVE_DEPTH_MAX 512

/* hashmap values: a name made by this archive is a symlink (LIVE) or was one (GONE). */
#define MARK_LIVE ((void *)1)
#define MARK_GONE ((void *)2)

struct dir_meta {
	char *path;      /* relative, "" for the root */
	bool times_only; /* a directory the archive changes but does not list: keep its mtime */
	mode_t mode;
	uid_t uid;
	gid_t gid;
	struct timespec mtime;
};

struct xstate {
	int root_fd;
	unsigned flags;
	const char *label;
	bool chown;              /* set owners from the archive */
	bool as_root;            /* may make device nodes and set capabilities */
	struct hashmap symlinks; /* path -> MARK_LIVE/MARK_GONE: symlinks this archive made */
	struct hashmap created;  /* EXTRACT_WHITEOUTS: path -> MARK_LIVE, made by this archive */
	struct hashmap touched;  /* directories with an entry in dirs */
	char **keys;             /* the maps' keys, owned here */
	size_t nkeys, capkeys;
	struct dir_meta *dirs; /* directory metadata, applied at the end */
	size_t ndirs, capdirs;
	struct extract_stats st;
	struct rt_error *err;
	const char *entry; /* the current entry's name as written, for errors */
};

/* ---- small helpers ---------------------------------------------------- */

static int sys_openat2(int dirfd, const char *path, int flags, unsigned long long resolve)
{
	struct open_how how = {.flags = (unsigned long long)flags | O_CLOEXEC, .resolve = resolve};
	long fd = syscall(SYS_openat2, dirfd, path, &how, sizeof(how));
	return fd < 0 ? -errno : (int)fd;
}

#define IN_ROOT (RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS | RESOLVE_NO_XDEV)

static const char *own_key(struct xstate *x, const char *s)
{
	if (x->nkeys == x->capkeys) {
		x->capkeys = x->capkeys ? x->capkeys * 2 : 64;
		x->keys = xrealloc(x->keys, x->capkeys * sizeof(*x->keys));
	}
	return x->keys[x->nkeys++] = xstrdup(s);
}

static void mark(struct xstate *x, struct hashmap *m, const char *path, void *value)
{
	if (hashmap_get(m, path))
		hashmap_put(m, path, value);
	else
		hashmap_put(m, own_key(x, path), value);
}

static int fail(struct xstate *x, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* "LABEL: entry 'NAME': WHAT" */
static int fail(struct xstate *x, int code, const char *fmt, ...)
{
	char msg[768];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return rt_error_set(x->err, code, "%s: entry '%s': %s", x->label, x->entry, msg);
}

static int fail_errno(struct xstate *x, int code, const char *what, const char *path)
{
	return rt_error_set(x->err, code, "%s: entry '%s': %s '%s': %s", x->label, x->entry, what,
	                    path[0] ? path : ".", strerror(-code));
}

/*
 * A name as written -> a clean relative path ("" is the root itself), or
 * NULL with *why set: absolute names and ".." are refused, "." and empty
 * components dropped.
 */
static char *clean_name(const char *name, const char **why)
{
	if (name[0] == '/') {
		*why = "refused: absolute name";
		return NULL;
	}
	size_t len = strlen(name);
	if (len >= PATH_MAX) {
		*why = "refused: name too long";
		return NULL;
	}
	char *out = xmalloc(len + 1);
	size_t n = 0;
	for (const char *p = name; *p;) {
		const char *end = strchrnul(p, '/');
		size_t clen = (size_t)(end - p);
		if (clen == 2 && p[0] == '.' && p[1] == '.') {
			free(out);
			*why = "refused: '..' component";
			return NULL;
		}
		if (clen && !(clen == 1 && p[0] == '.')) {
			if (n)
				out[n++] = '/';
			memcpy(out + n, p, clen);
			n += clen;
		}
		p = *end ? end + 1 : end;
	}
	out[n] = '\0';
	return out;
}

/* The first proper prefix of path that is a symlink this archive made, or NULL. */
static const char *through_symlink(struct xstate *x, const char *path, char *buf)
{
	if (!hashmap_len(&x->symlinks))
		return NULL;
	strcpy(buf, path);
	for (char *s = strchr(buf, '/'); s; s = strchr(s + 1, '/')) {
		*s = '\0';
		if (hashmap_get(&x->symlinks, buf) == MARK_LIVE)
			return buf;
		*s = '/';
	}
	return NULL;
}

/* Split "a/b/c" into "a/b" and "c" (the root's children: "" and the name). */
static const char *split(char *path, const char **ret_dir)
{
	char *slash = strrchr(path, '/');
	if (!slash) {
		*ret_dir = "";
		return path;
	}
	*slash = '\0';
	*ret_dir = path;
	return slash + 1;
}

/*
 * Open directory dir (relative to the root, resolved in it) as an O_PATH fd.
 * create: make missing directories (0755, owned by the extracting user).
 */
static int open_dir(struct xstate *x, const char *dir, bool create, int *ret_fd)
{
	if (!dir[0]) {
		int fd = fcntl(x->root_fd, F_DUPFD_CLOEXEC, 3);
		if (fd < 0)
			return fail_errno(x, -errno, "cannot open", dir);
		*ret_fd = fd;
		return 0;
	}
	int fd = sys_openat2(x->root_fd, dir, O_PATH | O_DIRECTORY, IN_ROOT);
	if (fd >= 0) {
		*ret_fd = fd;
		return 0;
	}
	if (fd != -ENOENT || !create)
		return fail_errno(x, fd, "cannot open directory", dir);

	/* Walk down from the root, making what is missing. */
	char buf[PATH_MAX];
	strcpy(buf, dir);
	int parent = fcntl(x->root_fd, F_DUPFD_CLOEXEC, 3);
	if (parent < 0)
		return fail_errno(x, -errno, "cannot open", "");
	char *comp = buf;
	for (;;) {
		char *slash = strchr(comp, '/');
		if (slash)
			*slash = '\0';
		fd = sys_openat2(x->root_fd, buf, O_PATH | O_DIRECTORY, IN_ROOT);
		if (fd == -ENOENT) {
			if (mkdirat(parent, comp, 0700) < 0 && errno != EEXIST) {
				int r = -errno;
				close(parent);
				return fail_errno(x, r, "cannot make directory", buf);
			}
			(void)fchmodat(parent, comp, 0755, 0);
			if (x->flags & EXTRACT_WHITEOUTS)
				mark(x, &x->created, buf, MARK_LIVE);
			fd = sys_openat2(x->root_fd, buf, O_PATH | O_DIRECTORY, IN_ROOT);
		}
		close(parent);
		if (fd < 0)
			return fail_errno(x, fd, "cannot open directory", buf);
		if (!slash)
			break;
		*slash = '/';
		comp = slash + 1;
		parent = fd;
	}
	*ret_fd = fd;
	return 0;
}

static int remove_at(int dir_fd, const char *name, dev_t dev, int depth, struct rt_error *err);

/* Remove everything in the directory fd (which this function closes). */
static int remove_children(int fd, dev_t dev, int depth, struct rt_error *err)
{
	DIR *d = fdopendir(fd);
	if (!d) {
		int r = -errno;
		close(fd);
		return rt_error_errno(err, r, "cannot read directory");
	}
	int r = 0;
	for (bool again = true; again && r == 0;) {
		again = false;
		rewinddir(d);
		struct dirent *de;
		while (r == 0 && (de = readdir(d))) {
			if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
				continue;
			again = true;
			if (de->d_type == DT_DIR || de->d_type == DT_UNKNOWN)
				r = remove_at(dirfd(d), de->d_name, dev, depth + 1, err);
			else if (unlinkat(dirfd(d), de->d_name, 0) < 0 && errno != ENOENT)
				r = rt_error_errno(err, -errno, "cannot remove '%s'", de->d_name);
		}
	}
	closedir(d);
	return r;
}

static int remove_at(int dir_fd, const char *name, dev_t dev, int depth, struct rt_error *err)
{
	struct stat st;
	if (fstatat(dir_fd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT ? 0 : rt_error_errno(err, -errno, "cannot stat '%s'", name);
	if (!S_ISDIR(st.st_mode)) {
		if (unlinkat(dir_fd, name, 0) < 0 && errno != ENOENT)
			return rt_error_errno(err, -errno, "cannot remove '%s'", name);
		return 0;
	}
	if (st.st_dev != dev)
		return rt_error_set(err, -EBUSY, "cannot remove '%s': a mount point", name);
	if (depth > REMOVE_DEPTH_MAX)
		return rt_error_set(err, -ELOOP, "cannot remove '%s': nested too deeply", name);
	int fd = openat(dir_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return rt_error_errno(err, -errno, "cannot open '%s'", name);
	int r = remove_children(fd, dev, depth, err);
	if (r < 0)
		return r;
	if (unlinkat(dir_fd, name, AT_REMOVEDIR) < 0 && errno != ENOENT)
		return rt_error_errno(err, -errno, "cannot remove '%s'", name);
	return 0;
}

int extract_remove_at(int dir_fd, const char *name, struct rt_error *err)
{
	struct stat st;
	if (fstat(dir_fd, &st) < 0)
		return rt_error_errno(err, -errno, "cannot stat directory");
	return remove_at(dir_fd, name, st.st_dev, 0, err);
}

int extract_clear_dir(int dir_fd, struct rt_error *err)
{
	int fd = openat(dir_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return rt_error_errno(err, -errno, "cannot open directory");
	struct stat st;
	if (fstat(fd, &st) < 0) {
		int r = -errno;
		close(fd);
		return rt_error_errno(err, r, "cannot stat directory");
	}
	return remove_children(fd, st.st_dev, 0, err);
}

/*
 * Make room for a new entry `name` in pfd: remove what is there, unless it is
 * a directory and keep_dir. *ret_dir: a directory is there (and kept).
 */
static int clear_name(struct xstate *x, int pfd, const char *name, const char *path, bool keep_dir,
                      bool *ret_dir)
{
	struct stat st;
	*ret_dir = false;
	if (fstatat(pfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
		if (errno == ENOENT)
			return 0;
		return fail_errno(x, -errno, "cannot stat", path);
	}
	if (S_ISDIR(st.st_mode) && keep_dir) {
		*ret_dir = true;
		return 0;
	}
	struct rt_error e;
	int r = S_ISDIR(st.st_mode) ? extract_remove_at(pfd, name, &e)
	                            : (unlinkat(pfd, name, 0) < 0 ? -errno : 0);
	if (r < 0)
		return fail_errno(x, r, "cannot replace", path);
	return 0;
}

static struct timespec entry_mtime(struct archive_entry *e)
{
	struct timespec ts = {0, 0};
	if (archive_entry_mtime_is_set(e)) {
		ts.tv_sec = archive_entry_mtime(e);
		ts.tv_nsec = archive_entry_mtime_nsec(e);
	}
	return ts;
}

static void set_times_at(int pfd, const char *name, struct archive_entry *e)
{
	if (!archive_entry_mtime_is_set(e))
		return;
	struct timespec ts[2] = {entry_mtime(e), entry_mtime(e)};
	(void)utimensat(pfd, name, ts, AT_SYMLINK_NOFOLLOW);
}

/* The entry's security.capability, when running as root. */
static int set_caps(struct xstate *x, int fd, struct archive_entry *e, const char *path)
{
	if (!x->as_root || !archive_entry_xattr_reset(e))
		return 0;
	const char *name;
	const void *value;
	size_t size;
	while (archive_entry_xattr_next(e, &name, &value, &size) == ARCHIVE_OK) {
		if (strcmp(name, "security.capability"))
			continue;
		if (fsetxattr(fd, name, value, size, 0) < 0 && errno != ENOTSUP)
			return fail_errno(x, -errno, "cannot set capabilities of", path);
	}
	return 0;
}

static int write_all(int fd, const void *buf, size_t len, off_t off)
{
	const char *p = buf;
	while (len) {
		ssize_t n = pwrite(fd, p, len, off);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += n;
		len -= (size_t)n;
		off += n;
	}
	return 0;
}

/* Copy the entry's data into fd (sparse files stay sparse). */
static int write_data(struct xstate *x, struct archive *a, struct archive_entry *e, int fd,
                      const char *path)
{
	const void *buf;
	size_t size;
	la_int64_t off;
	off_t end = 0;
	int r;
	while ((r = archive_read_data_block(a, &buf, &size, &off)) == ARCHIVE_OK) {
		int w = write_all(fd, buf, size, (off_t)off);
		if (w < 0)
			return fail_errno(x, w, "cannot write", path);
		x->st.bytes += size;
		if ((off_t)(off + (la_int64_t)size) > end)
			end = (off_t)(off + (la_int64_t)size);
	}
	if (r != ARCHIVE_EOF)
		return fail(x, -EIO, "cannot read its data: %s",
		            archive_error_string(a) ? archive_error_string(a) : "read error");
	if (archive_entry_size_is_set(e) && archive_entry_size(e) > end)
		end = (off_t)archive_entry_size(e);
	if (ftruncate(fd, end) < 0)
		return fail_errno(x, -errno, "cannot write", path);
	return 0;
}

/* Owner, mode, capabilities and times of a file we opened. */
static int finish_fd(struct xstate *x, int fd, struct archive_entry *e, const char *path)
{
	if (x->chown && fchown(fd, archive_entry_uid(e), archive_entry_gid(e)) < 0)
		return fail_errno(x, -errno, "cannot set the owner of", path);
	/* After chown, which clears setuid and setgid. */
	if (fchmod(fd, archive_entry_mode(e) & 07777) < 0)
		return fail_errno(x, -errno, "cannot set the mode of", path);
	int r = set_caps(x, fd, e, path);
	if (r < 0)
		return r;
	if (archive_entry_mtime_is_set(e)) {
		struct timespec ts[2] = {entry_mtime(e), entry_mtime(e)};
		(void)futimens(fd, ts);
	}
	return 0;
}

/* ---- entries ------------------------------------------------------------ */

static void push_dir(struct xstate *x, struct dir_meta d)
{
	if (x->ndirs == x->capdirs) {
		x->capdirs = x->capdirs ? x->capdirs * 2 : 64;
		x->dirs = xrealloc(x->dirs, x->capdirs * sizeof(*x->dirs));
	}
	x->dirs[x->ndirs++] = d;
	mark(x, &x->touched, d.path, MARK_LIVE);
}

/*
 * An entry is about to be made or removed in directory dir (open as fd):
 * unless the archive lists dir itself, its mtime is put back at the end, so
 * the tree depends on the archive, not on the time it was extracted (as a
 * layer that adds /etc/two without listing /etc leaves /etc's time alone).
 */
static void note_parent(struct xstate *x, int fd, const char *dir)
{
	struct stat st;
	if (hashmap_get(&x->touched, dir) || fstat(fd, &st) < 0)
		return;
	push_dir(x,
	         (struct dir_meta){.path = xstrdup(dir), .times_only = true, .mtime = st.st_mtim});
}

static int do_file(struct xstate *x, struct archive *a, struct archive_entry *e, int pfd,
                   const char *name, const char *path)
{
	bool is_dir;
	int r = clear_name(x, pfd, name, path, false, &is_dir);
	if (r < 0)
		return r;
	int fd = openat(pfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return fail_errno(x, -errno, "cannot create", path);
	r = write_data(x, a, e, fd, path);
	if (r == 0)
		r = finish_fd(x, fd, e, path);
	close(fd);
	return r;
}

static int do_dir(struct xstate *x, struct archive_entry *e, int pfd, const char *name,
                  const char *path)
{
	bool is_dir;
	int r = clear_name(x, pfd, name, path, true, &is_dir);
	if (r < 0)
		return r;
	if (!is_dir && mkdirat(pfd, name, 0700) < 0)
		return fail_errno(x, -errno, "cannot make directory", path);
	push_dir(x, (struct dir_meta){
	                .path = xstrdup(path),
	                .mode = archive_entry_mode(e) & 07777,
	                .uid = (uid_t)archive_entry_uid(e),
	                .gid = (gid_t)archive_entry_gid(e),
	                .mtime = entry_mtime(e),
	            });
	return 0;
}

static int do_symlink(struct xstate *x, struct archive_entry *e, int pfd, const char *name,
                      const char *path)
{
	const char *target = archive_entry_symlink(e);
	if (!target || !target[0])
		return fail(x, -EINVAL, "%s", "refused: a symlink with an empty target");
	if (strlen(target) >= PATH_MAX)
		return fail(x, -ENAMETOOLONG, "%s", "refused: symlink target too long");
	bool is_dir;
	int r = clear_name(x, pfd, name, path, false, &is_dir);
	if (r < 0)
		return r;
	if (symlinkat(target, pfd, name) < 0)
		return fail_errno(x, -errno, "cannot make symlink", path);
	if (x->chown && fchownat(pfd, name, archive_entry_uid(e), archive_entry_gid(e),
	                         AT_SYMLINK_NOFOLLOW) < 0)
		return fail_errno(x, -errno, "cannot set the owner of", path);
	set_times_at(pfd, name, e);
	mark(x, &x->symlinks, path, MARK_LIVE);
	return 0;
}

static int do_hardlink(struct xstate *x, struct archive *a, struct archive_entry *e, int pfd,
                       const char *name, const char *path, const char *link)
{
	const char *why = NULL;
	char *target = clean_name(link, &why);
	char buf[PATH_MAX];
	int r = 0, tfd = -1;
	if (!target)
		return fail(x, -EPERM, "hard link to '%s' %s", link, why);
	if (!target[0]) {
		r = fail(x, -EPERM, "%s", "refused: a hard link to the root");
		goto out;
	}
	const char *via = through_symlink(x, target, buf);
	if (via) {
		r = fail(x, -EPERM,
		         "refused: hard link target '%s' goes through symlink '%s' made by an "
		         "earlier entry",
		         target, via);
		goto out;
	}
	if (!strcmp(target, path))
		goto out; /* a link to itself: nothing to do */
	char tcopy[PATH_MAX];
	strcpy(tcopy, target);
	const char *tdir;
	const char *tname = split(tcopy, &tdir);
	r = open_dir(x, tdir, false, &tfd);
	if (r < 0)
		goto out;
	struct stat st;
	if (fstatat(tfd, tname, &st, AT_SYMLINK_NOFOLLOW) < 0) {
		r = fail_errno(x, -errno, "cannot find hard link target", target);
		goto out;
	}
	if (S_ISDIR(st.st_mode)) {
		r = fail(x, -EPERM, "refused: hard link to directory '%s'", target);
		goto out;
	}
	bool is_dir;
	r = clear_name(x, pfd, name, path, false, &is_dir);
	if (r < 0)
		goto out;
	if (linkat(tfd, tname, pfd, name, 0) < 0) {
		r = fail_errno(x, -errno, "cannot make hard link", path);
		goto out;
	}
	if (S_ISLNK(st.st_mode))
		mark(x, &x->symlinks, path, MARK_LIVE);
	if (archive_entry_size_is_set(e) && archive_entry_size(e) > 0 && S_ISREG(st.st_mode)) {
		/* cpio-style: the data comes with the last link */
		int fd = openat(pfd, name, O_WRONLY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0) {
			r = fail_errno(x, -errno, "cannot open", path);
			goto out;
		}
		r = write_data(x, a, e, fd, path);
		close(fd);
	}
out:
	if (tfd >= 0)
		close(tfd);
	free(target);
	return r;
}

static int do_node(struct xstate *x, struct archive_entry *e, int pfd, const char *name,
                   const char *path, mode_t type)
{
	if ((type == S_IFCHR || type == S_IFBLK) && !x->as_root) {
		x->st.skipped_devices++;
		return 1; /* skipped, not made */
	}
	bool is_dir;
	int r = clear_name(x, pfd, name, path, false, &is_dir);
	if (r < 0)
		return r;
	if (mknodat(pfd, name, type | 0600, archive_entry_rdev(e)) < 0)
		return fail_errno(x, -errno, "cannot make node", path);
	if (x->chown && fchownat(pfd, name, archive_entry_uid(e), archive_entry_gid(e),
	                         AT_SYMLINK_NOFOLLOW) < 0)
		return fail_errno(x, -errno, "cannot set the owner of", path);
	if (fchmodat(pfd, name, archive_entry_mode(e) & 07777, 0) < 0)
		return fail_errno(x, -errno, "cannot set the mode of", path);
	set_times_at(pfd, name, e);
	return 0;
}

/* ".wh.NAME" removes NAME, ".wh..wh..opq" empties dir: only what earlier layers made. */
static int do_whiteout(struct xstate *x, const char *dir, const char *name)
{
	bool opaque = !strcmp(name, ".wh..wh..opq");
	const char *victim = name + 4;
	if (!opaque && !strncmp(name, ".wh..wh.", 8))
		return 0; /* aufs metadata (.wh..wh.plnk, ...) */
	if (!opaque && (!victim[0] || !strcmp(victim, ".") || !strcmp(victim, "..")))
		return fail(x, -EPERM, "refused: whiteout of '%s'", victim);

	int fd = sys_openat2(x->root_fd, dir[0] ? dir : ".", O_RDONLY | O_DIRECTORY, IN_ROOT);
	if (fd == -ENOENT || fd == -ENOTDIR)
		return 0; /* nothing below to hide */
	if (fd < 0)
		return fail_errno(x, fd, "cannot open directory", dir);
	struct rt_error e;
	int r = 0;
	note_parent(x, fd, dir);
	if (!opaque) {
		char *path = xasprintf("%s%s%s", dir, dir[0] ? "/" : "", victim);
		if (!hashmap_get(&x->created, path)) {
			r = extract_remove_at(fd, victim, &e);
			if (r < 0)
				r = fail_errno(x, r, "cannot remove", path);
		}
		free(path);
		close(fd);
		x->st.whiteouts++;
		return r;
	}

	/* Opaque: collect the names first, then remove those not made by this layer. */
	DIR *d = fdopendir(fd);
	if (!d) {
		r = -errno;
		close(fd);
		return fail_errno(x, r, "cannot read directory", dir);
	}
	char **names = NULL;
	size_t n = 0, cap = 0;
	struct dirent *de;
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		char *path = xasprintf("%s%s%s", dir, dir[0] ? "/" : "", de->d_name);
		bool keep = hashmap_get(&x->created, path) != NULL;
		free(path);
		if (keep)
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 16;
			names = xrealloc(names, cap * sizeof(*names));
		}
		names[n++] = xstrdup(de->d_name);
	}
	for (size_t i = 0; i < n; i++) {
		if (r == 0) {
			r = extract_remove_at(dirfd(d), names[i], &e);
			if (r < 0)
				r = fail_errno(x, r, "cannot remove", names[i]);
		}
		free(names[i]);
	}
	free(names);
	closedir(d);
	x->st.whiteouts++;
	return r;
}

static int do_entry(struct xstate *x, struct archive *a, struct archive_entry *e)
{
	const char *why = NULL;
	char *path = clean_name(x->entry, &why);
	if (!path)
		return fail(x, -EPERM, "%s", why);
	const char *link = archive_entry_hardlink(e);
	mode_t type = archive_entry_filetype(e);
	char buf[PATH_MAX], pcopy[PATH_MAX];
	int r = 0, pfd = -1;

	if (!path[0]) {
		/* The root itself ("./"). */
		if (link || type != AE_IFDIR)
			r = fail(x, -EPERM, "%s", "refused: the root is not a directory");
		else if (x->flags & EXTRACT_ROOT_META)
			r = do_dir(x, e, x->root_fd, ".", "");
		goto out;
	}
	const char *via = through_symlink(x, path, buf);
	if (via) {
		r = fail(x, -EPERM,
		         "refused: written through symlink '%s' made by an earlier entry", via);
		goto out;
	}
	strcpy(pcopy, path);
	const char *dir;
	const char *name = split(pcopy, &dir);
	if ((x->flags & EXTRACT_WHITEOUTS) && !strncmp(name, ".wh.", 4)) {
		r = do_whiteout(x, dir, name);
		goto out;
	}
	r = open_dir(x, dir, true, &pfd);
	if (r < 0)
		goto out;
	note_parent(x, pfd, dir);

	if (link)
		r = do_hardlink(x, a, e, pfd, name, path, link);
	else if (type == AE_IFREG)
		r = do_file(x, a, e, pfd, name, path);
	else if (type == AE_IFDIR)
		r = do_dir(x, e, pfd, name, path);
	else if (type == AE_IFLNK)
		r = do_symlink(x, e, pfd, name, path);
	else if (type == AE_IFCHR || type == AE_IFBLK || type == AE_IFIFO)
		r = do_node(x, e, pfd, name, path, type);
	else if (type == AE_IFSOCK)
		goto out; /* sockets are made by programs, not archives */
	else
		r = fail(x, -EINVAL, "%s", "refused: unknown file type");
	if (r != 0) {
		r = r < 0 ? r : 0;
		goto out;
	}
	x->st.entries++;
	/* A name made again as something else is no longer a symlink of this archive. */
	if (hashmap_get(&x->symlinks, path) == MARK_LIVE && !(type == AE_IFLNK && !link)) {
		struct stat st;
		if (fstatat(pfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && !S_ISLNK(st.st_mode))
			mark(x, &x->symlinks, path, MARK_GONE);
	}
	if (x->flags & EXTRACT_WHITEOUTS)
		mark(x, &x->created, path, MARK_LIVE);
out:
	if (pfd >= 0)
		close(pfd);
	free(path);
	return r;
}

/* Directories' owners, modes and mtimes, once nothing more is written in them. */
static int finish_dirs(struct xstate *x)
{
	/* Deepest last-made first, so a read-only parent never blocks a child; a
	   directory named twice gets its last entry's metadata. */
	struct hashmap done = HASHMAP_INIT;
	int r = 0;
	for (size_t i = x->ndirs; i-- > 0 && r == 0;) {
		struct dir_meta *d = &x->dirs[i];
		if (hashmap_get(&done, d->path))
			continue;
		hashmap_put(&done, d->path, MARK_LIVE);
		int fd = sys_openat2(x->root_fd, d->path[0] ? d->path : ".", O_RDONLY | O_DIRECTORY,
		                     IN_ROOT | RESOLVE_NO_SYMLINKS);
		if (fd == -ENOENT || fd == -ENOTDIR || fd == -ELOOP)
			continue; /* replaced or removed by a later entry */
		x->entry = d->path[0] ? d->path : ".";
		if (fd < 0) {
			r = fail_errno(x, fd, "cannot open directory", d->path);
			break;
		}
		if (d->times_only)
			(void)futimens(fd, (struct timespec[2]){d->mtime, d->mtime});
		else if (x->chown && fchown(fd, d->uid, d->gid) < 0)
			r = fail_errno(x, -errno, "cannot set the owner of", d->path);
		else if (fchmod(fd, d->mode) < 0)
			r = fail_errno(x, -errno, "cannot set the mode of", d->path);
		else if (d->mtime.tv_sec || d->mtime.tv_nsec)
			(void)futimens(fd, (struct timespec[2]){d->mtime, d->mtime});
		close(fd);
	}
	hashmap_release(&done);
	return r;
}

/* ---- reading ------------------------------------------------------------ */

struct source {
	int fd;
	EVP_MD_CTX *md;
	char buf[64 * 1024];
};

static la_ssize_t source_read(struct archive *a, void *data, const void **ret)
{
	struct source *s = data;
	ssize_t n;
	do
		n = read(s->fd, s->buf, sizeof(s->buf));
	while (n < 0 && errno == EINTR);
	if (n < 0) {
		archive_set_error(a, errno, "read error");
		return -1;
	}
	EVP_DigestUpdate(s->md, s->buf, (size_t)n);
	*ret = s->buf;
	return n;
}

/* Hash what libarchive left unread, so the digest covers the whole file. */
static int source_drain(struct source *s)
{
	for (;;) {
		ssize_t n = read(s->fd, s->buf, sizeof(s->buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return 0;
		EVP_DigestUpdate(s->md, s->buf, (size_t)n);
	}
}

static struct archive *reader_new(void)
{
	struct archive *a = archive_read_new();
	if (!a)
		return NULL;
	/* Formats that carry their entries; not mtree, which names files on this machine. */
	archive_read_support_format_tar(a);
	archive_read_support_format_cpio(a);
	archive_read_support_format_zip(a);
	archive_read_support_format_7zip(a);
	/* Built-in decompressors only: no external program is run. */
	archive_read_support_filter_gzip(a);
	archive_read_support_filter_bzip2(a);
	archive_read_support_filter_xz(a);
	archive_read_support_filter_lzma(a);
	archive_read_support_filter_lzip(a);
	archive_read_support_filter_zstd(a);
	archive_read_support_filter_lz4(a);
	archive_read_support_filter_compress(a);
	return a;
}

int extract_fd(int root_fd, int archive_fd, const struct extract_opts *opts,
               struct extract_stats *stats, struct rt_error *err)
{
	static const struct extract_opts no_opts;
	if (!opts)
		opts = &no_opts;
	struct xstate x = {
	    .root_fd = root_fd,
	    .flags = opts->flags,
	    .label = opts->label ? opts->label : "archive",
	    .as_root = geteuid() == 0,
	    .err = err,
	    .entry = "",
	};
	x.chown = x.as_root && !(opts->flags & EXTRACT_NO_OWNERS);
	struct source *src = NULL;
	int r = 0;
	struct archive *a = reader_new();
	if (!a)
		return rt_error_set(err, -ENOMEM, "%s: cannot start reading", x.label);
	if (opts->sha256_out) {
		src = xcalloc(1, sizeof(*src));
		src->fd = archive_fd;
		src->md = EVP_MD_CTX_new();
		if (!src->md || !EVP_DigestInit_ex(src->md, EVP_sha256(), NULL)) {
			r = rt_error_set(err, -ENOMEM, "%s: cannot start SHA-256", x.label);
			goto out;
		}
		if (archive_read_open(a, src, NULL, source_read, NULL) != ARCHIVE_OK) {
			r = rt_error_set(err, -EINVAL, "%s: %s", x.label, archive_error_string(a));
			goto out;
		}
	} else if (archive_read_open_fd(a, archive_fd, 64 * 1024) != ARCHIVE_OK) {
		r = rt_error_set(err, -EINVAL, "%s: %s", x.label, archive_error_string(a));
		goto out;
	}

	for (;;) {
		struct archive_entry *e;
		if (rt_interrupted) {
			r = rt_error_set(err, -EINTR, "%s: interrupted", x.label);
			goto out;
		}
		int h = archive_read_next_header(a, &e);
		if (h == ARCHIVE_EOF)
			break;
		if (h == ARCHIVE_WARN)
			h = ARCHIVE_OK; /* e.g. an unknown pax keyword: the entry is usable */
		if (h != ARCHIVE_OK) {
			r = rt_error_set(err, -EINVAL, "%s: %s", x.label, archive_error_string(a));
			goto out;
		}
		x.entry = archive_entry_pathname(e);
		if (!x.entry) {
			r = rt_error_set(err, -EINVAL, "%s: an entry without a name", x.label);
			goto out;
		}
		r = do_entry(&x, a, e);
		if (r < 0)
			goto out;
	}
	r = finish_dirs(&x);
	if (r < 0)
		goto out;
	if (src) {
		r = source_drain(src);
		if (r < 0) {
			rt_error_errno(err, r, "%s: read error", x.label);
			goto out;
		}
		unsigned int len = 0;
		EVP_DigestFinal_ex(src->md, opts->sha256_out, &len);
	}
	if (stats)
		*stats = x.st;
out:
	archive_read_free(a);
	if (src) {
		EVP_MD_CTX_free(src->md);
		free(src);
	}
	for (size_t i = 0; i < x.nkeys; i++)
		free(x.keys[i]);
	free(x.keys);
	for (size_t i = 0; i < x.ndirs; i++)
		free(x.dirs[i].path);
	free(x.dirs);
	hashmap_release(&x.symlinks);
	hashmap_release(&x.created);
	hashmap_release(&x.touched);
	return r;
}

int extract_path(int root_fd, const char *archive_path, const struct extract_opts *opts,
                 struct extract_stats *stats, struct rt_error *err)
{
	int fd = open(archive_path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		if (opts && opts->label)
			return rt_error_errno(err, -errno, "%s: cannot open", opts->label);
		return rt_error_errno(err, -errno, "cannot open '%s'", archive_path);
	}
	struct stat st;
	if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
		close(fd);
		return rt_error_set(err, -EISDIR, "'%s' is a directory, not an archive",
		                    archive_path);
	}
	int r = extract_fd(root_fd, fd, opts, stats, err);
	close(fd);
	return r;
}
