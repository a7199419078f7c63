/*
 * Unit tests of the registry and of every schema in it: the invariants the
 * compiler and `kiln doc` rely on. A new entry that breaks one fails here,
 * with the entry's name.
 */
#include "check.h"
#include "builtins.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#define N_KINDS (SCHEMA_FUNCTION + 1)

/* ---- types: parsing the type syntax of stdlib.h, and checking a value against a type ---- */

/*
 * type  := one ('|' one)*
 * one   := bool | int | string | secret | path | mode | any
 *        | list<type> | map<type> | object(NAME: type, ...) | enum(NAME, ...)
 * Written canonically: ", " between items, ": " after a field name, no other spaces.
 * Returns the end of the type, or NULL when it is malformed. With v, *ok is set to
 * whether v is a value of the type (JSON: mode is an int or a string of octal digits).
 */
static const char *parse_type(const char *p, const json_t *v, bool *ok);

static size_t ident_len(const char *p)
{
	size_t n = 0;

	if (!(isalpha((unsigned char)p[0]) || p[0] == '_'))
		return 0;
	while (isalnum((unsigned char)p[n]) || p[n] == '_')
		n++;
	return n;
}

static bool is_mode(const json_t *v)
{
	if (json_is_integer(v))
		return json_integer_value(v) >= 0 && json_integer_value(v) <= 07777;
	unsigned m;
	const char *why;
	return json_is_string(v) && stdlib_mode_parse(json_string_value(v), &m, &why) == 0;
}

static const char *parse_one(const char *p, const json_t *v, bool *ok)
{
	static const char *const scalars[] = {"bool", "int",  "string", "secret",
	                                      "path", "mode", "any"};
	size_t n = ident_len(p);

	*ok = false;
	for (size_t i = 0; i < sizeof(scalars) / sizeof(scalars[0]); i++) {
		if (n != strlen(scalars[i]) || strncmp(p, scalars[i], n))
			continue;
		switch (i) {
		case 0:
			*ok = json_is_boolean(v);
			break;
		case 1:
			*ok = json_is_integer(v);
			break;
		case 2:
		case 3:
		case 4:
			*ok = json_is_string(v);
			break;
		case 5:
			*ok = is_mode(v);
			break;
		case 6:
			*ok = v != NULL;
			break;
		}
		return p + n;
	}
	if ((n == 4 && !strncmp(p, "list", 4)) || (n == 3 && !strncmp(p, "map", 3))) {
		bool list = n == 4, all = true, item = false;
		const char *end = NULL;

		if (p[n] != '<')
			return NULL;
		if (list && json_is_array(v)) {
			size_t i;
			json_t *e;
			json_array_foreach (v, i, e) {
				end = parse_type(p + n + 1, e, &item);
				all = all && item;
			}
		} else if (!list && json_is_object(v)) {
			const char *k;
			json_t *e;
			json_object_foreach ((json_t *)v, k, e) {
				end = parse_type(p + n + 1, e, &item);
				all = all && item;
			}
		} else {
			all = false;
		}
		if (!end) /* no elements: parse the element type for its syntax */
			end = parse_type(p + n + 1, NULL, &item);
		if (!end || *end != '>')
			return NULL;
		*ok = all;
		return end + 1;
	}
	if ((n == 4 && !strncmp(p, "enum", 4)) || (n == 6 && !strncmp(p, "object", 6))) {
		bool is_enum = n == 4, all = json_is_object(v);
		size_t fields = 0;

		if (p[n] != '(')
			return NULL;
		p += n + 1;
		*ok = false;
		for (;;) {
			size_t m = ident_len(p);

			if (m == 0)
				return NULL;
			if (is_enum) {
				if (json_is_string(v) && json_string_length(v) == m &&
				    !strncmp(json_string_value(v), p, m))
					*ok = true;
				p += m;
			} else {
				char name[64];
				bool field_ok = false;

				snprintf(name, sizeof(name), "%.*s", (int)m, p);
				if (p[m] != ':' || p[m + 1] != ' ')
					return NULL;
				json_t *fv = json_is_object(v) ? json_object_get(v, name) : NULL;
				p = parse_type(p + m + 2, fv, &field_ok);
				if (!p)
					return NULL;
				all = all && field_ok;
				fields++;
			}
			if (*p == ')')
				break;
			if (p[0] != ',' || p[1] != ' ')
				return NULL;
			p += 2;
		}
		if (!is_enum)
			*ok = all && json_object_size(v) == fields;
		return p + 1;
	}
	return NULL;
}

