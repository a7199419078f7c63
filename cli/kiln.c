/*
 * kiln: the command line. Parses the command and its options, runs the
 * pipeline, prints diagnostics, and maps the outcome to an exit status:
 * 0 success, 1 errors in the input, 2 usage errors.
 */
#include "compile.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum { EXIT_OK = 0, EXIT_ERRORS = 1, EXIT_USAGE = 2 };

struct command {
	const char *name;
	const char *summary;
	const char *usage;
	int (*run)(int argc, char **argv);
};

static int cmd_lint(int argc, char **argv);
static int cmd_help(int argc, char **argv);
static int cmd_version(int argc, char **argv);

static const char lint_usage[] =
	"usage: kiln lint [OPTIONS] FILE...\n"
	"       kiln validate [OPTIONS] FILE...\n"
	"\n"
	"Check kiln files without building anything: syntax and structure now;\n"
	"names, types and module arguments as the compiler grows. Every mistake\n"
	"is reported at once, with file:line:col and the source line.\n"
	"\n"
	"options:\n"
	"  --diagnostics=FORMAT  text (default, on stderr), short (one line each,\n"
	"                        file:line:col: error: message, on stderr), or\n"
	"                        json (JSON Lines on stdout, for editors)\n"
	"  --max-errors N        stop after N errors (default 20; 0: no limit)\n"
	"  --dump=WHAT           print tokens or ast to stdout\n"
	"  --color=WHEN          auto (default), always or never; NO_COLOR is respected\n"
	"\n"
	"exit status: 0 no errors (warnings allowed), 1 errors, 2 usage error\n";

static const struct command commands[] = {
	{"lint", "check files for mistakes without building", lint_usage, cmd_lint},
	{"validate", "the same as lint (Packer's name)", lint_usage, cmd_lint},
	{"help", "show help for kiln or a command", "usage: kiln help [COMMAND]\n", cmd_help},
	{"version", "print the version", "usage: kiln version\n", cmd_version},
};

#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

static void usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void usage_error(const char *cmd, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fprintf(stderr, "kiln: ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\nTry 'kiln help%s%s'.\n", cmd ? " " : "", cmd ? cmd : "");
	va_end(ap);
}

static void print_overview(FILE *out)
{
	fprintf(out, "usage: kiln [--version] [--help] COMMAND [ARGS]\n\n"
		     "kiln bakes immutable server images from a declarative language.\n\n"
		     "commands:\n");
	for (size_t i = 0; i < NCOMMANDS; i++)
		fprintf(out, "  %-10s %s\n", commands[i].name, commands[i].summary);
	fprintf(out, "\nSee 'kiln help COMMAND' for a command's options.\n");
}

static const struct command *find_command(const char *name)
{
	for (size_t i = 0; i < NCOMMANDS; i++)
		if (!strcmp(commands[i].name, name))
			return &commands[i];
	return NULL;
}

static int cmd_help(int argc, char **argv)
{
	if (argc < 2) {
		print_overview(stdout);
		return EXIT_OK;
	}
	const struct command *c = find_command(argv[1]);
	if (!c) {
		usage_error(NULL, "no such command '%s'", argv[1]);
		return EXIT_USAGE;
	}
	fputs(c->usage, stdout);
	return EXIT_OK;
}

static int cmd_version(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	printf("kiln %s\n", KILN_VERSION);
	return EXIT_OK;
}

/*
 * Match "--name=value" or "--name value". Returns 1 and sets *ret_value on a
 * match, 0 if arg is another option, -1 if the value is missing.
 */
static int option_value(const char *name, int argc, char **argv, int *i, const char **ret_value)
{
	const char *arg = argv[*i];
	size_t n = strlen(name);
	if (strncmp(arg, name, n))
		return 0;
	if (arg[n] == '=') {
		*ret_value = arg + n + 1;
		return 1;
	}
	if (arg[n] != '\0')
		return 0;
	if (*i + 1 >= argc)
		return -1;
	*ret_value = argv[++*i];
	return 1;
}

static bool want_color(const char *when)
{
	if (!strcmp(when, "always"))
		return true;
	if (!strcmp(when, "never"))
		return false;
	const char *nc = getenv("NO_COLOR");
	const char *term = getenv("TERM");
	return (!nc || !*nc) && isatty(STDERR_FILENO) && !(term && !strcmp(term, "dumb"));
}

