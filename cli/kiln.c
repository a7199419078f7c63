/*
 * kiln: the command line. Parses the command and its options, runs the
 * pipeline, prints diagnostics, and maps the outcome to an exit status:
 * 0 success, 1 errors in the input, 2 usage errors (plan -detailed-exitcode:
 * 2 means changes are pending), 130 after SIGINT and 143 after SIGTERM (as a
 * shell reports a command a signal ended), with nothing half-written left.
 *
 * Options take one dash or two (Packer writes -var, GNU tools --var), and
 * their value after '=' or as the next argument.
 */
#include "adhoc.h"
#include "atomic.h"
#include "builtins.h"
#include "cli_fmt.h"
#include "cache.h"
#include "cli_lsp.h"
#include "compile.h"
#include "drift.h"
#include "exec.h"
#include "inventory.h"
#include "ns.h"
#include "path.h"
#include "plan.h"
#include "plan_format.h"
#include "plan_status.h"
#include "plan_view.h"

#include <signal.h>
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

enum { EXIT_OK = 0, EXIT_ERRORS = 1, EXIT_USAGE = 2 };

struct command {
	const char *name;
	const char *summary;
	const char *usage;
	int (*run)(const struct command *c, int argc, char **argv);
};

static const char common_options[] =
    "  --diagnostics=FORMAT  text (default, on stderr), short (one line each,\n"
    "                        file:line:col: error: message, on stderr), or\n"
    "                        json (JSON Lines on stdout, for editors)\n"
    "  --max-errors=N        stop after N errors (default 20; 0: no limit)\n"
    "  --color=WHEN          auto (default), always or never; NO_COLOR is respected\n";

static const char var_options[] =
    "  -var NAME=VALUE       set a param (lists and maps as JSON); later wins\n"
    "  -var-file=FILE        set params from a file of NAME = VALUE lines (kiln\n"
    "                        syntax) or a JSON object; later wins\n"
    "                        (the environment's KILN_VAR_NAME comes below both)\n"
    "  -only=NAME            only this image and the images it is built from\n"
    "  -except=NAME          every image but this one and those built from it\n"
    "  -i, -inventory=FILE   read host groups from an Ansible INI inventory, as an\n"
    "                        inventory \"FILE\" line does (repeat for several)\n";

static const char lint_usage[] =
    "usage: kiln lint [OPTIONS] FILE...|-\n"
    "       kiln validate [OPTIONS] FILE...|-\n"
    "\n"
    "Check kiln files without building anything: syntax, names, types and every\n"
    "module's arguments. Every mistake is reported at once, with file:line:col\n"
    "and the source line. The files are one build, as for compile. Params need\n"
    "no values to lint.\n"
    "\n"
    "options:\n"
    "  --syntax-only         check the syntax and the blocks' structure only\n"
    "                        (no imports, names or types; Packer's -syntax-only)\n"
    "  --dump=WHAT           print the tokens or the ast of each file to stdout\n"
    "  -var NAME=VALUE       give a param a value to check with (as for compile)\n"
    "  -var-file=FILE        read values from FILE, which must exist and parse\n"
    "  -i, -inventory=FILE   read host groups from an Ansible INI inventory\n"
    "  --stdin-filename=NAME with '-' (standard input): name the text NAME in\n"
    "                        diagnostics; its relative imports resolve from NAME's\n"
    "                        directory (for editors and pre-commit hooks)\n";

static const char compile_usage[] =
    "usage: kiln compile [OPTIONS] FILE... [-o PLAN]\n"
    "\n"
    "Check the files, give every param its value and write the plan that\n"
    "'kiln apply' carries out (default: plan.json; '-o -' for stdout). The plan\n"
    "is deterministic: the same inputs give the same bytes. Secrets appear in\n"
    "it only as the place their value comes from.\n"
    "\n"
    "options:\n"
    "  -o FILE               where to write the plan: a file is replaced atomically\n"
    "                        (a symlink there is replaced, not followed); a device or\n"
    "                        FIFO is written through; a directory is refused\n"
    "  --dump=ir             print the lowered program instead\n";

static const char plan_usage[] =
    "usage: kiln plan [OPTIONS] FILE...|PLAN.json\n"
    "\n"
    "Show what 'kiln apply' will do: images, stages, tasks, handlers, outputs,\n"
    "hosts, with counts; then, from the cache, each stage cached or to build (and\n"
    "why: the first input that changed since it was built) and each output up to\n"
    "date or to write, and a summary line. Nothing is extracted or run. When the\n"
    "build has apply blocks, plan connects to their hosts and runs every task in\n"
    "check mode (nothing on a host changes; a command with creates/removes is\n"
    "decided by looking at the path) and prints each host's drift: + create,\n"
    "~ change, - remove, > a command would run, with diffs.\n"
    "\n"
    "options:\n"
    "  -detailed-exitcode    exit 0 when there is nothing to do, 2 when there is,\n"
    "                        1 on errors (usage errors and hosts not reached too)\n"
    "  -refresh=false        do not connect to the hosts: show the apply blocks only\n"
    "  -C DIR                for a plan.json: the directory its paths are relative to\n"
    "  --work-dir=DIR        the work directory apply uses (as apply)\n"
    "  --cache-dir=DIR       the cache apply uses (as apply)\n"
    "  --accept-new-host-keys  over SSH, add a host key that is not in known_hosts\n";

static const char graph_usage[] =
    "usage: kiln graph [OPTIONS] FILE...|PLAN.json\n"
    "\n"
    "Print the build as a Graphviz DOT graph: bases and images, their 'from'\n"
    "edges, stages, outputs, host groups. e.g. kiln graph web.img | dot -Tsvg > web.svg\n"
    "\n"
    "options:\n";

static const char apply_usage[] =
    "usage: kiln apply [OPTIONS] FILE...|PLAN.json\n"
    "\n"
    "Bake the images a build describes: compile the files (or read a plan that\n"
    "'kiln compile' wrote), make each image's base, run its stages' tasks and\n"
    "handlers, and write its outputs; run each apply block on its hosts (in\n"
    "parallel, over SSH). A second apply of the same build reports every task ok.\n"
    "\n"
    "options:\n"
    "  --check               change nothing; report what would change (modules get\n"
    "                        a target that refuses every change with EROFS)\n"
    "  --diff                show the changes files undergo\n"
    "  --accept-new-host-keys  over SSH, add a host key that is not in known_hosts\n"
    "                        (a changed key is still refused)\n"
    "  --forks=N             apply to at most N hosts at once (default 10)\n"
    "  --limit=PATTERN       only the hosts an Ansible host pattern selects (all,\n"
    "                        GROUP, HOST, web*, ~REGEX, a:b, a,b, a:&b, a:!b)\n"
    "  --list-hosts          print the hosts each apply block would touch; connect\n"
    "                        to none, change nothing\n"
    "  -v, --verbose         print what commands print as they print it, each line\n"
    "                        prefixed with its host or image\n"
    "  --log-file=FILE       also write every event as JSON lines, with timestamps\n"
    "                        and full command output, to FILE (docs/events.md)\n"
    "  --progress=WHEN       auto (a live status line on a terminal), tty or plain\n"
    "  --events=json         JSON lines on stdout, one per event, for machines\n"
    "  -C DIR                for a plan: the directory its paths are relative to\n"
    "                        (default: the current directory)\n"
    "  --work-dir=DIR        where images are built (default /var/tmp/kiln)\n"
    "  --cache-dir=DIR       where bases, stages and layers are cached (default\n"
    "                        /var/cache/kiln as root, else ~/.cache/kiln)\n"
    "  --no-cache            run every stage and write every output (results are\n"
    "                        still stored in the cache)\n"
    "  --refresh-base        make bases again (e.g. debootstrap, to pick up security\n"
    "                        updates), then every stage on them (as --no-cache)\n"
    "  --lock-timeout=SECS   wait this long for another apply that holds the cache\n"
    "                        or work directory (default 0: fail at once, naming it)\n"
    "  --cache-to=REF        push each stage's cache entry to this registry repository\n"
    "  --cache-from=REF      fetch stages the local cache lacks from this repository\n"
    "  --cache-insecure      plain HTTP for --cache-to and --cache-from\n";

static const char run_usage[] =
    "usage: kiln run PATTERN -i INVENTORY [-m MODULE] -a ARGS [OPTIONS]\n"
    "\n"
    "Run one module on the hosts of an inventory that PATTERN selects, as Ansible's\n"
    "'ansible PATTERN -m MODULE -a ARGS' does: e.g. kiln run web -i hosts.ini -m apt\n"
    "-a 'name=vim state=present', or kiln run all -i hosts.ini -m shell -a uptime.\n"
    "The arguments are checked against the module as in a file; the task runs\n"
    "through apply, and each host's result is printed (CHANGED, SUCCESS, FAILED,\n"
    "UNREACHABLE, with a command's output).\n"
    "\n"
    "PATTERN is Ansible's host pattern: all, a group, a host, a glob (web*), ~REGEX,\n"
    "joined with ':' or ',' (or), '&' (and) and '!' (but not): 'web:&prod:!web3'.\n"
    "\n"
    "options:\n"
    "  -m, --module-name=NAME  the module (default: command; 'kiln doc' lists them)\n"
    "  -a, --args=ARGS       key=value words ('a b', \"a b\", key=\"x y\" quote); for\n"
    "                        command and shell the other words are the command line\n"
    "  -b, --become          run commands through sudo on the hosts\n"
    "  -u, --user=USER       the user to log in as (the inventory's ansible_user wins)\n"
    "  --known-hosts=FILE    the host keys to check against (default ~/.ssh/known_hosts)\n"
    "  --list-hosts          print the hosts PATTERN selects, reach none\n"
    "  --check               change nothing; report what would change\n"
    "  --diff                show the changes files undergo\n"
    "  --accept-new-host-keys  over SSH, add a host key that is not in known_hosts\n"
    "  --events=json         JSON lines on stdout, as kiln apply prints them\n";

