/* Unit tests of `kiln doc`'s text: the list of entries and the page of one. */
#include "check.h"
#include "builtins.h"
#include "lang.h"

#include <stdlib.h>
#include <string.h>

#define N_KINDS (SCHEMA_FUNCTION + 1)

/* Run stdlib_doc_page into a string; *ret_rc gets its return value. */
static char *page(const char *name, int *ret_rc)
{
	char *buf = NULL;
	size_t n = 0;
	FILE *out = open_memstream(&buf, &n);

	*ret_rc = stdlib_doc_page(out, name);
	fclose(out);
	return buf;
}

/* text with every run of spaces and newlines made one space, in place */
static char *squash(char *text)
{
	char *w = text;

	for (const char *r = text; *r; r++) {
		bool space = *r == ' ' || *r == '\n';

		if (space && w > text && w[-1] == ' ')
			continue;
		*w++ = space ? ' ' : *r;
	}
	*w = '\0';
	return text;
}

/* the longest line of text, in bytes */
static size_t longest_line(const char *text)
{
	size_t max = 0;

	while (*text) {
		size_t n = strcspn(text, "\n");

		if (n > max)
			max = n;
		text += n + (text[n] == '\n');
	}
	return max;
}

static void test_list(void)
{
	char *buf = NULL;
	size_t n = 0;
	FILE *out = open_memstream(&buf, &n);

	stdlib_doc_list(out);
	fclose(out);
	/* the groups, in this order */
	const char *m = strstr(buf, "modules:\n"), *b = strstr(buf, "\nbases:\n");
	const char *o = strstr(buf, "\noutputs:\n"), *f = strstr(buf, "\nfunctions:\n");
	CHECK(m == buf && b && o && f && m < b && b < o && o < f);
	/* one line per entry, with its doc, in its group */
	for (int k = 0; k < N_KINDS; k++) {
		const struct kiln_schema *const *list;
		size_t count = stdlib_all((enum kiln_schema_kind)k, &list);
		const char *start = k == 0 ? m : k == 1 ? b : k == 2 ? o : f;
		const char *end = k == 0 ? b : k == 1 ? o : k == 2 ? f : buf + n;

		for (size_t i = 0; i < count; i++) {
			char line[256];
			snprintf(line, sizeof(line), "\n  %s ", list[i]->name);
			const char *at = strstr(start, line);
			CHECK(at && at < end);
			const char *eol = at ? strchr(at + 1, '\n') : NULL;
			const char *doc = at ? strstr(at, list[i]->doc) : NULL;
			CHECK(doc && eol && doc < eol);
		}
	}
	CHECK(strstr(buf, "\n  apt ") && strstr(buf, "\n  docker-archive "));
	free(buf);
}

