/*
 * apt_repository: an apt source on the target, with the key that signs
 * it, present or absent (Ansible's apt_repository). The label fills repo
 * unless the body sets repo; then it describes the task:
 * apt_repository "deb https://example.com/apt stable main" {} is that
 * source, while in apt_repository "extra" { repo = "deb ..." } the label
 * is a description.
 */
#include "entries.h"
#include "modlib.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

static const struct kiln_arg args[] = {
    {"repo", "string", true, NULL,
     "the source line, e.g. \"deb https://deb.example.com/debian bookworm main\"; the task's "
     "label fills it"},
    {"key", "string", false, NULL,
     "the ASCII-armored OpenPGP key that signs the repository (not with key_url)"},
    {"key_url", "string", false, NULL, "where to download that key from (not with key)"},
    {"filename", "string", false, NULL,
     "name of the file in /etc/apt/sources.list.d/, without .list; default: from repo"},
    {"update_cache", "bool", false, "true", "run apt-get update when the sources changed"},
    {"state", "enum(present, absent)", false, "\"present\"", "whether the source is configured"},
    {0},
};

#define KEYRINGS "/etc/apt/keyrings"
#define SOURCES "/etc/apt/sources.list.d"

static bool is_deb822(const char *repo)
{
	return strstr(repo, "Types:") != NULL;
}

/* The first URI of the source: the word after "deb [options]", or deb822's URIs:. */
static char *repo_uri(const char *repo)
{
	const char *p;
	if (is_deb822(repo)) {
		p = strstr(repo, "URIs:");
		if (!p)
			return NULL;
		p += 5;
	} else {
		p = repo + strcspn(repo, " \t");
		p += strspn(p, " \t");
		if (*p == '[') {
			p = strchr(p, ']');
			if (!p)
				return NULL;
			p++;
		}
	}
	p += strspn(p, " \t");
	size_t l = strcspn(p, " \t\n");
	return l ? xstrndup(p, l) : NULL;
}

/* Ansible's default file name: the URI without its scheme, every other byte '_'. */
static char *default_name(const char *uri)
{
	const char *s = strstr(uri, "://");
	s = s ? s + 3 : uri;
	char *n = xstrdup(s);
	for (char *c = n; *c; c++)
		if (!isalnum((unsigned char)*c) && *c != '-')
			*c = '_';
	size_t l = strlen(n);
	while (l && n[l - 1] == '_')
		n[--l] = '\0';
	return n;
}

static bool valid_name(const char *n)
{
	if (!*n || *n == '.' || strlen(n) > 200)
		return false;
	for (; *n; n++)
		if (!isalnum((unsigned char)*n) && !strchr("_-.", *n))
			return false;
	return true;
}

/* The source text with signed-by pointing at keyfile (unless it names a key already). */
static char *with_signed_by(const char *repo, const char *keyfile)
{
	if (is_deb822(repo)) {
		size_t l = strlen(repo);
		while (l && repo[l - 1] == '\n')
			l--;
		if (strstr(repo, "Signed-By:") || !keyfile)
			return xasprintf("%.*s\n", (int)l, repo);
		return xasprintf("%.*s\nSigned-By: %s\n", (int)l, repo, keyfile);
	}
	if (!keyfile || strstr(repo, "signed-by="))
		return xasprintf("%s\n", repo);
	size_t t = strcspn(repo, " \t");
	const char *rest = repo + t + strspn(repo + t, " \t");
	if (*rest == '[') {
		const char *close = strchr(rest, ']');
		return xasprintf("%.*s%.*s signed-by=%s%s\n", (int)(rest - repo), repo,
		                 (int)(close - rest), rest, keyfile, close);
	}
	return xasprintf("%.*s [signed-by=%s] %s\n", (int)t, repo, keyfile, rest);
}

