/* Unit tests of the string functions: join, split, lower, upper, format. */
#include "fn_test.h"

static void test_join_split(void)
{
	/* the separator comes first, as in HCL: join(sep, list), split(sep, s) */
	EXPECT("join", "[\", \", [\"a\", \"b\", \"c\"]]", "\"a, b, c\"");
	EXPECT("join", "[\"-\", []]", "\"\"");
	EXPECT("join", "[\"-\", [\"only\"]]", "\"only\"");
	EXPECT("join", "[\"-\", [\"\", \"\"]]", "\"-\"");
	EXPECT("join", "[\"\", [\"a\", \"b\"]]", "\"ab\"");
	EXPECT("join", "[\"\\u2192\", [\"h\\u00e9\", \"\\u00e0\"]]",
	       "\"h\xc3\xa9\xe2\x86\x92\xc3\xa0\"");
	EXPECT("join", "[\"-\", [\"a\", 1]]",
	       "error: element 1 of argument 'list' of join() must be a string, not int");
	EXPECT("join", "[\"-\", \"a\"]",
	       "error: argument 'list' of join() must be a list of strings, not string");
	EXPECT("join", "[1, [\"a\"]]", "error: argument 'sep' of join() must be a string, not int");
	EXPECT("join", "[\"-\"]", "error: join() needs argument 'list'");
	/* the order of Jinja's list | join(sep) */
	EXPECT("join", "[[\"a\", \"b\"], \"-\"]",
	       "error: join() takes the separator first: join(sep, list)");

	EXPECT("split", "[\",\", \"a,b,c\"]", "[\"a\",\"b\",\"c\"]");
	EXPECT("split", "[\",\", \"a,,b,\"]", "[\"a\",\"\",\"b\",\"\"]");
	EXPECT("split", "[\",\", \"\"]", "[\"\"]");
	EXPECT("split", "[\",\", \"abc\"]", "[\"abc\"]");
	EXPECT("split", "[\"::\", \"a::b::\"]", "[\"a\",\"b\",\"\"]");
	EXPECT("split", "[\"::\", \":::\"]", "[\"\",\":\"]");
	EXPECT("split", "[\"\\u00e9\", \"x\\u00e9y\\u00e9z\"]", "[\"x\",\"y\",\"z\"]");
	/* the other order cuts the separator at the string: split("a,b", ",") is [","] */
	EXPECT("split", "[\"a,b\", \",\"]", "[\",\"]");
	EXPECT("split", "[\"\", \"a b\"]", "error: split() needs a separator, not an empty string");
	EXPECT("split", "[\",\", 1]", "error: argument 's' of split() must be a string, not int");
	EXPECT("split", "[1, \"a\"]", "error: argument 'sep' of split() must be a string, not int");
	EXPECT("split", "[\",\"]", "error: split() needs argument 's'");

	/* join(sep, split(sep, s)) == s, for every s and every non-empty sep */
	static const char *const strings[] = {"",    ",",   ",,",   "a",
	                                      "a,b", ",a,", "a,,b", "::a:::b::"};
	static const char *const seps[] = {",", "::", ":", "a,"};
	const struct kiln_schema *split = stdlib_lookup(SCHEMA_FUNCTION, "split");
	const struct kiln_schema *join = stdlib_lookup(SCHEMA_FUNCTION, "join");
	for (size_t i = 0; i < sizeof(strings) / sizeof(strings[0]); i++) {
		for (size_t j = 0; j < sizeof(seps) / sizeof(seps[0]); j++) {
			json_t *sargs[2] = {json_string(seps[j]), json_string(strings[i])};
			char *err = NULL;
			json_t *parts = stdlib_call(split, sargs, 2, &err);
			CHECK(parts != NULL && err == NULL);
			json_t *jargs[2] = {sargs[0], parts};
			json_t *back = parts ? stdlib_call(join, jargs, 2, &err) : NULL;
			CHECK(back && !strcmp(json_string_value(back), strings[i]));
			if (!back || strcmp(json_string_value(back), strings[i]))
				fprintf(stderr, "    join(\"%s\", split(\"%s\", \"%s\")): %s\n",
				        seps[j], seps[j], strings[i],
				        back  ? json_string_value(back)
				        : err ? err
				              : "(no message)");
			free(err);
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
