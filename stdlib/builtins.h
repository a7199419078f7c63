/*
 * builtins: the stdlib's public header. kiln's built-in modules, bases
 * (builders), outputs and functions. Each declares its arguments once, in
 * a struct kiln_schema; the compiler checks every task, base call, output
 * block and function call against it, and `kiln doc` prints it. One file
 * per entry: mod_NAME.c, base_NAME.c, out_NAME.c, fn_NAME.c (or
 * fn_strings.c for a family of small functions). The runtime adds each
 * module's behaviour to its mod_NAME.c later.
 *
 * Types are written as in the language: bool, int, string, secret, path,
 * mode (a file mode: 0644, "0644" or an absolute symbolic "u=rw,go=r"; the
 * plan holds it as an int), any, list<T>, map<T>, object(name: T, ...),
 * enum(a, b, c), and A|B for "either".
 *
 * The schema is the one place that says what an entry is: code elsewhere
 * asks it (whether a module runs on the build machine, which arguments are
 * files read there, whether an output needs the image's layers) and never
 * compares an entry's name.
 */
#ifndef KILN_BUILTINS_H
#define KILN_BUILTINS_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

struct kiln_arg {
	const char *name;
	const char *type;
	bool required;
	/* default as JSON text ("true", "\"present\""; 0644 is not JSON: 420), or NULL */
	const char *def;
	const char *doc; /* one line */
};

/* A check of each string an argument holds, run by lint and compile: NULL when the string
   is good, else why not (e.g. stdlib_reference_check). */
struct kiln_arg_check {
	const char *arg;
	const char *(*check)(const char *s);
};

enum kiln_schema_kind { SCHEMA_MODULE, SCHEMA_BASE, SCHEMA_OUTPUT, SCHEMA_FUNCTION };

/*
 * A function's implementation: pure, deterministic except env() and file().
 * Arguments are already checked against the schema's types. Returns a new
 * reference, or NULL with *reterr set to a malloc'd message (e.g. "file
 * 'x' not found").
 */
typedef json_t *(*kiln_fn)(json_t *const *args, size_t nargs, char **reterr);

/* A module's behaviour (runtime/task.h); NULL for bases, outputs and functions. */
struct task_ctx;
struct task_result;
typedef int (*kiln_mod_run_fn)(struct task_ctx *ctx, struct task_result *res);

struct kiln_schema {
	enum kiln_schema_kind kind;
	const char *name;
	const char *doc; /* one line: what it does */
	/*
	 * module: the argument a task's label fills, unless the task's body sets
	 * that argument itself; then the label only describes the task. NULL: the
	 * label always describes the task. output: the argument the label sets.
	 */
	const char *label;
	const struct kiln_arg *args; /* terminated by an entry with name == NULL */
	/*
	 * groups of arguments of which exactly one must be given, e.g.
	 * "src|content" (a label that fills one counts); only where giving none
	 * is no valid use
	 */
	const char *const *one_of; /* NULL-terminated, or NULL */
	/* functions */
	const char *returns; /* return type */
	bool variadic;       /* the last argument may repeat (format) */
	kiln_fn fn;
	const char *example; /* one line of kiln showing a use */
	kiln_mod_run_fn run; /* modules: what the task does (in stdlib/mod_NAME.c) */
	/*
	 * the arguments (type path) that name a file or directory the call reads
	 * on the build machine (copy's src, tarball's path): its bytes, a
	 * directory's whole tree, enter the key of the stage that reads it (a
	 * base's: the image's first stage), so a change to them rebuilds from
	 * there. A function's (a string: file's path) is relative to the file
	 * that calls it; what it reads is in the plan. NULL-terminated, or NULL.
	 */
	const char *const *inputs;
	/*
	 * modules: the argument (type path) naming a template the compiler
	 * renders with the task's values; the plan holds the text as "content"
	 * beside it, so the text is part of the stage's key. Or NULL.
	 */
	const char *template_arg;
	/*
	 * modules: runs on the build machine, not on the target (local): its
	 * effects are outside the image, so a stage with it is never replayed
	 * from the cache, and later tasks may read files it makes
	 */
	bool on_build_machine;
	/* outputs: writes the image's layers (one per stage), which the build then keeps */
	bool needs_layers;
	/* outputs: a record of the image's other outputs, written after them: 1 covers every
	   output but records (checksum), 2 covers those too (manifest); 0: an artifact */
	int records;
	/* checks of arguments' strings, ending with {0}; may be NULL */
	const struct kiln_arg_check *checks;
	/* functions: advice shown with a failure of the call (e.g. how to set a variable) */
	const char *fail_help;
	/* bases: the tree holds no kernel (/boot/vmlinuz-*): an image on it has one only when
	   a task of its stages puts it there */
	bool no_kernel;
	/*
	 * modules: what a task may write in the tree: the argument (type path) naming the one
	 * path it writes (file's "path"), "-" for the system's own records only (accounts,
	 * apt sources, services), NULL for anything (a package, a command, a copied tree)
	 */
	const char *writes;
	/*
	 * outputs: a check of the arguments together, run by lint and compile on the values
	 * known then (others are left out of args): NULL when apply would take them, else
	 * why not (malloc'd) and *ret_arg the argument to show it at
	 */
	char *(*check_args)(const json_t *args, const char **ret_arg);
	/* outputs: a machine that starts from the image's kernel (a Vagrant box): of an image
	   without one it cannot boot */
	bool machine;
	/* outputs: the path is a directory that several outputs of this kind may write
	   together, each adding its tags (an OCI layout); else a path is one output's alone */
	bool merges;
};

