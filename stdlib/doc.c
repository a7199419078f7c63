/*
 * doc: `kiln doc`, the reference of the built-in entries, printed from
 * their schemas (as ansible-doc prints a module's): the list of all
 * entries, or the page of one. Output is plain text, stable, and depends on
 * the schemas only.
 */
#include "entries.h"
#include "lang.h"

#include <stdlib.h>
#include <string.h>

#define N_KINDS (SCHEMA_FUNCTION + 1)
#define PAGE_WIDTH 100   /* a page's lines stay within this many columns ... */
#define PAGE_MIN_ROOM 36 /* the least room a description column gets */

static const char *const headings[N_KINDS] = {"modules", "bases", "outputs", "functions"};

/* ---- the language's own pages: config, notify, facts, keywords, hosts ---------------------- */

struct lang_page {
	const char *name;   /* kiln doc NAME */
	const char *key;    /* its section in kiln doc --json */
	const char *title;  /* the text page's first line */
	const char *prefix; /* names are shown with it (facts.) */
	const struct kiln_attr *attrs;
};

static const struct lang_page lang_pages[] = {
    {"config", "config",
     "config { ... }: the image's run-time configuration, read by container runtimes", "",
     stdlib_config_attrs},
    {"notify", "task", "attributes every task takes, beside its module's arguments", "",
     stdlib_task_attrs},
    {"facts", "facts",
     "facts: the system the tasks run on, gathered before each stage; usable in any expression",
     "facts.", stdlib_facts},
    {"hosts", "connection",
     "attributes of hosts groups, of a host and of apply blocks: how a host is reached", "",
     stdlib_connection_attrs},
    {"image", "image", "attributes of an image block, beside its stages, config and outputs", "",
     stdlib_image_attrs},
    {"param", "param", "attributes of a param's { } block", "", stdlib_param_attrs},
    {"keywords", "keywords", "the keywords of the language", "", stdlib_keywords},
    {"types", "types", "the types of params, lets and role parameters", "", stdlib_types},
};

#define N_LANG_PAGES (sizeof(lang_pages) / sizeof(lang_pages[0]))

void stdlib_doc_list(FILE *out)
{
	const struct kiln_schema *const *list;
	int width = 0;

	for (int k = 0; k < N_KINDS; k++) {
		size_t n = stdlib_all((enum kiln_schema_kind)k, &list);

		for (size_t i = 0; i < n; i++)
			if ((int)strlen(list[i]->name) > width)
				width = (int)strlen(list[i]->name);
	}
	for (int k = 0; k < N_KINDS; k++) {
		size_t n = stdlib_all((enum kiln_schema_kind)k, &list);

		fprintf(out, "%s%s:\n", k > 0 ? "\n" : "", headings[k]);
		for (size_t i = 0; i < n; i++)
			fprintf(out, "  %-*s  %s\n", width, list[i]->name, list[i]->doc);
	}
	fputs("\nthe language (kiln doc NAME):\n", out);
	for (size_t i = 0; i < N_LANG_PAGES; i++)
		fprintf(out, "  %-*s  %s\n", width, lang_pages[i].name, lang_pages[i].title);
}

/* ---- one entry's page ---------------------------------------------------------------------- */

/* The default column: required, -, or the default as it is written in a .img file. */
static void default_text(const struct kiln_arg *a, char *buf, size_t size)
{
	size_t len = a->def ? strlen(a->def) : 0;

	if (!a->def)
		snprintf(buf, size, "%s", a->required ? "required" : "-");
	else if (!strncmp(a->type, "enum(", 5) && len >= 2 && a->def[0] == '"')
		snprintf(buf, size, "%.*s", (int)(len - 2), a->def + 1); /* enum values are bare */
	else if (!strcmp(a->type, "mode") && a->def[0] >= '0' && a->def[0] <= '9')
		snprintf(buf, size, "0%o", (unsigned)strtoul(a->def, NULL, 10));
	else
		snprintf(buf, size, "%s", a->def);
}

static size_t count_args(const struct kiln_schema *s)
{
	size_t n = 0;

	while (s->args[n].name)
		n++;
	return n;
}

/* usage: name(a, [b], [rest...]) -> type */
static void print_usage(FILE *out, const struct kiln_schema *s, size_t nargs)
{
	fprintf(out, "usage: %s(", s->name);
	for (size_t i = 0; i < nargs; i++) {
		const struct kiln_arg *a = &s->args[i];
		const char *dots = s->variadic && i + 1 == nargs ? "..." : "";

		fprintf(out, "%s%s%s%s%s", i ? ", " : "", a->required ? "" : "[", a->name, dots,
		        a->required ? "" : "]");
	}
	fputc(')', out);
	if (s->kind == SCHEMA_FUNCTION)
		fprintf(out, " -> %s", s->returns);
	fputc('\n', out);
	if (s->kind == SCHEMA_BASE && nargs > 1)
		fputs("  arguments are given in this order, or by name: name = value\n", out);
}