static int cmd_lint(int argc, char **argv)
{
	const char *cmd = argv[0];
	enum diag_format fmt = DIAG_TEXT;
	unsigned long max_errors = 20;
	struct compile_opts opts = {.dump = DUMP_NONE, .dump_out = stdout};
	const char *color = "auto";
	int nfiles = 0;
	char **files = calloc((size_t)argc, sizeof(*files));
	if (!files)
		abort();
	bool options_done = false;

	for (int i = 1; i < argc; i++) {
		const char *arg = argv[i], *v = NULL;
		int r;
		if (options_done || arg[0] != '-' || !strcmp(arg, "-")) {
			files[nfiles++] = argv[i];
			continue;
		}
		if (!strcmp(arg, "--")) {
			options_done = true;
		} else if (!strcmp(arg, "-h") || !strcmp(arg, "--help")) {
			fputs(lint_usage, stdout);
			free(files);
			return EXIT_OK;
		} else if ((r = option_value("--diagnostics", argc, argv, &i, &v))) {
			if (r < 0 || !v) {
				usage_error(cmd, "option '%s' needs a value", "--diagnostics");
				goto usage;
			}
			if (!strcmp(v, "text"))
				fmt = DIAG_TEXT;
			else if (!strcmp(v, "short"))
				fmt = DIAG_SHORT;
			else if (!strcmp(v, "json"))
				fmt = DIAG_JSON;
			else {
				usage_error(cmd, "unknown diagnostics format '%s' (text, short, json)", v);
				goto usage;
			}
		} else if ((r = option_value("--max-errors", argc, argv, &i, &v))) {
			char *end = NULL;
			if (r > 0 && v)
				max_errors = strtoul(v, &end, 10);
			if (r < 0 || !v || !*v || *end || max_errors > 1000000 || v[0] == '-') {
				usage_error(cmd, "option '--max-errors' needs a number, not '%s'",
					    v ? v : "");
				goto usage;
			}
		} else if ((r = option_value("--dump", argc, argv, &i, &v))) {
			if (r > 0 && v && !strcmp(v, "tokens"))
				opts.dump = DUMP_TOKENS;
			else if (r > 0 && v && !strcmp(v, "ast"))
				opts.dump = DUMP_AST;
			else {
				usage_error(cmd, "unknown dump '%s' (tokens, ast)", v ? v : "");
				goto usage;
			}
		} else if ((r = option_value("--color", argc, argv, &i, &v))) {
			if (r < 0 || !v ||
			    (strcmp(v, "auto") && strcmp(v, "always") && strcmp(v, "never"))) {
				usage_error(cmd, "option '--color' takes auto, always or never, not "
						 "'%s'",
					    v ? v : "");
				goto usage;
			}
			color = v;
		} else {
			usage_error(cmd, "unknown option '%s'", arg);
			goto usage;
		}
	}
	if (nfiles == 0) {
		usage_error(cmd, "%s: no files given", cmd);
		goto usage;
	}

	struct compile_ctx cx;
	compile_ctx_init(&cx, (unsigned)max_errors);
	for (int i = 0; i < nfiles; i++) {
		if (diag_too_many(&cx.diags))
			break;
		kiln_lint_file(&cx, strcmp(files[i], "-") ? files[i] : "/dev/stdin", &opts);
	}
	if (fmt == DIAG_JSON)
		diag_print(&cx.diags, stdout, fmt, false);
	else
		diag_print(&cx.diags, stderr, fmt, want_color(color));
	int status = diag_has_errors(&cx.diags) ? EXIT_ERRORS : EXIT_OK;
	compile_ctx_release(&cx);
	free(files);
	fflush(stdout);
	return ferror(stdout) ? EXIT_ERRORS : status;

usage:
	free(files);
	return EXIT_USAGE;
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		print_overview(stderr);
		return EXIT_USAGE;
	}
	if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "-V"))
		return cmd_version(argc - 1, argv + 1);
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))
		return cmd_help(1, argv + 1);
	const struct command *c = find_command(argv[1]);
	if (!c) {
		if (argv[1][0] == '-')
			usage_error(NULL, "unknown option '%s'", argv[1]);
		else
			usage_error(NULL, "no such command '%s'", argv[1]);
		return EXIT_USAGE;
	}
	for (int i = 2; i < argc && c->run != cmd_lint; i++)
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			fputs(c->usage, stdout);
			return EXIT_OK;
		}
	return c->run(argc - 1, argv + 1);
}