/* The argument of s named name, or NULL. */
const struct kiln_arg *stdlib_arg(const struct kiln_schema *s, const char *name);
/* Whether argument name of s is one of its inputs (see kiln_schema.inputs). */
bool stdlib_is_input(const struct kiln_schema *s, const char *name);
/*
 * A mode as the plan holds it: an int, 0 to 07777. s is octal digits
 * ("0644", "755") or an absolute symbolic mode: comma-separated clauses
 * WHO=PERMS, WHO of u, g, o, a, PERMS of r, w, x, s, t (may be empty), that
 * together set each of u, g and o ("u=rw,go=r", "a=rx,u=rwx").
 * Relative forms (+, -, X) depend on the file's current mode and are
 * refused: the mode is known before the build. Returns 0 and *ret, or -1
 * and *why (a static message saying what to write instead).
 */
int stdlib_mode_parse(const char *s, unsigned *ret, const char **why);
/*
 * An image reference ("dcsg/pixels-app:0.1", "reg.example:5000/app@sha256:...") as the
 * distribution project's grammar has it (docker, podman, skopeo, buildah): NULL when
 * valid, else a static sentence saying what is wrong ("a repository name must be
 * lowercase"). stdlib/reference.c.
 */
const char *stdlib_reference_check(const char *ref);
/*
 * A size as output disk takes it: bytes, or a number with K, M, G or T (powers of 1024,
 * optionally followed by "B" or "iB": "4G", "512MiB"). 0 and *ret, or -1. stdlib/out_disk.c.
 */
int stdlib_size_parse(const char *s, unsigned long long *ret);
/* output disk's and vagrant's check_args: size, esp_size and their sum, as apply checks them */
char *stdlib_disk_check(const json_t *args, const char **ret_arg);

/* The entry of that kind and name, or NULL. */
const struct kiln_schema *stdlib_lookup(enum kiln_schema_kind kind, const char *name);
/* All entries of a kind, sorted by name; returns the count. */
size_t stdlib_all(enum kiln_schema_kind kind, const struct kiln_schema *const **ret_list);
/*
 * Whether the n implementations named (a base's or an output's, which live in the
 * runtime) match the schemas of kind one to one: every schema exactly one, every name a
 * schema. Returns the first mismatch as a message (malloc'd), or NULL.
 */
char *stdlib_check_impls(enum kiln_schema_kind kind, const char *const *impl_names, size_t n);
/* All names of a kind (for "did you mean"); *ret_n set. Static storage. */
const char *const *stdlib_names(enum kiln_schema_kind kind, size_t *ret_n);
const char *stdlib_kind_name(enum kiln_schema_kind kind);

/*
 * Call function `fn` on values, filling in what the call leaves out:
 * args[i] is the value of the schema's i-th argument (positional and named
 * arguments already put in their places), or NULL where the call gives
 * none; a variadic function's extra values follow its last argument.
 * Too many arguments or a missing required one is an error; a missing
 * argument with a default gets it; one without stays NULL, and fn->fn sees
 * that NULL (or a shorter nargs). Types are not checked here: the compiler
 * has checked them. Returns a new reference, or NULL with *reterr set to a
 * malloc'd message.
 */
json_t *stdlib_call(const struct kiln_schema *fn, json_t *const *args, size_t nargs, char **reterr);

/* kiln doc: the list of everything, or one entry's page (also the language's own:
   config, notify, facts, hosts, image, param, keywords). Returns 0, or -1 if no such entry. */
void stdlib_doc_list(FILE *out);
int stdlib_doc_page(FILE *out, const char *name);
/* The shape of kiln doc --json (docs/doc-json.md); raised when a key changes meaning
   or goes away, not when one is added. */
#define STDLIB_DOC_JSON_VERSION 1
/* kiln doc --json: everything (name NULL), or the sections holding name (as for
   stdlib_doc_page). A new reference, or NULL if nothing is called name. */
json_t *stdlib_doc_json(const char *name);

#endif
