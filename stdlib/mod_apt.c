/*
 * apt: install, upgrade or remove Debian packages with apt-get, or only
 * refresh the package lists (Ansible's apt). The label fills name unless
 * the body sets name; then it describes the task: apt "curl" {} installs
 * curl, while in apt "web server" { name = ["apache2", "curl"] } the label
 * is a description. Without name, apt { update_cache = true } only
 * refreshes the package lists.
 *
 * In an image, apt leaves what Debian's container images leave: no
 * downloaded .debs, no binary caches (apt-get clean), no logs of dpkg, apt
 * and update-alternatives (they hold the build's times), no ldconfig
 * aux-cache, no -old backups of dpkg's and debconf's databases and, unless
 * keep_lists, no package lists (/var/lib/apt/lists) once it ran. A task that has
 * packages to install or upgrade and finds no lists updates them first, so
 * the next apt task works with or without update_cache; within one apply it
 * puts back the lists an earlier task downloaded for the same sources instead
 * (see lists_keep below).
 */
#include "entries.h"
#include "modlib.h"

#include "atomic.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static const struct kiln_arg args[] = {
    {"name", "string|list<string>", false, NULL,
     "a package or a list of packages; \"pkg=1.2-3\" pins a version"},
    {"state", "enum(present, absent, latest)", false, "\"present\"",
     "present: installed; latest: installed and upgraded; absent: removed"},
    {"update_cache", "bool", false, "false",
     "run apt-get update first; alone, without name, the task does only this"},
    {"cache_valid_time", "int", false, NULL,
     "seconds: update the package lists only when older (Ansible's; setting it implies "
     "update_cache = true). Age: on a host, of apt's update-success-stamp, else of "
     "/var/lib/apt/lists (as Ansible); in an image, of the lists this apply downloaded for "
     "the same sources, or of the tree's lists; unset or 0: update every time"},
    {"install_recommends", "bool", false, "false", "also install recommended packages"},
    {"keep_lists", "bool", false, "false",
     "in an image, keep the package lists in /var/lib/apt/lists after the task (else they "
     "are removed, as in Debian's container images; .debs are never kept)"},
    {0},
};

/* Packages a task may name at once. */
#define APT_PKGS_MAX 1000

struct pkg {
	char *spec;      /* as given: "curl", "curl=7.88.1-10", "libc6:amd64" */
	char *name;      /* without =version */
	char *version;   /* pinned version, or NULL */
	char *installed; /* installed version, or NULL */
	char *candidate; /* apt-cache policy's candidate, or NULL */
};

static bool valid_pkg(const char *s)
{
	if (!*s || *s == '-')
		return false;
	for (; *s; s++)
		if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+-.:~=_",
		            *s))
			return false;
	return true;
}

/* dpkg-query once for all packages: which are installed, at which version. */
static int query_installed(const struct task_ctx *ctx, struct task_result *res, struct pkg *p,
                           size_t n)
{
	const char **argv = xcalloc(n + 4, sizeof(*argv));
	argv[0] = "dpkg-query";
	argv[1] = "-W";
	argv[2] = "-f=${Package}\t${Status}\t${Version}\n";
	for (size_t i = 0; i < n; i++)
		argv[3 + i] = p[i].name;
	struct exec_req req = {.argv = argv};
	struct exec_res er = {0};
	struct rt_error err = {0};
	int r = ctx->conn->ops->exec(ctx->conn, &req, &er, &err);
	if (r < 0) {
		free(argv);
		return mod_fail(res, &err);
	}
	/* status 1 only says that some package is unknown */
	if (er.status > 1) {
		mod_record_cmd(res, argv, &er);
		task_failed(res, "dpkg-query failed with status %d", er.status);
		r = -1;
		goto out;
	}
	for (char *line = er.out; line && *line;) {
		char *nl = strchr(line, '\n');
		if (nl)
			*nl = '\0';
		char *t1 = strchr(line, '\t'), *t2 = t1 ? strchr(t1 + 1, '\t') : NULL;
		if (t2) {
			*t1 = *t2 = '\0';
			bool inst = !strcmp(t1 + 1, "install ok installed") ||
			            !strcmp(t1 + 1, "hold ok installed");
			for (size_t i = 0; i < n && inst; i++) {
				size_t l = strcspn(p[i].name, ":");
				if (strlen(line) == l && !strncmp(line, p[i].name, l) &&
				    !p[i].installed)
					p[i].installed = xstrdup(t2 + 1);
			}
		}
		line = nl ? nl + 1 : NULL;
	}
out:
	mod_exec_res_free(&er);
	free(argv);
	return r;
}

