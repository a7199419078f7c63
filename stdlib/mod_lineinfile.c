/*
 * lineinfile: make sure one line is in a text file on the target, or is
 * not (Ansible's lineinfile). The label fills path unless the body sets it.
 */
#include "entries.h"
#include "modlib.h"

#include <errno.h>
#include <regex.h>
#include <stdlib.h>
#include <string.h>

static const struct kiln_arg args[] = {
    {"path", "string", true, NULL, "the file on the target"},
    {"line", "string", false, NULL, "the line (without its newline); needed when state = present"},
    {"regexp", "string", false, NULL,
     "POSIX extended regex: present replaces the last line it matches, absent removes all"},
    {"state", "enum(present, absent)", false, "\"present\"",
     "present: the line is in the file; absent: no line equal to line, or matching regexp"},
    {"insertafter", "string", false, NULL,
     "where a new line goes: after the last line matching this regex, or \"EOF\" (the end)"},
    {"insertbefore", "string", false, NULL,
     "where a new line goes: before the last line matching this regex, or \"BOF\" (the start); "
     "not with insertafter"},
    {"create", "bool", false, "false", "create the file when it does not exist"},
    {0},
};

/* A line without its trailing '\r' (the file's lines are split at '\n'). */
static bool line_eq(const char *file_line, const char *line)
{
	size_t n = strlen(line), m = strlen(file_line);
	if (m && file_line[m - 1] == '\r')
		m--;
	return m == n && !memcmp(file_line, line, n);
}

static bool matches(const regex_t *re, const char *line)
{
	return regexec(re, line, 0, NULL, 0) == 0;
}

static int compile_re(struct task_result *res, regex_t *re, const char *what, const char *src)
{
	int rc = regcomp(re, src, REG_EXTENDED | REG_NOSUB);
	if (rc) {
		char buf[256];
		regerror(rc, re, buf, sizeof(buf));
		task_failed(res, "%s '%s': %s", what, src, buf);
		return -1;
	}
	return 0;
}

/*
 * Ansible's lineinfile on l: present replaces the last line regexp matches (or finds line
 * itself), else inserts line after the last insertafter match / before the last
 * insertbefore match (or at BOF/EOF, the end by default); absent removes every matching
 * line. Returns the message of the change, or NULL if nothing changes.
 */
static const char *edit(struct mod_lines *l, const char *line, const regex_t *re,
                        const regex_t *ins, bool after, bool bof, bool present, size_t *removed)
{
	if (!present) {
		*removed = 0;
		for (size_t i = l->n; i-- > 0;)
			if (re ? matches(re, l->v[i]) : line_eq(l->v[i], line)) {
				mod_lines_remove(l, i);
				(*removed)++;
			}
		return *removed ? "removed" : NULL;
	}
	long found = -1;
	for (size_t i = 0; re && i < l->n; i++)
		if (matches(re, l->v[i]))
			found = (long)i;
	if (found < 0) {
		/* no regexp match: the line itself, anywhere, is enough */
		for (size_t i = 0; i < l->n; i++)
			if (line_eq(l->v[i], line)) {
				found = (long)i;
				break;
			}
		if (found >= 0)
			return NULL;
	}
	if (found >= 0) {
		if (!strcmp(l->v[found], line) && ((size_t)found + 1 < l->n || l->final_nl))
			return NULL;
		mod_lines_set(l, (size_t)found, line);
		if ((size_t)found + 1 == l->n)
			l->final_nl = true;
		return "replaced";
	}
	if (bof) {
		mod_lines_insert(l, 0, line);
		return "added";
	}
	long at = -1;
	for (size_t i = 0; ins && i < l->n; i++)
		if (matches(ins, l->v[i]))
			at = after ? (long)i + 1 : (long)i;
	if (at < 0)
		at = (long)l->n; /* EOF, or no insertafter/insertbefore match */
	mod_lines_insert(l, (size_t)at, line);
	return "added";
}

