/* Unit tests of lexical path operations. */
#include "check.h"
#include "path.h"

#include <stdlib.h>
#include <string.h>

static int same(char *got, const char *want)
{
	int ok = !strcmp(got, want);
	if (!ok)
		fprintf(stderr, "  got '%s', want '%s'\n", got, want);
	free(got);
	return ok;
}

int main(void)
{
	CHECK(same(path_normalize("a/./b/../c/"), "a/c"));
	CHECK(same(path_normalize(""), "."));
	CHECK(same(path_normalize("../x/../../y"), "../../y"));
	CHECK(same(path_normalize("/../a"), "/a"));
	CHECK(same(path_join("roles", "../templates/x.tmpl"), "templates/x.tmpl"));
	CHECK(same(path_join("roles", "/etc/x"), "/etc/x"));
	CHECK(same(path_join(".", "a"), "a"));
	CHECK(same(path_dirname("a/b.img"), "a"));
	CHECK(same(path_dirname("b.img"), "."));
	CHECK(same(path_dirname("/b.img"), "/"));
	CHECK(same(path_from_root("build", "files/a"), "build/files/a"));
	CHECK(same(path_from_root("build/", "toupload/"), "build/toupload/"));
	CHECK(same(path_from_root("/", "a"), "/a"));
	CHECK(same(path_from_root("build", "/etc/x"), "/etc/x"));
	CHECK(same(path_from_root(NULL, "a/../b"), "a/../b"));
	CHECK(same(path_from_root("", "a"), "a"));
	CHECK(same(path_from_root("build", ""), "build"));
	CHECK(same(path_relative("examples", "examples/app/x"), "app/x"));
	CHECK(same(path_relative("examples", "out/x"), "../out/x"));
	CHECK(same(path_relative(".", "out/x"), "out/x"));
	CHECK(same(path_relative("a/b", "a/b"), "."));
	CHECK(same(path_relative("a/b", "a"), ".."));
	CHECK(same(path_relative("/srv/a", "/srv/b/c"), "../b/c"));
	return CHECK_DONE();
}
