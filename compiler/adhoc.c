/*
 * adhoc: kiln run's task as .img text, and Ansible's host patterns; see adhoc.h.
 */
#include "adhoc.h"

#include "host_pattern.h"

#include "arena.h"
#include "builtins.h"
#include "diag.h"
#include "plan_format.h"
#include "strbuf.h"

#include <ctype.h>
#include <fnmatch.h>
#include <regex.h>
#include <stdlib.h>
#include <string.h>

/* ---- words ------------------------------------------------------------------------ */

struct word {
	char *raw;   /* as written, quotes kept */
	char *key;   /* key=value: the key; NULL for a free-form word */
	char *value; /* unquoted: the value after '=', or the whole word */
};

static bool is_ident(const char *s, size_t n)
{
	if (!n || !(isalpha((unsigned char)s[0]) || s[0] == '_'))
		return false;
	for (size_t i = 1; i < n; i++)
		if (!(isalnum((unsigned char)s[i]) || s[i] == '_'))
			return false;
	return true;
}

static void words_free(struct word *w, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(w[i].raw);
		free(w[i].key);
		free(w[i].value);
	}
	free(w);
}

/* Split s as Ansible's parse_kv does (see adhoc.h). NULL with *ret_err on a bad quote. */
static struct word *split_words(const char *s, size_t *ret_n, char **ret_err)
{
	struct word *v = NULL;
	size_t n = 0;
	const char *p = s;
	for (;;) {
		while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
			p++;
		if (!*p)
			break;
		const char *start = p;
		struct strbuf sb = STRBUF_INIT;
		char quote = 0;
		bool plain = true; /* no quote or escape yet: a '=' can end a key */
		ssize_t eq = -1;   /* where the key ends in sb */
		for (; *p && (quote || !strchr(" \t\n\r", *p)); p++) {
			char c = *p;
			if (quote) {
				if (c == quote) {
					quote = 0;
				} else if (c == '\\' && (p[1] == quote || p[1] == '\\')) {
					sb_addc(&sb, *++p);
				} else {
					sb_addc(&sb, c);
				}
			} else if (c == '\'' || c == '"') {
				quote = c;
				plain = false;
			} else if (c == '\\' && p[1]) {
				sb_addc(&sb, *++p);
				plain = false;
			} else if (c == '=' && plain && eq < 0) {
				eq = (ssize_t)sb.len;
				sb_addc(&sb, c);
			} else {
				sb_addc(&sb, c);
			}
		}
		if (quote) {
			sb_release(&sb);
			words_free(v, n);
			*ret_err = xasprintf(
			    "-a: the %c quote that starts at '%.20s' is not closed", quote, start);
			return NULL;
		}
		sb_add(&sb, "", 0);
		v = xrealloc(v, (n + 1) * sizeof(*v));
		struct word *w = &v[n++];
		*w = (struct word){.raw = xstrndup(start, (size_t)(p - start))};
		if (eq > 0 && is_ident(sb.buf, (size_t)eq)) {
			w->key = xstrndup(sb.buf, (size_t)eq);
			w->value = xstrdup(sb.buf + eq + 1);
			sb_release(&sb);
		} else {
			w->value = sb_detach(&sb);
		}
	}
	*ret_n = n;
	return v;
}

/* ---- values ------------------------------------------------------------------------ */

/* The alternatives of a type ("string|list<string>"), split where no <> or () is open. */
static size_t type_alts(const char *type, char alts[][64], size_t max)
{
	size_t n = 0;
	int depth = 0;
	const char *start = type;
	for (const char *p = type;; p++) {
		if (*p == '<' || *p == '(')
			depth++;
		else if (*p == '>' || *p == ')')
			depth--;
		if ((*p == '|' && depth == 0) || !*p) {
			if (n < max)
				snprintf(alts[n++], 64, "%.*s", (int)(p - start), start);
			start = p + 1;
		}
		if (!*p)
			break;
	}
	return n;
}

static bool has_alt(char alts[][64], size_t n, const char *prefix)
{
	for (size_t i = 0; i < n; i++)
		if (!strncmp(alts[i], prefix, strlen(prefix)))
			return true;
	return false;
}

static void add_string(struct strbuf *sb, const char *s)
{
	sb_addc(sb, '"');
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		switch (*p) {
		case '"':
			sb_adds(sb, "\\\"");
			break;
		case '\\':
			sb_adds(sb, "\\\\");
			break;
		case '$':
			sb_adds(sb, "\\$");
			break;
		case '\n':
			sb_adds(sb, "\\n");
			break;
		case '\t':
			sb_adds(sb, "\\t");
			break;
		case '\r':
			sb_adds(sb, "\\r");
			break;
		default:
			if (*p < 0x20)
				sb_addf(sb, "\\u{%x}", *p);
			else
				sb_addc(sb, (char)*p);
		}
	}
	sb_addc(sb, '"');
}