static const char cache_usage[] =
    "usage: kiln cache ls [--cache-dir=DIR] [--json]\n"
    "       kiln cache prune [--cache-dir=DIR] [--older-than=DUR] [--max-size=SIZE]\n"
    "                        [--all] [--lock-timeout=SECS]\n"
    "\n"
    "ls: the cache's entries (stage layers with their image and stage, compressed\n"
    "layer blobs, debian() bases), their sizes and when each was last used.\n"
    "prune: remove the entries not used for DUR (e.g. 36h, 7d: s, m, h, d, w), then\n"
    "the least recently used until the rest fits in SIZE (e.g. 10G: K, M, G, T,\n"
    "powers of 1024), or every entry (--all). It waits for no apply unless given\n"
    "--lock-timeout.\n"
    "\n"
    "options:\n"
    "  --cache-dir=DIR       the cache (default as apply's)\n"
    "\n"
    "exit status: 0 done, 1 the cache could not be read or locked, 2 usage error\n";

static const char doc_usage[] =
    "usage: kiln doc [--json] [NAME]\n"
    "\n"
    "List the modules, bases, outputs and functions, or show one's arguments.\n"
    "NAME may be KIND:NAME (function:file), or one of the language's own pages:\n"
    "config, notify, facts, hosts, image, param, keywords, types.\n"
    "\n"
    "options:\n"
    "  --json                all of it (or NAME's) as one JSON document, for editors\n"
    "                        and language servers (docs/doc-json.md)\n";

static const char inventory_usage[] =
    "usage: kiln inventory -i FILE... (--list | --graph [GROUP] [--vars] | --host HOST)\n"
    "\n"
    "Read Ansible INI inventories as Ansible does and print them as ansible-inventory\n"
    "does: --list the groups and every host's values (JSON), --graph the tree of\n"
    "groups and hosts, --host one host's values (JSON).\n"
    "\n"
    "options:\n"
    "  -i, --inventory=FILE  an Ansible INI inventory (repeat to merge several)\n"
    "  --list                groups, \"all\", \"ungrouped\" and _meta.hostvars\n"
    "  --graph [GROUP]       the tree from GROUP (default all)\n"
    "  --vars                with --graph: each host's and group's values\n"
    "  --host HOST           the values of HOST, merged by Ansible's precedence\n"
    "\n"
    "exit status: 0 printed, 1 an inventory could not be read, 2 usage error\n";

static int cmd_lint(const struct command *c, int argc, char **argv);
static int cmd_compile(const struct command *c, int argc, char **argv);
static int cmd_doc(const struct command *c, int argc, char **argv);
static int cmd_apply(const struct command *c, int argc, char **argv);
static int cmd_help(const struct command *c, int argc, char **argv);
static int cmd_fmt(const struct command *c, int argc, char **argv);
static int cmd_version(const struct command *c, int argc, char **argv);
static int cmd_inventory(const struct command *c, int argc, char **argv);
static int cmd_run(const struct command *c, int argc, char **argv);
static int cmd_cache(const struct command *c, int argc, char **argv);

static const struct command commands[] = {
    {"lint", "check files for mistakes without building", lint_usage, cmd_lint},
    {"validate", "the same as lint (Packer's name for it)", lint_usage, cmd_lint},
    {"compile", "check files and write the plan (plan.json)", compile_usage, cmd_compile},
    {"plan", "show what apply will do", plan_usage, cmd_compile},
    {"graph", "print the build as a Graphviz graph", graph_usage, cmd_compile},
    {"apply", "bake the images: run the plan", apply_usage, cmd_apply},
    {"run", "run one module on an inventory's hosts (ad hoc, as ansible -m)", run_usage, cmd_run},
    {"inventory", "print an Ansible INI inventory as ansible-inventory does", inventory_usage,
     cmd_inventory},
    {"fmt", "rewrite files in the canonical layout", cli_fmt_usage, cmd_fmt},
    {"cache", "list the cache's entries, or prune it", cache_usage, cmd_cache},
    {"lsp", "serve the Language Server Protocol to an editor", cli_lsp_usage, cli_lsp_cmd},
    {"doc", "list modules, bases, outputs, functions; show one", doc_usage, cmd_doc},
    {"help", "show help for kiln or a command", "usage: kiln help [COMMAND]\n", cmd_help},
    {"version", "print the version", "usage: kiln version\n", cmd_version},
};

#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

static void usage_error(const char *cmd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

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

static void print_usage(const struct command *c, FILE *out)
{
	fputs(c->usage, out);
	if (c->run == cmd_compile || c->run == cmd_apply || c->run == cmd_run)
		fputs(var_options, out);
	if (c->run == cmd_lint || c->run == cmd_compile || c->run == cmd_apply || c->run == cmd_run)
		fputs(common_options, out);
	if (c->run == cmd_lint)
		fputs("\nexit status: 0 no errors (warnings allowed), 1 errors, 2 usage error,\n"
		      "  130 interrupted by SIGINT, 143 by SIGTERM\n",
		      out);
	else if (c->run == cmd_run)
		fputs(
		    "\nexit status: 0 the module ran on every host, 1 it failed on one or a host\n"
		    "  was not reached (or the arguments are wrong), 2 usage error\n",
		    out);
	else if (c->run == cmd_apply)
		fputs("\nexit status: 0 every image baked and host applied, 1 a task or step "
		      "failed,\n  2 usage error, 130 interrupted by SIGINT, 143 by SIGTERM (what "
		      "was half-\n  written is removed, earlier artifacts stay)\n",
		      out);
	else if (c->run == cmd_compile)
		fputs("\nexit status: 0 success, 1 errors, 2 usage error (plan -detailed-exitcode: "
		      "changes\n  pending), 130 interrupted by SIGINT, 143 by SIGTERM\n",
		      out);
}

static const struct command *find_command(const char *name)
{
	for (size_t i = 0; i < NCOMMANDS; i++)
		if (!strcmp(commands[i].name, name))
			return &commands[i];
	return NULL;
}

/*
 * The option of command c closest to the mistyped arg, with arg's dashes
 * ("--check", "-var"), or NULL. The options are read from the usage text, so
 * every option a command documents is a candidate.
 */
static char *closest_option(const struct command *c, const char *arg)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);
	if (!f)
		return NULL;
	print_usage(c, f);
	fclose(f);
	const char *words[128];
	size_t n = 0;
	for (char *line = strtok(text, "\n"); line && n < 128; line = strtok(NULL, "\n")) {
		line += strspn(line, " ");
		/* "-i, -inventory=FILE  ...": the words up to the description */
		while (*line == '-' && n < 128) {
			char *end = line + strcspn(line, " =,[");
			char stop = *end;
			*end = '\0';
			words[n++] = line + strspn(line, "-");
			if (stop != ',')
				break;
			line = end + 1 + strspn(end + 1, " ");
		}
	}
	char *word = xstrdup(arg + strspn(arg, "-"));
	word[strcspn(word, "=")] = '\0';
	const char *best = *word ? diag_closest(words, n, word) : NULL;
	char *r = NULL;
	if (best) {
		int dashes = arg[0] == '-' && arg[1] == '-' ? 2 : 1;
		size_t rn = strlen(best) + 3;
		r = xmalloc(rn);
		snprintf(r, rn, "%s%s", dashes == 2 ? "--" : "-", best);
	}
	free(word);
	free(text);
	return r;
}

static void unknown_option(const struct command *c, const char *arg)
{
	char *best = closest_option(c, arg);
	if (best)
		usage_error(c->name, "unknown option '%s'; did you mean '%s'?", arg, best);
	else
		usage_error(c->name, "unknown option '%s'", arg);
	free(best);
}

/* "no such command", with the closest command's name */
static void unknown_command(const char *name)
{
	const char *names[NCOMMANDS];
	for (size_t i = 0; i < NCOMMANDS; i++)
		names[i] = commands[i].name;
	const char *best = diag_closest(names, NCOMMANDS, name);
	if (best)
		usage_error(NULL, "no such command '%s'; did you mean '%s'?", name, best);
	else
		usage_error(NULL, "no such command '%s'", name);
}