/*
 * A module's label fills its label argument unless the task's body sets that
 * argument itself; then, as always for a module without one, the label only
 * describes the task. An output's label is its label argument.
 */
static void print_label(FILE *out, const struct kiln_schema *s)
{
	if (s->kind == SCHEMA_MODULE && !s->label)
		fputs("label: a free description of the task; it sets no argument\n", out);
	else if (s->kind == SCHEMA_MODULE)
		fprintf(out,
		        "label: fills '%s' unless the body sets '%s'; then it describes the task\n",
		        s->label, s->label);
	else if (s->label)
		fprintf(out, "label: sets '%s'\n", s->label);
}

/*
 * Print text from column `col` on, breaking lines at spaces to stay within
 * PAGE_WIDTH columns; continuation lines start at `col` too. A word longer
 * than the room is printed whole.
 */
static void print_wrapped(FILE *out, const char *text, int col)
{
	int room = PAGE_WIDTH - col, used = 0;

	if (room < PAGE_MIN_ROOM)
		room = PAGE_MIN_ROOM;
	while (*text) {
		int word = (int)strcspn(text, " ");

		if (used > 0 && used + 1 + word > room) {
			fprintf(out, "\n%*s", col, "");
			used = 0;
		} else if (used > 0) {
			fputc(' ', out);
			used++;
		}
		fprintf(out, "%.*s", word, text);
		used += word;
		text += word;
		while (*text == ' ')
			text++;
	}
	fputc('\n', out);
}

/*
 * The arguments as a table: NAME TYPE DEFAULT DESCRIPTION, descriptions
 * wrapped. When the first three columns leave too little room, each
 * description goes on the lines below its row instead, as ansible-doc does.
 */
static void print_args(FILE *out, const struct kiln_schema *s, size_t nargs)
{
	char def[256], type[256];
	int wname = (int)strlen("NAME"), wtype = (int)strlen("TYPE"), wdef = (int)strlen("DEFAULT");

	fputs("arguments:", out);
	if (nargs == 0) {
		fputs(" none\n", out);
		return;
	}
	fputc('\n', out);
	for (size_t i = 0; i < nargs; i++) {
		const struct kiln_arg *a = &s->args[i];
		int tlen = (int)strlen(a->type) + (s->variadic && i + 1 == nargs ? 3 : 0);

		default_text(a, def, sizeof(def));
		if ((int)strlen(a->name) > wname)
			wname = (int)strlen(a->name);
		if (tlen > wtype)
			wtype = tlen;
		if ((int)strlen(def) > wdef)
			wdef = (int)strlen(def);
	}
	int col = 2 + wname + 2 + wtype + 2 + wdef + 2;
	bool below = PAGE_WIDTH - col < PAGE_MIN_ROOM;
	if (below)
		fprintf(out, "  %-*s  %-*s  DEFAULT\n", wname, "NAME", wtype, "TYPE");
	else
		fprintf(out, "  %-*s  %-*s  %-*s  DESCRIPTION\n", wname, "NAME", wtype, "TYPE",
		        wdef, "DEFAULT");
	for (size_t i = 0; i < nargs; i++) {
		const struct kiln_arg *a = &s->args[i];
		bool rest = s->variadic && i + 1 == nargs;

		default_text(a, def, sizeof(def));
		snprintf(type, sizeof(type), "%s%s", a->type, rest ? "..." : "");
		if (below) {
			fprintf(out, "  %-*s  %-*s  %s\n      ", wname, a->name, wtype, type, def);
			print_wrapped(out, a->doc, 6);
		} else {
			fprintf(out, "  %-*s  %-*s  %-*s  ", wname, a->name, wtype, type, wdef,
			        def);
			print_wrapped(out, a->doc, col);
		}
	}
	for (size_t i = 0; s->one_of && s->one_of[i]; i++) {
		fputs(i == 0 ? "\n  exactly one of: " : "  exactly one of: ", out);
		for (const char *p = s->one_of[i]; *p; p++) {
			if (*p == '|')
				fputs(", ", out);
			else
				fputc(*p, out);
		}
		fputc('\n', out);
	}
}

