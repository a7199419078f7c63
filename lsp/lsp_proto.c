/* lsp_proto: Content-Length framing, UTF-16 positions and file URIs. */
#include "lsp_proto.h"

#include "utf8.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* One header line without its CR LF, in buf (cap bytes). Returns its length,
   -1 at end of input before any byte, -2 when too long or cut short. */
static int read_header_line(FILE *in, char *buf, size_t cap)
{
	size_t n = 0;
	int c;
	while ((c = getc(in)) != EOF) {
		if (c == '\n') {
			if (n && buf[n - 1] == '\r')
				n--;
			buf[n] = 0;
			return (int)n;
		}
		if (n + 1 >= cap)
			return -2;
		buf[n++] = (char)c;
	}
	return n ? -2 : -1;
}

enum lsp_read lsp_read_message(FILE *in, char **ret_body, size_t *ret_len, const char **ret_why)
{
	char line[1024];
	long long length = -1;
	bool any = false;
	*ret_body = NULL;
	*ret_len = 0;
	*ret_why = NULL;
	for (;;) {
		int n = read_header_line(in, line, sizeof line);
		if (n == -1) {
			if (!any)
				return LSP_READ_EOF;
			*ret_why = "end of input inside the header";
			return LSP_READ_ERROR;
		}
		if (n == -2) {
			*ret_why = "a header line too long or cut short";
			return LSP_READ_ERROR;
		}
		if (n == 0) {
			if (!any)
				continue; /* blank lines between messages */
			break;
		}
		any = true;
		char *colon = strchr(line, ':');
		if (!colon) {
			*ret_why = "a header line without ':'";
			return LSP_READ_ERROR;
		}
		*colon = 0;
		if (!strcasecmp(line, "Content-Length")) {
			char *v = colon + 1, *end;
			while (*v == ' ' || *v == '\t')
				v++;
			if (!isdigit((unsigned char)*v)) {
				*ret_why = "Content-Length is not a number";
				return LSP_READ_ERROR;
			}
			length = strtoll(v, &end, 10);
			while (*end == ' ' || *end == '\t')
				end++;
			if (*end || length < 0 || length > (long long)LSP_MAX_BODY) {
				*ret_why = "Content-Length is not a number up to 256 MiB";
				return LSP_READ_ERROR;
			}
		}
	}
	if (length < 0) {
		*ret_why = "a message without Content-Length";
		return LSP_READ_ERROR;
	}
	char *body = malloc((size_t)length + 1);
	if (!body) {
		*ret_why = "out of memory";
		return LSP_READ_ERROR;
	}
	if (fread(body, 1, (size_t)length, in) != (size_t)length) {
		free(body);
		*ret_why = "end of input inside a message body";
		return LSP_READ_ERROR;
	}
	body[length] = 0;
	*ret_body = body;
	*ret_len = (size_t)length;
	return LSP_READ_OK;
}

int lsp_write_message(FILE *out, const char *body, size_t len)
{
	if (fprintf(out, "Content-Length: %zu\r\n\r\n", len) < 0)
		return -1;
	if (fwrite(body, 1, len, out) != len)
		return -1;
	return fflush(out) ? -1 : 0;
}

uint32_t lsp_utf16_len(const char *s, size_t n)
{
	uint32_t units = 0;
	size_t i = 0;
	while (i < n) {
		unsigned char c = (unsigned char)s[i];
		if (c < 0x80) {
			units++;
			i++;
			continue;
		}
		uint32_t cp;
		size_t k = utf8_decode((const unsigned char *)s + i, n - i, &cp);
		if (!k) {
			units++;
			i++;
			continue;
		}
		units += cp >= 0x10000 ? 2 : 1;
		i += k;
	}
	return units;
}

size_t lsp_utf16_bytes(const char *s, size_t n, uint32_t units)
{
	size_t i = 0;
	uint32_t u = 0;
	while (i < n && u < units) {
		unsigned char c = (unsigned char)s[i];
		if (c < 0x80) {
			u++;
			i++;
			continue;
		}
		uint32_t cp;
		size_t k = utf8_decode((const unsigned char *)s + i, n - i, &cp);
		if (!k) {
			u++;
			i++;
			continue;
		}
		uint32_t w = cp >= 0x10000 ? 2 : 1;
		if (u + w > units)
			break; /* inside a surrogate pair: stay before it */
		u += w;
		i += k;
	}
	return i;
}

size_t lsp_offset(const char *text, size_t n, uint32_t line, uint32_t character)
{
	size_t start = 0;
	for (uint32_t l = 0; l < line; l++) {
		const char *nl = memchr(text + start, '\n', n - start);
		if (!nl)
			return n;
		start = (size_t)(nl - text) + 1;
	}
	const char *nl = memchr(text + start, '\n', n - start);
	size_t end = nl ? (size_t)(nl - text) : n;
	if (end > start && text[end - 1] == '\r')
		end--;
	return start + lsp_utf16_bytes(text + start, end - start, character);
}

void lsp_position(const char *text, size_t n, size_t off, uint32_t *ret_line,
                  uint32_t *ret_character)
{
	if (off > n)
		off = n;
	uint32_t line = 0;
	size_t start = 0;
	for (;;) {
		const char *nl = memchr(text + start, '\n', off - start);
		if (!nl)
			break;
		line++;
		start = (size_t)(nl - text) + 1;
	}
	*ret_line = line;
	*ret_character = lsp_utf16_len(text + start, off - start);
}

static int hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = tolower(c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

char *lsp_uri_to_path(const char *uri)
{
	if (strncmp(uri, "file://", 7))
		return NULL;
	const char *p = uri + 7;
	/* file://host/path: only the local host (empty or localhost) */
	if (*p != '/') {
		if (strncmp(p, "localhost/", 10))
			return NULL;
		p += 9;
	}
	size_t n = strlen(p);
	char *out = malloc(n + 1), *o = out;
	if (!out)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		int h, l;
		if (p[i] == '%' && i + 2 < n && (h = hexval(p[i + 1])) >= 0 &&
		    (l = hexval(p[i + 2])) >= 0 && (h || l)) {
			*o++ = (char)(h * 16 + l);
			i += 2;
		} else if (p[i] == '?' || p[i] == '#') {
			break;
		} else {
			*o++ = p[i];
		}
	}
	*o = 0;
	return out;
}

char *lsp_path_to_uri(const char *path)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t n = strlen(path);
	char *out = malloc(7 + 3 * n + 1), *o = out;
	if (!out)
		return NULL;
	memcpy(o, "file://", 7);
	o += 7;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)path[i];
		if (isalnum(c) || strchr("/-._~", c)) {
			*o++ = (char)c;
		} else {
			*o++ = '%';
			*o++ = hex[c >> 4];
			*o++ = hex[c & 15];
		}
	}
	*o = 0;
	return out;
}