static int cmd_help(const struct command *self, int argc, char **argv)
{
	(void)self;
	if (argc < 2) {
		print_overview(stdout);
		return EXIT_OK;
	}
	const struct command *c = find_command(argv[1]);
	if (!c) {
		unknown_command(argv[1]);
		return EXIT_USAGE;
	}
	print_usage(c, stdout);
	return EXIT_OK;
}

static int cmd_fmt(const struct command *c, int argc, char **argv)
{
	const char *unknown = NULL;
	int r = cli_fmt_main(argc, argv, &unknown);
	if (unknown)
		unknown_option(c, unknown);
	return r;
}

static int cmd_version(const struct command *c, int argc, char **argv)
{
	(void)c;
	(void)argc;
	(void)argv;
	printf("kiln %s\n", KILN_VERSION);
	return EXIT_OK;
}

static int cmd_doc(const struct command *c, int argc, char **argv)
{
	bool as_json = false;
	const char *name = NULL;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			print_usage(c, stdout);
			return EXIT_OK;
		} else if (!strcmp(argv[i], "--json") || !strcmp(argv[i], "-json")) {
			as_json = true;
		} else if (argv[i][0] == '-') {
			unknown_option(c, argv[i]);
			return EXIT_USAGE;
		} else if (name) {
			usage_error(c->name, "doc takes one name at most");
			return EXIT_USAGE;
		} else {
			name = argv[i];
		}
	}
	int r = 0;
	if (as_json) {
		json_t *doc = stdlib_doc_json(name);
		if (doc) {
			json_object_set_new(doc, "kiln_version", json_string(KILN_VERSION));
			json_dumpf(doc, stdout, JSON_INDENT(2) | JSON_SORT_KEYS);
			fputc('\n', stdout);
			json_decref(doc);
		} else {
			r = -1;
		}
	} else if (!name) {
		stdlib_doc_list(stdout);
	} else {
		r = stdlib_doc_page(stdout, name);
	}
	if (r < 0) {
		fprintf(stderr, "kiln: no module, base, output, function or page '%s'\n", name);
		static const enum kiln_schema_kind kinds[] = {SCHEMA_MODULE, SCHEMA_BASE,
		                                              SCHEMA_OUTPUT, SCHEMA_FUNCTION};
		static const char *const pages[] = {"config", "notify", "facts",    "hosts",
		                                    "image",  "param",  "keywords", "types"};
		const char *names[256];
		size_t k = 0;
		for (size_t i = 0; i < 4; i++) {
			size_t n;
			const char *const *v = stdlib_names(kinds[i], &n);
			for (size_t j = 0; j < n && k < 256; j++)
				names[k++] = v[j];
		}
		for (size_t i = 0; i < sizeof(pages) / sizeof(*pages) && k < 256; i++)
			names[k++] = pages[i];
		const char *best = diag_closest(names, k, name);
		if (best)
			fprintf(stderr, "Did you mean '%s'?\n", best);
		else
			fprintf(stderr, "'kiln doc' lists them all.\n");
		return EXIT_ERRORS;
	}
	if (fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, "kiln: cannot write the output\n");
		return EXIT_ERRORS;
	}
	return EXIT_OK;
}

/* ---- options -------------------------------------------------------------- */

struct args {
	enum diag_format fmt;
	unsigned long max_errors;
	const char *color;
	struct compile_opts opts;
	const char *output;
	bool dump_ir;
	bool detailed_exitcode;
	bool no_refresh; /* plan -refresh=false: the hosts are not checked */
	/* apply */
	bool check, diff, events_json;
	bool accept_new_host_keys;
	bool no_cache, refresh_base;
	double lock_timeout;
	const char *progress, *work_dir, *cache_dir, *chdir;
	unsigned forks;       /* 0: the default */
	bool verbose;         /* -v */
	const char *log_file; /* --log-file */
	const char *limit;    /* --limit PATTERN */
	bool list_hosts;
	const char *cache_to, *cache_from;
	bool cache_insecure;
	const char **files;
	int nfiles;
	struct compile_var *vars;
	const char **only, **except;
	const char **inventories; /* -i FILE */
	const char *stdin_name;   /* lint --stdin-filename */
};

/*
 * Does arg name option `name` (written with one dash or two)? Returns 1 and
 * sets *ret_value when it does, -1 when its value is missing, 0 otherwise.
 */