/* apt-cache policy: the candidate version of each package. */
static int query_candidates(const struct task_ctx *ctx, struct task_result *res, struct pkg *p,
                            size_t n)
{
	const char **argv = xcalloc(n + 3, sizeof(*argv));
	argv[0] = "apt-cache";
	argv[1] = "policy";
	for (size_t i = 0; i < n; i++)
		argv[2 + i] = p[i].name;
	struct exec_req req = {.argv = argv};
	struct exec_res er;
	int r = mod_exec(ctx, res, &req, "apt-cache policy", &er);
	free(argv);
	if (r < 0)
		return -1;
	/* "NAME:" at the start of a line, then "  Candidate: VERSION" */
	long cur = -1;
	for (char *line = er.out; line && *line;) {
		char *nl = strchr(line, '\n');
		if (nl)
			*nl = '\0';
		if (line[0] != ' ' && line[strlen(line) - 1] == ':') {
			line[strlen(line) - 1] = '\0';
			cur = -1;
			for (size_t i = 0; i < n; i++)
				if (!strcmp(line, p[i].name) ||
				    (!strncmp(line, p[i].name, strlen(line)) &&
				     p[i].name[strlen(line)] == ':'))
					cur = (long)i;
		} else if (cur >= 0) {
			char *c = strstr(line, "Candidate: ");
			if (c && !p[cur].candidate && strcmp(c + 11, "(none)"))
				p[cur].candidate = xstrdup(c + 11);
		}
		line = nl ? nl + 1 : NULL;
	}
	mod_exec_res_free(&er);
	return 0;
}

/*
 * A fingerprint of the package lists' content, to tell whether apt-get update changed them
 * (apt-get update reports nothing useful; a file: source is linked anew each time, so times
 * do not tell).
 */
static char *lists_fingerprint(const struct task_ctx *ctx)
{
	const char *argv[] = {
	    "sh", "-c",
	    "cd /var/lib/apt/lists 2>/dev/null && ls -- *Release *Packages* 2>/dev/null && "
	    "cat -- *Release *Packages* 2>/dev/null | cksum",
	    NULL};
	struct exec_req req = {.argv = argv};
	struct exec_res er = {0};
	struct rt_error err = {0};
	if (ctx->conn->ops->exec(ctx->conn, &req, &er, &err) < 0)
		return xstrdup("");
	char *f = er.out ? xstrdup(er.out) : xstrdup("");
	mod_exec_res_free(&er);
	return f;
}

/* No package lists at all (an image's apt task removed them, as Debian's images ship). */
static bool lists_missing(const struct task_ctx *ctx)
{
	char *f = lists_fingerprint(ctx);
	bool none = !*f;
	free(f);
	return none;
}

/*
 * Package lists kept between the apt tasks of one apply. An image's apt task removes the lists
 * when it is done (as Debian's images ship), so the next one would download them again; the
 * lists an apt-get update of this apply fetched are kept in WORK/apt-lists/KEY (the apply's
 * own directory, removed when it ends: never the cache, never a layer), KEY a digest of what
 * decides what apt-get update fetches (sources, trusted keys, apt's configuration, dpkg's
 * architectures). A later task that finds no lists in a tree of the same KEY puts them back
 * instead of downloading them; its clean-up removes them from the tree as before.
 *
 * Copied through the connection, neither renamed nor bind-mounted: a tree may be an overlay
 * mount and the work directory another file system (rename fails with EXDEV, and would empty
 * the kept copy for the next task); a bind mount would let the task's own clean-up (and any
 * command apt runs) delete or change the kept copy, and the connection hides the tree's
 * path. A copy costs a fraction of a second for tens of MB of lists, against seconds to
 * download them.
 *
 * The copy is put back only into a tree where apt-get update already left its lock and
 * partial/ (every tree after an apt task that updated): what stays in the tree after the
 * clean-up, so the layer is the same whether the lists were downloaded or put back.
 */
#define LISTS "/var/lib/apt/lists"
#define LIST_MAX ((size_t)1 << 30)

