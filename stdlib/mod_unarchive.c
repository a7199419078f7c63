/*
 * unarchive: unpack an archive of the build machine into a directory on
 * the target (Ansible's unarchive). The label fills dest unless the body sets it.
 *
 * The archive is read on the build machine with libarchive and every entry
 * is made through the connection's primitives, so it works on every kind of
 * target. It is read twice: the first pass refuses a hostile archive before
 * anything is written (an absolute name, a ".." component, a symlink whose
 * target is absolute or leaves dest, an entry or a link target reached
 * through a symlink of the same archive, a device or fifo) and compares
 * each entry with what dest holds; the second writes only the entries that
 * differ. Beyond dest, the connection keeps everything inside the target.
 */
#include "entries.h"
#include "modlib.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static const struct kiln_arg args[] = {
    {"src", "path", true, NULL,
     "tar archive (plain, gzip, xz or zstd) or zip on the build machine, relative to the "
     ".img file"},
    {"dest", "string", true, NULL, "existing directory on the target to unpack into"},
    {"owner", "string", false, NULL, "user owning the unpacked files"},
    {"group", "string", false, NULL, "group owning the unpacked files"},
    {"mode", "mode", false, NULL, "permission bits of the unpacked files"},
    {0},
};

/* Entries an archive may have, and the bytes of one file. */
#define UNARCHIVE_ENTRIES_MAX 1000000

struct unarchive {
	const struct task_ctx *ctx;
	struct task_result *res;
	const char *local; /* the archive on the build machine */
	const char *dest;  /* the directory on the target */
	mode_t file_mode;  /* mode argument, or -1 */
	uid_t uid;         /* owner argument, or -1 */
	gid_t gid;
	char **syms; /* names of the archive's symlinks, sorted */
	size_t nsyms;
	bool *differs; /* per entry index: pass 2 writes it */
	size_t n;
	struct mod_changes ch;
};

static int open_archive(struct unarchive *u, struct archive **ret)
{
	struct archive *a = archive_read_new();
	archive_read_support_filter_all(a);
	archive_read_support_format_tar(a);
	archive_read_support_format_gnutar(a);
	archive_read_support_format_zip(a);
	if (archive_read_open_filename(a, u->local, 64 * 1024) != ARCHIVE_OK) {
		task_failed(u->res, "cannot open archive %s: %s", u->local,
		            archive_error_string(a));
		archive_read_free(a);
		return -1;
	}
	*ret = a;
	return 0;
}