static int option(const char *name, bool takes_value, int argc, char **argv, int *i,
                  const char **ret_value)
{
	const char *arg = argv[*i];
	if (arg[0] != '-')
		return 0;
	arg += arg[1] == '-' ? 2 : 1;
	size_t n = strlen(name);
	if (strncmp(arg, name, n))
		return 0;
	if (!takes_value)
		return arg[n] == '\0';
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

static bool want_color(const char *when, int fd)
{
	if (!strcmp(when, "always"))
		return true;
	if (!strcmp(when, "never"))
		return false;
	const char *nc = getenv("NO_COLOR");
	const char *term = getenv("TERM");
	return (!nc || !*nc) && isatty(fd) && !(term && !strcmp(term, "dumb"));
}

static void args_free(struct args *a)
{
	for (size_t i = 0; a->vars && i < a->opts.nvars; i++)
		free((char *)a->vars[i].name);
	free(a->files);
	free(a->vars);
	free(a->only);
	free(a->except);
	free(a->inventories);
}

/* Returns EXIT_OK, or EXIT_USAGE after printing why; -1 after printing help. */
static int parse_args(const struct command *c, int argc, char **argv, struct args *a)
{
	bool applying = c->run == cmd_apply || c->run == cmd_run;
	bool planning = !strcmp(c->name, "plan"); /* reads the cache as apply does */
	bool compiling = c->run == cmd_compile || applying;
	bool with_vars = compiling || c->run == cmd_lint; /* -var, -var-file */
	*a = (struct args){.fmt = DIAG_TEXT, .max_errors = 20, .color = "auto"};
	a->opts.dump_out = stdout;
	a->files = calloc((size_t)argc, sizeof(*a->files));
	a->vars = calloc((size_t)argc, sizeof(*a->vars));
	a->only = calloc((size_t)argc, sizeof(*a->only));
	a->except = calloc((size_t)argc, sizeof(*a->except));
	a->inventories = calloc((size_t)argc, sizeof(*a->inventories));
	if (!a->files || !a->vars || !a->only || !a->except || !a->inventories)
		abort();
	bool options_done = false;
	for (int i = 1; i < argc; i++) {
		const char *arg = argv[i], *v = NULL;
		int r;
		if (options_done || arg[0] != '-' || !strcmp(arg, "-")) {
			a->files[a->nfiles++] = argv[i];
			continue;
		}
#define VALUE_OR_FAIL(optname)                                                                     \
	if (r < 0 || !v) {                                                                         \
		usage_error(c->name, "option '%s' needs a value", optname);                        \
		return EXIT_USAGE;                                                                 \
	}
		if (!strcmp(arg, "--")) {
			options_done = true;
		} else if (!strcmp(arg, "-h") || !strcmp(arg, "--help")) {
			print_usage(c, stdout);
			return -1;
		} else if ((r = option("diagnostics", true, argc, argv, &i, &v))) {
			VALUE_OR_FAIL("--diagnostics");
			if (!strcmp(v, "text"))
				a->fmt = DIAG_TEXT;
			else if (!strcmp(v, "short"))
				a->fmt = DIAG_SHORT;
			else if (!strcmp(v, "json"))
				a->fmt = DIAG_JSON;
			else {
				usage_error(c->name,
				            "unknown diagnostics format '%s' (text, short, json)",
				            v);
				return EXIT_USAGE;
			}
		} else if ((r = option("max-errors", true, argc, argv, &i, &v))) {
			VALUE_OR_FAIL("--max-errors");
			char *end = NULL;
			a->max_errors = strtoul(v, &end, 10);
			if (!*v || *end || a->max_errors > 1000000 || v[0] == '-') {
				usage_error(c->name,
				            "option '--max-errors' needs a number, not '%s'", v);
				return EXIT_USAGE;
			}
		} else if ((r = option("color", true, argc, argv, &i, &v))) {
			VALUE_OR_FAIL("--color");
			if (strcmp(v, "auto") && strcmp(v, "always") && strcmp(v, "never")) {
				usage_error(
				    c->name,
				    "option '--color' takes auto, always or never, not '%s'", v);
				return EXIT_USAGE;
			}
			a->color = v;
		} else if ((r = option("dump", true, argc, argv, &i, &v))) {
			VALUE_OR_FAIL("--dump");
			if (!compiling && !strcmp(v, "tokens"))
				a->opts.dump = DUMP_TOKENS;
			else if (!compiling && !strcmp(v, "ast"))
				a->opts.dump = DUMP_AST;
			else if (compiling && !strcmp(v, "ir"))
				a->dump_ir = true;
			else {
				usage_error(c->name, "unknown dump '%s' (%s)", v,
				            compiling ? "ir" : "tokens, ast");
				return EXIT_USAGE;
			}
		} else if (!compiling && (r = option("stdin-filename", true, argc, argv, &i, &v))) {
			VALUE_OR_FAIL("--stdin-filename");
			a->stdin_name = v;
		} else if (!compiling && option("syntax-only", false, argc, argv, &i, &v)) {
			a->opts.syntax_only = true;
		} else if (with_vars && ((r = option("i", true, argc, argv, &i, &v)) ||
		                         (r = option("inventory", true, argc, argv, &i, &v)))) {
			VALUE_OR_FAIL("-i");
			a->inventories[a->opts.ninventories++] = v;
		} else if (with_vars && (r = option("var-file", true, argc, argv, &i, &v))) {
			VALUE_OR_FAIL("-var-file");
			a->vars[a->opts.nvars++] = (struct compile_var){.file = v};
		} else if (with_vars && (r = option("var", true, argc, argv, &i, &v))) {
			VALUE_OR_FAIL("-var");
			const char *eq = strchr(v, '=');
			if (!eq || eq == v) {
				usage_error(c->name, "-var takes NAME=VALUE, not '%s'", v);
				return EXIT_USAGE;
			}
			char *name = strndup(v, (size_t)(eq - v));
			if (!name)
				abort();
			a->vars[a->opts.nvars++] =
			    (struct compile_var){.name = name, .value = eq + 1};
		} else if (compiling && (r = option("only", true, argc, argv, &i, &v))) {
			VALUE_OR_FAIL("-only");
			a->only[a->opts.nonly++] = v;
		} else if (compiling && (r = option("except", true, argc, argv, &i, &v))) {
			VALUE_OR_FAIL("-except");
			a->except[a->opts.nexcept++] = v;
		} else if (c->run == cmd_compile && !strcmp(c->name, "compile") &&
		           !strcmp(arg, "-o")) {
			if (i + 1 >= argc) {
				usage_error(c->name, "option '-o' needs a file");
				return EXIT_USAGE;
			}
			a->output = argv[++i];
		} else if (!strcmp(c->name, "plan") &&
		           option("detailed-exitcode", false, argc, argv, &i, &v)) {
			a->detailed_exitcode = true;
		} else if (!strcmp(c->name, "plan") &&
		           (r = option("refresh", true, argc, argv, &i, &v))) {
			VALUE_OR_FAIL("-refresh");
			if (strcmp(v, "true") && strcmp(v, "false")) {
				usage_error(c->name,
				            "option '-refresh' takes true or false, not '%s'", v);
				return EXIT_USAGE;
			}
			a->no_refresh = !strcmp(v, "false");
		} else if (applying && option("check", false, argc, argv, &i, &v)) {
			a->check = true;
		} else if (applying && option("diff", false, argc, argv, &i, &v)) {
			a->diff = true;
		} else if ((applying || !strcmp(c->name, "plan")) &&
		           option("accept-new-host-keys", false, argc, argv, &i, &v)) {
			a->accept_new_host_keys = true;
		} else if (applying && (r = option("forks", true, argc, argv, &i, &v))) {
			VALUE_OR_FAIL("--forks");
			char *end;
			errno = 0;
			unsigned long n = strtoul(v, &end, 10);
			if (*v < '0' || *v > '9' || *end || errno || n < 1 || n > 1000) {
				usage_error(
				    c->name,
				    "option '--forks' takes a number from 1 to 1000, not '%s'", v);
				return EXIT_USAGE;
			}
			a->forks = (unsigned)n;
		} else if (applying && (option("v", false, argc, argv, &i, &v) ||
		                        option("verbose", false, argc, argv, &i, &v))) {
			a->verbose = true;
		} else if (applying && (r = option("log-file", true, argc, argv, &i, &v))) {
			VALUE_OR_FAIL("--log-file");
			a->log_file = v;
		} else if (applying && (r = option("limit", true, argc, argv, &i, &v))) {
			VALUE_OR_FAIL("--limit");
			a->limit = v;
		} else if (applying && option("list-hosts", false, argc, argv, &i, &v)) {
			a->list_hosts = true;
		} else if (applying && (r = option("progress", true, argc, argv, &i, &v))) {
			VALUE_OR_FAIL("--progress");
			if (strcmp(v, "auto") && strcmp(v, "tty") && strcmp(v, "plain")) {
				usage_error(
				    c->name,
				    "option '--progress' takes auto, tty or plain, not '%s'", v);
				return EXIT_USAGE;
			}
			a->progress = v;
		} else if (applying && (r = option("events", true, argc, argv, &i, &v))) {
			VALUE_OR_FAIL("--events");
			if (strcmp(v, "json")) {
				usage_error(c->name, "option '--events' takes json, not '%s'", v);
				return EXIT_USAGE;
			}
			a->events_json = true;
		} else if (applying && option("no-cache", false, argc, argv, &i, &v)) {
			a->no_cache = true;
		} else if (applying && option("refresh-base", false, argc, argv, &i, &v)) {
			a->refresh_base = true;
		} else if (applying && (r = option("lock-timeout", true, argc, argv, &i, &v))) {
			VALUE_OR_FAIL("--lock-timeout");
			char *end = NULL;
			a->lock_timeout = strtod(v, &end);
			if (!*v || *end || !(a->lock_timeout >= 0) || a->lock_timeout > 1e6) {
				usage_error(
				    c->name,
				    "option '--lock-timeout' takes seconds (e.g. 30), not '%s'", v);
				return EXIT_USAGE;
			}
		} else if ((applying || planning) &&
		           (r = option("work-dir", true, argc, argv, &i, &v))) {
			VALUE_OR_FAIL("--work-dir");
			a->work_dir = v;
		} else if ((applying || planning) &&
		           (r = option("cache-dir", true, argc, argv, &i, &v))) {
			VALUE_OR_FAIL("--cache-dir");
			a->cache_dir = v;
		} else if (applying && (r = option("cache-to", true, argc, argv, &i, &v))) {
			VALUE_OR_FAIL("--cache-to");
			a->cache_to = v;
		} else if (applying && (r = option("cache-from", true, argc, argv, &i, &v))) {
			VALUE_OR_FAIL("--cache-from");
			a->cache_from = v;
		} else if (applying && option("cache-insecure", false, argc, argv, &i, &v)) {
			a->cache_insecure = true;
		} else if ((applying || planning) && !strcmp(arg, "-C")) {
			if (i + 1 >= argc) {
				usage_error(c->name, "option '-C' needs a directory");
				return EXIT_USAGE;
			}
			a->chdir = argv[++i];
		} else {
			unknown_option(c, arg);
			return EXIT_USAGE;
		}
#undef VALUE_OR_FAIL
	}
	a->opts.vars = a->vars;
	a->opts.only = a->only;
	a->opts.except = a->except;
	a->opts.inventories = a->inventories;
	if (a->nfiles == 0 && c->run == cmd_run) {
		usage_error(c->name, "name one host pattern (all, a group, a host)");
		return EXIT_USAGE;
	} else if (a->nfiles == 0) {
		usage_error(c->name, "%s: no files given", c->name);
		return EXIT_USAGE;
	}
	return EXIT_OK;
}

static void print_diags(struct compile_ctx *cx, const struct args *a)
{
	if (a->fmt == DIAG_JSON)
		diag_print(&cx->diags, stdout, a->fmt, false);
	else
		diag_print(&cx->diags, stderr, a->fmt, want_color(a->color, STDERR_FILENO));
}

static int finish(struct compile_ctx *cx, struct args *a, int status)
{
	print_diags(cx, a);
	compile_ctx_release(cx);
	args_free(a);
	if (fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, "kiln: cannot write the output\n");
		return EXIT_ERRORS;
	}
	return status;
}

static int cmd_lint(const struct command *c, int argc, char **argv)
{
	struct args a;
	int r = parse_args(c, argc, argv, &a);
	if (r != EXIT_OK) {
		args_free(&a);
		return r < 0 ? EXIT_OK : r;
	}
	struct compile_ctx cx;
	compile_ctx_init(&cx, (unsigned)a.max_errors);
	int nstdin = 0;
	for (int i = 0; i < a.nfiles; i++)
		nstdin += !strcmp(a.files[i], "-");
	if (nstdin > 1 || (a.stdin_name && !nstdin)) {
		usage_error(c->name, nstdin > 1
		                         ? "'-' (standard input) may be given once"
		                         : "--stdin-filename names the text of '-': give '-'");
		compile_ctx_release(&cx);
		args_free(&a);
		return EXIT_USAGE;
	}
	if (nstdin) {
		const char *name = a.stdin_name ? a.stdin_name : "<stdin>";
		size_t len;
		char *text = cli_read_stdin(&len);
		if (!text) {
			fprintf(stderr, "kiln: cannot read standard input: %s\n", strerror(errno));
			compile_ctx_release(&cx);
			args_free(&a);
			return EXIT_ERRORS;
		}
		compile_set_stdin(&cx, name, text, len);
		free(text);
		for (int i = 0; i < a.nfiles; i++)
			if (!strcmp(a.files[i], "-"))
				a.files[i] = name;
	}
	kiln_lint(&cx, a.files, (size_t)a.nfiles, &a.opts);
	return finish(&cx, &a, diag_has_errors(&cx.diags) ? EXIT_ERRORS : EXIT_OK);
}

