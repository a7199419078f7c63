/*
 * command: run a program on the target, without a shell (Ansible's
 * command). The label is the command line, unless the body sets cmd;
 * then it describes the task.
 */
#include "entries.h"
#include "modlib.h"

#include <stdlib.h>
#include <string.h>

static const struct kiln_arg args[] = {
    {"cmd", "string", true, NULL,
     "the command line, split into words as sh would, but with no $VAR, globs, | or >"},
    {"creates", "string", false, NULL, "skip the task when this path exists on the target"},
    {"removes", "string", false, NULL, "run the task only when this path exists on the target"},
    {"chdir", "string", false, NULL, "directory on the target to run the command in"},
    {"env", "map<string|secret>", false, NULL, "extra environment variables of the command"},
    {"stdin", "string|secret", false, NULL, "text fed to the command's standard input"},
    {0},
};

/*
 * Split a command line into words as sh does, without expanding anything: blanks separate
 * words; '...' keeps everything literally; "..." keeps everything but \" \\ \$ \` and
 * \newline, which lose their backslash; outside quotes a backslash keeps the next byte
 * (a backslash-newline disappears). Returns the words (NULL-terminated, malloc'd, words
 * too), or NULL with *ret_msg set to a static message.
 */
static char **split_words(const char *s, const char **ret_msg)
{
	size_t n = 0, cap = 8;
	char **v = xmalloc(cap * sizeof(*v));
	struct strbuf w = STRBUF_INIT;
	bool in_word = false;

	for (const char *p = s;; p++) {
		char c = *p;
		if (c == '\0' || c == ' ' || c == '\t' || c == '\n') {
			if (in_word) {
				if (n + 2 > cap) {
					cap *= 2;
					v = xrealloc(v, cap * sizeof(*v));
				}
				v[n++] = sb_detach(&w);
				in_word = false;
			}
			if (!c)
				break;
			continue;
		}
		in_word = true;
		if (c == '\'') {
			const char *e = strchr(p + 1, '\'');
			if (!e) {
				*ret_msg = "unterminated ' quote";
				goto fail;
			}
			sb_add(&w, p + 1, (size_t)(e - p - 1));
			p = e;
		} else if (c == '"') {
			for (p++;; p++) {
				if (!*p) {
					*ret_msg = "unterminated \" quote";
					goto fail;
				}
				if (*p == '"')
					break;
				if (*p == '\\' && p[1] && strchr("\"\\$`\n", p[1])) {
					p++;
					if (*p != '\n')
						sb_addc(&w, *p);
					continue;
				}
				sb_addc(&w, *p);
			}
			sb_add(&w, "", 0); /* "" is a word */
		} else if (c == '\\') {
			if (!p[1]) {
				*ret_msg = "a backslash ends the command";
				goto fail;
			}
			p++;
			if (*p == '\n') {
				if (!w.len)
					in_word = false;
				continue;
			}
			sb_addc(&w, *p);
		} else {
			sb_addc(&w, c);
		}
	}
	v[n] = NULL;
	return v;
fail:
	sb_release(&w);
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
	return NULL;
}

static int run(struct task_ctx *ctx, struct task_result *res)
{
	const char *cmd = task_arg_str(ctx, "cmd", "");
	const char *msg = NULL;
	char **argv = split_words(cmd, &msg);

	if (!argv)
		return task_failed(res, "cannot split the command line: %s", msg);
	if (!argv[0]) {
		free(argv);
		return task_failed(res, "empty command line");
	}
	mod_command_task(ctx, res, (const char *const *)argv);
	for (size_t i = 0; argv[i]; i++)
		free(argv[i]);
	free(argv);
	return 0;
}

const struct kiln_schema mod_command_schema = {
    .kind = SCHEMA_MODULE,
    .name = "command",
    .doc = "run a command on the target, without a shell",
    .label = "cmd",
    .args = args,
    .example = "command \"apachectl -t\" { chdir = \"/etc/apache2\" }",
    .run = run,
};