/* The entry's name made relative and clean: "" for the top ("./"), NULL when refused. */
static char *clean_name(const char *name)
{
	if (!name || name[0] == '/')
		return NULL;
	struct strbuf sb = STRBUF_INIT;
	for (const char *p = name; *p;) {
		const char *e = p + strcspn(p, "/");
		size_t l = (size_t)(e - p);
		if (l == 2 && p[0] == '.' && p[1] == '.') {
			sb_release(&sb);
			return NULL;
		}
		if (l && !(l == 1 && p[0] == '.')) {
			if (sb.len)
				sb_addc(&sb, '/');
			sb_add(&sb, p, l);
		}
		p = *e ? e + 1 : e;
	}
	return sb_detach(&sb);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool is_sym(const struct unarchive *u, const char *name, size_t len)
{
	if (!u->nsyms)
		return false;
	char *k = xstrndup(name, len);
	bool hit = bsearch(&k, u->syms, u->nsyms, sizeof(*u->syms), cmp_str) != NULL;
	free(k);
	return hit;
}

/* Does a proper prefix of name (at a '/') name a symlink of the archive? */
static bool through_sym(const struct unarchive *u, const char *name)
{
	for (const char *p = strchr(name, '/'); p; p = strchr(p + 1, '/'))
		if (is_sym(u, name, (size_t)(p - name)))
			return true;
	return false;
}

/*
 * A symlink at name with a relative target must resolve inside dest without passing
 * through another symlink of the archive: resolve it lexically from name's directory.
 */
static bool link_inside(const struct unarchive *u, const char *name, const char *target)
{
	if (!*target || target[0] == '/')
		return false;
	char *dir = mod_dirname(name);
	char *path = strcmp(dir, ".") ? xasprintf("%s/%s", dir, target) : xstrdup(target);
	free(dir);
	size_t depth = 0, cap = 16;
	size_t *stack = xmalloc(cap * sizeof(*stack)); /* where each kept component starts */
	struct strbuf cur = STRBUF_INIT;
	bool ok = true;
	for (const char *p = path; *p && ok;) {
		const char *e = p + strcspn(p, "/");
		size_t l = (size_t)(e - p);
		bool last = !*e;
		if (l == 2 && p[0] == '.' && p[1] == '.') {
			if (depth == 0) {
				ok = false;
				break;
			}
			depth--;
			cur.len = stack[depth] ? stack[depth] - 1 : 0;
			cur.buf[cur.len] = '\0';
		} else if (l && !(l == 1 && p[0] == '.')) {
			if (depth == cap)
				stack = xrealloc(stack, (cap *= 2) * sizeof(*stack));
			stack[depth++] = cur.len ? cur.len + 1 : 0;
			if (cur.len)
				sb_addc(&cur, '/');
			sb_add(&cur, p, l);
			if (!last && is_sym(u, cur.buf, cur.len))
				ok = false;
		}
		p = *e ? e + 1 : e;
	}
	sb_release(&cur);
	free(stack);
	free(path);
	return ok;
}

/* An entry's data, all of it (malloc'd). */
static int read_data(struct unarchive *u, struct archive *a, struct archive_entry *e,
                     const char *name, char **ret, size_t *ret_len)
{
	la_int64_t size = archive_entry_size_is_set(e) ? archive_entry_size(e) : 0;
	if (size < 0 || (uint64_t)size > MOD_FILE_MAX) {
		task_failed(u->res, "archive entry %s is too big", name);
		return -1;
	}
	size_t cap = (size_t)size + 1, len = 0;
	char *buf = xmalloc(cap);
	for (;;) {
		if (len + 1 == cap) {
			if (cap > MOD_FILE_MAX) {
				free(buf);
				task_failed(u->res, "archive entry %s is too big", name);
				return -1;
			}
			buf = xrealloc(buf, cap *= 2);
		}
		la_ssize_t n = archive_read_data(a, buf + len, cap - len - 1);
		if (n < 0) {
			task_failed(u->res, "archive %s: %s", u->local, archive_error_string(a));
			free(buf);
			return -1;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	buf[len] = '\0';
	*ret = buf;
	*ret_len = len;
	return 0;
}

/* What an entry should look like on the target. */
struct want {
	char *path; /* dest/name */
	mode_t type;
	mode_t mode;
	uid_t uid;
	gid_t gid;
	char *link;     /* symlink target */
	char *hardlink; /* dest/target of a hard link */
};

static void want_release(struct want *w)
{
	free(w->path);
	free(w->link);
	free(w->hardlink);
}

static int want_fill(struct unarchive *u, struct archive_entry *e, const char *name, struct want *w)
{
	*w = (struct want){0};
	w->path = mod_path_join(u->dest, name);
	const char *hl = archive_entry_hardlink(e);
	w->type = archive_entry_filetype(e);
	if (hl) {
		char *t = clean_name(hl);
		if (!t || !*t || through_sym(u, t)) {
			task_failed(u->res, "refusing archive entry %s: hard link to %s leaves %s",
			            name, hl, u->dest);
			free(t);
			return -1;
		}
		w->hardlink = mod_path_join(u->dest, t);
		free(t);
		w->type = AE_IFREG;
	} else if (w->type == AE_IFLNK) {
		const char *t = archive_entry_symlink(e);
		if (!t || !link_inside(u, name, t)) {
			task_failed(u->res, "refusing archive entry %s: symlink to %s leaves %s",
			            name, t ? t : "?", u->dest);
			return -1;
		}
		w->link = xstrdup(t);
	} else if (w->type != AE_IFREG && w->type != AE_IFDIR) {
		task_failed(u->res, "refusing archive entry %s: not a file, directory or link",
		            name);
		return -1;
	}
	w->mode = archive_entry_perm(e) & 07777;
	if (w->type == AE_IFREG && u->file_mode != (mode_t)-1)
		w->mode = u->file_mode;
	w->uid = u->uid != (uid_t)-1 ? u->uid : (uid_t)archive_entry_uid(e);
	w->gid = u->gid != (gid_t)-1 ? u->gid : (gid_t)archive_entry_gid(e);
	return 0;
}

/* What the entry should be (released on failure, else by the caller). */
static int entry_want(struct unarchive *u, struct archive_entry *e, const char *name,
                      struct want *w)
{
	int r = want_fill(u, e, name, w);
	if (r < 0)
		want_release(w);
	return r;
}

/* Does the target already hold the entry? 1 yes, 0 no, -1 failed. */
static int entry_matches(struct unarchive *u, const struct want *w, const char *data, size_t len)
{
	struct conn *c = u->ctx->conn;
	struct conn_stat st;
	struct rt_error err = {0};
	if (c->ops->stat(c, w->path, false, &st, &err) < 0)
		return mod_fail(u->res, &err);
	if (!st.exists || (st.mode & S_IFMT) != w->type || st.uid != w->uid || st.gid != w->gid)
		return 0;
	if (w->type != AE_IFLNK && (st.mode & 07777) != w->mode)
		return 0;
	char *have = NULL;
	size_t hlen = 0;
	int r = 1;
	if (w->type == AE_IFLNK) {
		if (c->ops->readlink(c, w->path, &have, &err) < 0)
			return mod_fail(u->res, &err);
		r = !strcmp(have, w->link);
	} else if (w->type == AE_IFREG) {
		char *other = NULL;
		size_t olen = 0;
		if (w->hardlink) {
			if (c->ops->read(c, w->hardlink, MOD_FILE_MAX, &other, &olen, &err) < 0)
				return 0;
			data = other, len = olen;
		}
		if ((size_t)st.size != len)
			r = 0;
		else if (c->ops->read(c, w->path, MOD_FILE_MAX, &have, &hlen, &err) < 0)
			r = mod_fail(u->res, &err);
		else
			r = hlen == len && !memcmp(have, data, len);
		free(other);
	}
	free(have);
	return r;
}

static int entry_write(struct unarchive *u, const struct want *w, const char *data, size_t len)
{
	struct conn *c = u->ctx->conn;
	struct conn_stat st;
	struct rt_error err = {0};
	struct conn_attrs a = {w->mode, w->uid, w->gid};
	char *parent = mod_dirname(w->path);
	int r = conn_mkdir_p(c, parent, &CONN_ATTRS_DEFAULT, &err);
	free(parent);
	if (r >= 0)
		r = c->ops->stat(c, w->path, false, &st, &err);
	if (r < 0)
		return mod_fail(u->res, &err);
	if (st.exists && S_ISDIR(st.mode) && w->type != AE_IFDIR) {
		task_failed(u->res, "cannot unpack %s: a directory is in the way", w->path);
		return -1;
	}
	if (st.exists && !S_ISDIR(st.mode) && w->type == AE_IFDIR &&
	    c->ops->remove(c, w->path, false, &err) < 0)
		return mod_fail(u->res, &err);
	char *copy = NULL;
	size_t clen = 0;
	if (w->type == AE_IFDIR) {
		if (st.exists && S_ISDIR(st.mode)) {
			if (c->ops->chmod(c, w->path, w->mode, &err) < 0 ||
			    c->ops->chown(c, w->path, w->uid, w->gid, &err) < 0)
				return mod_fail(u->res, &err);
		} else if (c->ops->mkdir(c, w->path, &a, &err) < 0) {
			return mod_fail(u->res, &err);
		}
	} else if (w->type == AE_IFLNK) {
		if (c->ops->symlink(c, w->link, w->path, &err) < 0 ||
		    c->ops->chown(c, w->path, w->uid, w->gid, &err) < 0)
			return mod_fail(u->res, &err);
	} else {
		/* a hard link is written as a copy of its target (the primitives have no link) */
		if (w->hardlink) {
			if (c->ops->read(c, w->hardlink, MOD_FILE_MAX, &copy, &clen, &err) < 0)
				return mod_fail(u->res, &err);
			data = copy, len = clen;
		}
		r = c->ops->write(c, w->path, data, len, &a, &err);
		free(copy);
		if (r < 0)
			return mod_fail(u->res, &err);
	}
	return 0;
}

/* One pass over the archive: check (pass 1) or write what differs (pass 2). */
static int pass(struct unarchive *u, int which)
{
	struct archive *a;
	struct archive_entry *e;
	if (open_archive(u, &a) < 0)
		return -1;
	size_t cap = 64, i = 0;
	char **names = which == 1 ? xmalloc(cap * sizeof(*names)) : NULL;
	int r = 0, ar;
	while (r == 0 && (ar = archive_read_next_header(a, &e)) == ARCHIVE_OK) {
		if (i >= UNARCHIVE_ENTRIES_MAX) {
			r = -1, task_failed(u->res, "archive %s has more than %d entries", u->local,
			                    UNARCHIVE_ENTRIES_MAX);
			break;
		}
		const char *raw = archive_entry_pathname(e);
		char *name = clean_name(raw);
		if (!name) {
			r = -1,
			task_failed(u->res, "refusing archive entry %s: absolute or with ..",
			            raw ? raw : "(no name)");
			break;
		}
		if (which == 1) {
			if (i == cap)
				names = xrealloc(names, (cap *= 2) * sizeof(*names));
			names[i] = name;
			if (archive_entry_filetype(e) == AE_IFLNK && !archive_entry_hardlink(e)) {
				u->syms = xrealloc(u->syms, (u->nsyms + 1) * sizeof(*u->syms));
				u->syms[u->nsyms++] = xstrdup(name);
			}
			u->differs = xrealloc(u->differs, (i + 1) * sizeof(*u->differs));
			u->differs[i] = false;
		}
		i++;
		if (which == 2 && !u->differs[i - 1]) {
			free(name);
			continue;
		}
		if (!*name) { /* the top directory itself: dest exists already */
			if (which == 2)
				free(name);
			continue;
		}
		char *data = NULL;
		size_t len = 0;
		struct want w;
		if (which == 2 && archive_entry_filetype(e) == AE_IFREG &&
		    !archive_entry_hardlink(e))
			r = read_data(u, a, e, name, &data, &len);
		if (which == 2) {
			if (r == 0)
				r = entry_want(u, e, name, &w);
			if (r == 0)
				r = entry_write(u, &w, data, len);
			if (r == 0)
				want_release(&w);
			free(name);
		}
		free(data);
	}
	if (r == 0 && ar != ARCHIVE_EOF && ar != ARCHIVE_OK)
		r = -1, task_failed(u->res, "archive %s: %s", u->local, archive_error_string(a));
	archive_read_free(a);
	if (which == 1) {
		u->n = i;
		if (u->nsyms)
			qsort(u->syms, u->nsyms, sizeof(*u->syms), cmp_str);
		for (size_t k = 0; r == 0 && k < i; k++)
			if (through_sym(u, names[k]))
				r = -1, task_failed(u->res,
				                    "refusing archive entry %s: it lies behind a "
				                    "symlink of the archive",
				                    names[k]);
		for (size_t k = 0; k < i; k++)
			free(names[k]);
		free(names);
	}
	return r;
}

/* Pass 1b: with the archive known safe, compare each entry with the target. */
static int compare(struct unarchive *u)
{
	struct archive *a;
	struct archive_entry *e;
	if (open_archive(u, &a) < 0)
		return -1;
	int r = 0;
	for (size_t i = 0; r == 0 && i < u->n && archive_read_next_header(a, &e) == ARCHIVE_OK;
	     i++) {
		char *name = clean_name(archive_entry_pathname(e));
		struct want w;
		char *data = NULL;
		size_t len = 0;
		if (!*name) {
			free(name);
			continue;
		}
		r = entry_want(u, e, name, &w);
		if (r == 0 && w.type == AE_IFREG && !w.hardlink)
			r = read_data(u, a, e, name, &data, &len);
		if (r == 0) {
			int m = entry_matches(u, &w, data, len);
			if (m < 0) {
				r = -1;
			} else if (!m) {
				u->differs[i] = true;
				mod_note(&u->ch, "%s", w.path);
				mod_diff(&u->ch, "+ %s%s", w.path,
				         w.type == AE_IFDIR ? "/"
				         : w.link           ? " (symlink)"
				                            : "");
			}
			want_release(&w);
		}
		free(data);
		free(name);
	}
	archive_read_free(a);
	return r;
}

static int run(struct task_ctx *ctx, struct task_result *res)
{
	struct unarchive u = {.ctx = ctx, .res = res, .ch = MOD_CHANGES_INIT};
	const char *src = task_arg_str(ctx, "src", "");
	const char *dest = task_arg_str(ctx, "dest", "");
	struct mod_attrs attrs;
	struct conn_stat st;
	struct rt_error err = {0};
	char *local = NULL, *cdest = NULL;

	if (dest[0] != '/')
		return task_failed(res, "dest '%s' is not absolute", dest);
	if (mod_attrs_from_args(ctx, res, &attrs) < 0)
		return 0;
	u.file_mode = attrs.mode;
	u.uid = attrs.uid;
	u.gid = attrs.gid;
	local = mod_local_path(ctx, src);
	cdest = mod_path_clean(dest);
	u.local = local;
	u.dest = cdest;
	if (ctx->conn->ops->stat(ctx->conn, cdest, true, &st, &err) < 0) {
		mod_fail(res, &err);
		goto out;
	}
	if (!st.exists && ctx->check) {
		/* in check mode an earlier task may be the one that would make it */
		task_changed(res, "would unpack into %s (not there yet)", cdest);
		goto out;
	}
	if (!st.exists || !S_ISDIR(st.mode)) {
		task_failed(res, "dest %s must be an existing directory", cdest);
		goto out;
	}
	if (pass(&u, 1) < 0 || compare(&u) < 0)
		goto out;
	if (u.ch.n && !ctx->check && pass(&u, 2) < 0)
		goto out;
	if (u.ch.n) {
		size_t n = u.ch.n;
		char *list = sb_detach(&u.ch.what);
		u.ch.what = (struct strbuf)STRBUF_INIT;
		u.ch.shown = 0;
		u.ch.n = 0;
		mod_note(&u.ch, "unpacked %zu entr%s into %s (%s)", n, n == 1 ? "y" : "ies", cdest,
		         list);
		free(list);
	}
	mod_finish(ctx, res, &u.ch, "every entry is in place");
out:
	mod_changes_release(&u.ch);
	for (size_t i = 0; i < u.nsyms; i++)
		free(u.syms[i]);
	free(u.syms);
	free(u.differs);
	free(local);
	free(cdest);
	return 0;
}

const struct kiln_schema mod_unarchive_schema = {
    .kind = SCHEMA_MODULE,
    .name = "unarchive",
    .doc = "unpack an archive from the build machine into a directory on the target",
    .label = "dest",
    .args = args,
    .inputs = (const char *const[]){"src", NULL},
    .example = "unarchive \"unpack the app\" { src = \"dist/app.tar.gz\", dest = \"/srv/app\" }",
    .run = run,
};
