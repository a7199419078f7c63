/*
 * doc: `kiln doc`, the reference of the built-in entries, printed from
 * their schemas (as ansible-doc prints a module's): the list of all
 * entries, or the page of one. Output is plain text, stable, and depends on
 * the schemas only.
 */
#include "entries.h"

#include <stdlib.h>
#include <string.h>

#define N_KINDS (SCHEMA_FUNCTION + 1)
#define PAGE_WIDTH 100   /* a page's lines stay within this many columns ... */
#define PAGE_MIN_ROOM 36 /* the least room a description column gets */

static const char *const headings[N_KINDS] = {"modules", "bases", "outputs", "functions"};

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

/* name, or KIND:NAME to pick one kind ("function:file"); prints every match. */
int stdlib_doc_page(FILE *out, const char *name)
{
	const char *colon = name ? strchr(name, ':') : NULL;
	int found = 0;

	if (!name)
		return -1;
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