static bool is_plan_file(const char *path)
{
	size_t n = strlen(path);
	return n > 5 && !strcmp(path + n - 5, ".json");
}

/*
 * The plan: read from a plan.json named alone (when plan_file allows it), or
 * compiled from the files. NULL after an error (printed, or in cx's sink).
 * With ret_secrets (apply), also the secret params' values, from the
 * compiler's one reader: for a plan.json, by the plan's record of where each
 * comes from, with paths relative to root.
 */
static json_t *get_plan(struct compile_ctx *cx, struct args *a, bool plan_file, const char *root,
                        json_t **ret_secrets)
{
	json_t *plan = NULL;
	if (plan_file && a->nfiles == 1 && is_plan_file(a->files[0])) {
		char *err = NULL;
		plan = plan_read(a->files[0], &err);
		if (!plan) {
			fprintf(stderr, "kiln: %s\n", err);
			free(err);
		} else if (ret_secrets &&
		           kiln_plan_secrets(cx, plan, root, &a->opts, ret_secrets) < 0) {
			json_decref(plan);
			plan = NULL;
		}
	} else if (kiln_compile(cx, a->files, (size_t)a->nfiles, &a->opts, &plan, ret_secrets) <
	           0) {
		plan = NULL;
	}
	return plan;
}

/*
 * kiln plan of a build with apply blocks: their hosts' drift (drift.c), after the plan
 * itself. The secrets (a login or sudo password) are read as apply reads them.
 */
static enum drift_status plan_hosts(struct compile_ctx *cx, struct args *a, json_t *plan)
{
	char *root = a->nfiles == 1 && is_plan_file(a->files[0])
	                 ? xstrdup(a->chdir ? a->chdir : ".")
	                 : path_dirname(a->files[0]);
	json_t *secrets = NULL;
	enum drift_status d = DRIFT_ERROR;
	fflush(stdout);
	if (kiln_plan_secrets(cx, plan, root, &a->opts, &secrets) == 0) {
		struct drift_opts o = {
		    .root = root,
		    .secrets = secrets,
		    .accept_new_host_keys = a->accept_new_host_keys,
		    .color = want_color(a->color, STDOUT_FILENO),
		    .out = stdout,
		};
		d = drift_plan(plan, &o);
	}
	json_decref(secrets);
	free(root);
	return d;
}

struct compile_job {
	struct compile_ctx *cx;
	struct args *a;
};

static int compile_fill(struct plan_json *w, void *arg)
{
	struct compile_job *job = arg;
	return kiln_compile_write(job->cx, job->a->files, (size_t)job->a->nfiles, &job->a->opts, w);
}

/* Does the command line ask for plan's -detailed-exitcode (before any '--')? */
static bool wants_detailed_exitcode(int argc, char **argv)
{
	for (int i = 1; i < argc && strcmp(argv[i], "--"); i++)
		if (!strcmp(argv[i], "-detailed-exitcode") ||
		    !strcmp(argv[i], "--detailed-exitcode"))
			return true;
	return false;
}

/* kiln plan's report of the cache (plan_status.h) under what plan_print showed:
   whether apply has something to do, or -1 after an error (printed). */
static int plan_cache_status(struct args *a, json_t *plan, json_t *secrets)
{
	/* plan paths are relative to the root, as for apply */
	char *root = a->nfiles == 1 && is_plan_file(a->files[0])
	                 ? xstrdup(a->chdir ? a->chdir : ".")
	                 : path_dirname(a->files[0]);
	char *cache_dir = cache_dir_default(a->cache_dir);
	struct status_opts so = {.root = root, .cache_dir = cache_dir, .secrets = secrets};
	struct plan_status ps;
	struct rt_error err = {0};
	int r = plan_status_compute(plan, &so, &ps, &err);
	if (r < 0) {
		fprintf(stderr, "kiln: %s\n", err.msg);
	} else {
		/* the hosts are checked next: their drift says what apply blocks would do */
		if (!a->no_refresh)
			ps.apply_tasks = 0;
		if (json_array_size(plan_images(plan)) > 0 || ps.apply_tasks)
			plan_status_print(stdout, &ps, want_color(a->color, STDOUT_FILENO));
		r = plan_status_pending(&ps) ? 1 : 0;
	}
	plan_status_release(&ps);
	free(cache_dir);
	free(root);
	return r;
}

/* compile, plan and graph: a plan from .img files, or (plan, graph) read from plan.json */
static int cmd_compile(const struct command *c, int argc, char **argv)
{
	struct args a;
	int r = parse_args(c, argc, argv, &a);
	if (r != EXIT_OK) {
		args_free(&a);
		/* with -detailed-exitcode, 2 means "changes pending": a usage error is 1 */
		if (r == EXIT_USAGE && !strcmp(c->name, "plan") &&
		    wants_detailed_exitcode(argc, argv))
			return EXIT_ERRORS;
		return r < 0 ? EXIT_OK : r;
	}
	struct compile_ctx cx;
	compile_ctx_init(&cx, (unsigned)a.max_errors);
	if (!strcmp(c->name, "compile") && !a.dump_ir) {
		/* written as it is lowered: the plan is never whole in memory */
		struct compile_job job = {&cx, &a};
		char *err = NULL;
		int status = EXIT_OK;
		if (plan_write_with(a.output ? a.output : "plan.json", compile_fill, &job, &err) <
		    0) {
			if (err)
				fprintf(stderr, "kiln: %s\n", err);
			free(err);
			status = EXIT_ERRORS;
		}
		return finish(&cx, &a, status);
	}
	/* plan keys the stages that read secrets as apply does: with their values (read
	   by the compiler's one reader; not for a plan.json, whose secrets apply reads) */
	json_t *secrets = NULL;
	bool from_plan_file = a.nfiles == 1 && is_plan_file(a.files[0]);
	json_t *plan = get_plan(&cx, &a, strcmp(c->name, "compile") != 0, NULL,
	                        !strcmp(c->name, "plan") && !from_plan_file ? &secrets : NULL);
	if (!plan)
		return finish(&cx, &a, EXIT_ERRORS);
	struct rt_error verr = {0};
	if (a.nfiles == 1 && is_plan_file(a.files[0]) && plan_validate(plan, &verr) < 0) {
		/* a plan read back is shown only when it is one kiln compile could write */
		fprintf(stderr, "kiln: %s: %s (compile it again)\n", a.files[0], verr.msg);
		json_decref(plan);
		return finish(&cx, &a, EXIT_ERRORS);
	}
	int status = EXIT_OK;
	if (a.dump_ir) {
		plan_dump_ir(stdout, plan);
	} else if (!strcmp(c->name, "compile")) {
		char *err = NULL;
		if (plan_write(plan, a.output ? a.output : "plan.json", &err) < 0) {
			fprintf(stderr, "kiln: %s\n", err);
			free(err);
			status = EXIT_ERRORS;
		}
	} else if (!strcmp(c->name, "graph")) {
		plan_graph(stdout, plan);
	} else {
		plan_print(stdout, plan, want_color(a.color, STDOUT_FILENO));
		struct plan_counts n = plan_count(plan);
		int pending = plan_cache_status(&a, plan, secrets);
		if (pending < 0)
			status = EXIT_ERRORS;
		/* apply blocks count as work to do unless their hosts are checked */
		else if (a.detailed_exitcode && (pending || (a.no_refresh && n.apply_tasks > 0)))
			status = 2;
		if (n.applies && !a.no_refresh) {
			int d = plan_hosts(&cx, &a, plan);
			if (rt_interrupted)
				status = 128 + rt_interrupted;
			else if (d == DRIFT_ERROR)
				status = EXIT_ERRORS;
			else if (d == DRIFT_FOUND && a.detailed_exitcode && status == EXIT_OK)
				status = 2;
		}
	}
	json_decref(secrets);
	json_decref(plan);
	return finish(&cx, &a, status);
}

/* What of the plan needs root (baking images: namespaces, chroot, file owners;
   hosts in a root filesystem: chroot), or NULL: hosts over SSH do not. */
static const char *needs_root(json_t *plan)
{
	if (json_array_size(plan_images(plan)) > 0)
		return "baking images (namespaces, chroot, file owners)";
	if (json_array_size(plan_applies(plan)) == 0)
		return NULL;
	const char *name;
	json_t *g;
	json_object_foreach (plan_groups(plan), name, g) {
		struct plan_group gv = plan_group_view(plan_groups(plan), name);
		const char *k = json_string_value(json_object_get(gv.vars, PLAN_K_CONNECTION));
		const char *host;
		json_t *attrs;
		json_object_foreach (gv.hosts, host, attrs) {
			const char *hk =
			    json_string_value(json_object_get(attrs, PLAN_K_CONNECTION));
			if (hk ? !strcmp(hk, "rootfs") : k && !strcmp(k, "rootfs"))
				return "configuring hosts in a root filesystem (chroot)";
		}
	}
	return NULL;
}

/* --log-file: a new file, or one that replaces a regular file; written beside it and
   renamed into place at the end (base/atomic.h), never through a symlink, never over
   a device, FIFO, socket or directory. */
