/*
 * disk_ext4: fill an ext4 file system, made empty by mkfs.ext4 inside a disk
 * image file at a byte offset, with a root filesystem tree, through libext2fs
 * (e2fsprogs' own library, the one `mkfs.ext4 -d` uses).
 *
 * Why not `mkfs.ext4 -d`: e2fsprogs 1.47.0 copies the tree in readdir order
 * (hash order, different in two work directories) and takes each inode's
 * ctime from the tree, so two builds of the same image would give two disks.
 * Here entries go in sorted (byte) order, every inode's times are the file's
 * mtime clamped to the image's time, and the library's clock is that time:
 * the same tree gives the same bytes. No loop device, no mount.
 *
 * What is copied: directories, regular files (runs of zero blocks become
 * holes), symlinks, hard links (as links), device nodes, FIFOs and sockets,
 * owners, modes, and extended attributes. The tree is opened entry by entry
 * under a directory fd, never following a symlink.
 */
#include "disk.h"

#include "strbuf.h"

#include <dirent.h>
#include <errno.h>
#include <ext2fs/ext2_fs.h>
#include <ext2fs/ext2fs.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

enum { BLOCK_IO = 1 << 16, MAX_DEPTH = 256 };

struct link_ent {
	dev_t dev;
	ino_t ino;
	ext2_ino_t e2;
};

struct filler {
	ext2_filsys fs;
	int64_t epoch;
	struct strbuf path; /* the entry's path in the tree, for errors ("/etc/passwd") */
	struct link_ent *links;
	size_t nlinks, caplinks;
	unsigned char *buf;
	struct rt_error *err;
};

static void path_cut(struct strbuf *sb, size_t n)
{
	if (sb->buf) {
		sb->len = n;
		sb->buf[n] = 0;
	}
}

static const char *where(const struct filler *f)
{
	return f->path.len ? f->path.buf : "/";
}

static int fail(struct filler *f, errcode_t e, const char *what)
{
	if (e == EXT2_ET_BLOCK_ALLOC_FAIL || e == EXT2_ET_INODE_ALLOC_FAIL ||
	    e == EXT2_ET_DIR_NO_SPACE_FOR_CSUM)
		return rt_error_set(f->err, -ENOSPC,
		                    "the disk's root file system is full at '%s' (%s): raise the "
		                    "output's size",
		                    where(f), error_message(e));
	return rt_error_set(f->err, -EIO, "ext4: %s '%s': %s", what, where(f), error_message(e));
}

static uint32_t clamp_time(const struct filler *f, time_t t)
{
	if (t < 0)
		t = 0;
	if ((int64_t)t > f->epoch)
		t = (time_t)f->epoch;
	return (uint32_t)t;
}

static void fill_inode(struct filler *f, struct ext2_inode_large *in, const struct stat *st,
                       uint16_t type)
{
	uint32_t t = clamp_time(f, st->st_mtim.tv_sec);
	in->i_mode = (uint16_t)(type | (st->st_mode & 07777));
	in->i_uid = (uint16_t)(st->st_uid & 0xffff);
	ext2fs_set_i_uid_high(*in, (uint16_t)(st->st_uid >> 16));
	in->i_gid = (uint16_t)(st->st_gid & 0xffff);
	ext2fs_set_i_gid_high(*in, (uint16_t)(st->st_gid >> 16));
	in->i_atime = in->i_mtime = in->i_ctime = t;
	in->i_atime_extra = in->i_mtime_extra = in->i_ctime_extra = 0;
	if (EXT2_INODE_SIZE(f->fs->super) > EXT2_GOOD_OLD_INODE_SIZE) {
		in->i_extra_isize = sizeof(struct ext2_inode_large) - EXT2_GOOD_OLD_INODE_SIZE;
		in->i_crtime = t;
		in->i_crtime_extra = 0;
	}
}

static errcode_t read_large(ext2_filsys fs, ext2_ino_t ino, struct ext2_inode_large *in)
{
	memset(in, 0, sizeof(*in));
	return ext2fs_read_inode_full(fs, ino, (struct ext2_inode *)in, sizeof(*in));
}