static void print_page(FILE *out, const struct kiln_schema *s)
{
	size_t nargs = count_args(s);

	fprintf(out, "%s (%s)\n  %s\n\n", s->name, stdlib_kind_name(s->kind), s->doc);
	if (s->kind == SCHEMA_BASE || s->kind == SCHEMA_FUNCTION) {
		print_usage(out, s, nargs);
		fputc('\n', out);
	}
	if (s->kind == SCHEMA_MODULE || s->kind == SCHEMA_OUTPUT) {
		print_label(out, s);
		fputc('\n', out);
	}
	print_args(out, s, nargs);
	for (const char *const *in = s->inputs; in && *in; in++)
		fprintf(out, "%s  %s is read on the build machine: %s\n",
		        in == s->inputs ? "\n" : "", *in,
		        s->kind == SCHEMA_FUNCTION ? "relative to the file that calls it"
		        : s->kind == SCHEMA_BASE
		            ? "a change to it rebuilds from the image's first stage"
		            : "a change to it rebuilds from this task's stage");
	if (s->on_build_machine)
		fputs("\n  runs on the build machine: a stage with it is never taken from the "
		      "cache\n",
		      out);
	if (s->example)
		fprintf(out, "\nexample:\n  %s\n", s->example);
}

static const struct lang_page *lang_page(const char *name);
static void print_lang_page(FILE *out, const struct lang_page *p);

/* name, or KIND:NAME to pick one kind ("function:file"); prints every match. */
int stdlib_doc_page(FILE *out, const char *name)
{
	const char *colon = name ? strchr(name, ':') : NULL;
	int found = 0;

	if (!name)
		return -1;
	const struct lang_page *lp = lang_page(name);
	if (lp) {
		print_lang_page(out, lp);
		found++;
	}
	for (int k = 0; k < N_KINDS; k++) {
		const char *kind = stdlib_kind_name((enum kiln_schema_kind)k);
		const char *base = name;

		if (colon) {
			if (strlen(kind) != (size_t)(colon - name) ||
			    strncmp(name, kind, strlen(kind)))
				continue;
			base = colon + 1;
		}
		const struct kiln_schema *s = stdlib_lookup((enum kiln_schema_kind)k, base);
		if (!s)
			continue;
		if (found++)
			fputc('\n', out);
		print_page(out, s);
	}
	return found ? 0 : -1;
}

static void print_lang_page(FILE *out, const struct lang_page *p)
{
	int wname = (int)strlen("NAME"), wtype = (int)strlen("TYPE");
	bool typed = p->attrs[0].type != NULL;
	char name[128];

	fprintf(out, "%s\n\n", p->title);
	for (const struct kiln_attr *a = p->attrs; a->name; a++) {
		snprintf(name, sizeof(name), "%s%s", p->prefix, a->name);
		if ((int)strlen(name) > wname)
			wname = (int)strlen(name);
		if (typed && (int)strlen(a->type) > wtype)
			wtype = (int)strlen(a->type);
	}
	if (typed)
		fprintf(out, "  %-*s  %-*s  DESCRIPTION\n", wname, "NAME", wtype, "TYPE");
	int col = 2 + wname + 2 + (typed ? wtype + 2 : 0);
	for (const struct kiln_attr *a = p->attrs; a->name; a++) {
		snprintf(name, sizeof(name), "%s%s", p->prefix, a->name);
		if (typed)
			fprintf(out, "  %-*s  %-*s  ", wname, name, wtype, a->type);
		else
			fprintf(out, "  %-*s  ", wname, name);
		print_wrapped(out, a->doc, col);
	}
}

static const struct lang_page *lang_page(const char *name)
{
	for (size_t i = 0; name && i < N_LANG_PAGES; i++)
		if (!strcmp(lang_pages[i].name, name))
			return &lang_pages[i];
	return NULL;
}

/* ---- kiln doc --json ------------------------------------------------------------------------ */

/* The values of the first enum(a, b, c) in a type, or NULL. */
static json_t *enum_values(const char *type)
{
	const char *p = strstr(type, "enum(");
	if (!p)
		return NULL;
	json_t *v = json_array();
	p += 5;
	while (*p && *p != ')') {
		p += strspn(p, " ,");
		size_t n = strcspn(p, ",) ");
		if (n)
			json_array_append_new(v, json_stringn(p, n));
		p += n;
		p += strspn(p, " ");
	}
	return v;
}

static json_t *attr_json(const char *name, const char *type, const char *doc)
{
	json_t *o = json_object();
	json_object_set_new(o, "name", json_string(name));
	if (type) {
		json_object_set_new(o, "type", json_string(type));
		json_t *e = enum_values(type);
		if (e)
			json_object_set_new(o, "enum", e);
	}
	json_object_set_new(o, "doc", json_string(doc));
	return o;
}

static json_t *strings_json(const char *const *v)
{
	json_t *a = json_array();
	for (; v && *v; v++)
		json_array_append_new(a, json_string(*v));
	return a;
}