static const char *parse_type(const char *p, const json_t *v, bool *ok)
{
	bool any = false, one = false;

	for (;;) {
		p = parse_one(p, v, &one);
		if (!p)
			return NULL;
		any = any || one;
		if (*p != '|')
			break;
		p++;
	}
	*ok = any;
	return p;
}

static bool type_valid(const char *type)
{
	bool ok = false;
	const char *end = type ? parse_type(type, NULL, &ok) : NULL;

	return end && *end == '\0';
}

static bool value_has_type(const char *type, const json_t *v)
{
	bool ok = false;
	const char *end = parse_type(type, v, &ok);

	return end && *end == '\0' && ok;
}

/* Whether type is `one`, or a union A|B|... with `one` among its outermost alternatives. */
static bool has_alternative(const char *type, const char *one)
{
	size_t n = strlen(one);
	int depth = 0;

	for (const char *start = type, *p = type;; p++) {
		if (*p == '<' || *p == '(')
			depth++;
		else if (*p == '>' || *p == ')')
			depth--;
		else if ((*p == '|' && depth == 0) || *p == '\0') {
			if ((size_t)(p - start) == n && !strncmp(start, one, n))
				return true;
			if (!*p)
				return false;
			start = p + 1;
		}
	}
}

static void test_types(void)
{
	static const char *const good[] = {
	    "bool",
	    "int",
	    "string",
	    "secret",
	    "path",
	    "mode",
	    "any",
	    "string|list<string>",
	    "list<list<int>>",
	    "map<string|secret>",
	    "enum(present, absent)",
	    "object(name: string, groups: list<string>)",
	    "string|list<any>|map<any>",
	};
	static const char *const bad[] = {
	    "",
	    "str",
	    "list",
	    "list<>",
	    "list<int",
	    "map<int>>",
	    "enum()",
	    "enum(a,b)",
	    "enum(a, )",
	    "object(name string)",
	    "object(name:string)",
	    "int|",
	    "|int",
	    "list <int>",
	    "String",
	    "enum(a b)",
	};
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		CHECK(type_valid(good[i]));
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		CHECK(!type_valid(bad[i]));
		if (type_valid(bad[i]))
			fprintf(stderr, "    accepted: '%s'\n", bad[i]);
	}

	CHECK(has_alternative("string", "string") && has_alternative("path", "path"));
	CHECK(has_alternative("string|list<string>", "string"));
	CHECK(has_alternative("list<string>|string", "string"));
	CHECK(!has_alternative("list<string>", "string") && !has_alternative("secret", "string"));
	CHECK(!has_alternative("map<string|secret>", "string") &&
	      !has_alternative("strings", "string"));

	json_t *v = json_loads("[\"a\", \"b\"]", JSON_DECODE_ANY, NULL);
	CHECK(value_has_type("list<string>", v) && value_has_type("string|list<string>", v));
	CHECK(!value_has_type("list<int>", v) && !value_has_type("string", v));
	json_decref(v);
	v = json_loads("{\"name\": \"x\", \"groups\": []}", 0, NULL);
	CHECK(value_has_type("object(name: string, groups: list<string>)", v));
	CHECK(!value_has_type("object(name: string)", v));
	CHECK(value_has_type("map<any>", v) && !value_has_type("map<string>", v));
	json_decref(v);
	v = json_string("absent");
	CHECK(value_has_type("enum(present, absent)", v) && !value_has_type("enum(present)", v));
	json_decref(v);
	v = json_integer(0644);
	CHECK(value_has_type("mode", v) && !value_has_type("bool", v));
	json_decref(v);
}

/* ---- the schemas ------------------------------------------------------------------------- */

