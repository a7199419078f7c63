/*
 * layer: what a stage changed in a root filesystem, as a tar. Input: a
 * directory and, for a stage, the snapshot taken before it ran. Output: an
 * uncompressed tar of the new and changed entries, with an OCI whiteout
 * (.wh.NAME) for each removed one, and the tar's sha256 (the diff_id).
 *
 * The tree is walked with openat/fstatat, never following a symlink and
 * never descending into another file system (a mount left in the tree),
 * each directory's names sorted, so entries come in one order: a path sorts
 * as its components do, which is byte order with '/' lowest. A snapshot
 * keeps its entries in that order, so finding changes is a merge of two
 * sorted sequences; whiteouts for a directory's removed entries come first
 * among its entries, as the image spec advises. Memory grows with the
 * number of entries (a snapshot holds their metadata; the writer remembers
 * hard-linked inodes), never with their sizes: file contents are streamed
 * through a fixed buffer. An entry changed if its type, mode, owner, size,
 * mtime, ctime or link target differs; a change of content or xattrs moves
 * the ctime. A directory changed only if its type, mode, owner or mtime as
 * written (clamped to the image time) differs: adding or removing a name in
 * it is a change of that name, not of the directory. Hard links within a layer stay hard links (the
 * first name in path order holds the content); sockets are left out (a tar has no such type); of
 * the extended attributes only security.capability is kept, as docker does. A name starting with
 * ".wh." is refused: it would read as a whiteout.
 */
#include "output_impl.h"

#include "arena.h"
#include "strbuf.h"

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

enum {
	MAX_DEPTH = 256,    /* directory levels (each holds a descriptor while walked) */
	READ_BUF = 1 << 20, /* file contents are read in pieces of this size */
};

#define WHITEOUT ".wh."

struct snap_ent {
	size_t path;   /* offset of the path in names */
	size_t target; /* offset of a symlink's target in names, or SIZE_MAX */
	uint64_t size;
	int64_t mtime, ctime;
	uint32_t mtime_ns, ctime_ns;
	uint32_t mode, uid, gid;
};

struct layer_snap {
	struct snap_ent *ents;
	size_t n, cap;
	char *names;
	size_t nlen, ncap;
};

/* Paths compare as their components do: byte order with '/' below every other byte. */
int layer_path_cmp(const char *a, const char *b)
{
	for (;; a++, b++) {
		int ca = *a == '/' ? 1 : *a ? (unsigned char)*a + 1 : 0;
		int cb = *b == '/' ? 1 : *b ? (unsigned char)*b + 1 : 0;
		if (ca != cb)
			return ca < cb ? -1 : 1;
		if (!ca)
			return 0;
	}
}

/* ---- the walk -------------------------------------------------------------------------- */

/* What visit returns to leave a directory's entries out of the walk. */
enum { WALK_NO_DESCEND = 1 };

struct walker {
	struct strbuf path; /* the current entry, relative to the root */
	dev_t root_dev;
	int (*visit)(struct walker *w, int dfd, const char *name, const struct stat *st);
	/* entering the directory w->path (the root: ""), before its entries; may be NULL */
	int (*enter)(struct walker *w, char **names, size_t n);
	void *data;
	struct rt_error *err;
};

