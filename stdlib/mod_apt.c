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
 * and update-alternatives (they hold the build's times), no -old backups of
 * dpkg's and debconf's databases and, unless
 * keep_lists, no package lists (/var/lib/apt/lists) once it ran. A task that has
 * packages to install or upgrade and finds no lists updates them first, so
 * the next apt task works with or without update_cache.
 */
#include "entries.h"
#include "modlib.h"

#include <stdlib.h>
#include <string.h>

static const struct kiln_arg args[] = {
    {"name", "string|list<string>", false, NULL,
     "a package or a list of packages; \"pkg=1.2-3\" pins a version"},
    {"state", "enum(present, absent, latest)", false, "\"present\"",
     "present: installed; latest: installed and upgraded; absent: removed"},
    {"update_cache", "bool", false, "false",
     "run apt-get update first; alone, without name, the task does only this"},
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
	/* the logs of this run (they hold its times, so two builds would differ) and the
	   backups dpkg and debconf keep of their databases */
	const char *logs[] = {
	    "sh", "-c",
	    "rm -f /var/log/dpkg.log /var/log/alternatives.log "
	    "/var/log/apt/history.log /var/log/apt/term.log "
	    "/var/log/apt/eipp.log.xz /var/lib/dpkg/*-old /var/cache/debconf/*-old",
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
	bool update = task_arg_bool(ctx, "update_cache", false);
	bool recommends = task_arg_bool(ctx, "install_recommends", false);
	json_t *names = json_object_get(ctx->args, "name");
	struct mod_changes ch = MOD_CHANGES_INIT;
	struct pkg *p = NULL;
	size_t n = 0;
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

	/* apt-get update: changed only if the lists changed */
	bool ran = false; /* apt-get ran: in an image, clean up after it */
	if (update) {
		if (ctx->check) {
			mod_note(&ch, "package lists updated");
			mod_diff(&ch, "apt-get update");
		} else {
			if (update_lists(ctx, res, &ch, true) < 0)
				goto out;
			ran = true;
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
			if (update_lists(ctx, res, &ch, false) < 0)
				goto out;
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
	mod_finish(ctx, res, &ch,
	           n ? "the packages are as asked" : "the package lists are current");
out:
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
