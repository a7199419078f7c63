/*
 * host_pattern: Ansible's host patterns over a plan's groups; see host_pattern.h.
 */
#include "host_pattern.h"

#include "arena.h"
#include "plan_format.h"
#include "plan_view.h"

#include <errno.h>
#include <fnmatch.h>
#include <regex.h>
#include <stdlib.h>
#include <string.h>

/* Append name to list unless seen holds it. */
static void add_once(json_t *list, json_t *seen, const char *name)
{
	if (json_object_get(seen, name))
		return;
	json_object_set_new(seen, name, json_true());
	json_array_append_new(list, json_string(name));
}

json_t *host_pattern_group_hosts(json_t *groups, const char *group)
{
	json_t *out = json_array(), *seen = json_object(), *done = json_object();
	json_t *level = json_array();
	if (plan_group_view(groups, group).json) {
		json_array_append_new(level, json_string(group));
		json_object_set_new(done, group, json_true());
	}
	/* breadth first, as Ansible walks a group's descendants */
	while (json_array_size(level)) {
		json_t *next = json_array();
		size_t i;
		json_t *g;
		json_array_foreach (level, i, g) {
			struct plan_group v = plan_group_view(groups, json_string_value(g));
			const char *h;
			json_t *attrs;
			json_object_foreach (v.hosts, h, attrs) {
				add_once(out, seen, h);
			}
			size_t j;
			json_t *c;
			json_array_foreach (v.children, j, c) {
				const char *cn = json_string_value(c);
				if (!cn || json_object_get(done, cn) ||
				    !plan_group_view(groups, cn).json)
					continue;
				json_object_set_new(done, cn, json_true());
				json_array_append_new(next, json_string(cn));
			}
		}
		json_decref(level);
		level = next;
	}
	json_decref(level);
	json_decref(done);
	json_decref(seen);
	return out;
}

/* Every host: those of group all when the plan has one (an inventory), else of every
   group in the plan's order. */
static json_t *all_hosts(json_t *groups)
{
	if (plan_group_view(groups, "all").json)
		return host_pattern_group_hosts(groups, "all");
	json_t *out = json_array(), *seen = json_object();
	const char *name;
	json_t *g;
	json_object_foreach (groups, name, g) {
		json_t *hs = host_pattern_group_hosts(groups, name);
		size_t i;
		json_t *h;
		json_array_foreach (hs, i, h) {
			add_once(out, seen, json_string_value(h));
		}
		json_decref(hs);
	}
	json_decref(seen);
	return out;
}

struct matcher {
	const char *text; /* the term without its '&' or '!' */
	bool regex;
	regex_t re;
};

static bool matches(const struct matcher *m, const char *name)
{
	if (m->regex)
		return regexec(&m->re, name, 0, NULL, 0) == 0;
	return fnmatch(m->text, name, 0) == 0;
}

/* The hosts one term names, in Ansible's order: the hosts of the groups it matches,
   then (when it matched no group, or is a glob or a regex) the hosts it matches. */
static json_t *term_hosts(json_t *groups, json_t *every, const char *term, struct rt_error *err)
{
	json_t *out = json_array(), *seen = json_object();
	if (!strcmp(term, "all") || !strcmp(term, "*")) {
		json_decref(seen);
		json_decref(out);
		return json_deep_copy(every);
	}
	struct matcher m = {.text = term};
	if (term[0] == '~') {
		char *anchored = xasprintf("^(%s)", term + 1);
		int r = regcomp(&m.re, anchored, REG_EXTENDED | REG_NOSUB);
		free(anchored);
		if (r != 0) {
			char msg[256];
			regerror(r, &m.re, msg, sizeof(msg));
			rt_error_set(err, -EINVAL, "host pattern '%s': %s", term, msg);
			json_decref(seen);
			json_decref(out);
			return NULL;
		}
		m.regex = true;
	}
	bool any_group = false;
	const char *name;
	json_t *g;
	json_object_foreach (groups, name, g) {
		if (!(m.regex ? matches(&m, name) : !strcmp(name, term) || matches(&m, name)))
			continue;
		any_group = true;
		json_t *hs = host_pattern_group_hosts(groups, name);
		size_t i;
		json_t *h;
		json_array_foreach (hs, i, h) {
			add_once(out, seen, json_string_value(h));
		}
		json_decref(hs);
	}
	if (!any_group || m.regex || strpbrk(term, ".?*[")) {
		size_t i;
		json_t *h;
		json_array_foreach (every, i, h) {
			const char *hn = json_string_value(h);
			if (!strcmp(hn, term) || matches(&m, hn))
				add_once(out, seen, hn);
		}
	}
	if (m.regex)
		regfree(&m.re);
	json_decref(seen);
	return out;
}