static errcode_t write_large(ext2_filsys fs, ext2_ino_t ino, struct ext2_inode_large *in)
{
	return ext2fs_write_inode_full(fs, ino, (struct ext2_inode *)in, sizeof(*in));
}

/* Link name in dir to ino, growing the directory when it is full. */
static errcode_t link_in(ext2_filsys fs, ext2_ino_t dir, const char *name, ext2_ino_t ino, int ft)
{
	errcode_t e = ext2fs_link(fs, dir, name, ino, ft);
	if (e == EXT2_ET_DIR_NO_SPACE) {
		if ((e = ext2fs_expand_dir(fs, dir)) != 0)
			return e;
		e = ext2fs_link(fs, dir, name, ino, ft);
	}
	return e;
}

static int file_type(mode_t m)
{
	switch (m & S_IFMT) {
	case S_IFREG:
		return EXT2_FT_REG_FILE;
	case S_IFDIR:
		return EXT2_FT_DIR;
	case S_IFLNK:
		return EXT2_FT_SYMLINK;
	case S_IFCHR:
		return EXT2_FT_CHRDEV;
	case S_IFBLK:
		return EXT2_FT_BLKDEV;
	case S_IFIFO:
		return EXT2_FT_FIFO;
	case S_IFSOCK:
		return EXT2_FT_SOCK;
	}
	return EXT2_FT_UNKNOWN;
}

static uint16_t ext2_type(mode_t m)
{
	switch (m & S_IFMT) {
	case S_IFREG:
		return LINUX_S_IFREG;
	case S_IFDIR:
		return LINUX_S_IFDIR;
	case S_IFLNK:
		return LINUX_S_IFLNK;
	case S_IFCHR:
		return LINUX_S_IFCHR;
	case S_IFBLK:
		return LINUX_S_IFBLK;
	case S_IFIFO:
		return LINUX_S_IFIFO;
	case S_IFSOCK:
		return LINUX_S_IFSOCK;
	}
	return 0;
}

/* A new inode of the given type linked as name in dir, written with st's metadata. */
static int new_inode(struct filler *f, ext2_ino_t dir, const char *name, const struct stat *st,
                     ext2_ino_t *ret)
{
	ext2_ino_t ino;
	uint16_t type = ext2_type(st->st_mode);
	errcode_t e = ext2fs_new_inode(f->fs, dir, type | (st->st_mode & 07777), NULL, &ino);
	if (e)
		return fail(f, e, "allocate an inode for");
	if ((e = link_in(f->fs, dir, name, ino, file_type(st->st_mode))) != 0)
		return fail(f, e, "link");
	ext2fs_inode_alloc_stats2(f->fs, ino, +1, 0);
	struct ext2_inode_large in;
	memset(&in, 0, sizeof(in));
	fill_inode(f, &in, st, type);
	in.i_links_count = 1;
	if (S_ISCHR(st->st_mode) || S_ISBLK(st->st_mode)) {
		unsigned ma = major(st->st_rdev), mi = minor(st->st_rdev);
		if (ma < 256 && mi < 256)
			in.i_block[0] = ma * 256 + mi;
		else
			in.i_block[1] = (mi & 0xff) | (ma << 8) | ((mi & ~0xffu) << 12);
	} else if (S_ISREG(st->st_mode) && ext2fs_has_feature_extents(f->fs->super)) {
		ext2_extent_handle_t h;
		if ((e = ext2fs_extent_open2(f->fs, ino, (struct ext2_inode *)&in, &h)) != 0)
			return fail(f, e, "start the extents of");
		ext2fs_extent_free(h);
	}
	if ((e = write_large(f->fs, ino, &in)) != 0)
		return fail(f, e, "write the inode of");
	*ret = ino;
	return 0;
}

static bool all_zero(const unsigned char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return false;
	return true;
}