static json_t *schema_json(const struct kiln_schema *s)
{
	size_t nargs = count_args(s);
	json_t *o = attr_json(s->name, NULL, s->doc);
	json_object_set_new(o, "kind", json_string(stdlib_kind_name(s->kind)));
	json_t *args = json_array();
	for (size_t i = 0; i < nargs; i++) {
		const struct kiln_arg *a = &s->args[i];
		char def[256];
		json_t *ja = attr_json(a->name, a->type, a->doc);
		json_object_set_new(ja, "required", json_boolean(a->required));
		json_t *dv = a->def ? json_loads(a->def, JSON_DECODE_ANY, NULL) : NULL;
		json_object_set_new(ja, "default", dv ? dv : json_null());
		default_text(a, def, sizeof(def));
		json_object_set_new(ja, "default_text", json_string(def));
		if (s->variadic && i + 1 == nargs)
			json_object_set_new(ja, "variadic", json_true());
		json_object_set_new(ja, "input", json_boolean(stdlib_is_input(s, a->name)));
		json_array_append_new(args, ja);
	}
	json_object_set_new(o, "args", args);
	if (s->kind == SCHEMA_MODULE || s->kind == SCHEMA_OUTPUT)
		json_object_set_new(o, "label", s->label ? json_string(s->label) : json_null());
	json_t *one_of = json_array();
	for (size_t i = 0; s->one_of && s->one_of[i]; i++) {
		json_t *group = json_array();
		const char *p = s->one_of[i];
		while (*p) {
			size_t n = strcspn(p, "|");
			json_array_append_new(group, json_stringn(p, n));
			p += n + (p[n] == '|');
		}
		json_array_append_new(one_of, group);
	}
	json_object_set_new(o, "one_of", one_of);
	json_object_set_new(o, "inputs", strings_json(s->inputs));
	if (s->kind == SCHEMA_FUNCTION) {
		json_object_set_new(o, "returns", json_string(s->returns));
		json_object_set_new(o, "variadic", json_boolean(s->variadic));
	}
	if (s->kind == SCHEMA_MODULE) {
		json_object_set_new(o, "template_arg",
		                    s->template_arg ? json_string(s->template_arg) : json_null());
		json_object_set_new(o, "on_build_machine", json_boolean(s->on_build_machine));
	}
	if (s->kind == SCHEMA_OUTPUT)
		json_object_set_new(o, "needs_layers", json_boolean(s->needs_layers));
	json_object_set_new(o, "example", s->example ? json_string(s->example) : json_null());
	return o;
}

static json_t *lang_json(const struct lang_page *p)
{
	json_t *a = json_array();
	for (const struct kiln_attr *x = p->attrs; x->name; x++) {
		json_t *o = attr_json(x->name, x->type, x->doc);
		if (*p->prefix) {
			/* a fact: its name as written (facts.os.family), its path below facts */
			char name[128];
			snprintf(name, sizeof(name), "%s%s", p->prefix, x->name);
			json_object_set_new(o, "path", json_string(x->name));
			json_object_set_new(o, "name", json_string(name));
		}
		json_array_append_new(a, o);
	}
	return a;
}

json_t *stdlib_doc_json(const char *name)
{
	static const char *const keys[N_KINDS] = {"modules", "bases", "outputs", "functions"};
	const char *colon = name ? strchr(name, ':') : NULL;
	json_t *doc = json_object();
	size_t found = 0;

	json_object_set_new(doc, "version", json_integer(STDLIB_DOC_JSON_VERSION));
	for (int k = 0; k < N_KINDS; k++) {
		const char *kind = stdlib_kind_name((enum kiln_schema_kind)k);
		const struct kiln_schema *const *list;
		size_t n = stdlib_all((enum kiln_schema_kind)k, &list);
		json_t *a = json_array();
		for (size_t i = 0; i < n; i++) {
			const char *want = name;
			if (name && colon) {
				if (strlen(kind) != (size_t)(colon - name) ||
				    strncmp(name, kind, strlen(kind)))
					continue;
				want = colon + 1;
			}
			if (!want || !strcmp(want, list[i]->name))
				json_array_append_new(a, schema_json(list[i]));
		}
		found += json_array_size(a);
		if (!name || json_array_size(a))
			json_object_set_new(doc, keys[k], a);
		else
			json_decref(a);
	}
	for (size_t i = 0; i < N_LANG_PAGES; i++) {
		if (name && strcmp(name, lang_pages[i].name))
			continue;
		json_object_set_new(doc, lang_pages[i].key, lang_json(&lang_pages[i]));
		found++;
	}
	if (!found) {
		json_decref(doc);
		return NULL;
	}
	return doc;
}
