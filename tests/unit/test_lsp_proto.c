/* Unit tests of the LSP wire layer: framing, UTF-16 positions, file URIs. */
#include "check.h"
#include "lsp_proto.h"

#include <stdlib.h>
#include <string.h>

/* Read every message of `input`; their bodies joined by '|', errors as "!". */
static char *read_n(const char *input, size_t n)
{
	FILE *in = fmemopen((void *)input, n, "r");
	static char out[1024];
	out[0] = 0;
	for (;;) {
		char *body;
		size_t len;
		const char *why;
		enum lsp_read r = lsp_read_message(in, &body, &len, &why);
		if (r == LSP_READ_EOF)
			break;
		if (out[0])
			strcat(out, "|");
		if (r == LSP_READ_ERROR) {
			strcat(out, "!");
			if (feof(in))
				break;
			continue;
		}
		if (strlen(body) != len)
			strcat(out, "(NUL)");
		strncat(out, body, 100);
		free(body);
	}
	fclose(in);
	return out;
}

static char *read_all(const char *input)
{
	return read_n(input, strlen(input));
}

int main(void)
{
	/* framing */
	CHECK(!strcmp(read_all("Content-Length: 2\r\n\r\n{}"), "{}"));
	CHECK(
	    !strcmp(read_all("Content-Length: 2\r\n\r\n{}Content-Length: 3\r\n\r\n[1]"), "{}|[1]"));
	CHECK(!strcmp(read_all("content-length:2\r\nContent-Type: application/vscode-jsonrpc; "
	                       "charset=utf-8\r\n\r\nab"),
	              "ab"));
	CHECK(!strcmp(read_all("Content-Length: 2\n\nab"), "ab")); /* bare LF accepted */
	CHECK(!strcmp(read_all(""), ""));
	CHECK(!strcmp(read_all("Content-Length: 5\r\n\r\nab"), "!")); /* body cut short */
	CHECK(!strcmp(read_all("Content-Length: x\r\n\r\n"), "!"));   /* not a number */
	CHECK(!strcmp(read_all("Content-Length: -1\r\n\r\n"), "!"));  /* negative */
	CHECK(!strcmp(read_all("Content-Length: 2 x\r\n\r\n"), "!")); /* junk after */
	CHECK(!strcmp(read_all("Content-Length: 99999999999999999999\r\n\r\n"), "!"));
	CHECK(!strcmp(read_all("Content-Type: x\r\n\r\n"), "!")); /* no length */
	CHECK(!strcmp(read_all("no colon\r\n\r\n"), "!"));
	CHECK(!strcmp(read_all("Content-Length: 2\r\n"), "!")); /* header cut short */
	/* a broken header is skipped and the next message still read */
	CHECK(!strcmp(read_all("Content-Type: x\r\n\r\nContent-Length: 2\r\n\r\nok"), "!|ok"));
	CHECK(!strcmp(read_n("Content-Length: 3\r\n\r\na\0b", 24), "(NUL)a"));
	char big[2000];
	memset(big, 'x', sizeof big);
	big[sizeof big - 1] = 0;
	char *r = read_all(big); /* a header line too long: errors, never a body */
	CHECK(r[0] == '!' && strspn(r, "!|") == strlen(r));

	/* writing */
	char *buf = NULL;
	size_t n = 0;
	FILE *out = open_memstream(&buf, &n);
	CHECK(lsp_write_message(out, "{\"a\":1}", 7) == 0);
	fclose(out);
	CHECK(!strcmp(buf, "Content-Length: 7\r\n\r\n{\"a\":1}"));
	free(buf);

	/* UTF-16 units */
	CHECK(lsp_utf16_len("abc", 3) == 3);
	CHECK(lsp_utf16_len("\xC3\xA9", 2) == 1);         /* é: 1 unit */
	CHECK(lsp_utf16_len("\xE2\x82\xAC", 3) == 1);     /* €: 1 unit */
	CHECK(lsp_utf16_len("\xF0\x9F\x98\x80", 4) == 2); /* emoji: a surrogate pair */
	CHECK(lsp_utf16_len("a\xFF"
	                    "b",
	                    3) == 3);                /* an invalid byte counts one */
	CHECK(lsp_utf16_len("\xF0\x9F", 2) == 2);    /* truncated: one per byte */
	const char *s = "\xC3\xA9\xF0\x9F\x98\x80x"; /* é 😀 x */
	CHECK(lsp_utf16_bytes(s, 7, 0) == 0);
	CHECK(lsp_utf16_bytes(s, 7, 1) == 2);
	CHECK(lsp_utf16_bytes(s, 7, 2) == 2); /* inside the pair: stays before it */
	CHECK(lsp_utf16_bytes(s, 7, 3) == 6);
	CHECK(lsp_utf16_bytes(s, 7, 4) == 7);
	CHECK(lsp_utf16_bytes(s, 7, 99) == 7);

	/* positions */
	const char *text = "ab\n\xC3\xA9\xF0\x9F\x98\x80z\r\nlast";
	size_t len = strlen(text);
	uint32_t line, ch;
	CHECK(lsp_offset(text, len, 0, 0) == 0);
	CHECK(lsp_offset(text, len, 0, 9) == 2);   /* past the line's end: its end */
	CHECK(lsp_offset(text, len, 1, 3) == 9);   /* é😀 = 3 units, 6 bytes, from 3 */
	CHECK(lsp_offset(text, len, 1, 99) == 10); /* before the \r */
	CHECK(lsp_offset(text, len, 2, 2) == 14);
	CHECK(lsp_offset(text, len, 7, 0) == len); /* past the last line */
	lsp_position(text, len, 9, &line, &ch);
	CHECK(line == 1 && ch == 3);
	lsp_position(text, len, 14, &line, &ch);
	CHECK(line == 2 && ch == 2);
	lsp_position(text, len, len + 5, &line, &ch);
	CHECK(line == 2 && ch == 4);
	for (size_t off = 0; off <= len; off++) { /* round trip on code point boundaries */
		if ((text[off] & 0xC0) == 0x80)
			continue;
		lsp_position(text, len, off, &line, &ch);
		if (text[off] != '\n' && !(off && text[off - 1] == '\r' && text[off] == '\n') &&
		    text[off] != '\r')
			CHECK(lsp_offset(text, len, line, ch) == off);
	}

	/* URIs */
	char *p = lsp_uri_to_path("file:///home/me/my%20image.img");
	CHECK(p && !strcmp(p, "/home/me/my image.img"));
	free(p);
	p = lsp_uri_to_path("file://localhost/x.img");
	CHECK(p && !strcmp(p, "/x.img"));
	free(p);
	p = lsp_uri_to_path("file:///a%2");
	CHECK(p && !strcmp(p, "/a%2"));
	free(p);
	p = lsp_uri_to_path("file:///a%00b"); /* no NUL inside a path */
	CHECK(p && !strcmp(p, "/a%00b"));
	free(p);
	CHECK(lsp_uri_to_path("untitled:Untitled-1") == NULL);
	CHECK(lsp_uri_to_path("file://otherhost/x") == NULL);
	char *u = lsp_path_to_uri("/home/me/my image+\xC3\xA9.img");
	CHECK(u && !strcmp(u, "file:///home/me/my%20image%2B%C3%A9.img"));
	p = lsp_uri_to_path(u);
	CHECK(p && !strcmp(p, "/home/me/my image+\xC3\xA9.img"));
	free(p);
	free(u);
	return CHECK_DONE();
}