static void test_pages(void)
{
	int rc;

	/* every entry has a page naming its arguments and showing its example */
	for (int k = 0; k < N_KINDS; k++) {
		const struct kiln_schema *const *list;
		size_t count = stdlib_all((enum kiln_schema_kind)k, &list);

		for (size_t i = 0; i < count; i++) {
			const struct kiln_schema *s = list[i];
			char name[128], head[128];

			snprintf(name, sizeof(name), "%s:%s", stdlib_kind_name(s->kind), s->name);
			snprintf(head, sizeof(head), "%s (%s)\n  %s\n", s->name,
			         stdlib_kind_name(s->kind), s->doc);
			char *text = page(name, &rc);
			CHECK(rc == 0 && !strncmp(text, head, strlen(head)));
			for (const struct kiln_arg *a = s->args; a->name; a++) {
				char row[128];
				snprintf(row, sizeof(row), "\n  %s ", a->name);
				CHECK(strstr(text, row) != NULL);
			}
			CHECK(strstr(text, s->example) != NULL);
			if (s->kind == SCHEMA_FUNCTION)
				CHECK(strstr(text, "usage: ") && strstr(text, s->returns));
			/* descriptions wrap to keep pages within 100 columns */
			CHECK(longest_line(text) <= 100);
			squash(text);
			for (const struct kiln_arg *a = s->args; a->name; a++)
				CHECK(strstr(text, a->doc) != NULL);
			free(text);
		}
	}

	/* one page, in full */
	char *text = page("apt", &rc);
	CHECK(rc == 0);
	CHECK(strstr(text, "apt (module)\n  install, upgrade or remove Debian packages\n\n") ==
	      text);
	CHECK(strstr(text, "\n\nlabel: fills 'name' unless the body sets 'name'; then it describes "
	                   "the task\n\n"));
	CHECK(strstr(text, "\narguments:\n  NAME                TYPE "));
	CHECK(strstr(text, "\n  state               enum(present, absent, latest)  present "));
	CHECK(strstr(text, "\n  name                string|list<string>            -       "));
	/* name is not needed: apt { update_cache = true } */
	CHECK(!strstr(text, "exactly one of"));
	CHECK(strstr(text, "\nexample:\n  apt \"curl\" {}; apt \"web server\" {"));
	free(text);

	text = page("command", &rc);
	CHECK(strstr(
	    text, "\nlabel: fills 'cmd' unless the body sets 'cmd'; then it describes the task\n"));
	CHECK(strstr(text, "\n  cmd      string ") && strstr(text, " required "));
	free(text);

	text = page("apt_repository", &rc);
	CHECK(strstr(text, "\nlabel: fills 'repo' unless the body sets 'repo'; "));
	free(text);

	/* a module with a group of which one is needed */
	text = page("copy", &rc);
	CHECK(strstr(text, "\nlabel: fills 'dest' unless the body sets 'dest'; "));
	CHECK(strstr(text, "\n\n  exactly one of: src, content\n"));
	free(text);

	/* join and split take the separator first */
	text = page("join", &rc);
	CHECK(strstr(text, "\nusage: join(sep, list) -> string\n"));
	free(text);
	text = page("split", &rc);
	CHECK(strstr(text, "\nusage: split(sep, s) -> list<string>\n"));
	free(text);

	text = page("format", &rc);
	CHECK(strstr(text, "\nusage: format(fmt, [args...]) -> string\n"));
	CHECK(strstr(text, " any... "));
	free(text);

	text = page("debian", &rc);
	CHECK(strstr(text,
	             "\nusage: debian([suite], [variant], [mirror], [components], [include])\n"));
	/* descriptions wrap in their column; the mirror's default is the build machine's */
	CHECK(strstr(text, "\n  suite       string                           \"bookworm\"  the "
	                   "release"));
	CHECK(strstr(text, " minbase     ") && strstr(text, " [\"main\"]    "));
	CHECK(strstr(text, "\n  mirror      string                           -           the "));
	free(text);

	text = page("tarball", &rc);
	CHECK(strstr(text,
	             "\n  path is read on the build machine: a change to it rebuilds from the "
	             "image's first stage\n"));
	free(text);
	text = page("local", &rc);
	CHECK(strstr(text, "\n  runs on the build machine:"));
	free(text);

	text = page("busybox", &rc);
	CHECK(strstr(text, "\nusage: busybox()\n") && strstr(text, "\narguments: none\n"));
	free(text);

	/* a name of two kinds prints both pages; KIND:NAME picks one */
	text = page("file", &rc);
	CHECK(rc == 0 && strstr(text, "file (module)") && strstr(text, "\n\nfile (function)"));
	free(text);
	text = page("function:file", &rc);
	CHECK(rc == 0 && !strstr(text, "(module)") && strstr(text, "file (function)") == text);
	free(text);
	text = page("output:oci", &rc);
	CHECK(rc == 0 && strstr(text, "oci (output)") == text && !strstr(text, "(base)"));
	free(text);

	/* nothing by that name: -1, and nothing printed */
	text = page("no-such-thing", &rc);
	CHECK(rc == -1 && text[0] == '\0');
	free(text);
	text = page("module:sha256", &rc);
	CHECK(rc == -1 && text[0] == '\0');
	free(text);
	text = page("nokind:apt", &rc);
	CHECK(rc == -1);
	free(text);
	text = page("", &rc);
	CHECK(rc == -1);
	free(text);
}

/* The language's own pages: every attribute with its type and doc. */
static void test_lang_pages(void)
{
	static const struct {
		const char *name;
		const struct kiln_attr *attrs;
		const char *prefix;
	} pages[] = {{"config", stdlib_config_attrs, ""}, {"notify", stdlib_task_attrs, ""},
	             {"facts", stdlib_facts, "facts."},   {"hosts", stdlib_connection_attrs, ""},
	             {"image", stdlib_image_attrs, ""},   {"param", stdlib_param_attrs, ""},
	             {"keywords", stdlib_keywords, ""}};
	for (size_t i = 0; i < sizeof(pages) / sizeof(*pages); i++) {
		int rc;
		char *text = page(pages[i].name, &rc);
		CHECK(rc == 0);
		for (const struct kiln_attr *a = pages[i].attrs; a->name; a++) {
			char want[256];
			snprintf(want, sizeof(want), "\n  %s%s ", pages[i].prefix, a->name);
			CHECK(strstr(text, want) != NULL);
			CHECK(!a->type || strstr(text, a->type));
			CHECK(a->doc && *a->doc);
		}
		CHECK(longest_line(text) <= 100);
		free(text);
	}
	/* the facts' type is built from the table */
	CHECK(!strcmp(stdlib_facts_type(),
	              "object(os: object(family: string, distribution: string, version: string, "
	              "codename: string, id: string), arch: string, hostname: string, kernel: "
	              "string)"));
}