/* path holds exactly text (NULL: absent). Notes and diffs the change. */
static int ensure_content(const struct task_ctx *ctx, struct task_result *res, const char *path,
                          const char *text, struct mod_changes *ch)
{
	struct rt_error err = {0};
	char *old = NULL;
	size_t olen = 0;
	int r = ctx->conn->ops->read(ctx->conn, path, MOD_TEXT_MAX, &old, &olen, &err);
	if (r < 0 && r != -ENOENT)
		return mod_fail(res, &err);
	r = 0;
	if (!text) {
		if (old) {
			mod_note(ch, "removed %s", path);
			mod_diff_text(ch, path, old, olen, "", 0);
			if (!ctx->check && ctx->conn->ops->remove(ctx->conn, path, false, &err) < 0)
				r = mod_fail(res, &err);
		}
	} else if (!old || olen != strlen(text) || memcmp(old, text, olen)) {
		mod_note(ch, "%s %s", old ? "changed" : "created", path);
		mod_diff_text(ch, path, old, olen, text, strlen(text));
		struct conn_attrs a = {0644, 0, 0};
		if (!ctx->check) {
			char *dir = mod_dirname(path);
			struct conn_attrs d = {0755, 0, 0};
			r = conn_mkdir_p(ctx->conn, dir, &d, &err);
			free(dir);
			if (r >= 0)
				r = ctx->conn->ops->write(ctx->conn, path, text, strlen(text), &a,
				                          &err);
			if (r < 0)
				r = mod_fail(res, &err);
		}
	}
	free(old);
	return r;
}

static int run(struct task_ctx *ctx, struct task_result *res)
{
	const char *repo = task_arg_str(ctx, "repo", "");
	const char *key = task_arg_str(ctx, "key", NULL);
	const char *filename = task_arg_str(ctx, "filename", NULL);
	bool present = strcmp(task_arg_str(ctx, "state", "present"), "absent") != 0;
	struct mod_changes ch = MOD_CHANGES_INIT;
	char *uri = NULL, *name = NULL, *path = NULL, *keyfile = NULL, *text = NULL;

	if (task_arg_str(ctx, "key_url", NULL))
		return task_failed(res,
		                   "key_url is not supported: builds do not download; pass the "
		                   "key's text as key, e.g. key = file(\"repo.asc\")");
	bool deb822 = is_deb822(repo);
	if (!deb822 &&
	    (strchr(repo, '\n') || (strncmp(repo, "deb ", 4) && strncmp(repo, "deb-src ", 8))))
		return task_failed(res, "repo must be a \"deb ...\" line or a deb822 stanza with "
		                        "Types: and URIs:");
	uri = repo_uri(repo);
	if (!uri) {
		task_failed(res, "repo names no URI");
		goto out;
	}
	name = filename ? xstrdup(filename) : default_name(uri);
	if (!valid_name(name)) {
		task_failed(res, "invalid filename '%s'", name);
		goto out;
	}
	path = xasprintf(SOURCES "/%s.%s", name, deb822 ? "sources" : "list");
	if (key) {
		if (!strstr(key, "-----BEGIN PGP PUBLIC KEY BLOCK-----")) {
			task_failed(res, "key is not an ASCII-armored OpenPGP public key");
			goto out;
		}
		keyfile = xasprintf(KEYRINGS "/%s.asc", name);
	} else if (!present) {
		keyfile = xasprintf(KEYRINGS "/%s.asc", name); /* a key written before goes too */
	}
	text = with_signed_by(repo, keyfile);
	if (keyfile && ensure_content(ctx, res, keyfile, present ? key : NULL, &ch) < 0)
		goto out;
	if (ensure_content(ctx, res, path, present ? text : NULL, &ch) < 0)
		goto out;
	if (ch.n && present && task_arg_bool(ctx, "update_cache", true)) {
		mod_note(&ch, "package lists updated");
		if (!ctx->check) {
			const char *argv[] = {"apt-get", "update", "-q", NULL};
			struct exec_req req = {.argv = argv};
			struct exec_res er;
			if (mod_exec(ctx, res, &req, "apt-get update", &er) < 0)
				goto out;
			mod_exec_res_free(&er);
		}
	}
	mod_finish(ctx, res, &ch,
	           present ? "the source is configured" : "the source is not configured");
out:
	mod_changes_release(&ch);
	free(uri);
	free(name);
	free(path);
	free(keyfile);
	free(text);
	return 0;
}

const struct kiln_schema mod_apt_repository_schema = {
    .kind = SCHEMA_MODULE,
    .name = "apt_repository",
    .doc = "add or remove an apt source and its signing key",
    .label = "repo",
    .args = args,
    .example = "apt_repository \"deb https://example.com/apt stable main\" { key = "
               "file(\"k.asc\") }",
    .run = run,
    .writes = "-",
};