static int run(struct task_ctx *ctx, struct task_result *res)
{
	const char *path = task_arg_str(ctx, "path", "");
	const char *line = task_arg_str(ctx, "line", NULL);
	const char *regexp = task_arg_str(ctx, "regexp", NULL);
	const char *after = task_arg_str(ctx, "insertafter", NULL);
	const char *before = task_arg_str(ctx, "insertbefore", NULL);
	bool present = strcmp(task_arg_str(ctx, "state", "present"), "absent") != 0;
	bool create = task_arg_bool(ctx, "create", false);
	struct mod_changes ch = MOD_CHANGES_INIT;
	struct mod_lines l = {0}, orig = {0};
	regex_t re, ins;
	bool have_re = false, have_ins = false;
	struct rt_error err = {0};
	char *real = NULL, *data = NULL;
	size_t len = 0;

	if (path[0] != '/')
		return task_failed(res, "path '%s' is not absolute", path);
	if (present && !line)
		return task_failed(res, "state = present needs line");
	if (!present && !line && !regexp)
		return task_failed(res, "state = absent needs line or regexp");
	if (line && strchr(line, '\n'))
		return task_failed(res, "line must be one line (it holds a newline)");
	if (after && before)
		return task_failed(res, "insertafter and insertbefore exclude each other");
	if (regexp) {
		if (compile_re(res, &re, "regexp", regexp) < 0)
			return 0;
		have_re = true;
	}
	const char *insre = after && strcmp(after, "EOF")     ? after
	                    : before && strcmp(before, "BOF") ? before
	                                                      : NULL;
	if (insre) {
		if (compile_re(res, &ins, after ? "insertafter" : "insertbefore", insre) < 0)
			goto out;
		have_ins = true;
	}

	/* the file's text is kept: the lines as they were (for the diff and the update) are
	   split from it again only when something changes */
	bool exists = true;
	int r = mod_follow(ctx->conn, path, &real, &err);
	if (r == 0 && (r = ctx->conn->ops->read(ctx->conn, real, MOD_TEXT_MAX, &data, &len,
	                                        &err)) == -ENOENT) {
		exists = false;
		r = 0;
	}
	if (r < 0) {
		mod_fail(res, &err);
		goto out;
	}
	l.final_nl = true;
	if (exists)
		mod_lines_split(&l, data, len);
	if (!exists) {
		if (!present) {
			task_ok(res, "%s does not exist", path);
			goto out;
		}
		if (!create) {
			task_failed(res, "%s does not exist (create = true makes it)", path);
			goto out;
		}
	}
	size_t removed = 0;
	const char *what =
	    edit(&l, line, have_re ? &re : NULL, have_ins ? &ins : NULL, after != NULL,
	         (after && !strcmp(after, "BOF")) || (before && !strcmp(before, "BOF")), present,
	         &removed);
	if (!what) {
		task_ok(res, "%s already %s the line", path, present ? "has" : "lacks");
		goto out;
	}
	mod_lines_split(&orig, exists ? data : "", exists ? len : 0);
	if (!exists)
		mod_note(&ch, "created %s", path);
	if (removed)
		mod_note(&ch, "%zu line%s removed from %s", removed, removed == 1 ? "" : "s", path);
	else
		mod_note(&ch, "line %s in %s", what, path);
	if (exists || !ctx->check) {
		if (!exists) {
			char *dir = mod_dirname(real);
			struct conn_stat st;
			if (ctx->conn->ops->stat(ctx->conn, dir, true, &st, &err) < 0 ||
			    !st.exists) {
				task_failed(res, "cannot create %s: directory %s does not exist",
				            path, dir);
				free(dir);
				goto out;
			}
			free(dir);
		}
		if (mod_update_file(ctx, res, real, &orig, &l, false, &ch) < 0)
			goto out;
	} else {
		mod_diff(&ch, "+ file %s\n+%s", path, line);
	}
	mod_finish(ctx, res, &ch, "");
out:
	mod_changes_release(&ch);
	mod_lines_release(&l);
	mod_lines_release(&orig);
	if (have_re)
		regfree(&re);
	if (have_ins)
		regfree(&ins);
	free(real);
	free(data);
	return 0;
}

const struct kiln_schema mod_lineinfile_schema = {
    .kind = SCHEMA_MODULE,
    .name = "lineinfile",
    .doc = "make sure a line is in a text file, or is not",
    .label = "path",
    .args = args,
    .example = "lineinfile \"private umask\" { path = \"/etc/login.defs\", regexp = \"^UMASK\", "
               "line = \"UMASK 027\" }",
    .run = run,
    .writes = "path",
};