static int copy_data(struct filler *f, int fd, ext2_ino_t ino, uint64_t size)
{
	ext2_file_t file;
	errcode_t e = ext2fs_file_open(f->fs, ino, EXT2_FILE_WRITE, &file);
	if (e)
		return fail(f, e, "open");
	int r = 0;
	unsigned bs = f->fs->blocksize;
	uint64_t off = 0;
	while (off < size) {
		if (rt_interrupted) {
			r = rt_error_set(f->err, -EINTR, "interrupted");
			break;
		}
		ssize_t n = read(fd, f->buf, BLOCK_IO);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = rt_error_errno(f->err, -errno, "cannot read '%s'", where(f));
			break;
		}
		if (n == 0)
			break; /* the file shrank: what was read is what it holds */
		/* Block by block: a block of zeros becomes a hole. */
		for (size_t at = 0; at < (size_t)n && !e; at += bs) {
			size_t len = (size_t)n - at < bs ? (size_t)n - at : bs;
			if (len == bs && all_zero(f->buf + at, len))
				continue;
			if ((e = ext2fs_file_llseek(file, off + at, EXT2_SEEK_SET, NULL)) == 0)
				e = ext2fs_file_write(file, f->buf + at, (unsigned)len, NULL);
		}
		if (e) {
			r = fail(f, e, "write");
			break;
		}
		off += (uint64_t)n;
	}
	if (r == 0 && (e = ext2fs_file_set_size2(file, off)) != 0)
		r = fail(f, e, "set the size of");
	errcode_t ce = ext2fs_file_close(file);
	if (r == 0 && ce)
		r = fail(f, ce, "close");
	return r;
}

static int copy_xattrs(struct filler *f, int fd, ext2_ino_t ino)
{
	char names[4096];
	ssize_t n = flistxattr(fd, names, sizeof(names));
	if (n < 0)
		return errno == ENOTSUP
		           ? 0
		           : rt_error_errno(f->err, -errno,
		                            "cannot list the extended attributes of '%s'",
		                            where(f));
	if (n == 0)
		return 0;
	struct ext2_xattr_handle *h;
	errcode_t e = ext2fs_xattrs_open(f->fs, ino, &h);
	if (e)
		return fail(f, e, "open the extended attributes of");
	if ((e = ext2fs_xattrs_read(h)) != 0) {
		ext2fs_xattrs_close(&h);
		return fail(f, e, "read the extended attributes of");
	}
	int r = 0;
	char value[4096];
	for (char *name = names; name < names + n; name += strlen(name) + 1) {
		ssize_t vn = fgetxattr(fd, name, value, sizeof(value));
		if (vn < 0) {
			r = rt_error_errno(f->err, -errno, "cannot read the attribute %s of '%s'",
			                   name, where(f));
			break;
		}
		if ((e = ext2fs_xattr_set(h, name, value, (size_t)vn)) != 0) {
			r = fail(f, e, "set an extended attribute of");
			break;
		}
	}
	errcode_t ce = ext2fs_xattrs_close(&h);
	if (r == 0 && ce)
		r = fail(f, ce, "write the extended attributes of");
	return r;
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The names in the directory dfd, sorted bytewise, without . and .. */
static int list_sorted(struct filler *f, int dfd, char ***ret, size_t *ret_n)
{
	int fd = dup(dfd);
	DIR *d = fd < 0 ? NULL : fdopendir(fd);
	if (!d) {
		if (fd >= 0)
			close(fd);
		return rt_error_errno(f->err, -errno, "cannot read the directory '%s'", where(f));
	}
	rewinddir(d);
	char **v = NULL;
	size_t n = 0, cap = 0;
	struct dirent *de;
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (n == cap) {
			cap = cap ? 2 * cap : 32;
			v = realloc(v, cap * sizeof(*v));
			if (!v)
				abort();
		}
		v[n] = strdup(de->d_name);
		if (!v[n])
			abort();
		n++;
	}
	closedir(d);
	if (n)
		qsort(v, n, sizeof(*v), cmp_names);
	*ret = v;
	*ret_n = n;
	return 0;
}

