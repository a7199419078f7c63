/*
 * fmt: the kiln fmt command (the layout itself is grammar/format.c), and
 * standard input for '-'.
 */
#include "cli_fmt.h"

#include "arena.h"
#include "atomic.h"
#include "compile.h"
#include "format.h"
#include "module.h"
#include "path.h"
#include "source.h"

#include <dirent.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

char *cli_read_stdin(size_t *ret_len)
{
	size_t len = 0, cap = 8192;
	char *text = xmalloc(cap + 1);
	for (;;) {
		if (len == cap) {
			if (cap >= SOURCE_MAX_SIZE) {
				free(text);
				errno = EFBIG;
				return NULL;
			}
			cap *= 2;
			text = xrealloc(text, cap + 1);
		}
		ssize_t r = read(STDIN_FILENO, text + len, cap - len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			int e = errno;
			free(text);
			errno = e;
			return NULL;
		}
		if (r == 0)
			break;
		len += (size_t)r;
	}
	text[len] = '\0';
	*ret_len = len;
	return text;
}

const char cli_fmt_usage[] =
    "usage: kiln fmt [--check] [--diff] FILE...|DIR...\n"
    "       kiln fmt [--check] [--diff] [--stdin-filename=NAME] -\n"
    "\n"
    "Rewrite kiln files in the one canonical layout (docs/language.md, \"Layout\"):\n"
    "indentation, spacing, the '=' of a block's attributes lined up, blank lines.\n"
    "Only white space changes; comments, strings and heredocs stay as they are.\n"
    "A directory means every .img and .kvars (var-file) file under it, hidden ones\n"
    "aside. A file is replaced (atomically, keeping its mode) only when its layout\n"
    "changes, and its name is printed. A file with a syntax error is left alone\n"
    "and the error reported.\n"
    "\n"
    "options:\n"
    "  --check               change nothing; print the files whose layout would\n"
    "                        change, and exit 1 if there are any (for CI)\n"
    "  --diff                change nothing; print the changes as a unified diff\n"
    "  --stdin-filename=NAME with '-': the name of the text in messages\n"
    "  -                     read standard input, write the result to standard output\n"
    "\n"
    "exit status: 0 done (or nothing to change), 1 syntax errors, or files to\n"
    "  change with --check, 2 usage error\n";

static bool has_suffix(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);
	return n > m && !strcmp(s + n - m, suffix);
}

/* A var-file (NAME = VALUE lines) by its name: *.kvars */
static bool is_var_file(const char *name)
{
	return has_suffix(name, ".kvars");
}

struct fmt_run {
	bool check, diff;
	int status;
};

static bool want_color(void)
{
	const char *nc = getenv("NO_COLOR"), *term = getenv("TERM");
	return (!nc || !*nc) && isatty(STDERR_FILENO) && !(term && !strcmp(term, "dumb"));
}

/* Replace path's content with text, keeping its mode (and owner, when allowed). */
static int rewrite(const char *path, const char *text, size_t len)
{
	char *real = realpath(path, NULL); /* a symlink's target is the file rewritten */
	struct stat st;
	if (!real || stat(real, &st) < 0) {
		fprintf(stderr, "kiln: %s: %s\n", path, strerror(errno));
		free(real);
		return -1;
	}
	struct atomic_file af;
	struct rt_error err = {0};
	int r = atomic_file_open(&af, real, st.st_mode & 07777, ATOMIC_NO_DIRECT, &err);
	if (r == 0) {
		r = fd_write_all(af.fd, text, len);
		if (r == 0 && fchmod(af.fd, st.st_mode & 07777) < 0)
			r = -errno;
		if (r == 0 && (fchown(af.fd, st.st_uid, st.st_gid) < 0 && errno != EPERM))
			r = -errno;
		if (r < 0) {
			rt_error_errno(&err, r, "cannot write %s", real);
			atomic_file_abort(&af);
		} else {
			r = atomic_file_commit(&af, &err);
			atomic_file_abort(&af);
		}
	}
	if (r < 0)
		fprintf(stderr, "kiln: %s\n", err.msg[0] ? err.msg : strerror(-r));
	free(real);
	return r;
}

/* Format one text (file id of sm); name is what messages call it; path the file to
   rewrite, or NULL for standard input (the result goes to standard output). */