static FILE *open_log(struct atomic_file *af, const char *path)
{
	struct stat st;
	struct rt_error err = {0};
	if (lstat(path, &st) == 0 && !S_ISREG(st.st_mode)) {
		fprintf(stderr,
		        "kiln apply: error: --log-file %s: %s; the log is written to a regular "
		        "file or a new name only\n",
		        path,
		        S_ISLNK(st.st_mode)   ? "is a symlink"
		        : S_ISDIR(st.st_mode) ? "is a directory"
		                              : "is not a regular file");
		return NULL;
	}
	if (atomic_file_open(af, path, 0600, ATOMIC_NO_DIRECT, &err) < 0) {
		fprintf(stderr, "kiln apply: error: --log-file %s: %s\n", path, err.msg);
		return NULL;
	}
	int fd = dup(af->fd);
	FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
	if (!f) {
		fprintf(stderr, "kiln apply: error: --log-file %s: %s\n", path, strerror(errno));
		if (fd >= 0)
			close(fd);
		atomic_file_abort(af);
	}
	return f;
}

static int close_log(struct atomic_file *af, FILE *f, const char *path)
{
	struct rt_error err = {0};
	int r = fclose(f) == 0 ? 0 : -errno;
	/* the log of an interrupted apply is the one to read: keep it */
	sig_atomic_t sig = rt_interrupted;
	rt_interrupted = 0;
	if (r == 0)
		r = atomic_file_commit(af, &err);
	else
		rt_error_errno(&err, r, "cannot write");
	rt_interrupted = sig;
	atomic_file_abort(af);
	if (r < 0)
		fprintf(stderr, "kiln apply: error: --log-file %s: %s\n", path, err.msg);
	return r;
}

/*
 * Carry out a plan as kiln apply does (apply_plan), its events on stderr (--events=json:
 * stdout), with --forks, --limit, -v and --log-file. kiln run gives an observer that
 * prints its own report, and plain: where the plain events go instead of stderr (nowhere).
 */
static int run_apply(struct args *a, json_t *plan, const char *root, json_t *secrets,
                     const struct events_observer *obs, FILE *plain)
{
	enum events_mode mode = EVENTS_PLAIN;
	FILE *out = plain ? plain : stderr;
	if (a->events_json) {
		mode = EVENTS_JSON;
		out = stdout;
	} else if (plain) {
		mode = EVENTS_PLAIN;
	} else if (a->progress ? !strcmp(a->progress, "tty")
	                       : isatty(STDERR_FILENO) &&
	                             !(getenv("TERM") && !strcmp(getenv("TERM"), "dumb"))) {
		mode = EVENTS_TTY;
	}
	/* an image build mounts trees: in a mount namespace of kiln's own, entered before any
	   thread starts (the status thread), those mounts die with kiln however it dies */
	struct rt_error nerr = {0};
	if (json_array_size(plan_images(plan)) && geteuid() == 0 && ns_private_mounts(&nerr) < 0) {
		fprintf(stderr, "kiln apply: error: %s\n", nerr.msg);
		return 1;
	}
	struct atomic_file logf = {0};
	FILE *log = NULL;
	if (a->log_file && !(log = open_log(&logf, a->log_file)))
		return 1;
	struct events *ev = events_new(mode, out, want_color(a->color, fileno(out)));
	if (obs)
		events_observe(ev, obs);
	events_set_log(ev, log);
	events_set_verbose(ev, a->verbose);
	struct apply_opts ao = {
	    .check = a->check,
	    .diff = a->diff,
	    .root = root,
	    .work_dir = a->work_dir,
	    .cache_dir = a->cache_dir,
	    .secrets = secrets,
	    .events = ev,
	    .accept_new_host_keys = a->accept_new_host_keys,
	    .forks = a->forks,
	    .limit = a->limit,
	    .cache_to = a->cache_to,
	    .cache_from = a->cache_from,
	    .cache_insecure = a->cache_insecure,
	    .no_cache = a->no_cache,
	    .refresh_base = a->refresh_base,
	    .lock_timeout = a->lock_timeout,
	};
	int status = apply_plan(plan, &ao); /* stops at SIGINT/SIGTERM, cleaning up */
	events_free(ev);
	if (log && close_log(&logf, log, a->log_file) < 0 && status == 0)
		status = 1;
	return status;
}

static int cmd_apply(const struct command *c, int argc, char **argv)
{
	struct args a;
	int r = parse_args(c, argc, argv, &a);
	if (r != EXIT_OK) {
		args_free(&a);
		return r < 0 ? EXIT_OK : r;
	}
	struct compile_ctx cx;
	compile_ctx_init(&cx, (unsigned)a.max_errors);
	/* plan paths are relative to the root: the first file's directory, or for a
	   plan.json the directory given with -C (default: the current one) */
	char *root = a.nfiles == 1 && is_plan_file(a.files[0]) ? xstrdup(a.chdir ? a.chdir : ".")
	                                                       : path_dirname(a.files[0]);
	json_t *secrets = NULL;
	json_t *plan = get_plan(&cx, &a, true, root, &secrets);
	if (!plan) {
		free(root);
		return finish(&cx, &a, EXIT_ERRORS);
	}
	if (a.list_hosts) { /* connects to nothing, runs nothing */
		int lr = apply_list_hosts(plan, a.limit, stdout);
		json_decref(secrets);
		json_decref(plan);
		free(root);
		return finish(&cx, &a, lr ? EXIT_ERRORS : EXIT_OK);
	}
	const char *why = geteuid() != 0 ? needs_root(plan) : NULL;
	if (why) {
		fprintf(stderr, "kiln: apply needs root for %s: run it as root (e.g. with sudo)\n",
		        why);
		json_decref(secrets);
		json_decref(plan);
		free(root);
		return finish(&cx, &a, EXIT_ERRORS);
	}
	print_diags(&cx, &a); /* warnings, before the build's own output */
	diag_sink_release(&cx.diags);
	diag_sink_init(&cx.diags, &cx.sm, 0);

	int status = run_apply(&a, plan, root, secrets, NULL, NULL);
	json_decref(secrets);
	json_decref(plan);
	free(root);
	compile_ctx_release(&cx);
	args_free(&a);
	if (rt_interrupted)
		return 128 + rt_interrupted;
	return status == 0 ? EXIT_OK : EXIT_ERRORS;
}

/* ---- kiln run ------------------------------------------------------------------ */

/* Each host's result as Ansible's ad-hoc command prints it, one host at a time. */
struct run_report {
	pthread_mutex_t lock;
	bool color, diff;
};

static void print_block(FILE *out, const char *text)
{
	if (!text || !*text)
		return;
	fputs(text, out);
	if (text[strlen(text) - 1] != '\n')
		fputc('\n', out);
}

static void run_task_end(void *data, const struct task_event *te, const struct task_result *res)
{
	struct run_report *r = data;
	static const char *const names[] = {"SUCCESS", "CHANGED", "FAILED", "SKIPPED"};
	static const char *const colors[] = {"\033[32m", "\033[33m", "\033[1;31m", "\033[36m"};
	const char *c = r->color ? colors[res->status] : "", *reset = r->color ? "\033[0m" : "";
	const char *output = res->output;
	pthread_mutex_lock(&r->lock);
	if (output || (res->cmd && res->status == TASK_FAILED)) {
		/* a command: its status and what it printed, stdout then stderr */
		printf("%s%s | %s | rc=%d >>%s\n", c, te->image, names[res->status],
		       res->cmd || res->status != TASK_FAILED ? res->exit_status : -1, reset);
		print_block(stdout, output);
		if (res->status == TASK_FAILED) {
			print_block(stdout, res->stderr_tail);
			if (!res->stderr_tail || !*res->stderr_tail)
				print_block(stdout, res->msg);
		}
	} else {
		printf("%s%s | %s%s =>%s %s\n", c, te->image, names[res->status],
		       res->status == TASK_FAILED ? "!" : "", reset, res->msg ? res->msg : "");
	}
	if (r->diff && res->diff)
		print_block(stdout, res->diff);
	fflush(stdout);
	pthread_mutex_unlock(&r->lock);
}

static void run_error(void *data, const char *image, const char *msg)
{
	struct run_report *r = data;
	pthread_mutex_lock(&r->lock);
	if (!strcmp(image, "apply")) {
		fprintf(stderr, "kiln run: error: %s\n", msg);
	} else {
		bool unreachable = !strncmp(msg, "unreachable: ", 13);
		printf("%s%s | %s =>%s %s\n", r->color ? "\033[1;31m" : "", image,
		       unreachable ? "UNREACHABLE!" : "FAILED!", r->color ? "\033[0m" : "",
		       unreachable ? msg + 13 : msg);
		fflush(stdout);
	}
	pthread_mutex_unlock(&r->lock);
}

/* Writes to nowhere: the plain events of a run whose report the observer prints. */
static ssize_t discard(void *cookie, const char *buf, size_t len)
{
	(void)cookie, (void)buf;
	return (ssize_t)len;
}

/* Option -X or --long (or -long) with its value (--long=VALUE, or the next argument):
   1 and *ret, -1 when the value is missing, 0 when argv[*i] is another. */