/* The pattern's terms as Ansible splits them: at ',' when there is one, else at ':'
   outside brackets (an IPv6 address or a range keeps its colons); blanks trimmed. */
static json_t *split_terms(const char *pattern)
{
	json_t *terms = json_array();
	bool commas = strchr(pattern, ',') != NULL;
	const char *p = pattern;
	while (true) {
		const char *q = p;
		int depth = 0;
		while (*q && !(commas ? *q == ',' : *q == ':' && depth == 0)) {
			if (*q == '[')
				depth++;
			else if (*q == ']' && depth)
				depth--;
			q++;
		}
		const char *a = p, *b = q;
		while (a < b && (*a == ' ' || *a == '\t'))
			a++;
		while (b > a && (b[-1] == ' ' || b[-1] == '\t'))
			b--;
		json_array_append_new(terms, json_stringn(a, (size_t)(b - a)));
		if (!*q)
			break;
		p = q + 1;
	}
	return terms;
}

json_t *host_pattern_select(json_t *groups, const char *pattern, struct rt_error *err)
{
	json_t *terms = split_terms(pattern);
	json_t *plain = json_array(), *and = json_array(), *not = json_array();
	size_t i;
	json_t *t;
	json_array_foreach (terms, i, t) {
		const char *s = json_string_value(t);
		if (!*s || ((*s == '&' || *s == '!') && !s[1])) {
			rt_error_set(
			    err, -EINVAL,
			    "host pattern '%s': an empty term (write terms such as web, web*, "
			    "a:b, a:&b, a:!b)",
			    pattern);
			json_decref(terms);
			json_decref(plain);
			json_decref(and);
			json_decref(not );
			return NULL;
		}
		json_array_append(*s == '&' ? and : *s == '!' ? not : plain, t);
	}
	json_decref(terms);
	if (!json_array_size(plain))
		json_array_append_new(plain, json_string("all"));
	json_t *every = all_hosts(groups);
	json_t *sel = json_array(), *seen = json_object();
	bool ok = true;
	json_array_foreach (plain, i, t) {
		json_t *hs = term_hosts(groups, every, json_string_value(t), err);
		if (!hs) {
			ok = false;
			break;
		}
		size_t j;
		json_t *h;
		json_array_foreach (hs, j, h) {
			add_once(sel, seen, json_string_value(h));
		}
		json_decref(hs);
	}
	json_t *ops[2] = {and, not };
	for (int k = 0; k < 2 && ok; k++) {
		json_array_foreach (ops[k], i, t) {
			json_t *hs = term_hosts(groups, every, json_string_value(t) + 1, err);
			if (!hs) {
				ok = false;
				break;
			}
			json_t *in = json_object();
			size_t j;
			json_t *h;
			json_array_foreach (hs, j, h) {
				json_object_set_new(in, json_string_value(h), json_true());
			}
			json_decref(hs);
			json_t *kept = json_array();
			json_array_foreach (sel, j, h) {
				bool has = json_object_get(in, json_string_value(h)) != NULL;
				if (has == (k == 0))
					json_array_append(kept, h);
			}
			json_decref(in);
			json_decref(sel);
			sel = kept;
		}
	}
	if (ok && !json_array_size(sel)) {
		rt_error_set(
		    err, -ENOENT,
		    "host pattern '%s' matches no host of the plan (give a group or host name, "
		    "a glob such as web*, or all)",
		    pattern);
		ok = false;
	}
	json_decref(every);
	json_decref(seen);
	json_decref(plain);
	json_decref(and);
	json_decref(not );
	if (!ok) {
		json_decref(sel);
		return NULL;
	}
	return sel;
}
