/* inventory: Ansible INI inventories; see inventory.h. */
#include "inventory.h"

#include "arena.h"
#include "plan_view.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

static char *trim(char *s)
{
	while (isspace((unsigned char)*s))
		s++;
	char *e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}

/* A value from key=value: ints stay ints, true/false are bools, quotes are removed. */
static json_t *ini_value(const char *v)
{
	size_t n = strlen(v);
	if (n >= 2 && (v[0] == '"' || v[0] == '\'') && v[n - 1] == v[0])
		return json_stringn(v + 1, n - 2);
	if (!strcmp(v, "true") || !strcmp(v, "True"))
		return json_true();
	if (!strcmp(v, "false") || !strcmp(v, "False"))
		return json_false();
	char *end;
	long long i = strtoll(v, &end, 10);
	if (*v && !*end)
		return json_integer(i);
	return json_string(v);
}

/* Groups are named in the build (apply NAME, hosts { NAME }) and in the plan. */
static char *bad_group_name(const char *name)
{
	return xasprintf("'%s' is not a group name: letters, digits, '_' and '-', not "
	                 "starting with a digit or '-' ([A-Za-z_][A-Za-z0-9_-]*); rename the group",
	                 name);
}

static json_t *group(json_t *groups, const char *name)
{
	json_t *g = json_object_get(groups, name);
	if (!g) {
		g = json_pack("{s:{},s:[],s:{}}", "hosts", "children", "vars");
		json_object_set_new(groups, name, g);
	}
	return g;
}

json_t *inventory_parse_ini(const char *text, uint32_t len, uint32_t *ret_line, char **ret_msg)
{
	json_t *groups = json_object();
	char *buf = xstrndup(text, len);
	const char *cur = "ungrouped";
	enum { HOSTS, CHILDREN, VARS } mode = HOSTS;
	uint32_t line = 0;
	/* line by line, empty ones too: errors name the right line */
	for (char *l = buf, *next; l; l = next) {
		next = strchr(l, '\n');
		if (next)
			*next++ = '\0';
		line++;
		char *s = trim(l);
		if (!*s || *s == '#' || *s == ';')
			continue;
		if (*s == '[') {
			char *end = strchr(s, ']');
			if (!end) {
				*ret_msg = xstrdup("a section header needs a closing ']'");
				goto fail;
			}
			*end = '\0';
			cur = trim(s + 1);
			mode = HOSTS;
			char *colon = strchr(cur, ':');
			if (colon) {
				*colon = '\0';
				if (!strcmp(colon + 1, "children"))
					mode = CHILDREN;
				else if (!strcmp(colon + 1, "vars"))
					mode = VARS;
				else {
					*ret_msg =
					    xasprintf("unknown section kind ':%s' (children, vars)",
					              colon + 1);
					goto fail;
				}
			}
			if (!*cur) {
				*ret_msg = xstrdup("a section needs a group name");
				goto fail;
			}
			if (!plan_is_identifier(cur)) {
				*ret_msg = bad_group_name(cur);
				goto fail;
			}
			group(groups, cur);
			continue;
		}
		json_t *g = group(groups, cur);
		if (mode == CHILDREN) {
			if (!plan_is_identifier(s)) {
				*ret_msg = bad_group_name(s);
				goto fail;
			}
			json_array_append_new(json_object_get(g, "children"), json_string(s));
			group(groups, s);
		} else if (mode == VARS) {
			char *eq = strchr(s, '=');
			if (!eq) {
				*ret_msg = xstrdup("a [group:vars] line is NAME=VALUE");
				goto fail;
			}
			*eq = '\0';
			json_object_set_new(json_object_get(g, "vars"), trim(s),
			                    ini_value(trim(eq + 1)));
		} else {
			char *save2 = NULL;
			char *host = strtok_r(s, " \t", &save2);
			json_t *vars = json_object();
			for (char *kv = strtok_r(NULL, " \t", &save2); kv;
			     kv = strtok_r(NULL, " \t", &save2)) {
				char *eq = strchr(kv, '=');
				if (!eq) {
					json_decref(vars);
					*ret_msg = xasprintf(
					    "host variable '%s' needs a value: NAME=VALUE", kv);
					goto fail;
				}
				*eq = '\0';
				json_object_set_new(vars, kv, ini_value(eq + 1));
			}
			json_object_set_new(json_object_get(g, "hosts"), host, vars);
		}
	}
	if (json_object_size(json_object_get(group(groups, "ungrouped"), "hosts")) == 0)
		json_object_del(groups, "ungrouped");
	free(buf);
	return groups;
fail:
	*ret_line = line;
	free(buf);
	json_decref(groups);
	return NULL;
}
