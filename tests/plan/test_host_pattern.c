/*
 * test_host_pattern: plan/host_pattern.c against the answers of Ansible's
 * `ansible -i INV PATTERN --list-hosts` for the inventory below (the plan's
 * groups of it, as kiln compile writes them: names sorted). Order is checked
 * where Ansible's is fixed by the groups' structure.
 */
#include "check.h"
#include "host_pattern.h"

#include <stdlib.h>
#include <string.h>

/* mail.example.com / [webservers] foo bar web3 / [dbservers] one two three /
   [db2] bar zed / [prod:children] webservers dbservers */
static const char groups_json[] =
    "{\"all\": {\"hosts\": {}, \"children\": [\"ungrouped\", \"db2\", \"prod\"], \"vars\": {}},"
    " \"db2\": {\"hosts\": {\"bar.example.com\": {}, \"zed\": {}}, \"children\": [], \"vars\": {}},"
    " \"dbservers\": {\"hosts\": {\"one.example.com\": {}, \"three.example.com\": {},"
    "                \"two.example.com\": {}}, \"children\": [], \"vars\": {}},"
    " \"prod\": {\"hosts\": {}, \"children\": [\"webservers\", \"dbservers\"], \"vars\": {}},"
    " \"ungrouped\": {\"hosts\": {\"mail.example.com\": {}}, \"children\": [], \"vars\": {}},"
    " \"webservers\": {\"hosts\": {\"bar.example.com\": {}, \"foo.example.com\": {},"
    "                 \"web3\": {}}, \"children\": [], \"vars\": {}}}";

static json_t *groups;

/* The selection as "a b c", or "ERROR: msg". */
static char *sel(const char *pattern)
{
	struct rt_error err = {0};
	json_t *hs = host_pattern_select(groups, pattern, &err);
	if (!hs) {
		size_t n = strlen(err.msg) + 8;
		char *s = malloc(n);
		snprintf(s, n, "ERROR: %s", err.msg);
		return s;
	}
	char *s = calloc(1, 4096);
	size_t i;
	json_t *h;
	json_array_foreach (hs, i, h) {
		if (i)
			strcat(s, " ");
		strcat(s, json_string_value(h));
	}
	json_decref(hs);
	return s;
}

static int is(const char *pattern, const char *want)
{
	char *got = sel(pattern);
	int ok = !strcmp(got, want);
	if (!ok)
		fprintf(stderr, "pattern '%s': got '%s', want '%s'\n", pattern, got, want);
	free(got);
	return ok;
}

static int starts(const char *pattern, const char *want)
{
	char *got = sel(pattern);
	int ok = !strncmp(got, want, strlen(want));
	if (!ok)
		fprintf(stderr, "pattern '%s': got '%s', want '%s...'\n", pattern, got, want);
	free(got);
	return ok;
}

int main(void)
{
	groups = json_loads(groups_json, 0, NULL);
	CHECK(groups);
	const char *every = "mail.example.com bar.example.com zed foo.example.com web3 "
	                    "one.example.com three.example.com two.example.com";
	CHECK(is("all", every));
	CHECK(is("*", every));
	CHECK(is("webservers", "bar.example.com foo.example.com web3"));
	CHECK(is("prod", "bar.example.com foo.example.com web3 one.example.com "
	                 "three.example.com two.example.com"));
	CHECK(is("webservers:dbservers", "bar.example.com foo.example.com web3 one.example.com "
	                                 "three.example.com two.example.com"));
	CHECK(is("webservers,dbservers", "bar.example.com foo.example.com web3 one.example.com "
	                                 "three.example.com two.example.com"));
	CHECK(is(" webservers , dbservers ", "bar.example.com foo.example.com web3 "
	                                     "one.example.com three.example.com two.example.com"));
	CHECK(is("db2:webservers", "bar.example.com zed foo.example.com web3"));
	CHECK(is("webservers:&db2", "bar.example.com"));
	CHECK(is("&db2", "bar.example.com zed"));
	CHECK(is("prod:!dbservers", "bar.example.com foo.example.com web3"));
	CHECK(is("prod:!db*", "foo.example.com web3"));
	CHECK(is("!webservers", "mail.example.com zed one.example.com three.example.com "
	                        "two.example.com"));
	/* the '&' and '!' terms apply after the plain ones, wherever they are written */
	CHECK(is("!dbservers:prod", "bar.example.com foo.example.com web3"));
	CHECK(is("web*", "bar.example.com foo.example.com web3"));
	CHECK(is("*.example.com", "mail.example.com bar.example.com foo.example.com "
	                          "one.example.com three.example.com two.example.com"));
	CHECK(is("~(one|two)\\.", "one.example.com two.example.com"));
	CHECK(is("~web", "bar.example.com foo.example.com web3")); /* the group, then hosts */
	CHECK(is("zed", "zed"));
	CHECK(is("foo.example.com:mail.example.com", "foo.example.com mail.example.com"));
	CHECK(is("ungrouped", "mail.example.com"));
	CHECK(is("db[2]", "bar.example.com zed"));
	CHECK(is("web?", "web3"));
	/* errors */
	CHECK(starts("nothing", "ERROR: host pattern 'nothing' matches no host"));
	CHECK(starts("webservers:&nothing", "ERROR: host pattern 'webservers:&nothing' matches"));
	CHECK(starts("web::db", "ERROR: host pattern 'web::db': an empty term"));
	CHECK(starts("web:!", "ERROR: host pattern 'web:!': an empty term"));
	CHECK(starts("", "ERROR: host pattern '': an empty term"));
	CHECK(starts("~(", "ERROR: host pattern '~(':"));

	/* a group's descendants, breadth first; a cycle is walked once */
	json_t *cyc = json_loads("{\"a\": {\"hosts\": {\"h1\": {}}, \"children\": [\"b\"]},"
	                         " \"b\": {\"hosts\": {\"h2\": {}}, \"children\": [\"a\", \"c\"]},"
	                         " \"c\": {\"hosts\": {\"h1\": {}, \"h3\": {}}, \"children\": []}}",
	                         0, NULL);
	json_t *hs = host_pattern_group_hosts(cyc, "a");
	char *s = json_dumps(hs, JSON_COMPACT);
	CHECK(!strcmp(s, "[\"h1\",\"h2\",\"h3\"]"));
	free(s);
	json_decref(hs);
	hs = host_pattern_group_hosts(cyc, "missing");
	CHECK(json_array_size(hs) == 0);
	json_decref(hs);
	/* without an all group (hosts blocks): every group's hosts in the plan's order */
	struct rt_error err = {0};
	hs = host_pattern_select(cyc, "all:!c", &err);
	s = hs ? json_dumps(hs, JSON_COMPACT) : NULL;
	CHECK(s && !strcmp(s, "[\"h2\"]"));
	free(s);
	json_decref(hs);
	json_decref(cyc);
	json_decref(groups);
	return CHECK_DONE();
}