static int cmp_name(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The names in directory dfd, sorted; one allocation holds the array and the names. */
static int list_dir(struct walker *w, int dfd, char ***ret, size_t *ret_n)
{
	int fd = openat(dfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	if (!d) {
		if (fd >= 0)
			close(fd);
		return rt_error_errno(w->err, -errno, "read directory /%s", w->path.buf);
	}
	struct strbuf names = STRBUF_INIT;
	size_t n = 0;
	struct dirent *de;
	errno = 0;
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		sb_add(&names, de->d_name, strlen(de->d_name) + 1);
		n++;
	}
	int e = errno;
	closedir(d);
	if (e) {
		sb_release(&names);
		return rt_error_errno(w->err, -e, "read directory /%s", w->path.buf);
	}
	char **list = xmalloc((n + 1) * sizeof(*list) + names.len + 1);
	char *pool = (char *)(list + n + 1);
	if (names.len)
		memcpy(pool, names.buf, names.len);
	for (size_t i = 0; i < n; i++) {
		list[i] = pool;
		pool += strlen(pool) + 1;
	}
	list[n] = NULL;
	sb_release(&names);
	qsort(list, n, sizeof(*list), cmp_name);
	*ret = list;
	*ret_n = n;
	return 0;
}

static int walk_dir(struct walker *w, int dfd, int depth)
{
	if (depth > MAX_DEPTH)
		return rt_error_set(w->err, -ELOOP, "/%s: more than %d directory levels",
		                    w->path.buf, MAX_DEPTH);
	char **names = NULL;
	size_t n = 0;
	int r = list_dir(w, dfd, &names, &n);
	if (r < 0)
		return r;
	if (w->enter)
		r = w->enter(w, names, n);
	for (size_t i = 0; i < n && r >= 0; i++) {
		if (rt_interrupted) {
			r = rt_error_set(w->err, -EINTR, "interrupted");
			break;
		}
		struct stat st;
		if (fstatat(dfd, names[i], &st, AT_SYMLINK_NOFOLLOW) < 0) {
			if (errno == ENOENT) /* gone since the listing */
				continue;
			r = rt_error_errno(w->err, -errno, "stat /%s/%s", w->path.buf, names[i]);
			break;
		}
		size_t save = w->path.len;
		if (save)
			sb_addc(&w->path, '/');
		sb_adds(&w->path, names[i]);
		r = w->visit(w, dfd, names[i], &st);
		bool descend = r != WALK_NO_DESCEND;
		if (r == WALK_NO_DESCEND)
			r = 0;
		if (descend && r >= 0 && S_ISDIR(st.st_mode) && st.st_dev == w->root_dev) {
			int cfd =
			    openat(dfd, names[i], O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (cfd < 0) {
				r = rt_error_errno(w->err, -errno, "open /%s", w->path.buf);
			} else {
				r = walk_dir(w, cfd, depth + 1);
				close(cfd);
			}
		}
		w->path.len = save;
		w->path.buf[save] = '\0';
	}
	free(names);
	return r;
}

/* Walk the tree under dir (not dir itself) in path order. */
static int walk(const char *dir, struct walker *w)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return rt_error_errno(w->err, -errno, "open %s", dir);
	struct stat st;
	int r;
	if (fstat(fd, &st) < 0) {
		r = rt_error_errno(w->err, -errno, "stat %s", dir);
	} else {
		w->root_dev = st.st_dev;
		sb_adds(&w->path, "");
		r = walk_dir(w, fd, 0);
	}
	close(fd);
	sb_release(&w->path);
	return r;
}

static int read_link(struct walker *w, int dfd, const char *name, char *buf, size_t cap)
{
	ssize_t n = readlinkat(dfd, name, buf, cap - 1);
	if (n < 0)
		return rt_error_errno(w->err, -errno, "readlink /%s", w->path.buf);
	buf[n] = '\0';
	return 0;
}

/* ---- snapshots ------------------------------------------------------------------------- */

static size_t snap_name(struct layer_snap *s, const char *str)
{
	size_t len = strlen(str) + 1;
	if (s->nlen + len > s->ncap) {
		s->ncap = (s->ncap ? s->ncap * 2 : 1 << 16) + len;
		s->names = xrealloc(s->names, s->ncap);
	}
	memcpy(s->names + s->nlen, str, len);
	s->nlen += len;
	return s->nlen - len;
}

static int snap_visit(struct walker *w, int dfd, const char *name, const struct stat *st)
{
	struct layer_snap *s = w->data;
	if (s->n == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 1024;
		s->ents = xrealloc(s->ents, s->cap * sizeof(*s->ents));
	}
	struct snap_ent *e = &s->ents[s->n];
	*e = (struct snap_ent){
	    .path = snap_name(s, w->path.buf),
	    .target = SIZE_MAX,
	    .size = (uint64_t)st->st_size,
	    .mtime = st->st_mtim.tv_sec,
	    .mtime_ns = (uint32_t)st->st_mtim.tv_nsec,
	    .ctime = st->st_ctim.tv_sec,
	    .ctime_ns = (uint32_t)st->st_ctim.tv_nsec,
	    .mode = st->st_mode,
	    .uid = st->st_uid,
	    .gid = st->st_gid,
	};
	if (S_ISLNK(st->st_mode)) {
		char target[PATH_MAX + 1];
		int r = read_link(w, dfd, name, target, sizeof(target));
		if (r < 0)
			return r;
		e->target = snap_name(s, target);
	}
	s->n++;
	return 0;
}

int layer_snapshot(const char *dir, struct layer_snap **ret, struct rt_error *err)
{
	struct layer_snap *s = xcalloc(1, sizeof(*s));
	struct walker w = {.path = STRBUF_INIT, .visit = snap_visit, .data = s, .err = err};
	int r = walk(dir, &w);
	if (r < 0) {
		layer_snap_free(s);
		return r;
	}
	*ret = s;
	return 0;
}

void layer_snap_free(struct layer_snap *s)
{
	if (!s)
		return;
	free(s->ents);
	free(s->names);
	free(s);
}

/* ---- hard links ------------------------------------------------------------------------ */

/* Inodes with more than one name, to the first name written: open addressing. */
struct inode_map {
	struct inode_slot {
		dev_t dev;
		ino_t ino;
		char *path; /* NULL: empty */
	} * slots;
	size_t n, cap;
};

static struct inode_slot *inode_find(struct inode_map *m, dev_t dev, ino_t ino)
{
	if (!m->cap)
		return NULL;
	size_t h = ((size_t)ino * 0x9e3779b97f4a7c15ull) ^ (size_t)dev;
	for (size_t i = h & (m->cap - 1);; i = (i + 1) & (m->cap - 1)) {
		struct inode_slot *s = &m->slots[i];
		if (!s->path || (s->dev == dev && s->ino == ino))
			return s;
	}
}

static void inode_put(struct inode_map *m, dev_t dev, ino_t ino, const char *path)
{
	if (2 * (m->n + 1) > m->cap) {
		struct inode_map big = {.cap = m->cap ? m->cap * 2 : 64};
		big.slots = xcalloc(big.cap, sizeof(*big.slots));
		for (size_t i = 0; i < m->cap; i++)
			if (m->slots[i].path)
				*inode_find(&big, m->slots[i].dev, m->slots[i].ino) = m->slots[i];
		big.n = m->n;
		free(m->slots);
		*m = big;
	}
	struct inode_slot *s = inode_find(m, dev, ino);
	*s = (struct inode_slot){dev, ino, xstrdup(path)};
	m->n++;
}

static void inode_map_release(struct inode_map *m)
{
	for (size_t i = 0; i < m->cap; i++)
		free(m->slots[i].path);
	free(m->slots);
}

/* ---- writing the tar ------------------------------------------------------------------- */

struct stream {
	struct out_tar *t;
	const struct layer_snap *prev;
	const struct layer_hooks *hooks; /* NULL: none */
	size_t pi;                       /* next entry of prev not yet matched */
	int64_t epoch;                   /* the image time: later mtimes are clamped to it */
	struct inode_map inodes;
	struct archive_entry *e;
	char *buf;
};

static time_t clamp(const struct stream *s, time_t t)
{
	return t > s->epoch ? (time_t)s->epoch : t;
}

static int find_name(char **names, size_t n, const char *name)
{
	size_t lo = 0, hi = n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(names[mid], name);
		if (!c)
			return 1;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return 0;
}

/*
 * Entering the directory w->path, whose entries are names: a whiteout for
 * each entry prev had there and the tree no longer has, before the
 * directory's other entries. Entries of prev below the directory follow
 * the one that matched it (s->pi), in path order.
 */
static int stream_enter(struct walker *w, char **names, size_t n)
{
	struct stream *s = w->data;
	const struct layer_snap *p = s->prev;
	if (!p)
		return 0;
	const char *dir = w->path.buf;
	size_t dlen = w->path.len;
	struct strbuf name = STRBUF_INIT;
	int r = 0;
	for (size_t i = s->pi; i < p->n && r >= 0; i++) {
		const char *path = p->names + p->ents[i].path;
		if (dlen && (strncmp(path, dir, dlen) || path[dlen] != '/'))
			break; /* past the directory's entries */
		const char *child = dlen ? path + dlen + 1 : path;
		if (strchr(child, '/') || find_name(names, n, child))
			continue;
		sb_reset(&name);
		sb_addf(&name, "%s%s" WHITEOUT "%s", dir, dlen ? "/" : "", child);
		archive_entry_clear(s->e);
		archive_entry_copy_pathname(s->e, name.buf);
		archive_entry_set_mode(s->e, S_IFREG | 0644);
		archive_entry_set_size(s->e, 0);
		archive_entry_set_mtime(s->e, (time_t)s->epoch, 0);
		if (archive_write_header(s->t->a, s->e) < ARCHIVE_WARN)
			r = out_tar_fail(s->t, name.buf, w->err);
	}
	sb_release(&name);
	return r;
}

static bool unchanged(const struct stream *s, const struct snap_ent *p, const struct stat *st,
                      const char *target)
{
	if (p->mode != st->st_mode || p->uid != st->st_uid || p->gid != st->st_gid)
		return false;
	/* a directory's entry holds its mode, owner and mtime: entries added or removed
	   in it are entries of their own, so its ctime (which they move, as do files
	   kiln adds for a build step and takes away) does not count; its mtime counts
	   as written, clamped */
	if (S_ISDIR(st->st_mode))
		return clamp(s, (time_t)p->mtime) == clamp(s, st->st_mtim.tv_sec);
	if (p->mtime != st->st_mtim.tv_sec || p->mtime_ns != (uint32_t)st->st_mtim.tv_nsec ||
	    p->ctime != st->st_ctim.tv_sec || p->ctime_ns != (uint32_t)st->st_ctim.tv_nsec)
		return false;
	if ((S_ISREG(st->st_mode) || S_ISLNK(st->st_mode)) && p->size != (uint64_t)st->st_size)
		return false;
	if (S_ISLNK(st->st_mode))
		return p->target != SIZE_MAX && !strcmp(s->prev->names + p->target, target);
	return true;
}

/* Stream a regular file's content (size bytes) from fd into the tar. */
static int copy_data(struct stream *s, struct walker *w, int fd, uint64_t size)
{
	uint64_t left = size;
	while (left > 0) {
		size_t want = left < READ_BUF ? (size_t)left : READ_BUF;
		ssize_t n = out_read(fd, s->buf, want, w->path.buf, w->err);
		if (n < 0)
			return (int)n;
		if (n == 0)
			return rt_error_set(w->err, -EIO, "/%s: shrank while being read",
			                    w->path.buf);
		if (archive_write_data(s->t->a, s->buf, (size_t)n) != n)
			return out_tar_fail(s->t, w->path.buf, w->err);
		left -= (uint64_t)n;
	}
	return 0;
}

static int stream_visit(struct walker *w, int dfd, const char *name, const struct stat *st)
{
	struct stream *s = w->data;
	const char *path = w->path.buf;
	char target[PATH_MAX + 1] = "";
	int r;

	if (!strncmp(name, WHITEOUT, strlen(WHITEOUT)))
		return rt_error_set(w->err, -EINVAL,
		                    "/%s: names starting with '" WHITEOUT
		                    "' are reserved for layer whiteouts",
		                    path);
	if (S_ISSOCK(st->st_mode)) /* a tar cannot hold a socket */
		return 0;
	if (s->hooks) {
		int skip = 0;
		if ((r = s->hooks->before(s->hooks->data, path, S_ISDIR(st->st_mode), &skip,
		                          w->err)) < 0)
			return r;
		if (skip) {
			/* written by the hook: only remember the first name of a hard-linked inode,
			   as writing it would have, so later names are links to it */
			if (!S_ISDIR(st->st_mode) && st->st_nlink > 1) {
				struct inode_slot *first =
				    inode_find(&s->inodes, st->st_dev, st->st_ino);
				if (!first || !first->path)
					inode_put(&s->inodes, st->st_dev, st->st_ino, path);
			}
			return skip == LAYER_SKIP_TREE ? WALK_NO_DESCEND : 0;
		}
	}
	if (S_ISLNK(st->st_mode) && (r = read_link(w, dfd, name, target, sizeof(target))) < 0)
		return r;
	if (s->prev) {
		/* removed entries were whited out on entering their directory */
		const struct layer_snap *p = s->prev;
		while (s->pi < p->n && layer_path_cmp(p->names + p->ents[s->pi].path, path) < 0)
			s->pi++;
		if (s->pi < p->n && !layer_path_cmp(p->names + p->ents[s->pi].path, path) &&
		    unchanged(s, &p->ents[s->pi++], st, target))
			return 0;
	}

	int fd = -1;
	struct archive_entry *e = s->e;
	archive_entry_clear(e);
	archive_entry_copy_pathname(e, path);
	archive_entry_set_mode(e, st->st_mode);
	archive_entry_set_uid(e, st->st_uid);
	archive_entry_set_gid(e, st->st_gid);
	archive_entry_set_mtime(e, clamp(s, st->st_mtim.tv_sec), 0);
	archive_entry_set_size(e, 0);
	bool data = false;
	if (!S_ISDIR(st->st_mode) && st->st_nlink > 1) {
		struct inode_slot *first = inode_find(&s->inodes, st->st_dev, st->st_ino);
		if (first && first->path) {
			archive_entry_copy_hardlink(e, first->path);
			goto header;
		}
		inode_put(&s->inodes, st->st_dev, st->st_ino, path);
		if (s->hooks && s->hooks->linked)
			s->hooks->linked(s->hooks->data, path);
	}
	if (S_ISLNK(st->st_mode)) {
		archive_entry_copy_symlink(e, target);
	} else if (S_ISCHR(st->st_mode) || S_ISBLK(st->st_mode)) {
		archive_entry_set_rdev(e, st->st_rdev);
	} else if (S_ISREG(st->st_mode)) {
		fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
		struct stat now;
		if (fd < 0 || fstat(fd, &now) < 0) {
			r = rt_error_errno(w->err, -errno, "open /%s", path);
			goto out;
		}
		if (now.st_ino != st->st_ino || now.st_dev != st->st_dev) {
			r = rt_error_set(w->err, -EAGAIN, "/%s: replaced while being read", path);
			goto out;
		}
		(void)posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
		archive_entry_set_size(e, st->st_size);
		data = st->st_size > 0;
		/* file capabilities are the one extended attribute an image needs */
		char cap[256];
		ssize_t n = fgetxattr(fd, "security.capability", cap, sizeof(cap));
		if (n > 0)
			archive_entry_xattr_add_entry(e, "security.capability", cap, (size_t)n);
	}
header:
	if (archive_write_header(s->t->a, e) < ARCHIVE_WARN) {
		r = out_tar_fail(s->t, path, w->err);
		goto out;
	}
	r = data ? copy_data(s, w, fd, (uint64_t)st->st_size) : 0;
	if (r >= 0 && s->hooks) {
		/* the entry's padding now, so that its bytes end here, not at the next header */
		if (archive_write_finish_entry(s->t->a) < ARCHIVE_WARN)
			r = out_tar_fail(s->t, path, w->err);
		else
			r = s->hooks->after(s->hooks->data, path, w->err);
	}
out:
	if (fd >= 0)
		close(fd);
	return r;
}

int layer_stream(const char *dir, const struct layer_snap *prev, struct out_tar *t,
                 struct rt_error *err)
{
	return layer_stream_hooked(dir, prev, NULL, t, err);
}

int layer_stream_hooked(const char *dir, const struct layer_snap *prev,
                        const struct layer_hooks *hooks, struct out_tar *t, struct rt_error *err)
{
	struct stream s = {.t = t, .prev = prev, .hooks = hooks};
	int r = out_epoch(&s.epoch, err);
	if (r < 0)
		return r;
	s.e = archive_entry_new();
	if (!s.e)
		abort();
	s.buf = xmalloc(READ_BUF);
	struct walker w = {.path = STRBUF_INIT,
	                   .visit = stream_visit,
	                   .enter = stream_enter,
	                   .data = &s,
	                   .err = err};
	r = walk(dir, &w);
	archive_entry_free(s.e);
	free(s.buf);
	inode_map_release(&s.inodes);
	return r;
}

/* ---- layer files ----------------------------------------------------------------------- */

int layer_write(const char *dir, const struct layer_snap *prev, const char *tar_path,
                struct layer *ret, struct rt_error *err)
{
	struct out_tmp tmp;
	struct out_sink sink = {0};
	struct out_tar tar = {0};
	int fd = -1;
	int r = out_tmp_file(&tmp, tar_path, &fd, err);
	if (r < 0)
		goto out;
	tmp.no_sync = true;
	if ((r = out_sink_init(&sink, fd, OUT_COMP_NONE, 0, false, err)) < 0 ||
	    (r = out_tar_open(&tar, &sink, err)) < 0 ||
	    (r = layer_stream(dir, prev, &tar, err)) < 0 || (r = out_tar_close(&tar, err)) < 0 ||
	    (r = out_sink_finish(&sink, err)) < 0)
		goto out;
	close(fd);
	fd = -1;
	if ((r = out_tmp_commit(&tmp, err)) < 0)
		goto out;
	memset(ret, 0, sizeof(*ret));
	ret->path = xstrdup(tar_path);
	snprintf(ret->diff_id, sizeof(ret->diff_id), "sha256:%s", sink.out_hex);
	ret->size = sink.out_bytes;
out:
	out_tar_release(&tar);
	out_sink_release(&sink);
	if (fd >= 0)
		close(fd);
	out_tmp_release(&tmp);
	return r;
}

void layer_release(struct layer *l)
{
	if (!l)
		return;
	free(l->path);
	l->path = NULL;
}