static void add_json(struct strbuf *sb, json_t *j)
{
	size_t i;
	json_t *x;
	const char *k;
	switch (json_typeof(j)) {
	case JSON_STRING:
		add_string(sb, json_string_value(j));
		break;
	case JSON_INTEGER:
		sb_addf(sb, "%lld", (long long)json_integer_value(j));
		break;
	case JSON_REAL: {
		char *t = xasprintf("%.17g", json_real_value(j));
		add_string(sb, t);
		free(t);
		break;
	}
	case JSON_TRUE:
		sb_adds(sb, "true");
		break;
	case JSON_FALSE:
		sb_adds(sb, "false");
		break;
	case JSON_NULL:
		sb_adds(sb, "null");
		break;
	case JSON_ARRAY:
		sb_addc(sb, '[');
		json_array_foreach (j, i, x) {
			if (i)
				sb_adds(sb, ", ");
			add_json(sb, x);
		}
		sb_addc(sb, ']');
		break;
	case JSON_OBJECT:
		sb_addc(sb, '{');
		i = 0;
		json_object_foreach (j, k, x) {
			sb_adds(sb, i++ ? ", " : " ");
			if (is_ident(k, strlen(k)))
				sb_adds(sb, k);
			else
				add_string(sb, k);
			sb_adds(sb, " = ");
			add_json(sb, x);
		}
		sb_adds(sb, i ? " }" : "}");
		break;
	}
}

static int bool_word(const char *v)
{
	static const char *const yes[] = {"yes", "true", "on", "1", "y", NULL};
	static const char *const no[] = {"no", "false", "off", "0", "n", NULL};
	for (size_t i = 0; yes[i]; i++)
		if (!strcasecmp(v, yes[i]))
			return 1;
	for (size_t i = 0; no[i]; i++)
		if (!strcasecmp(v, no[i]))
			return 0;
	return -1;
}

static bool int_word(const char *v)
{
	const char *p = v + (*v == '-' || *v == '+');
	if (!*p || strlen(p) > 18)
		return false;
	for (; *p; p++)
		if (!isdigit((unsigned char)*p))
			return false;
	return true;
}

/* The kiln value of an argument of the given type (NULL: unknown argument), as Ansible
   converts k=v strings to the types of a module's argument spec. A value that does not
   convert stays a string: the checker then reports the mismatch. */
static void add_value(struct strbuf *sb, const char *type, const char *v)
{
	char alts[8][64];
	size_t n = type ? type_alts(type, alts, 8) : 0;
	bool list = has_alt(alts, n, "list<"), map = has_alt(alts, n, "map<") ||
	                                             has_alt(alts, n, "object") ||
	                                             has_alt(alts, n, "any");
	if ((v[0] == '[' && (list || map)) || (v[0] == '{' && map)) {
		json_t *j = json_loads(v, JSON_DECODE_ANY, NULL);
		if (j) {
			add_json(sb, j);
			json_decref(j);
			return;
		}
	}
	if (has_alt(alts, n, "bool") && bool_word(v) >= 0) {
		sb_adds(sb, bool_word(v) ? "true" : "false");
		return;
	}
	if (has_alt(alts, n, "int") && int_word(v)) {
		sb_addf(sb, "%lld", strtoll(v, NULL, 10));
		return;
	}
	bool stringish = has_alt(alts, n, "string") || has_alt(alts, n, "path") ||
	                 has_alt(alts, n, "secret") || has_alt(alts, n, "enum");
	if (list && (!stringish || strchr(v, ','))) {
		/* a,b,c: the element type is the list's */
		const char *elem = NULL;
		for (size_t i = 0; i < n && !elem; i++)
			if (!strncmp(alts[i], "list<", 5))
				elem = alts[i] + 5;
		char *et = xstrndup(elem, strlen(elem) - 1);
		sb_addc(sb, '[');
		for (const char *p = v;; p++) {
			size_t len = strcspn(p, ",");
			char *item = xstrndup(p, len);
			if (p != v)
				sb_adds(sb, ", ");
			add_value(sb, et, item);
			free(item);
			p += len;
			if (!*p)
				break;
		}
		sb_addc(sb, ']');
		free(et);
		return;
	}
	add_string(sb, v);
}