static char *sources_key(const struct task_ctx *ctx)
{
	if (!ctx->in_image || !ctx->work_dir || ctx->check)
		return NULL;
	const char *argv[] = {
	    "sh", "-c",
	    "command -v sha256sum >/dev/null || exit 3; cd / || exit 3; "
	    "sha256sum -- etc/apt/sources.list etc/apt/sources.list.d/* etc/apt/trusted.gpg "
	    "etc/apt/trusted.gpg.d/* etc/apt/keyrings/* usr/share/keyrings/* "
	    "etc/apt/apt.conf etc/apt/apt.conf.d/* var/lib/dpkg/arch 2>/dev/null | "
	    "sha256sum",
	    NULL};
	struct exec_req req = {.argv = argv};
	struct exec_res er = {0};
	struct rt_error err = {0};
	if (ctx->conn->ops->exec(ctx->conn, &req, &er, &err) < 0)
		return NULL;
	char *key = NULL;
	if (er.status == 0 && er.out && er.out_len >= 64 &&
	    strspn(er.out, "0123456789abcdef") == 64 &&
	    /* no file at all: nothing to tell trees apart by */
	    strncmp(er.out, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", 64))
		key = xasprintf("%s/apt-lists/%.64s", ctx->work_dir, er.out);
	mod_exec_res_free(&er);
	return key;
}

/* A whole regular file under dfd (at most max bytes; malloc'd), or NULL. */
static char *read_file_at(int dfd, const char *name, size_t max, size_t *ret_len)
{
	int fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	struct stat sb;
	if (fd < 0)
		return NULL;
	if (fstat(fd, &sb) < 0 || !S_ISREG(sb.st_mode) || (size_t)sb.st_size > max) {
		close(fd);
		return NULL;
	}
	size_t len = (size_t)sb.st_size, got = 0;
	char *data = xmalloc(len + 1);
	while (got < len) {
		ssize_t n = read(fd, data + got, len - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	close(fd);
	if (got != len) {
		free(data);
		return NULL;
	}
	*ret_len = len;
	return data;
}

static bool list_name_ok(const char *n)
{
	return *n && *n != '.' && !strchr(n, '/') && strcmp(n, "lock");
}

/* Copy the tree's lists to dir (replacing an older copy); a failure only loses the copy. */
static void lists_keep(const struct task_ctx *ctx, const char *dir)
{
	const char *argv[] = {"find", LISTS,   "-mindepth", "1",    "-maxdepth", "1",
	                      "(",    "-type", "f",         "-o",   "-type",     "l",
	                      ")",    "!",     "-name",     "lock", NULL};
	struct exec_req req = {.argv = argv};
	struct exec_res er = {0};
	struct rt_error err = {0};
	if (ctx->conn->ops->exec(ctx->conn, &req, &er, &err) < 0)
		return;
	char *parent = xasprintf("%s/apt-lists", ctx->work_dir);
	char *tmp = xasprintf("%s/new-XXXXXX", parent);
	bool ok = er.status == 0 && er.out && (mkdir(parent, 0700) == 0 || errno == EEXIST) &&
	          mkdtemp(tmp);
	bool made = ok;
	for (char *line = ok ? er.out : NULL; ok && line && *line;) {
		char *nl = strchr(line, '\n');
		if (nl)
			*nl = '\0';
		const char *name = line + strlen(LISTS "/");
		char *path = xasprintf("%s", line);
		char *dst = xasprintf("%s/%s", tmp, name);
		struct conn_stat st;
		ok = !strncmp(line, LISTS "/", strlen(LISTS "/")) && list_name_ok(name) &&
		     ctx->conn->ops->stat(ctx->conn, path, false, &st, &err) == 0 && st.exists;
		if (ok && S_ISLNK(st.mode)) {
			char *target = NULL;
			ok = ctx->conn->ops->readlink(ctx->conn, path, &target, &err) == 0 &&
			     symlink(target, dst) == 0;
			free(target);
		} else if (ok && S_ISREG(st.mode)) {
			char *data = NULL;
			size_t len = 0;
			ok =
			    ctx->conn->ops->read(ctx->conn, path, LIST_MAX, &data, &len, &err) == 0;
			int fd = ok ? open(dst, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600) : -1;
			ok = fd >= 0 && fd_write_all(fd, data, len) == 0;
			if (fd >= 0 && close(fd) < 0)
				ok = false;
			free(data);
		} else {
			ok = false;
		}
		free(path);
		free(dst);
		line = nl ? nl + 1 : NULL;
	}
	mod_exec_res_free(&er);
	if (ok) {
		/* replace the older copy: aside first, as rename cannot replace a full directory */
		char *old = xasprintf("%s/old-XXXXXX", parent);
		if (mkdtemp(old) && rename(dir, old) < 0 && errno != ENOENT)
			ok = false;
		if (ok && rename(tmp, dir) < 0)
			ok = false;
		rm_rf_at(AT_FDCWD, old);
		free(old);
	}
	if (made && !ok)
		rm_rf_at(AT_FDCWD, tmp);
	free(tmp);
	free(parent);
}

/* Put the lists kept in dir back into the tree: true when done (else apt-get update). */
static bool lists_restore(const struct task_ctx *ctx, const char *dir)
{
	struct conn_stat lock, partial;
	struct rt_error err = {0};
	if (ctx->conn->ops->stat(ctx->conn, LISTS "/lock", false, &lock, &err) < 0 ||
	    ctx->conn->ops->stat(ctx->conn, LISTS "/partial", false, &partial, &err) < 0 ||
	    !lock.exists || !partial.exists)
		return false;
	int dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return false;
	DIR *d = fdopendir(dfd);
	if (!d) {
		close(dfd);
		return false;
	}
	bool ok = true, any = false;
	struct dirent *e;
	while (ok && (e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		struct stat sb;
		char *path = xasprintf(LISTS "/%s", e->d_name);
		ok = list_name_ok(e->d_name) &&
		     fstatat(dfd, e->d_name, &sb, AT_SYMLINK_NOFOLLOW) == 0;
		if (ok && S_ISLNK(sb.st_mode)) {
			char target[PATH_MAX];
			ssize_t n = readlinkat(dfd, e->d_name, target, sizeof(target) - 1);
			ok = n > 0;
			if (ok) {
				target[n] = '\0';
				ok = ctx->conn->ops->symlink(ctx->conn, target, path, &err) == 0;
			}
		} else if (ok && S_ISREG(sb.st_mode)) {
			size_t len = 0;
			char *data = read_file_at(dfd, e->d_name, LIST_MAX, &len);
			struct conn_attrs a = {0644, 0, 0};
			ok = data &&
			     ctx->conn->ops->write(ctx->conn, path, data, len, &a, &err) == 0;
			free(data);
		} else {
			ok = false;
		}
		any = any || ok;
		free(path);
	}
	closedir(d);
	if (!ok || !any) {
		/* what was put back goes: apt-get update starts from no lists, as without a copy */
		const char *rm[] = {"find",    LISTS,  "-mindepth", "1",     "!",
		                    "-name",   "lock", "!",         "-path", LISTS "/partial",
		                    "-delete", NULL};
		struct exec_req req = {.argv = rm};
		struct exec_res er = {0};
		if (ctx->conn->ops->exec(ctx->conn, &req, &er, &err) == 0)
			mod_exec_res_free(&er);
		return false;
	}
	return true;
}

/* The first line of a command's output as a number, or -1 (runs in check mode too). */
static long long exec_number(const struct task_ctx *ctx, const char *const *argv)
{
	struct exec_req req = {.argv = argv};
	struct exec_res er = {0};
	struct rt_error err = {0};
	if (ctx->conn->ops->exec(ctx->conn, &req, &er, &err) < 0)
		return -1;
	long long v = -1;
	if (er.status == 0 && er.out) {
		char *end;
		errno = 0;
		long long n = strtoll(er.out, &end, 10);
		if (!errno && end != er.out && n >= 0 && (*end == '\n' || !*end))
			v = n;
	}
	mod_exec_res_free(&er);
	return v;
}

/*
 * The age in seconds of the target's package lists as Ansible's apt tells it: the mtime of
 * apt's update-success stamp, else of the lists directory, against the target's clock; -1
 * when unknown or when there are no lists at all (no Release or Packages file). Only
 * commands check mode runs (find, stat, date +%s), so kiln plan says what apply does.
 */
static long long lists_age_target(const struct task_ctx *ctx)
{
	const char *find[] = {"find", LISTS,   "-maxdepth",  "1", "(",     "-name", "*Release",
	                      "-o",   "-name", "*Packages*", ")", "-type", "f",     NULL};
	struct exec_req req = {.argv = find};
	struct exec_res er = {0};
	struct rt_error err = {0};
	if (ctx->conn->ops->exec(ctx->conn, &req, &er, &err) < 0)
		return -1;
	bool any = er.status == 0 && er.out && *er.out;
	mod_exec_res_free(&er);
	if (!any)
		return -1;
	const char *stamp = "/var/lib/apt/periodic/update-success-stamp";
	struct conn_stat st;
	if (ctx->conn->ops->stat(ctx->conn, stamp, true, &st, &err) < 0)
		return -1;
	const char *stat_argv[] = {"stat", "-L", "-c", "%Y", st.exists ? stamp : LISTS, NULL};
	const char *date_argv[] = {"date", "+%s", NULL};
	long long t = exec_number(ctx, stat_argv);
	long long now = t < 0 ? -1 : exec_number(ctx, date_argv);
	if (t < 0 || now < 0)
		return -1;
	return now > t ? now - t : 0;
}

/* The age in seconds of this apply's kept copy in dir, or -1. */
static long long lists_age_kept(const char *dir)
{
	struct stat sb;
	if (stat(dir, &sb) < 0 || !S_ISDIR(sb.st_mode))
		return -1;
	time_t now = time(NULL);
	return now > sb.st_mtime ? (long long)(now - sb.st_mtime) : 0;
}

/* apt-get update; the change noted when asked for (asked) and the lists changed. */
static int update_lists(const struct task_ctx *ctx, struct task_result *res, struct mod_changes *ch,
                        bool asked)
{
	char *before = lists_fingerprint(ctx);
	const char *argv[] = {"apt-get", "update", "-q", NULL};
	struct exec_req req = {.argv = argv};
	struct exec_res er;
	if (mod_exec(ctx, res, &req, "apt-get update", &er) < 0) {
		free(before);
		return -1;
	}
	mod_exec_res_free(&er);
	char *after = lists_fingerprint(ctx);
	if (asked && strcmp(before, after)) {
		mod_note(ch, "package lists updated");
		mod_diff(ch, "apt-get update: the package lists changed");
	}
	free(before);
	free(after);
	return 0;
}

/* In an image, after apt ran: no .debs, no binary caches, no lists unless keep_lists. */
static int clean_image(const struct task_ctx *ctx, struct task_result *res)
{
	const char *clean[] = {"apt-get", "clean", NULL};
	struct exec_req req = {.argv = clean};
	struct exec_res er;
	if (mod_exec(ctx, res, &req, "apt-get clean", &er) < 0)
		return -1;
	mod_exec_res_free(&er);
	/* what differs between two builds, as the Debian base's normalisation removes it
	   (runtime/base_debian.c): the logs of this run (they hold its times), the backups
	   dpkg and debconf keep of their databases, ldconfig's aux-cache (inode numbers and
	   times of the libraries), apt's binary caches and partial downloads */
	const char *logs[] = {
	    "sh", "-c",
	    "rm -f /var/log/dpkg.log /var/log/alternatives.log /var/lib/dpkg/*-old "
	    "/var/cache/debconf/*-old /var/cache/ldconfig/aux-cache /var/cache/apt/*.bin "
	    "/var/cache/apt/archives/partial/*.deb || exit; "
	    "for f in /var/log/apt/*; do "
	    "if [ -f \"$f\" ] || [ -L \"$f\" ]; then rm -f \"$f\" || exit; fi; done",
	    NULL};
	req = (struct exec_req){.argv = logs};
	if (mod_exec(ctx, res, &req, "removing apt's logs and backups", &er) < 0)
		return -1;
	mod_exec_res_free(&er);
	if (task_arg_bool(ctx, "keep_lists", false))
		return 0;
	const char *rm[] = {
	    "find",  "/var/lib/apt/lists",         "-mindepth", "1", "!", "-name", "lock", "!",
	    "-path", "/var/lib/apt/lists/partial", "-delete",   NULL};
	req = (struct exec_req){.argv = rm};
	if (mod_exec(ctx, res, &req, "removing the package lists", &er) < 0)
		return -1;
	mod_exec_res_free(&er);
	return 0;
}

static int apt_get(const struct task_ctx *ctx, struct task_result *res, const char *verb,
                   const char *const *extra, struct pkg *p, size_t n, bool only_to_do,
                   bool (*to_do)(const struct pkg *))
{
	size_t cap = n + 16, k = 0;
	const char **argv = xcalloc(cap, sizeof(*argv));
	argv[k++] = "apt-get";
	argv[k++] = verb;
	argv[k++] = "-y";
	argv[k++] = "-q";
	argv[k++] = "-o";
	argv[k++] = "Dpkg::Options::=--force-confdef";
	argv[k++] = "-o";
	argv[k++] = "Dpkg::Options::=--force-confold";
	for (size_t i = 0; extra && extra[i]; i++)
		argv[k++] = extra[i];
	for (size_t i = 0; i < n; i++)
		if (!only_to_do || to_do(&p[i]))
			argv[k++] = p[i].spec;
	const char *env[] = {"DEBIAN_FRONTEND=noninteractive", "APT_LISTCHANGES_FRONTEND=none",
	                     NULL};
	struct exec_req req = {.argv = argv, .env = env};
	struct exec_res er;
	char *what = xasprintf("apt-get %s", verb);
	int r = mod_exec(ctx, res, &req, what, &er);
	free(what);
	if (r == 0) {
		mod_record_cmd(res, argv, &er);
		mod_exec_res_free(&er);
	}
	free(argv);
	return r;
}

static bool need_install(const struct pkg *p)
{
	return !p->installed || (p->version && strcmp(p->installed, p->version));
}

static bool need_upgrade(const struct pkg *p)
{
	return p->installed && p->candidate && strcmp(p->installed, p->candidate);
}

static bool need_remove(const struct pkg *p)
{
	return p->installed != NULL;
}

static int run(struct task_ctx *ctx, struct task_result *res)
{
	const char *state = task_arg_str(ctx, "state", "present");
	long long valid = task_arg_int(ctx, "cache_valid_time", 0);
	/* as Ansible's apt: cache_valid_time implies update_cache */
	bool update = task_arg_bool(ctx, "update_cache", false) || valid > 0;
	long long fresh = -1; /* the lists' age when they were recent enough: not updated */
	bool recommends = task_arg_bool(ctx, "install_recommends", false);
	json_t *names = json_object_get(ctx->args, "name");
	struct mod_changes ch = MOD_CHANGES_INIT;
	struct pkg *p = NULL;
	size_t n = 0;
	char *kept = NULL; /* this apply's copy of the lists for the tree's sources */
	struct conn_stat st;
	struct rt_error err = {0};

	if (ctx->conn->ops->stat(ctx->conn, "/usr/bin/apt-get", true, &st, &err) < 0)
		return mod_fail(res, &err), 0;
	if (!st.exists)
		return task_failed(res, "the target has no apt-get: apt works on Debian and its "
		                        "derivatives only");

	/* the packages */
	if (json_is_string(names)) {
		p = xcalloc(1, sizeof(*p));
		p[n++].spec = xstrdup(json_string_value(names));
	} else if (json_is_array(names)) {
		if (json_array_size(names) > APT_PKGS_MAX)
			return task_failed(res, "more than %d packages in one task", APT_PKGS_MAX);
		p = xcalloc(json_array_size(names) + 1, sizeof(*p));
		size_t i;
		json_t *v;
		json_array_foreach (names, i, v) {
			if (json_is_string(v))
				p[n++].spec = xstrdup(json_string_value(v));
		}
	}
	for (size_t i = 0; i < n; i++) {
		if (!valid_pkg(p[i].spec)) {
			task_failed(res, "invalid package name '%s'", p[i].spec);
			goto out;
		}
		char *eq = strchr(p[i].spec, '=');
		p[i].name = eq ? xstrndup(p[i].spec, (size_t)(eq - p[i].spec)) : xstrdup(p[i].spec);
		p[i].version = eq ? xstrdup(eq + 1) : NULL;
		if (eq && !strcmp(state, "latest")) {
			task_failed(res, "state = latest cannot pin a version (%s)", p[i].spec);
			goto out;
		}
	}
	if (!n && !update) {
		task_failed(res, "apt needs name, or update_cache = true");
		goto out;
	}
	if (valid < 0) {
		task_failed(res, "cache_valid_time must be 0 or more seconds, not %lld", valid);
		goto out;
	}

	/* cache_valid_time: lists recent enough are not updated. In an image without lists,
	   this apply's copy for the same sources is their age (put back below) */
	bool restored = false;
	if (update && valid > 0) {
		long long age = -1;
		if (ctx->in_image && !ctx->check && lists_missing(ctx)) {
			if (!kept)
				kept = sources_key(ctx);
			age = kept ? lists_age_kept(kept) : -1;
			if (age >= 0 && age <= valid && lists_restore(ctx, kept))
				restored = true;
			else
				age = -1;
		} else {
			age = lists_age_target(ctx);
		}
		if (age >= 0 && age <= valid) {
			fresh = age;
			update = false;
		}
	}

	/* apt-get update: changed only if the lists changed */
	bool ran = restored; /* apt-get ran (or lists were put back): in an image, clean up */
	if (update) {
		if (ctx->check) {
			mod_note(&ch, "package lists updated");
			mod_diff(&ch, "apt-get update");
		} else {
			if (update_lists(ctx, res, &ch, true) < 0)
				goto out;
			ran = true;
			/* the kept copy follows the fresh lists */
			if (!kept)
				kept = sources_key(ctx);
			if (kept)
				lists_keep(ctx, kept);
		}
	}

	if (n) {
		if (query_installed(ctx, res, p, n) < 0)
			goto out;
		bool latest = !strcmp(state, "latest");
		/* no lists (an image's apt removed them): update them when there is something
		   to install or upgrade */
		bool want = latest;
		for (size_t i = 0; i < n && !want; i++)
			want = strcmp(state, "absent") && need_install(&p[i]);
		if (want && !ctx->check && !ran && lists_missing(ctx)) {
			/* the lists an earlier task of this apply downloaded for the same
			   sources, else a download (kept for the next task) */
			if (!kept)
				kept = sources_key(ctx);
			if (!kept || !lists_restore(ctx, kept)) {
				if (update_lists(ctx, res, &ch, false) < 0)
					goto out;
				if (kept)
					lists_keep(ctx, kept);
			}
			ran = true;
		}
		if (latest && query_candidates(ctx, res, p, n) < 0)
			goto out;
		size_t ni = 0, nu = 0, nr = 0;
		for (size_t i = 0; i < n; i++) {
			if (!strcmp(state, "absent")) {
				if (need_remove(&p[i])) {
					nr++;
					mod_note(&ch, "removed %s", p[i].name);
					mod_diff(&ch, "- %s %s", p[i].name, p[i].installed);
				}
			} else if (need_install(&p[i])) {
				ni++;
				mod_note(&ch, "installed %s", p[i].spec);
				if (p[i].installed)
					mod_diff(&ch, "~ %s %s -> %s", p[i].name, p[i].installed,
					         p[i].version);
				else
					mod_diff(&ch, "+ %s", p[i].spec);
			} else if (latest && need_upgrade(&p[i])) {
				nu++;
				mod_note(&ch, "upgraded %s", p[i].name);
				mod_diff(&ch, "~ %s %s -> %s", p[i].name, p[i].installed,
				         p[i].candidate);
			}
		}
		if (!ctx->check) {
			const char *no_rec[] = {"--no-install-recommends", NULL};
			const char *only_up[] = {"--only-upgrade", NULL};
			if (ni && apt_get(ctx, res, "install", recommends ? NULL : no_rec, p, n,
			                  true, need_install) < 0)
				goto out;
			if (nu &&
			    apt_get(ctx, res, "install", only_up, p, n, true, need_upgrade) < 0)
				goto out;
			if (nr && apt_get(ctx, res, "remove", NULL, p, n, true, need_remove) < 0)
				goto out;
			ran = ran || ni || nu || nr;
		}
	}
	if (ran && ctx->in_image && clean_image(ctx, res) < 0)
		goto out;
	if (fresh >= 0 && !n) {
		char *m = xasprintf("package lists are %lld s old: not updated", fresh);
		mod_finish(ctx, res, &ch, m);
		free(m);
	} else {
		mod_finish(ctx, res, &ch,
		           n ? "the packages are as asked" : "the package lists are current");
		if (fresh >= 0 && res->msg) {
			char *m = xasprintf("%s (package lists are %lld s old: not updated)",
			                    res->msg, fresh);
			free(res->msg);
			res->msg = m;
		}
	}
out:
	free(kept);
	mod_changes_release(&ch);
	for (size_t i = 0; i < n; i++) {
		free(p[i].spec);
		free(p[i].name);
		free(p[i].version);
		free(p[i].installed);
		free(p[i].candidate);
	}
	free(p);
	return 0;
}

const struct kiln_schema mod_apt_schema = {
    .kind = SCHEMA_MODULE,
    .name = "apt",
    .doc = "install, upgrade or remove Debian packages",
    .label = "name",
    .args = args,
    .example =
        "apt \"curl\" {}; apt \"web server\" { name = [\"apache2\", \"libapache2-mod-php\"], "
        "update_cache = true }",
    .run = run,
};
