/* Unit tests of the string functions: join, split, lower, upper, format. */
#include "fn_test.h"

static void test_join_split(void)
{
	EXPECT("join", "[[\"a\", \"b\", \"c\"], \", \"]", "\"a, b, c\"");
	EXPECT("join", "[[], \"-\"]", "\"\"");
	EXPECT("join", "[[\"only\"], \"-\"]", "\"only\"");
	EXPECT("join", "[[\"\", \"\"], \"-\"]", "\"-\"");
	EXPECT("join", "[[\"h\\u00e9\", \"\\u00e0\"], \"\\u2192\"]",
	       "\"h\xc3\xa9\xe2\x86\x92\xc3\xa0\"");
	EXPECT("join", "[[\"a\", 1], \"-\"]",
	       "error: element 1 of argument 'list' of join() must be a string, not int");
	EXPECT("join", "[\"a\", \"-\"]",
	       "error: argument 'list' of join() must be a list of strings, not string");
	EXPECT("join", "[[\"a\"]]", "error: join() needs argument 'sep'");

	EXPECT("split", "[\"a,b,c\", \",\"]", "[\"a\",\"b\",\"c\"]");
	EXPECT("split", "[\"a,,b,\", \",\"]", "[\"a\",\"\",\"b\",\"\"]");
	EXPECT("split", "[\"\", \",\"]", "[\"\"]");
	EXPECT("split", "[\"abc\", \",\"]", "[\"abc\"]");
	EXPECT("split", "[\"a::b::\", \"::\"]", "[\"a\",\"b\",\"\"]");
	EXPECT("split", "[\":::\", \"::\"]", "[\"\",\":\"]");
	EXPECT("split", "[\"x\\u00e9y\\u00e9z\", \"\\u00e9\"]", "[\"x\",\"y\",\"z\"]");
	EXPECT("split", "[\"a b\", \"\"]", "error: split() needs a separator, not an empty string");
	EXPECT("split", "[1, \",\"]", "error: argument 's' of split() must be a string, not int");

	/* join(split(s, sep), sep) == s, for every s and every non-empty sep */
	static const char *const strings[] = {"",    ",",   ",,",   "a",
	                                      "a,b", ",a,", "a,,b", "::a:::b::"};
	static const char *const seps[] = {",", "::", ":", "a,"};
	const struct kiln_schema *split = stdlib_lookup(SCHEMA_FUNCTION, "split");
	const struct kiln_schema *join = stdlib_lookup(SCHEMA_FUNCTION, "join");
	for (size_t i = 0; i < sizeof(strings) / sizeof(strings[0]); i++) {
		for (size_t j = 0; j < sizeof(seps) / sizeof(seps[0]); j++) {
			json_t *sargs[2] = {json_string(strings[i]), json_string(seps[j])};
			char *err = NULL;
			json_t *parts = stdlib_call(split, sargs, 2, &err);
			CHECK(parts != NULL && err == NULL);
			json_t *jargs[2] = {parts, sargs[1]};
			json_t *back = stdlib_call(join, jargs, 2, &err);
			CHECK(back && !strcmp(json_string_value(back), strings[i]));
			json_decref(back);
			json_decref(parts);
			json_decref(sargs[0]);
			json_decref(sargs[1]);
		}
	}
}

static void test_case(void)
{
	EXPECT("lower", "[\"WEB1.Example.COM\"]", "\"web1.example.com\"");
	EXPECT("upper", "[\"warn-1_z\"]", "\"WARN-1_Z\"");
	EXPECT("lower", "[\"\"]", "\"\"");
	/* ASCII only: non-ASCII letters are kept as they are */
	EXPECT("upper", "[\"\\u00e9t\\u00e9\"]", "\"\xc3\xa9T\xc3\xa9\"");
	EXPECT("lower", "[\"\\u00c9T\\u00c9\"]", "\"\xc3\x89t\xc3\x89\"");
	EXPECT("lower", "[true]", "error: argument 's' of lower() must be a string, not bool");
}

static void test_format(void)
{
	EXPECT("format", "[\"%s:%d\", \"0.0.0.0\", 8080]", "\"0.0.0.0:8080\"");
	EXPECT("format", "[\"plain\"]", "\"plain\"");
	EXPECT("format", "[\"\"]", "\"\"");
	EXPECT("format", "[\"100%%\"]", "\"100%\"");
	EXPECT("format", "[\"%d%%\", 42]", "\"42%\"");
	EXPECT("format", "[\"%d\", -9223372036854775807]", "\"-9223372036854775807\"");
	EXPECT("format", "[\"%s %s %s\", \"x\", 7, false]", "\"x 7 false\"");
	EXPECT("format", "[\"%q\", \"say \\\"hi\\\"\\n\"]",
	       "\"\\\"say \\\\\\\"hi\\\\\\\"\\\\n\\\"\"");
	EXPECT("format", "[\"%q\", \"${x} $y\"]", "\"\\\"\\\\${x} $y\\\"\"");
	EXPECT("format", "[\"%q\", \"a\\u0001\\tb\\\\\"]", "\"\\\"a\\\\u{1}\\\\tb\\\\\\\\\\\"\"");
	EXPECT("format", "[\"%q\", \"caf\\u00e9\"]", "\"\\\"caf\xc3\xa9\\\"\"");

	/* wrong counts */
	EXPECT("format", "[\"%s and %s\", \"a\"]",
	       "error: format string of format() has more verbs than the 1 value given");
	EXPECT("format", "[\"%s\"]",
	       "error: format string of format() has more verbs than the 0 values given");
	EXPECT("format", "[\"%s\", \"a\", \"b\"]",
	       "error: format() was given 2 values but its format string uses 1");
	EXPECT("format", "[\"none\", 1]",
	       "error: format() was given 1 value but its format string uses 0");
	/* wrong types */
	EXPECT("format", "[\"%d\", \"80\"]",
	       "error: %d in format() needs an int, but value 1 is string");
	EXPECT("format", "[\"%s %q\", \"a\", 1]",
	       "error: %q in format() needs a string, but value 2 is int");
	EXPECT("format", "[\"%s\", [1]]",
	       "error: %s in format() needs a string, int or bool, but value 1 is list");
	EXPECT("format", "[\"%s\", null]",
	       "error: %s in format() needs a string, int or bool, but value 1 is null");
	/* bad verbs */
	EXPECT("format", "[\"50%\"]", "error: format string of format() ends with a lone '%'");
	EXPECT("format", "[\"%x\", 1]",
	       "error: unknown verb '%x' in format(); use %s, %d, %q or %%");
	EXPECT("format", "[\"%\\u00e9\", 1]",
	       "error: unknown verb '%\xc3\xa9' in format(); use %s, %d, %q or %%");
	EXPECT("format", "[]", "error: format() needs argument 'fmt'");
}

int main(void)
{
	test_join_split();
	test_case();
	test_format();
	return CHECK_DONE();
}