/* Words a .img file gives another meaning: keywords, and attributes every task has. */
static bool reserved(const char *name, enum kiln_schema_kind kind)
{
	static const char *const keywords[] = {
	    "param",   "let",   "import",    "role",  "image", "from",   "stage",
	    "handler", "for",   "in",        "when",  "use",   "config", "output",
	    "test",    "hosts", "inventory", "apply", "true",  "false",  "null",
	};
	for (size_t i = 0; i < sizeof(keywords) / sizeof(keywords[0]); i++)
		if (!strcmp(name, keywords[i]))
			return true;
	return kind == SCHEMA_MODULE && (!strcmp(name, "notify") || !strcmp(name, "ignore_errors"));
}

/* A one-line text: not empty, no newline, no tab, no final period, no space around. */
static bool one_line(const char *s)
{
	size_t n = s ? strlen(s) : 0;

	return n > 0 && !strchr(s, '\n') && !strchr(s, '\t') && s[n - 1] != '.' &&
	       s[n - 1] != ' ' && s[0] != ' ';
}

static bool lang_ident(const char *s, bool dashes)
{
	if (!s || !(islower((unsigned char)s[0]) || s[0] == '_'))
		return false;
	for (const char *p = s; *p; p++)
		if (!(islower((unsigned char)*p) || isdigit((unsigned char)*p) || *p == '_' ||
		      (dashes && *p == '-' && p != s)))
			return false;
	return true;
}

static const struct kiln_arg *find_arg(const struct kiln_schema *s, const char *name, size_t len)
{
	for (const struct kiln_arg *a = s->args; a->name; a++)
		if (strlen(a->name) == len && !strncmp(a->name, name, len))
			return a;
	return NULL;
}

