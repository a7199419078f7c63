/* inventory: Ansible INI inventories; see inventory.h. */
#include "inventory.h"

#include "arena.h"
#include "plan_format.h"
#include "plan_view.h"
#include "strbuf.h"
#include "utf8.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Groups: name -> {"hosts": [..], "children": [..], "parents": [..], "vars": {..},
   "priority": N}; hosts: name -> {"vars": {..}, "groups": [..]} (the groups it is
   listed in). Both keep the order things were first seen, as Ansible does. */
struct inventory {
	json_t *groups, *hosts;
	char *source;
	bool reconciled; /* nothing was read since the last reconcile() */
	bool plan_names; /* group names must be names of the language (a build's inventory) */
};

struct reader {
	struct inventory *inv;
	json_t *pending; /* Ansible's pending declarations: name -> {line, state, parents} */
	uint32_t line, col;
	char *msg;
};

static bool fail(struct reader *r, const char *line, const char *at, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static bool fail(struct reader *r, const char *line, const char *at, const char *fmt, ...)
{
	if (r->msg)
		return false;
	va_list ap;
	va_start(ap, fmt);
	struct strbuf sb = STRBUF_INIT;
	char tmp[512];
	vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	sb_adds(&sb, tmp);
	r->msg = sb_detach(&sb);
	r->col = (uint32_t)(at && line && at >= line ? at - line : 0) + 1;
	return false;
}

/* ---- groups and hosts ------------------------------------------------------------ */

static bool arr_has(json_t *a, const char *s)
{
	size_t i;
	json_t *v;
	json_array_foreach (a, i, v) {
		if (!strcmp(json_string_value(v), s))
			return true;
	}
	return false;
}

static void arr_del(json_t *a, const char *s)
{
	for (size_t i = 0; i < json_array_size(a); i++) {
		if (!strcmp(json_string_value(json_array_get(a, i)), s)) {
			json_array_remove(a, i);
			return;
		}
	}
}

static json_t *add_group(struct inventory *inv, const char *name)
{
	json_t *g = json_object_get(inv->groups, name);
	if (!g) {
		g = json_pack("{s:[],s:[],s:[],s:{},s:i,s:s}", "hosts", "children", "parents",
		              "vars", "priority", 1, "source", inv->source ? inv->source : "");
		json_object_set_new(inv->groups, name, g);
	}
	return g;
}

static bool is_descendant(struct inventory *inv, const char *of, const char *name, int depth)
{
	json_t *g = json_object_get(inv->groups, of);
	size_t i;
	json_t *c;
	if (depth > 1000)
		return true;
	json_array_foreach (json_object_get(g, "children"), i, c) {
		if (!strcmp(json_string_value(c), name) ||
		    is_descendant(inv, json_string_value(c), name, depth + 1))
			return true;
	}
	return false;
}

static bool add_child(struct reader *r, const char *line, const char *parent, const char *child)
{
	struct inventory *inv = r->inv;
	json_t *p = add_group(inv, parent), *c = add_group(inv, child);
	if (arr_has(json_object_get(p, "children"), child))
		return true;
	if (!strcmp(parent, child) || is_descendant(inv, child, parent, 0))
		return fail(r, line, line,
		            "group '%s' cannot be a child of '%s': '%s' is already inside '%s' "
		            "(a loop); remove one of the two [..:children] lines",
		            child, parent, parent, child);
	json_array_append_new(json_object_get(p, "children"), json_string(child));
	json_array_append_new(json_object_get(c, "parents"), json_string(parent));
	return true;
}

static void add_host(struct inventory *inv, const char *host, const char *group, long long port)
{
	json_t *h = json_object_get(inv->hosts, host);
	if (!h) {
		h = json_pack("{s:{},s:[]}", "vars", "groups");
		if (port > 0) /* Ansible sets the port when it first sees the host */
			json_object_set_new(json_object_get(h, "vars"), "ansible_port",
			                    json_integer(port));
		json_object_set_new(inv->hosts, host, h);
	}
	json_t *g = add_group(inv, group);
	json_t *set = json_object_get(g, "hostset");
	if (!set) {
		set = json_object();
		json_object_set_new(g, "hostset", set);
	}
	if (!json_object_get(set, host)) {
		json_object_set_new(set, host, json_true());
		json_array_append_new(json_object_get(g, "hosts"), json_string(host));
		json_array_append_new(json_object_get(h, "groups"), json_string(group));
	}
}

/* The groups a host is in: those it is listed in and their ancestors (name -> null). */
static void ancestors(struct inventory *inv, const char *group, json_t *out, int depth)
{
	if (json_object_get(out, group) || depth > 1000)
		return;
	json_object_set_new(out, group, json_null());
	size_t i;
	json_t *p;
	json_array_foreach (json_object_get(json_object_get(inv->groups, group), "parents"), i, p) {
		ancestors(inv, json_string_value(p), out, depth + 1);
	}
}

static json_t *host_groups(struct inventory *inv, const char *host)
{
	json_t *out = json_object();
	size_t i;
	json_t *g;
	json_array_foreach (json_object_get(json_object_get(inv->hosts, host), "groups"), i, g) {
		ancestors(inv, json_string_value(g), out, 0);
	}
	return out;
}

/* The longest way down from 'all': Ansible's group depth. */
static int depth_of(struct inventory *inv, const char *group, int guard)
{
	int d = 0;
	size_t i;
	json_t *p;
	if (guard > 1000)
		return 0;
	json_array_foreach (json_object_get(json_object_get(inv->groups, group), "parents"), i, p) {
		int pd = depth_of(inv, json_string_value(p), guard + 1) + 1;
		if (pd > d)
			d = pd;
	}
	return d;
}

/* What Ansible does after each source: groups without a parent go under 'all', hosts
   in no group under 'ungrouped', and 'ungrouped' lets go of hosts that have a group. */
static void reconcile(struct inventory *inv)
{
	struct reader rd = {.inv = inv}, *r = &rd;
	if (inv->reconciled)
		return;
	inv->reconciled = true;
	const char *name;
	json_t *v;
	json_object_foreach (inv->groups, name, v) {
		if (strcmp(name, "all") && json_array_size(json_object_get(v, "parents")) == 0)
			add_child(r, NULL, "all", name);
	}
	json_object_foreach (inv->hosts, name, v) {
		json_t *mine = host_groups(inv, name);
		if (json_object_get(mine, "ungrouped")) {
			if (json_object_size(mine) > 1 + (json_object_get(mine, "all") != NULL)) {
				json_t *ug = json_object_get(inv->groups, "ungrouped");
				arr_del(json_object_get(ug, "hosts"), name);
				json_object_del(json_object_get(ug, "hostset"), name);
				arr_del(json_object_get(v, "groups"), "ungrouped");
			}
		} else if (json_object_size(mine) == 0 ||
		           (json_object_size(mine) == 1 && json_object_get(mine, "all"))) {
			add_host(inv, name, "ungrouped", 0);
		}
		json_decref(mine);
	}
	free(rd.msg);
}

struct inventory *inventory_new(void)
{
	struct inventory *inv = xmalloc(sizeof(*inv));
	inv->source = NULL;
	inv->reconciled = false;
	inv->plan_names = false;
	inv->groups = json_object();
	inv->hosts = json_object();
	add_group(inv, "all");
	add_group(inv, "ungrouped");
	json_array_append_new(json_object_get(json_object_get(inv->groups, "all"), "children"),
	                      json_string("ungrouped"));
	json_array_append_new(json_object_get(json_object_get(inv->groups, "ungrouped"), "parents"),
	                      json_string("all"));
	return inv;
}

void inventory_free(struct inventory *inv)
{
	if (!inv)
		return;
	json_decref(inv->groups);
	json_decref(inv->hosts);
	free(inv->source);
	free(inv);
}

void inventory_require_names(struct inventory *inv)
{
	inv->plan_names = true;
}

/* A build names its groups (apply NAME, hosts { NAME }), and so does its plan. */
static bool plan_group_name(struct reader *r, const char *line, const char *at, const char *name)
{
	if (!r->inv->plan_names || plan_is_identifier(name))
		return true;
	return fail(r, line, at,
	            "'%s' is not a group name: letters, digits, '_' and '-', not starting "
	            "with a digit or '-' ([A-Za-z_][A-Za-z0-9_-]*); rename the group",
	            name);
}

void inventory_set_source(struct inventory *inv, const char *source)
{
	free(inv->source);
	inv->source = xstrdup(source);
	/* 'all' and 'ungrouped' come from the first inventory read */
	const char *name;
	json_t *g;
	json_object_foreach (inv->groups, name, g) {
		if (!*json_string_value(json_object_get(g, "source")))
			json_object_set_new(g, "source", json_string(source));
	}
}

/* ---- values: Python literals, as ast.literal_eval reads them ------------------------ */

struct lit {
	const char *s;
	size_t i, n;
	int depth;
};

static void lit_ws(struct lit *l)
{
	while (l->i < l->n) {
		char c = l->s[l->i];
		if (c == ' ' || c == '\t' || c == '\f')
			l->i++;
		else if (c == '#')
			l->i = l->n;
		else
			break;
	}
}

static bool ident_char(unsigned char c)
{
	return isalnum(c) || c == '_' || c >= 0x80;
}

static json_t *lit_expr(struct lit *l);

/* digits with single underscores between them; appends the digits to sb */
static bool lit_digits(struct lit *l, struct strbuf *sb, int (*ok)(int))
{
	size_t start = l->i;
	while (l->i < l->n) {
		char c = l->s[l->i];
		if (ok((unsigned char)c)) {
			sb_addc(sb, c);
			l->i++;
		} else if (c == '_' && l->i > start && l->i + 1 < l->n &&
		           ok((unsigned char)l->s[l->i + 1])) {
			l->i++;
		} else {
			break;
		}
	}
	return l->i > start;
}

static int is_oct(int c)
{
	return c >= '0' && c <= '7';
}
static int is_bin(int c)
{
	return c == '0' || c == '1';
}

static json_t *lit_number(struct lit *l, bool neg)
{
	struct strbuf sb = STRBUF_INIT;
	json_t *out = NULL;
	const char *s = l->s;
	if (neg)
		sb_addc(&sb, '-');
	if (s[l->i] == '0' && l->i + 1 < l->n && strchr("xXoObB", s[l->i + 1])) {
		char k = (char)tolower((unsigned char)s[l->i + 1]);
		l->i += 2;
		if (l->i < l->n && s[l->i] == '_')
			l->i++;
		if (!lit_digits(l, &sb, k == 'x' ? isxdigit : k == 'o' ? is_oct : is_bin))
			goto done;
		if (l->i < l->n && ident_char((unsigned char)s[l->i]))
			goto done;
		errno = 0;
		char *end;
		long long v = strtoll(sb.buf, &end, k == 'x' ? 16 : k == 'o' ? 8 : 2);
		if (!errno && !*end)
			out = json_integer(v);
		goto done;
	}
	bool is_float = false;
	size_t int_start = sb.len;
	if (s[l->i] != '.' && !lit_digits(l, &sb, isdigit))
		goto done;
	size_t int_len = sb.len - int_start;
	if (l->i < l->n && s[l->i] == '.') {
		is_float = true;
		sb_addc(&sb, '.');
		l->i++;
		if (l->i < l->n && isdigit((unsigned char)s[l->i]))
			lit_digits(l, &sb, isdigit);
		else if (int_len == 0)
			goto done;
	}
	if (l->i < l->n && (s[l->i] == 'e' || s[l->i] == 'E')) {
		is_float = true;
		sb_addc(&sb, 'e');
		l->i++;
		if (l->i < l->n && (s[l->i] == '+' || s[l->i] == '-'))
			sb_addc(&sb, s[l->i++]);
		if (!lit_digits(l, &sb, isdigit))
			goto done;
	}
	if (l->i < l->n && ident_char((unsigned char)s[l->i]))
		goto done; /* 1a, 1j (complex): not a literal kiln types */
	errno = 0;
	char *end;
	if (is_float) {
		double d = strtod(sb.buf, &end);
		if (!*end)
			out = json_real(d);
		goto done;
	}
	/* a decimal int: no leading zeros, except 0 itself (Python's rule) */
	const char *digits = sb.buf + int_start;
	if (digits[0] == '0' && strspn(digits, "0") != strlen(digits))
		goto done;
	long long v = strtoll(sb.buf, &end, 10);
	if (!errno && !*end)
		out = json_integer(v);
done:
	sb_release(&sb);
	return out;
}

static void put_utf8(struct strbuf *sb, unsigned long cp)
{
	if (cp < 0x80) {
		sb_addc(sb, (char)cp);
	} else if (cp < 0x800) {
		sb_addc(sb, (char)(0xc0 | (cp >> 6)));
		sb_addc(sb, (char)(0x80 | (cp & 0x3f)));
	} else if (cp < 0x10000) {
		sb_addc(sb, (char)(0xe0 | (cp >> 12)));
		sb_addc(sb, (char)(0x80 | ((cp >> 6) & 0x3f)));
		sb_addc(sb, (char)(0x80 | (cp & 0x3f)));
	} else {
		sb_addc(sb, (char)(0xf0 | (cp >> 18)));
		sb_addc(sb, (char)(0x80 | ((cp >> 12) & 0x3f)));
		sb_addc(sb, (char)(0x80 | ((cp >> 6) & 0x3f)));
		sb_addc(sb, (char)(0x80 | (cp & 0x3f)));
	}
}

static bool hexn(const char *s, size_t avail, int n, unsigned long *v)
{
	if ((size_t)n > avail)
		return false;
	*v = 0;
	for (int k = 0; k < n; k++) {
		if (!isxdigit((unsigned char)s[k]))
			return false;
		*v = *v * 16 + (unsigned long)(isdigit((unsigned char)s[k])
		                                   ? s[k] - '0'
		                                   : tolower((unsigned char)s[k]) - 'a' + 10);
	}
	return true;
}

/* One string literal with its prefix (r, u, b, rb, br); *kind is 'b' for bytes. */
static bool lit_string1(struct lit *l, struct strbuf *sb, char *kind)
{
	const char *s = l->s;
	bool raw = false, bytes = false;
	size_t i = l->i;
	while (i < l->n && i - l->i < 2 && strchr("rRuUbB", s[i])) {
		char c = (char)tolower((unsigned char)s[i]);
		raw |= c == 'r';
		bytes |= c == 'b';
		i++;
	}
	if (i >= l->n || (s[i] != '\'' && s[i] != '"'))
		return false;
	char q = s[i];
	bool triple = i + 2 < l->n && s[i + 1] == q && s[i + 2] == q;
	i += triple ? 3 : 1;
	for (;;) {
		if (i >= l->n)
			return false;
		char c = s[i];
		if (c == q && (!triple || (i + 2 < l->n && s[i + 1] == q && s[i + 2] == q))) {
			i += triple ? 3 : 1;
			break;
		}
		if (c == '\\' && i + 1 < l->n) {
			char e = s[i + 1];
			if (raw) {
				sb_addc(sb, c);
				sb_addc(sb, e);
				i += 2;
				continue;
			}
			const char *simple = "\\\\''\"\"a\ab\bf\fn\nr\rt\tv\v";
			const char *m = NULL;
			for (const char *p = simple; *p; p += 2)
				if (*p == e) {
					m = p;
					break;
				}
			unsigned long cp;
			if (m) {
				sb_addc(sb, m[1]);
				i += 2;
			} else if (e >= '0' && e <= '7') {
				cp = 0;
				int k = 0;
				i++;
				while (k < 3 && i < l->n && s[i] >= '0' && s[i] <= '7') {
					cp = cp * 8 + (unsigned long)(s[i] - '0');
					i++;
					k++;
				}
				if (bytes)
					sb_addc(sb, (char)cp);
				else
					put_utf8(sb, cp);
			} else if (e == 'x') {
				if (!hexn(s + i + 2, l->n - i - 2, 2, &cp))
					return false;
				if (bytes)
					sb_addc(sb, (char)cp);
				else
					put_utf8(sb, cp);
				i += 4;
			} else if (!bytes && (e == 'u' || e == 'U')) {
				int n = e == 'u' ? 4 : 8;
				if (!hexn(s + i + 2, l->n - i - 2, n, &cp) || cp > 0x10ffff ||
				    (cp >= 0xd800 && cp < 0xe000))
					return false;
				put_utf8(sb, cp);
				i += 2 + (size_t)n;
			} else if (!bytes && e == 'N') {
				return false; /* \N{NAME}: kiln does not know Unicode's names */
			} else {
				sb_addc(sb, c);
				sb_addc(sb, e);
				i += 2;
			}
			continue;
		}
		if (bytes && (unsigned char)c >= 0x80)
			return false;
		sb_addc(sb, c);
		i++;
	}
	l->i = i;
	*kind = bytes ? 'b' : 's';
	return true;
}

static json_t *lit_strings(struct lit *l)
{
	struct strbuf sb = STRBUF_INIT;
	char kind = 0, k;
	json_t *out = NULL;
	if (!lit_string1(l, &sb, &kind))
		goto done;
	for (;;) { /* adjacent literals are one: 'a' "b" */
		size_t save = l->i;
		lit_ws(l);
		if (l->i < l->n && lit_string1(l, &sb, &k)) {
			if (k != kind)
				goto done;
			continue;
		}
		l->i = save;
		break;
	}
	out = json_stringn(sb.buf ? sb.buf : "", sb.len);
done:
	sb_release(&sb);
	return out;
}

static bool lit_peek(struct lit *l, char c)
{
	lit_ws(l);
	return l->i < l->n && l->s[l->i] == c;
}

/* elements up to `close`, with an optional trailing comma */
static json_t *lit_seq(struct lit *l, char close, bool *one_bare)
{
	json_t *a = json_array();
	*one_bare = false;
	bool comma = false;
	while (!lit_peek(l, close)) {
		json_t *v = lit_expr(l);
		if (!v)
			goto bad;
		json_array_append_new(a, v);
		comma = lit_peek(l, ',');
		if (comma)
			l->i++;
		else if (!lit_peek(l, close))
			goto bad;
	}
	l->i++;
	*one_bare = json_array_size(a) == 1 && !comma;
	return a;
bad:
	json_decref(a);
	return NULL;
}

static json_t *lit_dict(struct lit *l)
{
	json_t *d = json_object();
	while (!lit_peek(l, '}')) {
		json_t *k = lit_expr(l);
		if (!k || !lit_peek(l, ':')) {
			json_decref(k);
			goto bad;
		}
		l->i++;
		json_t *v = lit_expr(l);
		if (!v) {
			json_decref(k);
			goto bad;
		}
		/* keys as Python's json writes them */
		char *key = NULL;
		if (json_is_string(k))
			key = xstrdup(json_string_value(k));
		else if (json_is_integer(k))
			key = xasprintf("%lld", (long long)json_integer_value(k));
		else if (json_is_boolean(k))
			key = xstrdup(json_is_true(k) ? "true" : "false");
		else if (json_is_null(k))
			key = xstrdup("null");
		json_decref(k);
		if (!key) {
			json_decref(v);
			goto bad;
		}
		json_object_set_new(d, key, v);
		free(key);
		if (lit_peek(l, ','))
			l->i++;
		else if (!lit_peek(l, '}'))
			goto bad;
	}
	l->i++;
	return d;
bad:
	json_decref(d);
	return NULL;
}

static json_t *lit_atom1(struct lit *l)
{
	lit_ws(l);
	if (l->i >= l->n)
		return NULL;
	const char *s = l->s + l->i;
	char c = *s;
	bool bare;
	if (c == '[') {
		l->i++;
		return lit_seq(l, ']', &bare);
	}
	if (c == '(') {
		l->i++;
		json_t *a = lit_seq(l, ')', &bare);
		if (a && bare) { /* (x) is x; (x,) is a tuple */
			json_t *v = json_incref(json_array_get(a, 0));
			json_decref(a);
			return v;
		}
		return a;
	}
	if (c == '{') {
		l->i++;
		return lit_dict(l);
	}
	if (c == '+' || c == '-') {
		l->i++;
		lit_ws(l);
		if (l->i < l->n && (isdigit((unsigned char)l->s[l->i]) || l->s[l->i] == '.'))
			return lit_number(l, c == '-');
		return NULL;
	}
	if (isdigit((unsigned char)c) ||
	    (c == '.' && l->i + 1 < l->n && isdigit((unsigned char)s[1])))
		return lit_number(l, false);
	if (ident_char((unsigned char)c)) {
		json_t *str = lit_strings(l);
		if (str)
			return str;
		size_t k = 0;
		while (l->i + k < l->n && ident_char((unsigned char)s[k]))
			k++;
		l->i += k;
		if (k == 4 && !memcmp(s, "True", 4))
			return json_true();
		if (k == 5 && !memcmp(s, "False", 5))
			return json_false();
		if (k == 4 && !memcmp(s, "None", 4))
			return json_null();
		return NULL;
	}
	if (c == '\'' || c == '"')
		return lit_strings(l);
	return NULL;
}

/* one element; nesting deeper than 100 is not read as a literal */
static json_t *lit_expr(struct lit *l)
{
	if (++l->depth > 100) {
		l->depth--;
		return NULL;
	}
	json_t *v = lit_atom1(l);
	l->depth--;
	return v;
}

/* Ansible's _parse_value: a Python literal, or the text itself. */
static json_t *typed_value(const char *v)
{
	struct lit l = {v, 0, strlen(v), 0};
	json_t *first = lit_expr(&l);
	if (first && lit_peek(&l, ',')) {
		json_t *a = json_array();
		json_array_append_new(a, first);
		first = a;
		while (lit_peek(&l, ',')) {
			l.i++;
			lit_ws(&l);
			if (l.i >= l.n)
				break;
			json_t *e = lit_expr(&l);
			if (!e) {
				json_decref(a);
				first = NULL;
				break;
			}
			json_array_append_new(a, e);
		}
	}
	lit_ws(&l);
	if (first && l.i == l.n)
		return first;
	json_decref(first);
	return json_string(v);
}

/* ---- host patterns ------------------------------------------------------------------ */

/* [a:f], [1:9] or [01:50:2] at s: its length, or 0 (Ansible's alphanumeric_range) */
static size_t range_len(const char *s, bool hex)
{
	size_t i = 1;
	if (s[0] != '[')
		return 0;
	if (!hex && isalpha((unsigned char)s[1]) && s[2] == ':' && isalpha((unsigned char)s[3])) {
		i = 4;
	} else {
		int (*ok)(int) = hex ? isxdigit : isdigit;
		size_t a = i;
		while (ok((unsigned char)s[i]))
			i++;
		if (i == a || s[i] != ':')
			return 0;
		a = ++i;
		while (ok((unsigned char)s[i]))
			i++;
		if (i == a)
			return 0;
	}
	if (s[i] == ':') {
		size_t a = ++i;
		while (isdigit((unsigned char)s[i]))
			i++;
		if (i == a)
			return 0;
	}
	return s[i] == ']' ? i + 1 : 0;
}

static bool word_char(unsigned char c)
{
	return isalnum(c) || c == '_' || c >= 0x80;
}

/* Ansible's hostname pattern: dot-separated labels of word characters, '-' and
   ranges, not starting with '-' nor ending with '-' or '_' */
static bool is_hostname(const char *s)
{
	size_t i = 0, k;
	for (;;) {
		if ((k = range_len(s + i, false)))
			i += k;
		else if (word_char((unsigned char)s[i]))
			i++;
		else
			return false;
		for (;;) {
			if ((k = range_len(s + i, false)))
				i += k;
			else if (word_char((unsigned char)s[i]) || s[i] == '-')
				i++;
			else
				break;
		}
		if (s[i - 1] == '-' || s[i - 1] == '_')
			return false;
		if (s[i] == '.')
			i++;
		else
			return s[i] == '\0';
	}
}

/* loosely Ansible's IPv6 pattern: hex groups, ':' and '.', and hex ranges */
static bool is_ipv6(const char *s)
{
	int colons = 0;
	for (size_t i = 0, k; s[i];) {
		if ((k = range_len(s + i, true))) {
			i += k;
			continue;
		}
		if (s[i] == ':')
			colons++;
		else if (!isxdigit((unsigned char)s[i]) && s[i] != '.')
			return false;
		i++;
	}
	return colons >= 2;
}

/* Ansible's parse_address: split host:port ([v6]:port) and check the host. Returns
   false when the text is no address (Ansible then keeps it whole, without a port). */
static bool parse_address(const char *text, char **ret_host, long long *ret_port)
{
	char *a = xstrdup(text);
	long long port = -1;
	size_t n = strlen(a);
	/* \[(.+)\]:([0-9]+)$ */
	size_t d = n;
	while (d > 0 && isdigit((unsigned char)a[d - 1]))
		d--;
	if (a[0] == '[' && d < n && d >= 4 && a[d - 1] == ':' && a[d - 2] == ']') {
		port = strtoll(a + d, NULL, 10);
		a[d - 2] = '\0';
		memmove(a, a + 1, d - 2);
		n = strlen(a);
	}
	/* ((?:[^:\[\]]|\[[^\]]*\])*):([0-9]+)$ */
	size_t i = 0;
	bool ok = true;
	while (i < n && a[i] != ':') {
		if (a[i] == '[') {
			char *close = strchr(a + i, ']');
			if (!close) {
				ok = false;
				break;
			}
			i = (size_t)(close - a) + 1;
		} else if (a[i] == ']') {
			ok = false;
			break;
		} else {
			i++;
		}
	}
	if (ok && i < n && a[i] == ':' && i + 1 < n &&
	    strspn(a + i + 1, "0123456789") == n - i - 1) {
		port = strtoll(a + i + 1, NULL, 10);
		a[i] = '\0';
	}
	if (!is_hostname(a) && !is_ipv6(a)) {
		free(a);
		return false;
	}
	*ret_host = a;
	*ret_port = port;
	return true;
}

static const char letters[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";

static bool all_digits(const char *s)
{
	return *s && strspn(s, "0123456789") == strlen(s);
}

/* Ansible's expand_hostname_range: the first [begin:end(:step)] in turn. */
static bool expand(struct reader *r, const char *line, const char *at, const char *pat, json_t *out,
                   int depth)
{
	const char *open = strchr(pat, '[');
	if (!open) {
		json_array_append_new(out, json_string(pat));
		return true;
	}
	if (depth > 16)
		return fail(r, line, at, "too many ranges in host '%s'", pat);
	const char *close = strchr(open, ']');
	if (!close)
		return fail(r, line, at,
		            "host range in '%s' needs a closing ']': write [BEGIN:END] or "
		            "[BEGIN:END:STEP], e.g. www[01:50].example.com",
		            pat);
	char *inner = xstrndup(open + 1, (size_t)(close - open - 1));
	char *parts[4] = {0};
	int nparts = 0;
	for (char *p = inner, *c; nparts < 4; p = c + 1) {
		parts[nparts++] = p;
		c = strchr(p, ':');
		if (!c)
			break;
		*c = '\0';
	}
	bool ok = false;
	if (nparts != 2 && nparts != 3) {
		fail(r, line, at,
		     "host range [%.*s] must be [BEGIN:END] or [BEGIN:END:STEP], e.g. [01:50] or "
		     "[a:f] or [1:9:2]",
		     (int)(close - open - 1), open + 1);
		goto out;
	}
	const char *beg = *parts[0] ? parts[0] : "0", *end = parts[1];
	long long step = 1;
	if (nparts == 3) {
		char *e;
		errno = 0;
		step = strtoll(parts[2], &e, 10);
		if (!*parts[2] || *e || errno || step == 0) {
			fail(r, line, at,
			     "the step of host range [%s:%s:%s] must be a number not 0", beg, end,
			     parts[2]);
			goto out;
		}
	}
	if (!*end) {
		fail(r, line, at, "host range [%s:] needs an end value, e.g. [%s:9]", beg, beg);
		goto out;
	}
	int width = 0;
	if (beg[0] == '0' && strlen(beg) > 1) {
		width = (int)strlen(beg);
		if (strlen(end) != strlen(beg)) {
			fail(r, line, at,
			     "host range [%s:%s]: with leading zeros, begin and end have the same "
			     "number of digits (e.g. [%s:%0*d])",
			     beg, end, beg, width, 9);
			goto out;
		}
	}
	const char *head_end = open, *tail = close + 1;
	size_t headlen = (size_t)(head_end - pat);
	const char *bl = strlen(beg) == 1 ? strchr(letters, beg[0]) : NULL;
	const char *el = strlen(end) == 1 ? strchr(letters, end[0]) : NULL;
	if (bl && el && *beg && *end) {
		if (bl > el) {
			fail(r, line, at, "host range [%s:%s] must have begin <= end", beg, end);
			goto out;
		}
		if (step > 0) {
			for (const char *c = bl; c <= el; c += step) {
				char *h = xasprintf("%.*s%c%s", (int)headlen, pat, *c, tail);
				bool k = expand(r, line, at, h, out, depth + 1);
				free(h);
				if (!k)
					goto out;
				if (el - c < step)
					break;
			}
		}
		ok = true;
		goto out;
	}
	if (!all_digits(beg) || !all_digits(end)) {
		fail(r, line, at,
		     "host range [%s:%s] must be numbers ([01:50]) or single letters ([a:f])", beg,
		     end);
		goto out;
	}
	long long b = strtoll(beg, NULL, 10), e = strtoll(end, NULL, 10);
	if ((e - b) / (step > 0 ? step : -step) > 100000) {
		fail(r, line, at, "host range [%s:%s] is too large (at most 100000 hosts)", beg,
		     end);
		goto out;
	}
	for (long long v = b; step > 0 ? v <= e : v > e + 1; v += step) {
		char *h = xasprintf("%.*s%0*lld%s", (int)headlen, pat, width, v, tail);
		bool k = expand(r, line, at, h, out, depth + 1);
		free(h);
		if (!k)
			goto out;
	}
	ok = true;
out:
	free(inner);
	return ok;
}

/* ---- lines ---------------------------------------------------------------------- */

/* shlex.split(line, comments=True), POSIX rules: quotes, backslashes, '#'. Returns the
   words, each with the offset where it starts, or NULL after fail(). */
static json_t *split_words(struct reader *r, const char *line, json_t **ret_offsets)
{
	json_t *words = json_array(), *offs = json_array();
	struct strbuf tok = STRBUF_INIT;
	char state = ' ', esc_from = 0;
	bool quoted = false, in_tok = false;
	size_t start = 0;
	for (size_t i = 0;; i++) {
		char c = line[i];
		if (state == '\\') {
			if (!c) {
				fail(r, line, line + i,
				     "a '\\' at the end of the line escapes nothing");
				goto bad;
			}
			if (esc_from == '"' && c != '\\' && c != '"')
				sb_addc(&tok, '\\');
			sb_addc(&tok, c);
			state = esc_from == '"' ? '"' : 'a';
			continue;
		}
		if (state == '\'' || state == '"') {
			if (!c) {
				fail(r, line, line + start,
				     "a %s quote is not closed: add the closing %c",
				     state == '"' ? "double" : "single", state);
				goto bad;
			}
			if (c == state)
				state = 'a';
			else if (state == '"' && c == '\\') {
				esc_from = '"';
				state = '\\';
			} else
				sb_addc(&tok, c);
			continue;
		}
		bool ws = c == ' ' || c == '\t' || c == '\r' || c == '\n';
		if (!c || ws || c == '#') {
			if (state == 'a' && (tok.len || quoted || in_tok)) {
				json_array_append_new(
				    words, json_stringn(tok.buf ? tok.buf : "", tok.len));
				json_array_append_new(offs, json_integer((json_int_t)start));
				sb_reset(&tok);
			}
			quoted = in_tok = false;
			state = ' ';
			if (!c || c == '#')
				break;
			continue;
		}
		if (state == ' ') {
			state = 'a';
			start = i;
			in_tok = true;
		}
		if (c == '\'' || c == '"') {
			quoted = true;
			state = c;
		} else if (c == '\\') {
			esc_from = 'a';
			state = '\\';
		} else {
			sb_addc(&tok, c);
		}
	}
	sb_release(&tok);
	*ret_offsets = offs;
	return words;
bad:
	sb_release(&tok);
	json_decref(words);
	json_decref(offs);
	return NULL;
}

static bool comment_rest(const char *s);

static bool set_var(struct reader *r, const char *line, const char *at, json_t *entity_vars,
                    json_t *group, const char *k, json_t *v)
{
	if (group && !strcmp(k, "ansible_group_priority")) {
		long long p;
		char *e = NULL;
		/* Python's int(): 2.5 is 2, True is 1, " 7 " is 7 */
		if (json_is_integer(v))
			p = json_integer_value(v);
		else if (json_is_real(v) && json_real_value(v) > -1e18 && json_real_value(v) < 1e18)
			p = (long long)json_real_value(v);
		else if (json_is_boolean(v))
			p = json_is_true(v);
		else if (json_is_string(v) && *json_string_value(v) &&
		         (p = strtoll(json_string_value(v), &e, 10), comment_rest(e)))
			;
		else {
			json_decref(v);
			return fail(r, line, at,
			            "ansible_group_priority must be a whole number, e.g. "
			            "ansible_group_priority=10");
		}
		json_object_set_new(group, "priority", json_integer(p));
		json_decref(v);
		return true;
	}
	json_object_set_new(entity_vars, k, v);
	return true;
}

static bool host_line(struct reader *r, const char *line, const char *group)
{
	json_t *offs = NULL;
	json_t *words = split_words(r, line, &offs);
	bool ok = false;
	if (!words)
		return false;
	if (json_array_size(words) == 0) {
		ok = true;
		goto out;
	}
	const char *pat = json_string_value(json_array_get(words, 0));
	char *host = NULL;
	long long port = -1;
	if (!parse_address(pat, &host, &port)) {
		host = xstrdup(pat);
		port = -1;
	}
	size_t plen = strlen(pat);
	if (plen && pat[plen - 1] == ':' && port < 0) {
		fail(r, line, line,
		     "host '%s' ends in ':', which is kept for a port: write HOST:PORT, e.g. %s22",
		     pat, pat);
		free(host);
		goto out;
	}
	json_t *names = json_array();
	if (!expand(r, line, strchr(line, '[') ? strchr(line, '[') : line, host, names, 0)) {
		free(host);
		json_decref(names);
		goto out;
	}
	free(host);
	json_t *vars = json_object();
	for (size_t i = 1; i < json_array_size(words); i++) {
		const char *w = json_string_value(json_array_get(words, i));
		const char *at = line + json_integer_value(json_array_get(offs, i));
		const char *eq = strchr(w, '=');
		if (!eq) {
			fail(r, line, at,
			     "'%s' is not a host value: write NAME=VALUE after the host (comments "
			     "after a host start with '#')",
			     w);
			json_decref(vars);
			json_decref(names);
			goto out;
		}
		char *k = xstrndup(w, (size_t)(eq - w));
		json_object_set_new(vars, k, typed_value(eq + 1));
		free(k);
	}
	size_t i;
	json_t *n;
	json_array_foreach (names, i, n) {
		const char *name = json_string_value(n);
		if (!*name) {
			fail(r, line, line, "a host needs a name");
			break;
		}
		if (!strcmp(name, "---")) {
			fail(r, line, line,
			     "'---' starts a YAML file: kiln reads INI inventories only");
			break;
		}
		add_host(r->inv, name, group, port);
		const char *k;
		json_t *v;
		json_t *hv = json_object_get(json_object_get(r->inv->hosts, name), "vars");
		json_object_foreach (vars, k, v) {
			set_var(r, line, line, hv, NULL, k, json_deep_copy(v));
		}
	}
	ok = !r->msg;
	json_decref(vars);
	json_decref(names);
out:
	json_decref(words);
	json_decref(offs);
	return ok;
}

static char *strip(char *s)
{
	while (*s && (isspace((unsigned char)*s) || (*s >= 0x1c && *s <= 0x1f)))
		s++;
	char *e = s + strlen(s);
	while (e > s && (isspace((unsigned char)e[-1]) || (e[-1] >= 0x1c && e[-1] <= 0x1f)))
		*--e = '\0';
	return s;
}

/* a group name: no whitespace, ':' nor ']'; then at most a '#' comment */
static size_t name_len(const char *s)
{
	size_t i = 0;
	while (s[i] && !isspace((unsigned char)s[i]) && s[i] != ':' && s[i] != ']')
		i++;
	return i;
}

static bool comment_rest(const char *s)
{
	while (isspace((unsigned char)*s))
		s++;
	return !*s || *s == '#';
}

static void add_pending_children(struct reader *r, const char *group)
{
	json_t *p = json_object_get(r->pending, group);
	json_incref(p);
	json_object_del(r->pending, group);
	size_t i;
	json_t *parent;
	json_array_foreach (json_object_get(p, "parents"), i, parent) {
		const char *pn = json_string_value(parent);
		add_child(r, NULL, pn, group);
		json_t *pp = json_object_get(r->pending, pn);
		if (pp && !strcmp(json_string_value(json_object_get(pp, "state")), "children"))
			add_pending_children(r, pn);
	}
	json_decref(p);
}

int inventory_read_ini(struct inventory *inv, const char *text, uint32_t len, uint32_t *ret_line,
                       uint32_t *ret_col, char **ret_msg)
{
	struct reader r = {.inv = inv, .pending = json_object()};
	inv->reconciled = false;
	char *buf = xmalloc((size_t)len + 1);
	memcpy(buf, text, len);
	buf[len] = '\0';
	char *group = xstrdup("ungrouped");
	const char *state = "hosts";
	char *p = buf, *end = buf + len;
	while (p < end) {
		char *nl = p;
		while (nl < end && *nl != '\n' && *nl != '\r' && *nl != '\0')
			nl++;
		r.line++;
		if (nl < end && *nl == '\0') {
			fail(&r, p, nl, "a NUL byte: this is a binary file, not an INI inventory");
			break;
		}
		char *next = nl;
		if (nl < end)
			next = *nl == '\r' && nl + 1 < end && nl[1] == '\n' ? nl + 2 : nl + 1;
		*nl = '\0';
		char *raw = p;
		p = next;
		char *s = strip(raw);
		if (!*s || *s == '#' || *s == ';')
			continue; /* Ansible lets comments be in any encoding */
		size_t bad = utf8_validate((const unsigned char *)raw, strlen(raw));
		if (bad < strlen(raw)) {
			fail(&r, raw, raw + bad, "not UTF-8: save the inventory as UTF-8");
			break;
		}
		size_t nl1 = s[0] == '[' ? name_len(s + 1) : 0;
		if (nl1) {
			char *kind = NULL;
			size_t i = 1 + nl1, klen = 0;
			if (s[i] == ':') {
				kind = s + i + 1;
				while (word_char((unsigned char)kind[klen]))
					klen++;
				i += 1 + klen;
			}
			if (s[i] == ']' && (!kind || klen) && comment_rest(s + i + 1)) {
				free(group);
				group = xstrndup(s + 1, nl1);
				if (!kind || (klen == 5 && !memcmp(kind, "hosts", 5)))
					state = "hosts";
				else if (klen == 8 && !memcmp(kind, "children", 8))
					state = "children";
				else if (klen == 4 && !memcmp(kind, "vars", 4))
					state = "vars";
				else {
					fail(&r, raw, kind,
					     "unknown section kind ':%.*s': a section is [NAME], "
					     "[NAME:children] or [NAME:vars]",
					     (int)klen, kind);
					break;
				}
				if (!plan_group_name(&r, raw, s, group))
					break;
				if (!json_object_get(inv->groups, group)) {
					if (!strcmp(state, "vars") &&
					    !json_object_get(r.pending, group))
						json_object_set_new(
						    r.pending, group,
						    json_pack("{s:i,s:s,s:[]}", "line", r.line,
						              "state", "vars", "parents"));
					add_group(inv, group);
				}
				json_t *pd = json_object_get(r.pending, group);
				if (pd && strcmp(state, "vars")) {
					if (!strcmp(json_string_value(json_object_get(pd, "state")),
					            "children"))
						add_pending_children(&r, group);
					else
						json_object_del(r.pending, group);
				}
				if (r.msg)
					break;
				continue;
			}
		}
		size_t sl = strlen(s);
		if (s[0] == '[' && !strchr(s, ']')) {
			fail(&r, raw, s, "'%s' is not a section: a section header ends in ']'", s);
			break;
		}
		if (s[0] == '[' && s[sl - 1] == ']') {
			fail(&r, raw, s,
			     "'%s' is not a section: write [NAME], [NAME:children] or [NAME:vars], "
			     "without spaces",
			     s);
			break;
		}
		if (!strcmp(state, "hosts")) {
			if (!host_line(&r, s, group))
				break;
		} else if (!strcmp(state, "vars")) {
			char *eq = strchr(s, '=');
			if (!eq) {
				fail(&r, raw, s, "a [%s:vars] line is NAME=VALUE, not '%s'", group,
				     s);
				break;
			}
			*eq = '\0';
			char *k = strip(s);
			json_t *g = json_object_get(inv->groups, group);
			if (!set_var(&r, raw, s, json_object_get(g, "vars"), g, k,
			             typed_value(strip(eq + 1))))
				break;
		} else {
			size_t n = name_len(s);
			if (!n || !comment_rest(s + n)) {
				fail(&r, raw, s, "a [%s:children] line is one group name, not '%s'",
				     group, s);
				break;
			}
			char *child = xstrndup(s, n);
			if (!plan_group_name(&r, raw, s, child)) {
				free(child);
				break;
			}
			if (!json_object_get(inv->groups, child)) {
				json_t *pd = json_object_get(r.pending, child);
				if (!pd) {
					pd = json_pack("{s:i,s:s,s:[]}", "line", r.line, "state",
					               "children", "parents");
					json_object_set_new(r.pending, child, pd);
				}
				json_array_append_new(json_object_get(pd, "parents"),
				                      json_string(group));
			} else {
				add_child(&r, raw, group, child);
			}
			free(child);
			if (r.msg)
				break;
		}
	}
	if (!r.msg) {
		const char *name;
		json_t *pd;
		json_object_foreach (r.pending, name, pd) {
			r.line = (uint32_t)json_integer_value(json_object_get(pd, "line"));
			r.col = 1;
			json_t *parents = json_object_get(pd, "parents");
			if (!strcmp(json_string_value(json_object_get(pd, "state")), "vars"))
				r.msg = xasprintf(
				    "[%s:vars] is for a group no section defines: add a "
				    "[%s] section (it may be empty) or remove these values",
				    name, name);
			else
				r.msg = xasprintf("[%s:children] names group '%s', which no "
				                  "section defines: add a "
				                  "[%s] section (it may be empty)",
				                  json_string_value(json_array_get(
				                      parents, json_array_size(parents) - 1)),
				                  name, name);
			break;
		}
	}
	free(group);
	free(buf);
	json_decref(r.pending);
	if (r.msg) {
		*ret_line = r.line;
		*ret_col = r.col ? r.col : 1;
		*ret_msg = r.msg;
		return -1;
	}
	return 0;
}

/* ---- output --------------------------------------------------------------------- */

static int group_cmp(struct inventory *inv, const char *a, const char *b)
{
	int da = depth_of(inv, a, 0), db = depth_of(inv, b, 0);
	if (da != db)
		return da < db ? -1 : 1;
	json_int_t pa =
	    json_integer_value(json_object_get(json_object_get(inv->groups, a), "priority"));
	json_int_t pb =
	    json_integer_value(json_object_get(json_object_get(inv->groups, b), "priority"));
	if (pa != pb)
		return pa < pb ? -1 : 1;
	return strcmp(a, b);
}

bool inventory_has_host(struct inventory *inv, const char *host)
{
	return json_object_get(inv->hosts, host) != NULL;
}

json_t *inventory_hostvars(struct inventory *inv, const char *host)
{
	reconcile(inv); /* after all sources, as Ansible does */
	json_t *mine = host_groups(inv, host);
	json_object_del(mine, "all");
	size_t n = json_object_size(mine), k = 0;
	const char **names = xmalloc((n ? n : 1) * sizeof(*names));
	const char *name;
	json_t *v;
	json_object_foreach (mine, name, v) {
		names[k++] = name;
	}
	/* insertion sort: few groups */
	for (size_t i = 1; i < n; i++)
		for (size_t j = i; j > 0 && group_cmp(inv, names[j - 1], names[j]) > 0; j--) {
			const char *t = names[j];
			names[j] = names[j - 1];
			names[j - 1] = t;
		}
	json_t *out = json_deep_copy(json_object_get(json_object_get(inv->groups, "all"), "vars"));
	for (size_t i = 0; i < n; i++)
		json_object_update(out,
		                   json_object_get(json_object_get(inv->groups, names[i]), "vars"));
	json_object_update(out, json_object_get(json_object_get(inv->hosts, host), "vars"));
	free(names);
	json_decref(mine);
	return out;
}

static void list_group(struct inventory *inv, const char *name, json_t *out, json_t *seen)
{
	json_t *g = json_object_get(inv->groups, name);
	json_t *res = json_object();
	if (strcmp(name, "all") && json_array_size(json_object_get(g, "hosts")))
		json_object_set(res, "hosts", json_object_get(g, "hosts"));
	if (json_array_size(json_object_get(g, "children")))
		json_object_set(res, "children", json_object_get(g, "children"));
	size_t i;
	json_t *c;
	json_array_foreach (json_object_get(g, "children"), i, c) {
		const char *cn = json_string_value(c);
		if (!json_object_get(seen, cn)) {
			list_group(inv, cn, out, seen);
			json_object_set_new(seen, cn, json_true());
		}
	}
	if (json_object_size(res))
		json_object_set_new(out, name, res);
	else
		json_decref(res);
}

json_t *inventory_list(struct inventory *inv)
{
	reconcile(inv); /* after all sources, as Ansible does */
	json_t *out = json_object(), *seen = json_object(), *hostvars = json_object();
	list_group(inv, "all", out, seen);
	/* the hosts of the groups under 'all': a host that 'ungrouped' let go of while
	   'ungrouped' is some group's child is in none, and Ansible leaves it out */
	json_t *reached = json_object();
	const char *name;
	json_t *h;
	json_object_set_new(seen, "all", json_true());
	json_object_foreach (seen, name, h) {
		size_t i;
		json_t *hn;
		json_array_foreach (json_object_get(json_object_get(inv->groups, name), "hosts"), i,
		                    hn) {
			json_object_set_new(reached, json_string_value(hn), json_true());
		}
	}
	json_decref(seen);
	json_object_foreach (inv->hosts, name, h) {
		if (!json_object_get(reached, name))
			continue;
		json_t *hv = inventory_hostvars(inv, name);
		if (json_object_size(hv))
			json_object_set_new(hostvars, name, hv);
		else
			json_decref(hv);
	}
	json_decref(reached);
	json_object_set_new(out, "_meta", json_pack("{s:o}", "hostvars", hostvars));
	return out;
}

static void graph_line(struct strbuf *sb, const char *name, int depth)
{
	for (int i = 0; i < depth; i++)
		sb_adds(sb, "  |");
	if (depth)
		sb_adds(sb, "--");
	sb_adds(sb, name);
	sb_addc(sb, '\n');
}

static void dump_real(struct strbuf *sb, double d);
static int key_cmp(const void *a, const void *b);

/* v as Python's str() shows it ('%s' % v): text as it is, and inside lists and
   dicts Python's repr ('a', True, None, {'k': 1}). */
static void py_str(struct strbuf *sb, json_t *v, bool nested)
{
	size_t i;
	json_t *e;
	const char *k;
	switch (json_typeof(v)) {
	case JSON_STRING: {
		const char *t = json_string_value(v);
		if (!nested) {
			sb_adds(sb, t);
			return;
		}
		char q = strchr(t, '\'') && !strchr(t, '"') ? '"' : '\'';
		sb_addc(sb, q);
		for (; *t; t++) {
			unsigned char c = (unsigned char)*t;
			if (c == '\\' || c == (unsigned char)q) {
				sb_addc(sb, '\\');
				sb_addc(sb, (char)c);
			} else if (c == '\n') {
				sb_adds(sb, "\\n");
			} else if (c == '\r') {
				sb_adds(sb, "\\r");
			} else if (c == '\t') {
				sb_adds(sb, "\\t");
			} else if (c < 0x20 || c == 0x7f) {
				sb_addf(sb, "\\x%02x", c);
			} else {
				sb_addc(sb, (char)c);
			}
		}
		sb_addc(sb, q);
		return;
	}
	case JSON_INTEGER:
		sb_addf(sb, "%lld", (long long)json_integer_value(v));
		return;
	case JSON_REAL:
		dump_real(sb, json_real_value(v));
		return;
	case JSON_TRUE:
		sb_adds(sb, "True");
		return;
	case JSON_FALSE:
		sb_adds(sb, "False");
		return;
	case JSON_NULL:
		sb_adds(sb, "None");
		return;
	case JSON_ARRAY:
		sb_addc(sb, '[');
		json_array_foreach (v, i, e) {
			if (i)
				sb_adds(sb, ", ");
			py_str(sb, e, true);
		}
		sb_addc(sb, ']');
		return;
	case JSON_OBJECT:
		sb_addc(sb, '{');
		i = 0;
		json_object_foreach (v, k, e) {
			json_t *key = json_string(k);
			if (i++)
				sb_adds(sb, ", ");
			py_str(sb, key, true);
			sb_adds(sb, ": ");
			py_str(sb, e, true);
			json_decref(key);
		}
		sb_addc(sb, '}');
		return;
	}
}

/* {NAME = VALUE} lines, by name, as ansible-inventory --graph --vars shows them */
static void graph_vars(struct strbuf *sb, json_t *vars, int depth)
{
	size_t n = json_object_size(vars), k = 0;
	if (!n)
		return;
	const char **keys = xmalloc(n * sizeof(*keys));
	const char *key;
	json_t *v;
	json_object_foreach (vars, key, v) {
		keys[k++] = key;
	}
	qsort(keys, n, sizeof(*keys), key_cmp);
	for (size_t i = 0; i < n; i++) {
		struct strbuf line = STRBUF_INIT;
		sb_addf(&line, "{%s = ", keys[i]);
		py_str(&line, json_object_get(vars, keys[i]), false);
		sb_addc(&line, '}');
		graph_line(sb, line.buf, depth);
		sb_release(&line);
	}
	free(keys);
}

static void graph_group(struct inventory *inv, const char *name, int depth, bool vars,
                        struct strbuf *sb)
{
	json_t *g = json_object_get(inv->groups, name);
	char *label = xasprintf("@%s:", name);
	graph_line(sb, label, depth);
	free(label);
	size_t i;
	json_t *v;
	json_array_foreach (json_object_get(g, "children"), i, v) {
		graph_group(inv, json_string_value(v), depth + 1, vars, sb);
	}
	if (strcmp(name, "all")) {
		json_array_foreach (json_object_get(g, "hosts"), i, v) {
			graph_line(sb, json_string_value(v), depth + 1);
			if (vars) {
				json_t *hv = inventory_hostvars(inv, json_string_value(v));
				graph_vars(sb, hv, depth + 2);
				json_decref(hv);
			}
		}
	}
	if (vars) {
		json_t *gv = json_deep_copy(json_object_get(g, "vars"));
		json_int_t prio = json_integer_value(json_object_get(g, "priority"));
		if (prio != 1) /* ansible-inventory shows a priority that is not the default */
			json_object_set_new(gv, "ansible_group_priority", json_integer(prio));
		graph_vars(sb, gv, depth + 1);
		json_decref(gv);
	}
}

char *inventory_graph(struct inventory *inv, const char *top, bool vars)
{
	reconcile(inv); /* after all sources, as Ansible does */
	if (!json_object_get(inv->groups, top))
		return NULL;
	struct strbuf sb = STRBUF_INIT;
	graph_group(inv, top, 0, vars, &sb);
	return sb_detach(&sb);
}

/* Ansible's connection variables, as the plan names them. */
static const struct {
	const char *ansible, *plan;
} conn_vars[] = {
    {"ansible_host", PLAN_K_ADDRESS},
    {"ansible_ssh_host", PLAN_K_ADDRESS},
    {"ansible_port", PLAN_K_PORT},
    {"ansible_ssh_port", PLAN_K_PORT},
    {"ansible_user", PLAN_K_USER},
    {"ansible_ssh_user", PLAN_K_USER},
    {"ansible_ssh_private_key_file", PLAN_K_IDENTITY_FILE},
    {"ansible_private_key_file", PLAN_K_IDENTITY_FILE},
};

/* The connection a set of Ansible values names (ansible_host wins over the older
   ansible_ssh_host, and so on), and the values themselves under "vars". */
static json_t *connection_of(json_t *vars)
{
	json_t *out = json_object();
	for (size_t i = sizeof(conn_vars) / sizeof(conn_vars[0]); i-- > 0;) {
		json_t *v = json_object_get(vars, conn_vars[i].ansible);
		if (!v)
			continue;
		if (!strcmp(conn_vars[i].plan, PLAN_K_PORT)) {
			const char *s = json_string_value(v);
			if (s && all_digits(s))
				v = json_integer(strtoll(s, NULL, 10));
			else if (json_is_integer(v))
				json_incref(v);
			else
				continue;
			json_object_set_new(out, PLAN_K_PORT, v);
		} else if (json_is_string(v)) {
			json_object_set(out, conn_vars[i].plan, v);
		}
	}
	/* Ansible's chroot connection is kiln's rootfs: the host's name is the directory */
	const char *c = json_string_value(json_object_get(vars, "ansible_connection"));
	if (c && (!strcmp(c, "ssh") || !strcmp(c, "smart") || !strcmp(c, "paramiko")))
		json_object_set_new(out, PLAN_K_CONNECTION, json_string("ssh"));
	else if (c && !strcmp(c, "chroot"))
		json_object_set_new(out, PLAN_K_CONNECTION, json_string("rootfs"));
	if (json_object_size(vars))
		json_object_set(out, PLAN_K_VARS, vars);
	return out;
}

json_t *inventory_plan_groups(struct inventory *inv)
{
	reconcile(inv); /* after all sources, as Ansible does */
	json_t *out = json_object();
	const char *name;
	json_t *g;
	json_object_foreach (inv->groups, name, g) {
		json_t *hosts = json_object();
		size_t i;
		json_t *h;
		if (strcmp(name, "all")) {
			json_array_foreach (json_object_get(g, "hosts"), i, h) {
				json_t *hv = inventory_hostvars(inv, json_string_value(h));
				json_object_set_new(hosts, json_string_value(h), connection_of(hv));
				json_decref(hv);
			}
		}
		json_object_set_new(
		    out, name,
		    json_pack("{s:o,s:O,s:o,s:s}", PLAN_K_HOSTS, hosts, PLAN_K_CHILDREN,
		              json_object_get(g, "children"), PLAN_K_VARS,
		              connection_of(json_object_get(g, "vars")), PLAN_K_SOURCE,
		              json_string_value(json_object_get(g, "source"))));
	}
	return out;
}

/* ---- JSON text as ansible-inventory writes it ---------------------------------- */

static int key_cmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static void dump_string(struct strbuf *sb, const char *s)
{
	sb_addc(sb, '"');
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		const char *e = c == '"'    ? "\\\""
		                : c == '\\' ? "\\\\"
		                : c == '\n' ? "\\n"
		                : c == '\r' ? "\\r"
		                : c == '\t' ? "\\t"
		                : c == '\b' ? "\\b"
		                : c == '\f' ? "\\f"
		                            : NULL;
		if (e)
			sb_adds(sb, e);
		else if (c < 0x20)
			sb_addf(sb, "\\u%04x", c);
		else
			sb_addc(sb, (char)c);
	}
	sb_addc(sb, '"');
}

/* The shortest text that reads back as the same double, laid out as Python's repr:
   fixed from 1e-4 to 1e16 (1000.0, 0.001), else 1e-07, 1.5e+20. */
static void dump_real(struct strbuf *sb, double d)
{
	char buf[48];
	int p;
	for (p = 1; p < 17; p++) {
		snprintf(buf, sizeof(buf), "%.*e", p - 1, d);
		if (strtod(buf, NULL) == d)
			break;
	}
	snprintf(buf, sizeof(buf), "%.*e", p - 1, d);
	const char *m = buf;
	if (*m == '-') {
		sb_addc(sb, '-');
		m++;
	}
	char digits[24];
	size_t nd = 0;
	for (; *m && *m != 'e'; m++)
		if (isdigit((unsigned char)*m) && nd < sizeof(digits) - 1)
			digits[nd++] = *m;
	while (nd > 1 && digits[nd - 1] == '0')
		nd--;
	digits[nd] = '\0';
	int e = *m == 'e' ? atoi(m + 1) : 0;
	if (e >= -4 && e < 16) {
		if (e >= (int)nd - 1) {
			sb_adds(sb, digits);
			for (int i = 0; i < e - ((int)nd - 1); i++)
				sb_addc(sb, '0');
			sb_adds(sb, ".0");
		} else if (e >= 0) {
			sb_add(sb, digits, (size_t)e + 1);
			sb_addc(sb, '.');
			sb_adds(sb, digits + e + 1);
		} else {
			sb_adds(sb, "0.");
			for (int i = 0; i < -e - 1; i++)
				sb_addc(sb, '0');
			sb_adds(sb, digits);
		}
	} else {
		sb_addc(sb, digits[0]);
		if (nd > 1) {
			sb_addc(sb, '.');
			sb_adds(sb, digits + 1);
		}
		sb_addf(sb, "e%c%02d", e < 0 ? '-' : '+', e < 0 ? -e : e);
	}
}

static void dump_value(struct strbuf *sb, json_t *v, int level)
{
	size_t n;
	switch (json_typeof(v)) {
	case JSON_OBJECT: {
		n = json_object_size(v);
		if (!n) {
			sb_adds(sb, "{}");
			return;
		}
		const char **keys = xmalloc(n * sizeof(*keys));
		size_t k = 0;
		const char *key;
		json_t *e;
		json_object_foreach (v, key, e) {
			keys[k++] = key;
		}
		qsort(keys, n, sizeof(*keys), key_cmp);
		sb_adds(sb, "{\n");
		for (size_t i = 0; i < n; i++) {
			sb_addf(sb, "%*s", 4 * (level + 1), "");
			dump_string(sb, keys[i]);
			sb_adds(sb, ": ");
			dump_value(sb, json_object_get(v, keys[i]), level + 1);
			sb_adds(sb, i + 1 < n ? ",\n" : "\n");
		}
		sb_addf(sb, "%*s}", 4 * level, "");
		free(keys);
		return;
	}
	case JSON_ARRAY:
		n = json_array_size(v);
		if (!n) {
			sb_adds(sb, "[]");
			return;
		}
		sb_adds(sb, "[\n");
		for (size_t i = 0; i < n; i++) {
			sb_addf(sb, "%*s", 4 * (level + 1), "");
			dump_value(sb, json_array_get(v, i), level + 1);
			sb_adds(sb, i + 1 < n ? ",\n" : "\n");
		}
		sb_addf(sb, "%*s]", 4 * level, "");
		return;
	case JSON_STRING:
		dump_string(sb, json_string_value(v));
		return;
	case JSON_INTEGER:
		sb_addf(sb, "%lld", (long long)json_integer_value(v));
		return;
	case JSON_REAL: {
		dump_real(sb, json_real_value(v));
		return;
	}
	case JSON_TRUE:
		sb_adds(sb, "true");
		return;
	case JSON_FALSE:
		sb_adds(sb, "false");
		return;
	case JSON_NULL:
		sb_adds(sb, "null");
		return;
	}
}

char *inventory_json_text(json_t *v)
{
	struct strbuf sb = STRBUF_INIT;
	dump_value(&sb, v, 0);
	sb_addc(&sb, '\n');
	return sb_detach(&sb);
}
