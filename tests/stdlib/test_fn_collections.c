/* Unit tests of length(), lookup() and range(). */
#include "fn_test.h"

static void test_length(void)
{
	EXPECT("length", "[\"\"]", "0");
	EXPECT("length", "[\"vim\"]", "3");
	EXPECT("length", "[\"caf\\u00e9\"]", "4");      /* code points, not bytes */
	EXPECT("length", "[\"\\ud83d\\ude00!\"]", "2"); /* U+1F600, four bytes */
	EXPECT("length", "[[]]", "0");
	EXPECT("length", "[[1, [2, 3], \"x\"]]", "3");
	EXPECT("length", "[{}]", "0");
	EXPECT("length", "[{\"a\": 1, \"b\": 2}]", "2");
	EXPECT("length", "[7]", "error: length() takes a string, list or map, not int");
	EXPECT("length", "[null]", "error: length() takes a string, list or map, not null");
}

static void test_lookup(void)
{
	EXPECT("lookup", "[{\"http\": 80, \"https\": 443}, \"https\"]", "443");
	EXPECT("lookup", "[{\"http\": 80}, \"https\", 8080]", "8080");
	EXPECT("lookup", "[{\"http\": 80}, \"http\", 8080]", "80");
	EXPECT("lookup", "[{\"k\": [1, 2]}, \"k\"]", "[1,2]");
	EXPECT("lookup", "[{\"k\": null}, \"k\"]", "null");
	EXPECT("lookup", "[{}, \"k\", null]", "null"); /* a null default is a default */
	EXPECT("lookup", "[{\"http\": 80, \"https\": 443}, \"ftp\"]",
	       "error: key 'ftp' not found; the keys are 'http' and 'https'");
	EXPECT("lookup", "[{\"b\": 1, \"a\": 2, \"c\": 3}, \"d\"]",
	       "error: key 'd' not found; the keys are 'a', 'b' and 'c'");
	EXPECT("lookup", "[{\"only\": 1}, \"other\"]",
	       "error: key 'other' not found; the key is 'only'");
	EXPECT("lookup", "[{}, \"k\"]", "error: key 'k' not found in an empty map");
	EXPECT("lookup",
	       "[{\"k01\":1,\"k02\":1,\"k03\":1,\"k04\":1,\"k05\":1,\"k06\":1,\"k07\":1,\"k08\":1,"
	       "\"k09\":1,\"k10\":1,\"k11\":1,\"k12\":1}, \"x\"]",
	       "error: key 'x' not found; the keys are 'k01', 'k02', 'k03', 'k04', 'k05', 'k06', "
	       "'k07', 'k08', 'k09', 'k10' and 2 more");
	EXPECT("lookup", "[[1], \"k\"]", "error: argument 'm' of lookup() must be a map, not list");
	EXPECT("lookup", "[{}, 1]", "error: argument 'key' of lookup() must be a string, not int");
	EXPECT("lookup", "[{}]", "error: lookup() needs argument 'key'");
}

static void test_range(void)
{
	EXPECT("range", "[3]", "[0,1,2]");
	EXPECT("range", "[0]", "[]");
	EXPECT("range", "[2, 5]", "[2,3,4]");
	EXPECT("range", "[5, 5]", "[]");
	EXPECT("range", "[-2, 1]", "[-2,-1,0]");
	EXPECT("range", "[9223372036854775806, 9223372036854775807]", "[9223372036854775806]");
	EXPECT("range", "[5, 2]", "error: range() end 2 is less than its start 5");
	EXPECT("range", "[-1]", "error: range() end -1 is less than its start 0");
	EXPECT("range", "[\"3\"]", "error: argument 'a' of range() must be an int, not string");
	EXPECT("range", "[1, true]", "error: argument 'b' of range() must be an int, not bool");
	EXPECT("range", "[]", "error: range() needs argument 'a'");

	/* the limit: 1000000 numbers, not one more */
	char *got = fn_test_call("range", "[1000000]");
	CHECK(strncmp(got, "[0,1,2,", 7) == 0 && strstr(got, ",999999]") != NULL);
	free(got);
	got = fn_test_call("range", "[5, 1000005]");
	CHECK(strncmp(got, "[5,6,", 5) == 0 && strstr(got, ",1000004]") != NULL);
	free(got);
	EXPECT("range", "[1000001]",
	       "error: range() of 1000001 numbers is longer than the limit of 1000000");
	EXPECT(
	    "range", "[-9223372036854775807, 9223372036854775807]",
	    "error: range() of 18446744073709551614 numbers is longer than the limit of 1000000");
}

int main(void)
{
	test_length();
	test_lookup();
	test_range();
	return CHECK_DONE();
}