static int run_option(const char *shrt, const char *lng, int argc, char **argv, int *i,
                      const char **ret)
{
	const char *a = argv[*i];
	size_t nl = strlen(lng);
	if (!strcmp(a, shrt) || !strcmp(a, lng) || !strcmp(a, lng + 1)) {
		if (*i + 1 >= argc)
			return -1;
		*ret = argv[++*i];
		return 1;
	}
	if (!strncmp(a, lng, nl) && a[nl] == '=') {
		*ret = a + nl + 1;
		return 1;
	}
	return 0;
}

static int cmd_run(const struct command *c, int argc, char **argv)
{
	/* kiln run's own options; the others are apply's */
	struct adhoc_opts ho = {.module = NULL};
	bool list_only = false; /* --list-hosts */
	char **rest = xcalloc((size_t)argc + 1, sizeof(*rest));
	int nrest = 0;
	rest[nrest++] = argv[0];
	for (int i = 1; i < argc; i++) {
		const char *v = NULL;
		int r = 0;
		if (!strcmp(argv[i], "--")) {
			while (i < argc)
				rest[nrest++] = argv[i++];
			break;
		}
		if ((r = run_option("-m", "--module-name", argc, argv, &i, &v)))
			ho.module = v;
		else if ((r = run_option("-a", "--args", argc, argv, &i, &v)))
			ho.args = v;
		else if ((r = run_option("-u", "--user", argc, argv, &i, &v)))
			ho.user = v;
		else if ((r = run_option("--known-hosts", "--known-hosts", argc, argv, &i, &v)))
			ho.known_hosts = v;
		else if (!strcmp(argv[i], "-b") || !strcmp(argv[i], "--become"))
			ho.become = true;
		else if (!strcmp(argv[i], "--list-hosts") || !strcmp(argv[i], "-list-hosts"))
			list_only = true;
		else
			rest[nrest++] = argv[i];
		if (r < 0) {
			usage_error(c->name, "option '%s' needs a value", argv[i]);
			free(rest);
			return EXIT_USAGE;
		}
	}
	struct args a;
	int r = parse_args(c, nrest, rest, &a);
	free(rest);
	if (r != EXIT_OK) {
		args_free(&a);
		return r < 0 ? EXIT_OK : r;
	}
	const char *why = a.nfiles != 1          ? "name one host pattern (all, a group, a host)"
	                  : !a.opts.ninventories ? "name the inventory: -i FILE"
	                  : !ho.args && (!ho.module || !strcmp(ho.module, "command"))
	                      ? "give the command with -a"
	                      : NULL;
	if (why) {
		usage_error(c->name, "%s", why);
		args_free(&a);
		return EXIT_USAGE;
	}
	if (!ho.module)
		ho.module = "command"; /* as Ansible's default */
	const char *pattern = a.files[0];
	char *err = NULL;
	char *text = adhoc_source(&ho, &err);
	struct compile_ctx cx;
	compile_ctx_init(&cx, (unsigned)a.max_errors);
	if (!text) {
		fprintf(stderr, "kiln run: error: %s\n", err);
		free(err);
		return finish(&cx, &a, EXIT_ERRORS);
	}
	source_add(&cx.sm, ADHOC_SOURCE_NAME, text, strlen(text));
	free(text);
	a.files[0] = ADHOC_SOURCE_NAME;
	json_t *plan = NULL, *secrets = NULL;
	if (kiln_compile(&cx, a.files, 1, &a.opts, &plan, &secrets) < 0)
		return finish(&cx, &a, EXIT_ERRORS);
	if (adhoc_limit(plan, pattern, &err) < 0) {
		fprintf(stderr, "kiln run: error: %s\n", err);
		free(err);
		json_decref(plan);
		json_decref(secrets);
		return finish(&cx, &a, EXIT_ERRORS);
	}
	print_diags(&cx, &a);
	diag_sink_release(&cx.diags);
	diag_sink_init(&cx.diags, &cx.sm, 0);
	if (list_only) {
		/* as ansible --list-hosts prints them; nothing is reached */
		json_t *hosts = adhoc_hosts(plan, "all");
		size_t i;
		json_t *h;
		printf("  hosts (%zu):\n", json_array_size(hosts));
		json_array_foreach (hosts, i, h) {
			printf("    %s\n", json_string_value(h));
		}
		json_decref(hosts);
		json_decref(secrets);
		json_decref(plan);
		return finish(&cx, &a, EXIT_OK);
	}

	struct run_report rep = {.color = want_color(a.color, STDOUT_FILENO), .diff = a.diff};
	pthread_mutex_init(&rep.lock, NULL);
	struct events_observer obs = {.task_end = run_task_end, .error = run_error, .data = &rep};
	FILE *sink = a.events_json
	                 ? NULL
	                 : fopencookie(NULL, "w", (cookie_io_functions_t){.write = discard});
	int status;
	if (a.events_json) {
		status = run_apply(&a, plan, ".", secrets, NULL, NULL);
	} else if (!sink) {
		fprintf(stderr, "kiln run: error: cannot open an output stream\n");
		status = 1;
	} else {
		status = run_apply(&a, plan, ".", secrets, &obs, sink);
		fclose(sink);
	}
	pthread_mutex_destroy(&rep.lock);
	json_decref(secrets);
	json_decref(plan);
	compile_ctx_release(&cx);
	args_free(&a);
	if (rt_interrupted)
		return 128 + rt_interrupted;
	return status == 0 ? EXIT_OK : EXIT_ERRORS;
}

/* Outside an apply (which handles them itself): remove what is half-written, and end
   with the status a shell gives a command the signal ended. */
static void on_signal(int sig)
{
	atomic_unlink_pending();
	_exit(128 + sig);
}

/* ---- kiln inventory ------------------------------------------------------------ */

static int inventory_read_file(struct inventory *inv, const char *path)
{
	FILE *f = fopen(path, "rb");
	if (!f) {
		fprintf(stderr, "%s: error: cannot read: %s\n", path, strerror(errno));
		return -1;
	}
	char *text = NULL;
	size_t len = 0, cap = 0, n;
	do {
		if (len + 4096 > cap)
			text = xrealloc(text, cap = (cap ? 2 * cap : 8192));
		n = fread(text + len, 1, cap - len, f);
		len += n;
	} while (n > 0 && len < UINT32_MAX / 2);
	bool bad = ferror(f);
	fclose(f);
	if (bad) {
		fprintf(stderr, "%s: error: cannot read: %s\n", path, strerror(errno));
		free(text);
		return -1;
	}
	uint32_t line = 0, col = 0;
	char *msg = NULL;
	int r = inventory_read_ini(inv, text ? text : "", (uint32_t)len, &line, &col, &msg);
	if (r < 0) {
		fprintf(stderr, "%s:%u:%u: error: not an Ansible INI inventory: %s\n", path, line,
		        col, msg);
		free(msg);
	}
	free(text);
	return r;
}

static int cmd_inventory(const struct command *c, int argc, char **argv)
{
	const char **files = xmalloc((size_t)argc * sizeof(*files));
	size_t nfiles = 0;
	const char *mode = NULL, *arg = NULL;
	bool show_vars = false; /* --graph --vars */
	int status = EXIT_OK;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = NULL;
		if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
			fputs(inventory_usage, stdout);
			free(files);
			return EXIT_OK;
		} else if (!strcmp(a, "-i") || !strcmp(a, "--inventory") ||
		           !strcmp(a, "-inventory")) {
			if (i + 1 >= argc) {
				usage_error(c->name, "option '%s' needs a file", a);
				free(files);
				return EXIT_USAGE;
			}
			files[nfiles++] = argv[++i];
		} else if (!strncmp(a, "--inventory=", 12) || !strncmp(a, "-i=", 3)) {
			files[nfiles++] = strchr(a, '=') + 1;
		} else if (!strncmp(a, "-i", 2) && a[2]) {
			files[nfiles++] = a + 2;
		} else if (!strcmp(a, "--vars")) {
			show_vars = true;
		} else if (!strcmp(a, "--list") || !strcmp(a, "--graph") || !strcmp(a, "--host")) {
			if (mode) {
				usage_error(c->name, "give one of --list, --graph and --host");
				free(files);
				return EXIT_USAGE;
			}
			mode = a + 2;
			if (!strcmp(mode, "host") && i + 1 >= argc) {
				usage_error(c->name, "option '--host' needs a host name");
				free(files);
				return EXIT_USAGE;
			}
			if (!strcmp(mode, "host") ||
			    (!strcmp(mode, "graph") && i + 1 < argc && argv[i + 1][0] != '-'))
				v = argv[++i];
			arg = v;
		} else {
			unknown_option(c, a);
			free(files);
			return EXIT_USAGE;
		}
	}
	if (!mode || !nfiles) {
		usage_error(c->name, !nfiles ? "name an inventory with -i FILE"
		                             : "give one of --list, --graph and --host");
		free(files);
		return EXIT_USAGE;
	}
	struct inventory *inv = inventory_new();
	for (size_t i = 0; i < nfiles && status == EXIT_OK; i++)
		if (inventory_read_file(inv, files[i]) < 0)
			status = EXIT_ERRORS;
	if (status == EXIT_OK && !strcmp(mode, "graph")) {
		char *g = inventory_graph(inv, arg ? arg : "all", show_vars);
		if (g) {
			fputs(g, stdout);
			free(g);
		} else {
			fprintf(stderr, "kiln: no group '%s' in the inventory\n", arg);
			status = EXIT_ERRORS;
		}
	} else if (status == EXIT_OK && !strcmp(mode, "host") && !inventory_has_host(inv, arg)) {
		fprintf(stderr, "kiln: no host '%s' in the inventory\n", arg);
		status = EXIT_ERRORS;
	} else if (status == EXIT_OK) {
		json_t *out =
		    !strcmp(mode, "list") ? inventory_list(inv) : inventory_hostvars(inv, arg);
		char *text = inventory_json_text(out);
		fputs(text, stdout);
		free(text);
		json_decref(out);
	}
	inventory_free(inv);
	free(files);
	return status;
}