/* CHECK with the entry's name in the report. */
#define CHECK_ENTRY(s, cond)                                                                       \
	do {                                                                                       \
		check_count++;                                                                     \
		if (!(cond)) {                                                                     \
			check_failures++;                                                          \
			fprintf(stderr, "%s:%d: %s '%s': check failed: %s\n", __FILE__, __LINE__,  \
			        stdlib_kind_name((s)->kind), (s)->name, #cond);                    \
		}                                                                                  \
	} while (0)

#define CHECK_ARG(s, a, cond)                                                                      \
	do {                                                                                       \
		check_count++;                                                                     \
		if (!(cond)) {                                                                     \
			check_failures++;                                                          \
			fprintf(stderr, "%s:%d: %s '%s', argument '%s': check failed: %s\n",       \
			        __FILE__, __LINE__, stdlib_kind_name((s)->kind), (s)->name,        \
			        (a)->name, #cond);                                                 \
		}                                                                                  \
	} while (0)

static void check_args(const struct kiln_schema *s)
{
	bool optional_seen = false;
	size_t n = 0;

	for (const struct kiln_arg *a = s->args; a->name; a++, n++) {
		CHECK_ARG(s, a, lang_ident(a->name, false));
		CHECK_ARG(s, a, !reserved(a->name, s->kind));
		CHECK_ARG(s, a, find_arg(s, a->name, strlen(a->name)) == a); /* unique */
		CHECK_ARG(s, a, type_valid(a->type));
		CHECK_ARG(s, a, one_line(a->doc));
		CHECK_ARG(s, a, !(a->required && a->def)); /* a default makes it optional */
		if (a->def) {
			json_error_t jerr;
			json_t *v = json_loads(a->def, JSON_DECODE_ANY, &jerr);

			CHECK_ARG(s, a, v != NULL); /* the default is JSON */
			CHECK_ARG(s, a,
			          v && value_has_type(a->type, v)); /* of the argument's type */
			json_decref(v);
		}
		/* base and function arguments are positional: required ones come first */
		if (s->kind == SCHEMA_BASE || s->kind == SCHEMA_FUNCTION) {
			CHECK_ARG(s, a, !(a->required && optional_seen));
			optional_seen = optional_seen || !a->required;
		}
	}
	if (s->variadic)
		CHECK_ENTRY(s, n > 0 && !s->args[n - 1].required && !s->args[n - 1].def);
}

static void check_one_of(const struct kiln_schema *s)
{
	for (size_t i = 0; s->one_of && s->one_of[i]; i++) {
		const char *p = s->one_of[i];
		size_t names = 0;

		for (;;) {
			size_t len = strcspn(p, "|");
			const struct kiln_arg *a = find_arg(s, p, len);

			/* each name is an optional argument without a default */
			CHECK_ENTRY(s, a != NULL);
			CHECK_ENTRY(s, a && !a->required && !a->def);
			names++;
			if (!p[len])
				break;
			p += len + 1;
		}
		CHECK_ENTRY(s, names >= 2);
	}
}

static void check_schema(const struct kiln_schema *s, enum kiln_schema_kind kind)
{
	CHECK_ENTRY(s, s->kind == kind);
	CHECK_ENTRY(s, lang_ident(s->name, true) && !reserved(s->name, SCHEMA_BASE));
	CHECK_ENTRY(s, one_line(s->doc));
	CHECK_ENTRY(s, s->doc && islower((unsigned char)s->doc[0]));
	CHECK_ENTRY(s, one_line(s->example) && strstr(s->example, s->name) != NULL);
	CHECK_ENTRY(s, s->args != NULL);
	if (!s->args)
		return;
	check_args(s);
	check_one_of(s);

	switch (kind) {
	case SCHEMA_MODULE:
		/* a label names an argument that takes a string, e.g. string|list<string> */
		if (s->label) {
			const struct kiln_arg *a = find_arg(s, s->label, strlen(s->label));
			CHECK_ENTRY(s, a != NULL);
			CHECK_ENTRY(s, a && (has_alternative(a->type, "string") ||
			                     has_alternative(a->type, "path")));
		}
		break;
	case SCHEMA_OUTPUT:
		CHECK_ENTRY(s, s->label && !strcmp(s->label, "path"));
		CHECK_ENTRY(s, find_arg(s, "path", 4) && find_arg(s, "path", 4)->required);
		break;
	case SCHEMA_BASE:
	case SCHEMA_FUNCTION:
		CHECK_ENTRY(s, s->label == NULL);
		break;
	}
	/* the facts code asks the schema for: arguments that exist, on the kinds that use them */
	for (const char *const *in = s->inputs; in && *in; in++) {
		const struct kiln_arg *a = find_arg(s, *in, strlen(*in));
		CHECK_ENTRY(s, a && stdlib_is_input(s, *in) &&
		                   !strcmp(a->type, kind == SCHEMA_FUNCTION ? "string" : "path"));
	}
	CHECK_ENTRY(s, !stdlib_is_input(s, "no-such-argument"));
	if (s->template_arg) {
		const struct kiln_arg *a = find_arg(s, s->template_arg, strlen(s->template_arg));
		CHECK_ENTRY(s, kind == SCHEMA_MODULE && a && !strcmp(a->type, "path"));
	}
	CHECK_ENTRY(s, !s->on_build_machine || kind == SCHEMA_MODULE);
	CHECK_ENTRY(s, !s->needs_layers || kind == SCHEMA_OUTPUT);
	CHECK_ENTRY(s, !s->fail_help || (kind == SCHEMA_FUNCTION && one_line(s->fail_help)));
	if (kind == SCHEMA_FUNCTION) {
		CHECK_ENTRY(s, s->fn != NULL);
		CHECK_ENTRY(s, type_valid(s->returns));
	} else {
		CHECK_ENTRY(s, s->fn == NULL && s->returns == NULL && !s->variadic);
	}
}

static void test_registry(void)
{
	size_t total = 0;

	for (int k = 0; k < N_KINDS; k++) {
		enum kiln_schema_kind kind = (enum kiln_schema_kind)k;
		const struct kiln_schema *const *list;
		size_t n = stdlib_all(kind, &list), nn;
		const char *const *names = stdlib_names(kind, &nn);

		CHECK(n > 0 && nn == n);
		total += n;
		for (size_t i = 0; i < n; i++) {
			check_schema(list[i], kind);
			CHECK(!strcmp(names[i], list[i]->name));
			CHECK(stdlib_lookup(kind, list[i]->name) == list[i]);
			if (i > 0) {
				/* sorted, and so unique within a kind */
				CHECK_ENTRY(list[i], strcmp(list[i - 1]->name, list[i]->name) < 0);
			}
		}
		CHECK(stdlib_lookup(kind, "no-such-entry") == NULL);
		CHECK(stdlib_lookup(kind, "") == NULL);
		CHECK(stdlib_lookup(kind, NULL) == NULL);
	}
	CHECK(total >= 36);

	/* what the language names must be there */
	static const char *const modules[] = {
	    "command", "shell", "local", "file",           "copy",      "template", "lineinfile",
	    "user",    "group", "apt",   "apt_repository", "unarchive", "service"};
	static const char *const bases[] = {"debian", "busybox", "tarball", "oci", "scratch"};
	static const char *const outputs[] = {"oci", "docker-archive", "tar", "checksum",
	                                      "manifest"};
	static const char *const functions[] = {"env",   "file",     "sha256", "join",   "split",
	                                        "lower", "upper",    "format", "length", "lookup",
	                                        "range", "basename", "dirname"};
	for (size_t i = 0; i < sizeof(modules) / sizeof(modules[0]); i++)
		CHECK(stdlib_lookup(SCHEMA_MODULE, modules[i]) != NULL);
	for (size_t i = 0; i < sizeof(bases) / sizeof(bases[0]); i++)
		CHECK(stdlib_lookup(SCHEMA_BASE, bases[i]) != NULL);
	for (size_t i = 0; i < sizeof(outputs) / sizeof(outputs[0]); i++)
		CHECK(stdlib_lookup(SCHEMA_OUTPUT, outputs[i]) != NULL);
	for (size_t i = 0; i < sizeof(functions) / sizeof(functions[0]); i++)
		CHECK(stdlib_lookup(SCHEMA_FUNCTION, functions[i]) != NULL);

	/* the same name may be a module and a function (file), or a base and an output (oci) */
	CHECK(stdlib_lookup(SCHEMA_MODULE, "file") != stdlib_lookup(SCHEMA_FUNCTION, "file"));
	CHECK(stdlib_lookup(SCHEMA_MODULE, "oci") == NULL);

	/* labels the language's examples rely on: the argument a task's label fills */
	static const char *const labels[][2] = {
	    {"command", "cmd"},    {"shell", "cmd"},     {"local", "cmd"},
	    {"file", "path"},      {"service", "name"},  {"apt", "name"},
	    {"user", "name"},      {"group", "name"},    {"apt_repository", "repo"},
	    {"copy", "dest"},      {"template", "dest"}, {"lineinfile", "path"},
	    {"unarchive", "dest"},
	};
	for (size_t i = 0; i < sizeof(labels) / sizeof(labels[0]); i++) {
		const struct kiln_schema *s = stdlib_lookup(SCHEMA_MODULE, labels[i][0]);
		CHECK(s && s->label && !strcmp(s->label, labels[i][1]));
	}

	CHECK(!strcmp(stdlib_kind_name(SCHEMA_MODULE), "module"));
	CHECK(!strcmp(stdlib_kind_name(SCHEMA_BASE), "base"));
	CHECK(!strcmp(stdlib_kind_name(SCHEMA_OUTPUT), "output"));
	CHECK(!strcmp(stdlib_kind_name(SCHEMA_FUNCTION), "function"));
}

/* ---- tasks: Ansible-style uses the schemas must allow, and mistakes they must not --------- */

/*
 * Whether a task of `module`, with a label or without, whose body sets the
 * arguments named in `body` (separated by spaces), meets its schema as the
 * compiler checks it: the label fills the module's label argument unless
 * the body sets that argument; every argument is known; every required one
 * is given; exactly one of each one_of group is given.
 */
static bool task_ok(const char *module, bool label, const char *body)
{
	const struct kiln_schema *s = stdlib_lookup(SCHEMA_MODULE, module);
	const struct kiln_arg *given[32];
	size_t n = 0;

	if (!s)
		return false;
	for (const char *p = body; *p;) {
		size_t len = strcspn(p, " ");
		const struct kiln_arg *a = find_arg(s, p, len);

		if (!a || n + 1 == sizeof(given) / sizeof(given[0])) /* room for the label's */
			return false;
		given[n++] = a;
		p += len;
		p += strspn(p, " ");
	}
	const struct kiln_arg *by_label =
	    label && s->label ? find_arg(s, s->label, strlen(s->label)) : NULL;
	for (size_t i = 0; by_label && i < n; i++)
		if (given[i] == by_label)
			by_label = NULL;
	if (by_label)
		given[n++] = by_label;
	for (const struct kiln_arg *a = s->args; a->name; a++) {
		bool set = false;
		for (size_t i = 0; i < n; i++)
			set = set || given[i] == a;
		if (a->required && !set)
			return false;
	}
	for (size_t g = 0; s->one_of && s->one_of[g]; g++) {
		size_t count = 0;
		for (const char *p = s->one_of[g]; *p;) {
			size_t len = strcspn(p, "|");
			const struct kiln_arg *a = find_arg(s, p, len);
			for (size_t i = 0; i < n; i++)
				count += given[i] == a;
			p += len + (p[len] == '|');
		}
		if (count != 1)
			return false;
	}
	return true;
}

static void test_tasks(void)
{
	static const struct {
		const char *module;
		bool label;
		const char *body;
		bool ok;
	} tasks[] = {
	    /* apt { update_cache = true }: only refreshes the package lists */
	    {"apt", false, "update_cache", true},
	    {"apt", true, "", true}, /* apt "curl" {} */
	    {"apt", true, "name update_cache", true},
	    {"apt", false, "name state", true},
	    {"apt", false, "name state install_recommends", true},
	    {"service", true, "state", true}, /* service "ssh" { state = restarted } */
	    {"service", true, "name enabled", true},
	    {"service", false, "state", false}, /* which service? */
	    {"service", false, "name state enabled", true},
	    {"user", true, "groups shell", true}, /* user "deploy" { ... } */
	    {"user", true, "name groups append", true},
	    {"user", false, "shell", false},
	    {"group", true, "system", true},
	    {"group", false, "gid", false},
	    {"apt_repository", true, "key", true},
	    {"apt_repository", true, "repo key_url filename", true},
	    {"apt_repository", false, "key", false},
	    {"file", true, "state mode", true},
	    {"file", false, "state", false},
	    {"command", true, "", true},
	    {"command", true, "cmd chdir", true},
	    {"shell", false, "creates", false},
	    {"lineinfile", false, "path regexp state", true},
	    {"template", true, "src dest", true},
	    {"unarchive", false, "src dest", true},
	    /* copy: exactly one of src and content, as in Ansible */
	    {"copy", false, "src dest", true},
	    {"copy", true, "content dest mode", true},
	    {"copy", false, "dest", false},
	    {"copy", false, "src content dest", false},
	    {"apt", false, "no_such_argument", false},
	};
	for (size_t i = 0; i < sizeof(tasks) / sizeof(tasks[0]); i++) {
		bool ok = task_ok(tasks[i].module, tasks[i].label, tasks[i].body);
		CHECK(ok == tasks[i].ok);
		if (ok != tasks[i].ok)
			fprintf(stderr, "    %s %s{ %s } should be %s\n", tasks[i].module,
			        tasks[i].label ? "\"LABEL\" " : "", tasks[i].body,
			        tasks[i].ok ? "valid" : "an error");
	}
}

/* ---- stdlib_call: counting arguments and filling defaults --------------------------------- */

/* Echo the arguments as a list, NULL (not given) as the string "<none>". */
static json_t *echo(json_t *const *args, size_t nargs, char **reterr)
{
	json_t *list = json_array();

	(void)reterr;
	for (size_t i = 0; i < nargs; i++)
		json_array_append_new(list, args[i] ? json_incref(args[i]) : json_string("<none>"));
	return list;
}

static const struct kiln_arg echo_args[] = {
    {"a", "int", true, NULL, "required"},
    {"b", "string", false, "\"dflt\"", "with a default"},
    {"c", "any", false, NULL, "optional, no default"},
    {0},
};

static const struct kiln_schema echo_fn = {
    .kind = SCHEMA_FUNCTION,
    .name = "echo",
    .doc = "echo",
    .args = echo_args,
    .returns = "list<any>",
    .fn = echo,
};

static const struct kiln_schema echo_variadic = {
    .kind = SCHEMA_FUNCTION,
    .name = "echo_variadic",
    .doc = "echo",
    .args = echo_args,
    .returns = "list<any>",
    .variadic = true,
    .fn = echo,
};

static char *call_text(const struct kiln_schema *s, json_t *const *args, size_t n)
{
	char *err = NULL;
	json_t *ret = stdlib_call(s, args, n, &err);

	if (!ret)
		return err;
	char *text = json_dumps(ret, JSON_COMPACT);
	json_decref(ret);
	return text;
}

#define CHECK_CALL(s, args, n, want)                                                               \
	do {                                                                                       \
		char *got_ = call_text(s, args, n);                                                \
		CHECK(got_ && !strcmp(got_, want));                                                \
		if (got_ && strcmp(got_, want))                                                    \
			fprintf(stderr, "    want %s\n    got  %s\n", want, got_);                 \
		free(got_);                                                                        \
	} while (0)

static void test_call(void)
{
	json_t *one = json_integer(1), *x = json_string("x"), *t = json_true();
	json_t *a1[] = {one}, *a2[] = {one, x}, *a3[] = {one, x, t}, *a4[] = {one, x, t, t};
	json_t *holes[] = {one, NULL, NULL}, *missing[] = {NULL, x};

	CHECK_CALL(&echo_fn, a1, 1, "[1,\"dflt\",\"<none>\"]");
	CHECK_CALL(&echo_fn, a2, 2, "[1,\"x\",\"<none>\"]");
	CHECK_CALL(&echo_fn, a3, 3, "[1,\"x\",true]");
	CHECK_CALL(&echo_fn, holes, 3, "[1,\"dflt\",\"<none>\"]");
	CHECK_CALL(&echo_fn, a4, 4, "echo() takes at most 3 arguments, but 4 were given");
	CHECK_CALL(&echo_fn, missing, 2, "echo() needs argument 'a'");
	CHECK_CALL(&echo_fn, NULL, 0, "echo() needs argument 'a'");
	/* variadic: the values of the last argument are exactly those given */
	CHECK_CALL(&echo_variadic, a2, 2, "[1,\"x\"]");
	CHECK_CALL(&echo_variadic, a4, 4, "[1,\"x\",true,true]");
	CHECK_CALL(&echo_variadic, a1, 1, "[1,\"dflt\"]");
	CHECK_CALL(stdlib_lookup(SCHEMA_MODULE, "apt"), a1, 1, "'apt' is not a function");
	json_decref(one);
	json_decref(x);
	json_decref(t);
}

/* ---- modes: the one reading the compiler and the modules share ---- */

static bool mode_is(const char *text, unsigned want)
{
	unsigned m = 0xffff;
	const char *why = NULL;
	return stdlib_mode_parse(text, &m, &why) == 0 && m == want;
}

static bool mode_refused(const char *text, const char *advice)
{
	unsigned m;
	const char *why = NULL;
	return stdlib_mode_parse(text, &m, &why) < 0 && why && strstr(why, advice);
}

static void test_modes(void)
{
	CHECK(mode_is("0644", 0644) && mode_is("755", 0755) && mode_is("4755", 04755));
	CHECK(mode_is("0", 0) && mode_is("7777", 07777));
	CHECK(mode_is("u=rw,go=r", 0644) && mode_is("a=rx,u=rwx", 0755));
	CHECK(mode_is("ugo=rwx", 0777) && mode_is("a=", 0) && mode_is("u=rw,g=,o=", 0600));
	CHECK(mode_is("u=rwxs,go=rx", 04755) && mode_is("ug=rwxs,o=", 06770));
	CHECK(mode_is("a=rwxt", 01777) && mode_is("a=rx,u=rwxs,o=t", 05750));
	CHECK(mode_is("a=rwx,u=r", 0477)); /* later clauses override */
	CHECK(mode_refused("u+x", "absolute form") && mode_refused("a-w", "absolute form"));
	CHECK(mode_refused("u=rwX,go=rX", "absolute form") && mode_refused("g=u,uo=r", "absolute"));
	CHECK(mode_refused("u=rw", "each of u, g and o") && mode_refused("ug=rw", "each of"));
	CHECK(mode_refused("=rw", "whom") && mode_refused("", "empty"));
	CHECK(mode_refused("0x1ff", "digits") && mode_refused("08", "digits"));
	CHECK(mode_refused("07777", "at most 4"));
	CHECK(mode_refused("u=rw,", "clauses") && mode_refused("u=rwz,go=r", "permissions"));
	CHECK(mode_refused("o=s,ug=r", "'s' sets") && mode_refused("u=t,go=r", "'s' sets"));
}

int main(void)
{
	test_modes();
	test_types();
	test_registry();
	test_tasks();
	test_call();
	return CHECK_DONE();
}