char *adhoc_source(const struct adhoc_opts *o, char **ret_err)
{
	*ret_err = NULL;
	const struct kiln_schema *s = stdlib_lookup(SCHEMA_MODULE, o->module);
	if (!s) {
		size_t n;
		const char *const *names = stdlib_names(SCHEMA_MODULE, &n);
		const char *best = diag_closest(names, n, o->module);
		*ret_err = best ? xasprintf("no module '%s'; did you mean '%s'?", o->module, best)
		                : xasprintf("no module '%s' ('kiln doc' lists them)", o->module);
		return NULL;
	}
	size_t n = 0;
	struct word *w = o->args ? split_words(o->args, &n, ret_err) : NULL;
	if (*ret_err)
		return NULL;
	/* the free form: a module whose label is its command line takes the words that are
	   not its arguments as that command line, as Ansible's command and shell do */
	const char *label = s->label;
	const struct kiln_arg *label_arg = label ? stdlib_arg(s, label) : NULL;
	bool free_form = label_arg && !strcmp(label, "cmd");
	struct strbuf raw = STRBUF_INIT;
	for (size_t i = 0; i < n; i++) {
		if (w[i].key && (!free_form || stdlib_arg(s, w[i].key)))
			continue;
		if (!free_form) {
			*ret_err =
			    xasprintf("-a: '%s' is not a key=value argument, and module '%s' "
			              "takes no free-form text ('kiln doc %s' lists its "
			              "arguments)",
			              w[i].raw, s->name, s->name);
			sb_release(&raw);
			words_free(w, n);
			return NULL;
		}
		if (raw.len)
			sb_addc(&raw, ' ');
		sb_adds(&raw, w[i].raw);
	}
	struct strbuf sb = STRBUF_INIT;
	sb_adds(&sb, "apply all {\n");
	if (o->become)
		sb_adds(&sb, "  become = true\n");
	if (o->user) {
		sb_adds(&sb, "  user = ");
		add_string(&sb, o->user);
		sb_addc(&sb, '\n');
	}
	if (o->known_hosts) {
		sb_adds(&sb, "  known_hosts = ");
		add_string(&sb, o->known_hosts);
		sb_addc(&sb, '\n');
	}
	sb_addf(&sb, "  %s {\n", s->name);
	if (raw.len) {
		sb_addf(&sb, "    %s = ", label);
		add_string(&sb, raw.buf);
		sb_addc(&sb, '\n');
	}
	for (size_t i = 0; i < n; i++) {
		if (!w[i].key || (free_form && !stdlib_arg(s, w[i].key)))
			continue;
		const struct kiln_arg *a = stdlib_arg(s, w[i].key);
		sb_addf(&sb, "    %s = ", w[i].key);
		add_value(&sb, a ? a->type : NULL, w[i].value);
		sb_addc(&sb, '\n');
	}
	sb_adds(&sb, "  }\n}\n");
	sb_release(&raw);
	words_free(w, n);
	return sb_detach(&sb);
}

/* ---- host patterns ------------------------------------------------------------------ */

/* Ansible's host patterns are plan/host_pattern.c's, as for kiln apply --limit. */
int adhoc_limit(json_t *plan, const char *pattern, char **ret_err)
{
	json_t *groups = json_object_get(plan, PLAN_K_GROUPS);
	struct rt_error err = {0};
	json_t *chosen = host_pattern_select(groups, pattern, &err);
	if (!chosen) {
		*ret_err = xstrdup(err.msg);
		return -1;
	}
	json_t *set = json_object();
	size_t i;
	json_t *h;
	json_array_foreach (chosen, i, h) {
		json_object_set_new(set, json_string_value(h), json_true());
	}
	const char *k;
	json_t *g;
	json_object_foreach (groups, k, g) {
		json_t *hosts = json_object_get(g, PLAN_K_HOSTS);
		void *tmp;
		const char *name;
		json_t *x;
		json_object_foreach_safe(hosts, tmp, name, x)
		{
			if (!json_object_get(set, name))
				json_object_del(hosts, name);
		}
	}
	json_decref(set);
	json_decref(chosen);
	return 0;
}

static void list_hosts(json_t *groups, const char *name, json_t *seen, json_t *out, int depth)
{
	json_t *g = json_object_get(groups, name);
	if (!g || depth > 64)
		return;
	const char *h;
	json_t *x;
	json_object_foreach (json_object_get(g, PLAN_K_HOSTS), h, x) {
		if (!json_object_get(seen, h)) {
			json_object_set_new(seen, h, json_true());
			json_array_append_new(out, json_string(h));
		}
	}
	size_t i;
	json_array_foreach (json_object_get(g, PLAN_K_CHILDREN), i, x) {
		if (json_is_string(x))
			list_hosts(groups, json_string_value(x), seen, out, depth + 1);
	}
}

json_t *adhoc_hosts(json_t *plan, const char *group)
{
	json_t *seen = json_object(), *out = json_array();
	list_hosts(json_object_get(plan, PLAN_K_GROUPS), group, seen, out, 0);
	json_decref(seen);
	return out;
}
