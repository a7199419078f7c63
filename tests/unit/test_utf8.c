/* Unit tests of UTF-8 validation, decoding and widths. */
#include "check.h"
#include "utf8.h"

#include <string.h>

static size_t valid(const char *s)
{
	return utf8_validate((const unsigned char *)s, strlen(s));
}

int main(void)
{
	CHECK(valid("plain ascii") == 11);
	CHECK(valid("caf\xC3\xA9") == 5);
	CHECK(valid("\xE2\x82\xAC") == 3);     /* euro sign */
	CHECK(valid("\xF0\x9F\x98\x80") == 4); /* emoji */
	CHECK(valid("ab\xFF") == 2);           /* invalid byte */
	CHECK(valid("\xC0\xAF") == 0);         /* overlong '/' */
	CHECK(valid("\xED\xA0\x80") == 0);     /* surrogate */
	CHECK(valid("\xF4\x90\x80\x80") == 0); /* > U+10FFFF */
	CHECK(valid("abcdefgh\xC3") == 8);     /* truncated after the fast path */
	uint32_t cp;
	CHECK(utf8_decode((const unsigned char *)"\xC3\xA9", 2, &cp) == 2 && cp == 0xE9);
	CHECK(utf8_decode((const unsigned char *)"\xC3", 1, &cp) == 0 && cp == 0xFFFD);
	CHECK(utf8_width('a') == 1);
	CHECK(utf8_width(0x4E2D) == 2); /* CJK */
	CHECK(utf8_width(0x0301) == 0); /* combining acute */
	CHECK(utf8_count((const unsigned char *)"h\xC3\xA9llo", 6) == 5);
	char buf[4];
	CHECK(utf8_encode(0x1F600, buf) == 4 && !memcmp(buf, "\xF0\x9F\x98\x80", 4));
	CHECK(utf8_encode(0xE9, buf) == 2 && !memcmp(buf, "\xC3\xA9", 2));
	return CHECK_DONE();
}