static struct link_ent *find_link(struct filler *f, const struct stat *st)
{
	for (size_t i = 0; i < f->nlinks; i++)
		if (f->links[i].dev == st->st_dev && f->links[i].ino == st->st_ino)
			return &f->links[i];
	return NULL;
}

static int fill_dir(struct filler *f, int dfd, ext2_ino_t dir, int depth);

static int fill_entry(struct filler *f, int dfd, ext2_ino_t dir, const char *name, int depth)
{
	struct stat st;
	if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return rt_error_errno(f->err, -errno, "cannot stat '%s'", where(f));
	errcode_t e;
	ext2_ino_t ino = 0;

	if (!S_ISDIR(st.st_mode) && st.st_nlink > 1) {
		struct link_ent *l = find_link(f, &st);
		if (l) {
			struct ext2_inode_large in;
			if ((e = link_in(f->fs, dir, name, l->e2, file_type(st.st_mode))) != 0 ||
			    (e = read_large(f->fs, l->e2, &in)) != 0)
				return fail(f, e, "link");
			in.i_links_count++;
			if ((e = write_large(f->fs, l->e2, &in)) != 0)
				return fail(f, e, "link");
			return 0;
		}
	}

	if (S_ISDIR(st.st_mode)) {
		if (depth >= MAX_DEPTH)
			return rt_error_set(f->err, -ELOOP, "'%s': directories nested too deep",
			                    where(f));
		e = ext2fs_lookup(f->fs, dir, name, (int)strlen(name), NULL, &ino);
		if (e == EXT2_ET_FILE_NOT_FOUND) {
			e = ext2fs_mkdir(f->fs, dir, 0, name);
			if (e == EXT2_ET_DIR_NO_SPACE && (e = ext2fs_expand_dir(f->fs, dir)) == 0)
				e = ext2fs_mkdir(f->fs, dir, 0, name);
			if (e == 0)
				e = ext2fs_lookup(f->fs, dir, name, (int)strlen(name), NULL, &ino);
		}
		if (e)
			return fail(f, e, "make the directory");
		int sub = openat(dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (sub < 0)
			return rt_error_errno(f->err, -errno, "cannot open '%s'", where(f));
		int r = fill_dir(f, sub, ino, depth + 1);
		if (r == 0)
			r = copy_xattrs(f, sub, ino);
		close(sub);
		if (r < 0)
			return r;
		/* The directory's own metadata last: mkdir gave it the library's defaults. */
		struct ext2_inode_large in;
		if ((e = read_large(f->fs, ino, &in)) != 0)
			return fail(f, e, "read the inode of");
		fill_inode(f, &in, &st, LINUX_S_IFDIR);
		if ((e = write_large(f->fs, ino, &in)) != 0)
			return fail(f, e, "write the inode of");
		return 0;
	}

	if (S_ISLNK(st.st_mode)) {
		char target[4096];
		ssize_t n = readlinkat(dfd, name, target, sizeof(target) - 1);
		if (n < 0)
			return rt_error_errno(f->err, -errno, "cannot read the link '%s'",
			                      where(f));
		target[n] = 0;
		e = ext2fs_symlink(f->fs, dir, 0, name, target);
		if (e == EXT2_ET_DIR_NO_SPACE && (e = ext2fs_expand_dir(f->fs, dir)) == 0)
			e = ext2fs_symlink(f->fs, dir, 0, name, target);
		if (e == 0)
			e = ext2fs_lookup(f->fs, dir, name, (int)strlen(name), NULL, &ino);
		struct ext2_inode_large in;
		if (e == 0)
			e = read_large(f->fs, ino, &in);
		if (e)
			return fail(f, e, "make the symlink");
		struct stat lst = st;
		lst.st_mode = S_IFLNK | 0777;
		fill_inode(f, &in, &lst, LINUX_S_IFLNK);
		if ((e = write_large(f->fs, ino, &in)) != 0)
			return fail(f, e, "write the inode of");
		return 0;
	}

	if (!ext2_type(st.st_mode))
		return rt_error_set(f->err, -EINVAL, "'%s': a file of an unknown type", where(f));
	int r = new_inode(f, dir, name, &st, &ino);
	if (r < 0)
		return r;
	if (S_ISREG(st.st_mode)) {
		int fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY);
		if (fd < 0)
			return rt_error_errno(f->err, -errno, "cannot open '%s'", where(f));
		r = copy_data(f, fd, ino, (uint64_t)st.st_size);
		if (r == 0)
			r = copy_xattrs(f, fd, ino);
		close(fd);
		if (r < 0)
			return r;
	}
	if (st.st_nlink > 1) {
		if (f->nlinks == f->caplinks) {
			f->caplinks = f->caplinks ? 2 * f->caplinks : 64;
			f->links = realloc(f->links, f->caplinks * sizeof(*f->links));
			if (!f->links)
				abort();
		}
		f->links[f->nlinks++] = (struct link_ent){st.st_dev, st.st_ino, ino};
	}
	return 0;
}