/* ---- kiln cache ---------------------------------------------------------------- */

/* "36h" -> seconds; < 0 when malformed. */
static double parse_duration(const char *v)
{
	char *end = NULL;
	double n = strtod(v, &end);
	if (end == v || !(n >= 0) || v[0] == '-')
		return -1;
	double unit = 1;
	if (!strcmp(end, "") || !strcmp(end, "s"))
		unit = 1;
	else if (!strcmp(end, "m"))
		unit = 60;
	else if (!strcmp(end, "h"))
		unit = 3600;
	else if (!strcmp(end, "d"))
		unit = 86400;
	else if (!strcmp(end, "w"))
		unit = 7 * 86400;
	else
		return -1;
	return n * unit;
}

/* "10G" -> bytes; false when malformed. */
static bool parse_size(const char *v, uint64_t *ret)
{
	char *end = NULL;
	double n = strtod(v, &end);
	if (end == v || !(n >= 0) || v[0] == '-')
		return false;
	static const char units[] = "BKMGT";
	double mult = 1;
	if (*end) {
		const char *u = strchr(units, end[0] == 'k' ? 'K' : end[0]);
		if (!u || !*u)
			return false;
		for (const char *p = units; p < u; p++)
			mult *= 1024;
		const char *rest = end + 1;
		if (*u != 'B' && (!strcmp(rest, "iB") || !strcmp(rest, "B")))
			rest = "";
		if (*rest)
			return false;
	}
	double b = n * mult;
	if (b > 1.8e19)
		return false;
	*ret = (uint64_t)b;
	return true;
}

static void human_size(uint64_t n, char *buf, size_t cap)
{
	const char *u[] = {"B", "KiB", "MiB", "GiB", "TiB"};
	double v = (double)n;
	int i = 0;
	while (v >= 1024 && i < 4) {
		v /= 1024;
		i++;
	}
	snprintf(buf, cap, i ? "%.1f %s" : "%.0f %s", v, u[i]);
}

static void human_age(double seconds, char *buf, size_t cap)
{
	if (seconds < 120)
		snprintf(buf, cap, "%.0fs ago", seconds < 0 ? 0 : seconds);
	else if (seconds < 7200)
		snprintf(buf, cap, "%.0fm ago", seconds / 60);
	else if (seconds < 2 * 86400)
		snprintf(buf, cap, "%.0fh ago", seconds / 3600);
	else
		snprintf(buf, cap, "%.0fd ago", seconds / 86400);
}

static int cmd_cache(const struct command *c, int argc, char **argv)
{
	if (argc < 2 || (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
		if (argc < 2) {
			usage_error(c->name, "give ls or prune");
			return EXIT_USAGE;
		}
		print_usage(c, stdout);
		return EXIT_OK;
	}
	const char *sub = argv[1];
	bool ls = !strcmp(sub, "ls"), prune = !strcmp(sub, "prune");
	if (!ls && !prune) {
		usage_error(c->name, "no such cache command '%s' (ls, prune)", sub);
		return EXIT_USAGE;
	}
	const char *cache_arg = NULL;
	bool json = false, all = false;
	double older = -1, timeout = 0;
	uint64_t max_size = UINT64_MAX;
	for (int i = 2; i < argc; i++) {
		const char *v = NULL;
		int r;
		if ((r = option("cache-dir", true, argc, argv, &i, &v))) {
			if (r < 0 || !v) {
				usage_error(c->name, "option '--cache-dir' needs a directory");
				return EXIT_USAGE;
			}
			cache_arg = v;
		} else if (ls && option("json", false, argc, argv, &i, &v)) {
			json = true;
		} else if (prune && option("all", false, argc, argv, &i, &v)) {
			all = true;
		} else if (prune && (r = option("older-than", true, argc, argv, &i, &v))) {
			if (r < 0 || !v || (older = parse_duration(v)) < 0) {
				usage_error(
				    c->name,
				    "option '--older-than' takes a duration such as 36h or 7d, "
				    "not '%s'",
				    v ? v : "");
				return EXIT_USAGE;
			}
		} else if (prune && (r = option("max-size", true, argc, argv, &i, &v))) {
			if (r < 0 || !v || !parse_size(v, &max_size)) {
				usage_error(
				    c->name,
				    "option '--max-size' takes a size such as 500M or 10G, not "
				    "'%s'",
				    v ? v : "");
				return EXIT_USAGE;
			}
		} else if (prune && (r = option("lock-timeout", true, argc, argv, &i, &v))) {
			char *end = NULL;
			timeout = v ? strtod(v, &end) : -1;
			if (r < 0 || !v || !*v || *end || !(timeout >= 0)) {
				usage_error(c->name,
				            "option '--lock-timeout' takes seconds, not '%s'",
				            v ? v : "");
				return EXIT_USAGE;
			}
		} else {
			usage_error(c->name, "unknown option '%s'", argv[i]);
			return EXIT_USAGE;
		}
	}
	if (prune && !all && older < 0 && max_size == UINT64_MAX) {
		usage_error(c->name, "prune: give --older-than, --max-size or --all");
		return EXIT_USAGE;
	}
	char *dir = cache_dir_default(cache_arg);
	int status = EXIT_OK;
	if (ls) {
		json_t *list = cache_list(dir);
		double now = (double)time(NULL);
		uint64_t total = 0;
		size_t i;
		json_t *e;
		if (!json)
			printf("%-6s %-12s %10s  %-9s %s\n", "KIND", "KEY", "SIZE", "USED", "WHAT");
		json_array_foreach (list, i, e) {
			uint64_t size = (uint64_t)json_integer_value(json_object_get(e, "size"));
			total += size;
			if (json) {
				json_object_del(e, "files");
				char *t = json_dumps(e, JSON_COMPACT | JSON_SORT_KEYS);
				puts(t);
				free(t);
				continue;
			}
			char sz[32], age[32];
			human_size(size, sz, sizeof(sz));
			human_age(now - json_real_value(json_object_get(e, "used")), age,
			          sizeof(age));
			printf("%-6s %-12.12s %10s  %-9s %s\n",
			       json_string_value(json_object_get(e, "kind")),
			       json_string_value(json_object_get(e, "key")), sz, age,
			       json_string_value(json_object_get(e, "what")));
		}
		if (!json) {
			char sz[32];
			human_size(total, sz, sizeof(sz));
			printf("%zu entr%s, %s in %s\n", json_array_size(list),
			       json_array_size(list) == 1 ? "y" : "ies", sz, dir);
		}
		json_decref(list);
	} else {
		struct rt_error err = {0};
		int fd = -1;
		struct stat sb;
		if (stat(dir, &sb) < 0) {
			printf("nothing to prune: %s does not exist\n", dir);
		} else if (cache_lock(dir, "cache directory", true, timeout, &fd, &err) < 0) {
			fprintf(stderr, "kiln: %s\n", err.msg);
			status = EXIT_ERRORS;
		} else {
			unsigned removed = 0;
			uint64_t freed = 0;
			cache_prune(dir, older, max_size, all, &removed, &freed);
			char sz[32];
			human_size(freed, sz, sizeof(sz));
			printf("removed %u entr%s, %s freed\n", removed, removed == 1 ? "y" : "ies",
			       sz);
			close(fd);
		}
	}
	free(dir);
	if (fflush(stdout) != 0 || ferror(stdout)) {
		fprintf(stderr, "kiln: cannot write the output\n");
		return EXIT_ERRORS;
	}
	return status;
}

int main(int argc, char **argv)
{
	struct sigaction sa = {.sa_handler = on_signal};
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	if (argc < 2) {
		print_overview(stderr);
		return EXIT_USAGE;
	}
	if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "-V"))
		return cmd_version(NULL, argc - 1, argv + 1);
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))
		return cmd_help(NULL, 1, argv + 1);
	const struct command *c = find_command(argv[1]);
	if (!c) {
		if (argv[1][0] == '-')
			usage_error(NULL, "unknown option '%s'", argv[1]);
		else
			unknown_command(argv[1]);
		return EXIT_USAGE;
	}
	return c->run(c, argc - 1, argv + 1);
}
