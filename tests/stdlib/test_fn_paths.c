/* Unit tests of basename() and dirname(): POSIX semantics, on strings only. */
#include "fn_test.h"

struct path_case {
	const char *path, *base, *dir;
};

/* As POSIX basename(3) and dirname(3) define them (GNU basename(1) prints "" for ""). */
static const struct path_case cases[] = {
    {"/usr/lib", "lib", "/usr"},
    {"/usr/lib/", "lib", "/usr"},
    {"/usr//lib//", "lib", "/usr"},
    {"usr", "usr", "."},
    {"usr/", "usr", "."},
    {"a/b", "b", "a"},
    {"a//b", "b", "a"},
    {"/", "/", "/"},
    {"//", "/", "/"},
    {"///", "/", "/"},
    {"/a", "a", "/"},
    {"//a", "a", "/"},
    {"", ".", "."},
    {".", ".", "."},
    {"..", "..", "."},
    {"../x", "x", ".."},
    {"dist/app-1.0.tar.gz", "app-1.0.tar.gz", "dist"},
    {"/srv/caf\xc3\xa9/men\xc3\xbc", "men\xc3\xbc", "/srv/caf\xc3\xa9"},
};

static void expect_path(const char *fn, const char *path, const char *want)
{
	json_t *arg = json_string(path);
	char *args = json_dumps(arg, JSON_ENCODE_ANY);
	json_t *w = json_string(want);
	char *wtext = json_dumps(w, JSON_ENCODE_ANY | JSON_COMPACT);
	char list[256];

	snprintf(list, sizeof(list), "[%s]", args);
	EXPECT(fn, list, wtext);
	free(args);
	free(wtext);
	json_decref(arg);
	json_decref(w);
}

int main(void)
{
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		expect_path("basename", cases[i].path, cases[i].base);
		expect_path("dirname", cases[i].path, cases[i].dir);
	}
	EXPECT("basename", "[1]", "error: argument 'path' of basename() must be a string, not int");
	EXPECT("dirname", "[]", "error: dirname() needs argument 'path'");
	return CHECK_DONE();
}