static int fill_dir(struct filler *f, int dfd, ext2_ino_t dir, int depth)
{
	char **names = NULL;
	size_t n = 0;
	int r = list_sorted(f, dfd, &names, &n);
	if (r < 0)
		return r;
	size_t base = f->path.len;
	for (size_t i = 0; i < n && r == 0; i++) {
		path_cut(&f->path, base);
		sb_addf(&f->path, "/%s", names[i]);
		r = fill_entry(f, dfd, dir, names[i], depth);
	}
	path_cut(&f->path, base);
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	return r;
}

/* Write content as the regular file at path (absolute, its directory existing) of the
   new file system, replacing what the tree put there. */
static int put_file(struct filler *f, const struct disk_file *df)
{
	path_cut(&f->path, 0);
	sb_adds(&f->path, df->path);
	char *dirname = strdup(df->path);
	if (!dirname)
		abort();
	char *slash = strrchr(dirname, '/');
	const char *name = slash ? slash + 1 : dirname;
	if (slash)
		*slash = 0;
	ext2_ino_t dir, old;
	errcode_t e =
	    ext2fs_namei(f->fs, EXT2_ROOT_INO, EXT2_ROOT_INO, *dirname ? dirname : "/", &dir);
	int r = 0;
	if (e) {
		r = fail(f, e, "find the directory of");
		goto out;
	}
	if (ext2fs_lookup(f->fs, dir, name, (int)strlen(name), NULL, &old) == 0) {
		struct ext2_inode_large in;
		if ((e = ext2fs_unlink(f->fs, dir, name, old, 0)) != 0 ||
		    (e = read_large(f->fs, old, &in)) != 0) {
			r = fail(f, e, "replace");
			goto out;
		}
		if (LINUX_S_ISDIR(in.i_mode)) {
			r = rt_error_set(f->err, -EISDIR, "'%s' is a directory in the image",
			                 df->path);
			goto out;
		}
		if (--in.i_links_count == 0) {
			ext2fs_inode_alloc_stats2(f->fs, old, -1, 0);
			if ((e = ext2fs_punch(f->fs, old, (struct ext2_inode *)&in, NULL, 0,
			                      ~0ULL)) != 0) {
				r = fail(f, e, "replace");
				goto out;
			}
			in.i_dtime = (uint32_t)f->epoch;
		}
		if ((e = write_large(f->fs, old, &in)) != 0) {
			r = fail(f, e, "replace");
			goto out;
		}
	}
	struct stat st = {.st_mode = S_IFREG | df->mode, .st_mtim.tv_sec = (time_t)f->epoch};
	ext2_ino_t ino;
	if ((r = new_inode(f, dir, name, &st, &ino)) < 0)
		goto out;
	ext2_file_t file;
	if ((e = ext2fs_file_open(f->fs, ino, EXT2_FILE_WRITE, &file)) != 0) {
		r = fail(f, e, "open");
		goto out;
	}
	e = ext2fs_file_write(file, df->content, (unsigned)df->len, NULL);
	errcode_t ce = ext2fs_file_close(file);
	if (e || ce)
		r = fail(f, e ? e : ce, "write");
out:
	free(dirname);
	return r;
}