static void fmt_one(struct fmt_run *run, struct compile_ctx *cx, uint32_t id, const char *name,
                    const char *path)
{
	size_t len;
	char *out = format_source(&cx->arena, &cx->diags, id, is_var_file(name), &len);
	if (!out) {
		diag_print(&cx->diags, stderr, DIAG_TEXT, want_color());
		run->status = 1;
		return;
	}
	const struct source_file *src = source_get(&cx->sm, id);
	bool changed = len != src->len || memcmp(out, src->text, len);
	if (run->diff && changed) {
		char *d = text_diff(name, src->text, src->len, name, out, len);
		fputs(d, stdout);
		free(d);
	}
	if (run->check && changed) {
		if (!run->diff)
			printf("%s\n", name);
		run->status = 1;
	} else if (!run->check && !run->diff) {
		if (!path)
			fwrite(out, 1, len, stdout);
		else if (changed && rewrite(path, out, len) < 0)
			run->status = 1;
		else if (changed)
			printf("%s\n", name);
	}
	free(out);
}

static void fmt_path(struct fmt_run *run, const char *path, bool named)
{
	struct compile_ctx cx;
	compile_ctx_init(&cx, 20);
	uint32_t id = 0;
	int r = source_load(&cx.sm, path, &id);
	if (r == -EISDIR) {
		compile_ctx_release(&cx);
		DIR *d = opendir(path);
		if (!d) {
			fprintf(stderr, "kiln: %s: %s\n", path, strerror(errno));
			run->status = 1;
			return;
		}
		char **names = NULL;
		size_t n = 0;
		struct dirent *e;
		while ((e = readdir(d))) {
			if (e->d_name[0] == '.')
				continue; /* ., .., and hidden: .git, editors' files */
			names = xrealloc(names, (n + 1) * sizeof(*names));
			names[n++] = xstrdup(e->d_name);
		}
		closedir(d);
		qsort(names, n, sizeof(*names), cmp_str);
		for (size_t i = 0; i < n; i++) {
			char *sub = path_join(path, names[i]);
			struct stat st;
			if (lstat(sub, &st) == 0 &&
			    (S_ISDIR(st.st_mode) ||
			     (S_ISREG(st.st_mode) &&
			      (has_suffix(names[i], ".img") || is_var_file(names[i])))))
				fmt_path(run, sub, false);
			free(sub);
			free(names[i]);
		}
		free(names);
		return;
	}
	if (r < 0) {
		if (named || r != -ENOENT) {
			fprintf(stderr, "kiln: %s: %s\n", path,
			        r == -EINVAL ? "not a regular file" : strerror(-r));
			run->status = 1;
		}
		compile_ctx_release(&cx);
		return;
	}
	fmt_one(run, &cx, (uint32_t)r, path, path);
	compile_ctx_release(&cx);
}

int cli_fmt_main(int argc, char **argv, const char **ret_unknown)
{
	struct fmt_run run = {0};
	const char *stdin_name = NULL;
	const char **files = xmalloc((size_t)argc * sizeof(*files));
	int nfiles = 0, nstdin = 0;
	bool options_done = false;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (options_done || a[0] != '-' || !strcmp(a, "-")) {
			nstdin += !strcmp(a, "-");
			files[nfiles++] = a;
			continue;
		}
		const char *o = a + (a[1] == '-' ? 2 : 1);
		if (!strcmp(a, "--")) {
			options_done = true;
		} else if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			fputs(cli_fmt_usage, stdout);
			free(files);
			return 0;
		} else if (!strcmp(o, "check")) {
			run.check = true;
		} else if (!strcmp(o, "diff")) {
			run.diff = true;
		} else if (!strncmp(o, "stdin-filename=", 15)) {
			stdin_name = o + 15;
		} else if (!strcmp(o, "stdin-filename") && i + 1 < argc) {
			stdin_name = argv[++i];
		} else {
			*ret_unknown = a;
			free(files);
			return 2;
		}
	}
	const char *usage_err = !nfiles                 ? "fmt: no files given"
	                        : nstdin > 1            ? "'-' (standard input) may be given once"
	                        : nstdin && nfiles > 1  ? "'-' formats standard input alone"
	                        : stdin_name && !nstdin ? "--stdin-filename names the text of "
	                                                  "'-': give '-'"
	                                                : NULL;
	if (usage_err) {
		fprintf(stderr, "kiln: %s\nTry 'kiln help fmt'.\n", usage_err);
		free(files);
		return 2;
	}
	if (nstdin) {
		size_t len;
		char *text = cli_read_stdin(&len);
		if (!text) {
			fprintf(stderr, "kiln: cannot read standard input: %s\n", strerror(errno));
			free(files);
			return 1;
		}
		struct compile_ctx cx;
		compile_ctx_init(&cx, 20);
		const char *name = stdin_name ? stdin_name : "<stdin>";
		uint32_t id = source_add(&cx.sm, name, text, len);
		free(text);
		fmt_one(&run, &cx, id, name, NULL);
		compile_ctx_release(&cx);
	} else {
		for (int i = 0; i < nfiles; i++)
			fmt_path(&run, files[i], true);
	}
	free(files);
	if (fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, "kiln: cannot write the output\n");
		return 1;
	}
	return run.status;
}