/* kiln doc --json: every entry, every argument, with type, default and doc. */
static void test_json(void)
{
	json_t *doc = stdlib_doc_json(NULL);
	CHECK(doc != NULL);
	CHECK(json_integer_value(json_object_get(doc, "version")) == STDLIB_DOC_JSON_VERSION);
	static const char *const keys[N_KINDS] = {"modules", "bases", "outputs", "functions"};
	for (int k = 0; k < N_KINDS; k++) {
		const struct kiln_schema *const *list;
		size_t n = stdlib_all((enum kiln_schema_kind)k, &list);
		json_t *a = json_object_get(doc, keys[k]);
		CHECK(json_array_size(a) == n);
		for (size_t i = 0; i < n && i < json_array_size(a); i++) {
			json_t *e = json_array_get(a, i);
			CHECK(
			    !strcmp(json_string_value(json_object_get(e, "name")), list[i]->name));
			CHECK(!strcmp(json_string_value(json_object_get(e, "doc")), list[i]->doc));
			json_t *args = json_object_get(e, "args");
			size_t j = 0;
			for (const struct kiln_arg *x = list[i]->args; x->name; x++, j++) {
				json_t *ja = json_array_get(args, j);
				CHECK(!strcmp(json_string_value(json_object_get(ja, "name")),
				              x->name));
				CHECK(!strcmp(json_string_value(json_object_get(ja, "type")),
				              x->type));
				CHECK(json_is_boolean(json_object_get(ja, "required")));
				CHECK(json_object_get(ja, "default") != NULL);
				CHECK(x->def == NULL ||
				      !json_is_null(json_object_get(ja, "default")));
				CHECK(json_is_string(json_object_get(ja, "default_text")));
				CHECK(!strncmp(x->type, "enum(", 5) ==
				      !!json_object_get(ja, "enum"));
			}
			CHECK(j == json_array_size(args));
		}
	}
	/* apt's state: its enum values and its default */
	json_t *one = stdlib_doc_json("apt");
	json_t *apt = json_array_get(json_object_get(one, "modules"), 0);
	json_t *state = NULL;
	size_t i;
	json_t *v;
	json_array_foreach (json_object_get(apt, "args"), i, v)
		if (!strcmp(json_string_value(json_object_get(v, "name")), "state"))
			state = v;
	CHECK(state && json_array_size(json_object_get(state, "enum")) == 3);
	CHECK(state && !strcmp(json_string_value(json_object_get(state, "default")), "present"));
	CHECK(json_object_size(one) == 2); /* version and modules */
	json_decref(one);
	/* the language's sections */
	CHECK(json_array_size(json_object_get(doc, "keywords")) > 20);
	json_t *fact = json_array_get(json_object_get(doc, "facts"), 0);
	CHECK(!strcmp(json_string_value(json_object_get(fact, "name")), "facts.os.family"));
	CHECK(!strcmp(json_string_value(json_object_get(fact, "path")), "os.family"));
	json_t *conn = json_object_get(doc, "connection");
	json_array_foreach (conn, i, v)
		if (!strcmp(json_string_value(json_object_get(v, "name")), "connection"))
			CHECK(json_array_size(json_object_get(v, "enum")) == 2);
	json_t *cfg = stdlib_doc_json("config");
	CHECK(cfg && json_array_size(json_object_get(cfg, "config")) > 5 &&
	      json_object_size(cfg) == 2);
	json_decref(cfg);
	CHECK(stdlib_doc_json("no-such-thing") == NULL);
	json_decref(doc);
}

int main(void)
{
	test_list();
	test_pages();
	test_lang_pages();
	test_json();
	if (getenv("KILN_TEST_VERBOSE")) {
		stdlib_doc_list(stdout);
		for (const char *const *n =
		         (const char *const[]){"apt", "file", "format", "debian", "tar", NULL};
		     *n; n++) {
			putchar('\n');
			stdlib_doc_page(stdout, *n);
		}
	}
	return CHECK_DONE();
}