/* mkfs.ext4 made lost+found with the clock's time: give it the image's. */
static int stamp_lost_found(struct filler *f)
{
	ext2_ino_t ino;
	struct ext2_inode_large in;
	if (ext2fs_lookup(f->fs, EXT2_ROOT_INO, "lost+found", 10, NULL, &ino) != 0)
		return 0;
	errcode_t e = read_large(f->fs, ino, &in);
	if (e)
		return fail(f, e, "read the inode of");
	uint32_t t = (uint32_t)f->epoch;
	if (in.i_mtime <= t && in.i_ctime <= t)
		return 0; /* the tree's own lost+found, already stamped */
	in.i_atime = in.i_mtime = in.i_ctime = in.i_crtime = t;
	in.i_atime_extra = in.i_mtime_extra = in.i_ctime_extra = in.i_crtime_extra = 0;
	if ((e = write_large(f->fs, ino, &in)) != 0)
		return fail(f, e, "write the inode of");
	return 0;
}

int disk_ext4_fill(const char *image, uint64_t offset, const char *tree, int64_t epoch,
                   const struct disk_file *files, size_t nfiles, struct rt_error *err)
{
	char opts[64];
	snprintf(opts, sizeof(opts), "offset=%" PRIu64, offset);
	struct filler f = {.epoch = epoch, .path = STRBUF_INIT, .err = err};

	errcode_t e = ext2fs_open2(image, opts, EXT2_FLAG_RW | EXT2_FLAG_64BITS, 0, 0,
	                           unix_io_manager, &f.fs);
	if (e) {
		sb_release(&f.path);
		return rt_error_set(err, -EIO, "cannot open the new ext4 file system in '%s': %s",
		                    image, error_message(e));
	}
	f.fs->now = (time_t)epoch;
	f.buf = malloc(BLOCK_IO);
	if (!f.buf)
		abort();
	int r = 0;
	int root = -1;
	if ((e = ext2fs_read_bitmaps(f.fs)) != 0) {
		r = fail(&f, e, "read the bitmaps of");
		goto out;
	}
	root = open(tree, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (root < 0) {
		r = rt_error_errno(err, -errno, "cannot open the image's tree '%s'", tree);
		goto out;
	}
	if ((r = fill_dir(&f, root, EXT2_ROOT_INO, 0)) < 0)
		goto out;
	for (size_t i = 0; i < nfiles && r == 0; i++)
		r = put_file(&f, &files[i]);
	if (r == 0)
		r = stamp_lost_found(&f);
	if (r < 0)
		goto out;
	struct stat st;
	struct ext2_inode_large in;
	if (fstat(root, &st) < 0) {
		r = rt_error_errno(err, -errno, "cannot stat '%s'", tree);
		goto out;
	}
	path_cut(&f.path, 0);
	if ((r = copy_xattrs(&f, root, EXT2_ROOT_INO)) < 0)
		goto out;
	if ((e = read_large(f.fs, EXT2_ROOT_INO, &in)) != 0) {
		r = fail(&f, e, "read the inode of");
		goto out;
	}
	fill_inode(&f, &in, &st, LINUX_S_IFDIR);
	if ((e = write_large(f.fs, EXT2_ROOT_INO, &in)) != 0) {
		r = fail(&f, e, "write the inode of");
		goto out;
	}
	f.fs->super->s_mtime = f.fs->super->s_wtime = f.fs->super->s_lastcheck =
	    f.fs->super->s_mkfs_time = (uint32_t)epoch;
	ext2fs_mark_super_dirty(f.fs);
out:
	if (root >= 0)
		close(root);
	if (r == 0) {
		if ((e = ext2fs_close_free(&f.fs)) != 0)
			r = rt_error_set(err, -EIO, "cannot write the ext4 file system in '%s': %s",
			                 image, error_message(e));
	} else {
		ext2fs_free(f.fs);
	}
	free(f.buf);
	free(f.links);
	sb_release(&f.path);
	return r;
}
