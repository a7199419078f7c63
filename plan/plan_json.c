/*
 * plan_json: the streaming plan writer (plan_json.h). The layout is
 * jansson's with JSON_INDENT(2) | JSON_SORT_KEYS | JSON_ENSURE_ASCII:
 * "{" or "[", then each element on its own line indented two spaces deeper
 * than its container, elements separated by ",", members as "key": value,
 * the closing bracket on a line of its own; empty containers as {} and [].
 * Reals as jansson prints them (%.17g, ".0" added when neither a dot nor an
 * exponent is there, no "+" or leading zeros in the exponent).
 */
#include "plan_json.h"

#include "atomic.h"
#include "strbuf.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A raw value is a JSON string: 0xff (no UTF-8 text starts so: jansson checks the
   strings it is given, and the compiler's unchecked ones come from checked text), '0' +
   the depth its text was laid out at, then the text */
static const char raw_mark = '\xff';

static void flush(struct plan_json *w)
{
	if (w->mem) {
		sb_add(w->mem, w->buf, w->len);
	} else if (w->len && !w->err && w->fd >= 0) {
		int r = fd_write_all(w->fd, w->buf, w->len);
		if (r < 0)
			w->err = r;
	}
	w->written += w->len;
	w->len = 0;
}

static void put(struct plan_json *w, const char *s, size_t n)
{
	if (w->len + n > sizeof(w->buf)) {
		flush(w);
		while (n > sizeof(w->buf)) {
			memcpy(w->buf, s, sizeof(w->buf));
			w->len = sizeof(w->buf);
			flush(w);
			s += sizeof(w->buf);
			n -= sizeof(w->buf);
		}
	}
	memcpy(w->buf + w->len, s, n);
	w->len += n;
}

static void putc_(struct plan_json *w, char c)
{
	if (w->len == sizeof(w->buf))
		flush(w);
	w->buf[w->len++] = c;
}

/* A newline and depth levels of indent (more the base of a text written to memory). */
static void indent(struct plan_json *w, unsigned depth)
{
	depth += w->base;
	static const char spaces[] =
	    "                                                                ";
	static const char nl_spaces[] =
	    "\n                                                                ";
	if (2 * (size_t)depth < sizeof(nl_spaces) - 1) {
		put(w, nl_spaces, 1 + 2 * (size_t)depth);
		return;
	}
	putc_(w, '\n');
	size_t n = 2 * (size_t)depth;
	while (n > 0) {
		size_t k = n < sizeof(spaces) - 1 ? n : sizeof(spaces) - 1;
		put(w, spaces, k);
		n -= k;
	}
}

/* 1 for a byte a string holds as it is: ASCII from ' ' up (DEL too), but '"' and '\\' */
// clang-format off
static const unsigned char plain_byte[256] = {
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* 0x00 */
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* 0x10 */
	1, 1, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, /* 0x20: '"' */
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, /* 0x30 */
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, /* 0x40 */
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 1, 1, 1, /* 0x50: '\\' */
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, /* 0x60 */
	1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, /* 0x70 */
	/* 0x80-0xff: 0, written as \uXXXX */
};
// clang-format on

static inline bool plain(unsigned char c)
{
	return plain_byte[c];
}

static void put_string(struct plan_json *w, const char *s, size_t n)
{
	static const char hex[] = "0123456789ABCDEF";
	const unsigned char *p = (const unsigned char *)s, *end = p + n;
	/* the common case: plain bytes that fit the buffer, with both quotes */
	if (w->len + n + 2 <= sizeof(w->buf)) {
		char *d = w->buf + w->len;
		*d++ = '"';
		while (p < end && plain(*p))
			*d++ = (char)*p++;
		if (p == end) {
			*d++ = '"';
			w->len = (size_t)(d - w->buf);
			return;
		}
		/* an escape: write the plain part and go on below */
		w->len = (size_t)(d - w->buf);
	} else {
		putc_(w, '"');
	}
	while (p < end) {
		const unsigned char *run = p;
		while (p < end && plain(*p))
			p++;
		if (p > run)
			put(w, (const char *)run, (size_t)(p - run));
		if (p == end)
			break;
		unsigned c = *p;
		char seq[13];
		switch (c) {
		case '"':
			put(w, "\\\"", 2);
			p++;
			continue;
		case '\\':
			put(w, "\\\\", 2);
			p++;
			continue;
		case '\b':
			put(w, "\\b", 2);
			p++;
			continue;
		case '\f':
			put(w, "\\f", 2);
			p++;
			continue;
		case '\n':
			put(w, "\\n", 2);
			p++;
			continue;
		case '\r':
			put(w, "\\r", 2);
			p++;
			continue;
		case '\t':
			put(w, "\\t", 2);
			p++;
			continue;
		default:
			break;
		}
		/* a control character, or a UTF-8 sequence (jansson's strings are valid UTF-8) */
		uint32_t cp = c;
		size_t len = 1;
		if (c >= 0xf0 && end - p >= 4) {
			cp = ((c & 0x07u) << 18) | ((p[1] & 0x3fu) << 12) | ((p[2] & 0x3fu) << 6) |
			     (p[3] & 0x3fu);
			len = 4;
		} else if (c >= 0xe0 && end - p >= 3) {
			cp = ((c & 0x0fu) << 12) | ((p[1] & 0x3fu) << 6) | (p[2] & 0x3fu);
			len = 3;
		} else if (c >= 0xc0 && end - p >= 2) {
			cp = ((c & 0x1fu) << 6) | (p[1] & 0x3fu);
			len = 2;
		}
		p += len;
		if (cp < 0x10000) {
			seq[0] = '\\';
			seq[1] = 'u';
			for (int i = 0; i < 4; i++)
				seq[2 + i] = hex[(cp >> (12 - 4 * i)) & 0xf];
			put(w, seq, 6);
		} else {
			cp -= 0x10000;
			uint32_t hi = 0xd800 | (cp >> 10), lo = 0xdc00 | (cp & 0x3ff);
			seq[0] = seq[6] = '\\';
			seq[1] = seq[7] = 'u';
			for (int i = 0; i < 4; i++) {
				seq[2 + i] = hex[(hi >> (12 - 4 * i)) & 0xf];
				seq[8 + i] = hex[(lo >> (12 - 4 * i)) & 0xf];
			}
			put(w, seq, 12);
		}
	}
	putc_(w, '"');
}

static void put_integer(struct plan_json *w, json_int_t v)
{
	char tmp[24];
	size_t i = sizeof(tmp);
	unsigned long long u = v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v;
	do {
		tmp[--i] = (char)('0' + u % 10);
		u /= 10;
	} while (u);
	if (v < 0)
		tmp[--i] = '-';
	put(w, tmp + i, sizeof(tmp) - i);
}

static void put_real(struct plan_json *w, double v)
{
	char b[40];
	int n = snprintf(b, sizeof(b) - 3, "%.17g", v);
	if (n < 0 || (size_t)n >= sizeof(b) - 3) {
		w->err = w->err ? w->err : -EINVAL;
		return;
	}
	size_t len = (size_t)n;
	if (!strchr(b, '.') && !strchr(b, 'e')) {
		memcpy(b + len, ".0", 3);
		len += 2;
	}
	char *e = strchr(b, 'e');
	if (e) {
		char *start = e + 1, *stop = start + 1;
		if (*start == '-')
			start++;
		while (*stop == '0')
			stop++;
		if (stop != start) {
			memmove(start, stop, len - (size_t)(stop - b) + 1);
			len -= (size_t)(stop - start);
		}
	}
	put(w, b, len);
}

/* Before a value: the separator and indent inside a container. */
static void before_value(struct plan_json *w)
{
	if (w->after_key) {
		w->after_key = false;
		return;
	}
	if (!w->depth)
		return;
	if (w->count[w->depth - 1]++)
		putc_(w, ',');
	indent(w, w->depth);
}

struct member {
	const char *key;
	const json_t *value;
};

static int cmp_keys(const void *a, const void *b)
{
	return strcmp(((const struct member *)a)->key, ((const struct member *)b)->key);
}

/* A raw value's text, laid out at depth laid, written depth levels deep */
static void put_raw(struct plan_json *w, const char *p, const char *end, unsigned laid,
                    unsigned depth)
{
	if (laid == depth + w->base) {
		put(w, p, (size_t)(end - p));
		return;
	}
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		if (!nl) {
			put(w, p, (size_t)(end - p));
			return;
		}
		put(w, p, (size_t)(nl - p));
		indent(w, depth);
		p = nl + 1;
		/* the line's indent past the text's own depth follows as it was */
		for (unsigned i = 0; i < 2 * laid && p < end && *p == ' '; i++)
			p++;
	}
}

static void dump(struct plan_json *w, const json_t *v, unsigned depth)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT: {
		size_t n = json_object_size(v);
		if (!n) {
			put(w, "{}", 2);
			return;
		}
		struct member small[16];
		struct member *keys = n <= 16 ? small : malloc(n * sizeof(*keys));
		if (!keys) {
			w->err = w->err ? w->err : -ENOMEM;
			return;
		}
		size_t i = 0;
		const char *k;
		const json_t *m;
		json_object_foreach ((json_t *)v, k, m) {
			/* insertion sort: objects of a plan are small and often nearly in order */
			size_t j = i++;
			if (n > 16) {
				keys[j] = (struct member){k, m};
				continue;
			}
			while (j > 0 && strcmp(keys[j - 1].key, k) > 0) {
				keys[j] = keys[j - 1];
				j--;
			}
			keys[j] = (struct member){k, m};
		}
		if (n > 16)
			qsort(keys, n, sizeof(*keys), cmp_keys);
		putc_(w, '{');
		for (i = 0; i < n; i++) {
			if (i)
				putc_(w, ',');
			indent(w, depth + 1);
			put_string(w, keys[i].key, strlen(keys[i].key));
			put(w, ": ", 2);
			dump(w, keys[i].value, depth + 1);
		}
		indent(w, depth);
		putc_(w, '}');
		if (keys != small)
			free(keys);
		return;
	}
	case JSON_ARRAY: {
		size_t n = json_array_size(v);
		if (!n) {
			put(w, "[]", 2);
			return;
		}
		putc_(w, '[');
		for (size_t i = 0; i < n; i++) {
			if (i)
				putc_(w, ',');
			indent(w, depth + 1);
			dump(w, json_array_get(v, i), depth + 1);
		}
		indent(w, depth);
		putc_(w, ']');
		return;
	}
	case JSON_STRING: {
		const char *s = json_string_value(v);
		size_t n = json_string_length(v);
		if (n >= 2 && s[0] == raw_mark)
			put_raw(w, s + 2, s + n, (unsigned)(s[1] - '0'), depth);
		else
			put_string(w, s, n);
		return;
	}
	case JSON_INTEGER:
		put_integer(w, json_integer_value(v));
		return;
	case JSON_REAL:
		put_real(w, json_real_value(v));
		return;
	case JSON_TRUE:
		put(w, "true", 4);
		return;
	case JSON_FALSE:
		put(w, "false", 5);
		return;
	case JSON_NULL:
		put(w, "null", 4);
		return;
	}
}

void plan_json_init(struct plan_json *w, int fd)
{
	w->mem = NULL;
	w->base = 0;
	w->fd = fd;
	w->err = 0;
	w->written = 0;
	w->depth = 0;
	w->after_key = false;
	w->len = 0;
}

void plan_json_init_mem(struct plan_json *w, struct strbuf *mem, unsigned depth)
{
	plan_json_init(w, -1);
	w->mem = mem;
	w->base = depth;
}

void plan_json_flush_mem(struct plan_json *w)
{
	flush(w);
}

json_t *plan_json_raw(const char *text, size_t n, unsigned depth)
{
	char *s = malloc(n + 2);
	if (!s)
		return NULL;
	s[0] = raw_mark;
	s[1] = (char)('0' + (depth < 64 ? depth : 63));
	memcpy(s + 2, text, n);
	json_t *v = json_stringn_nocheck(s, n + 2);
	free(s);
	return v;
}

static void begin(struct plan_json *w, char c)
{
	before_value(w);
	putc_(w, c);
	if (w->depth == PLAN_JSON_MAX_DEPTH) {
		w->err = w->err ? w->err : -E2BIG;
		return;
	}
	w->count[w->depth++] = 0;
}

static void end(struct plan_json *w, char c)
{
	if (!w->depth)
		return;
	w->depth--;
	if (w->count[w->depth])
		indent(w, w->depth);
	putc_(w, c);
}

void plan_json_begin_object(struct plan_json *w)
{
	begin(w, '{');
}

void plan_json_end_object(struct plan_json *w)
{
	end(w, '}');
}

void plan_json_begin_array(struct plan_json *w)
{
	begin(w, '[');
}

void plan_json_end_array(struct plan_json *w)
{
	end(w, ']');
}

void plan_json_key(struct plan_json *w, const char *key)
{
	before_value(w);
	put_string(w, key, strlen(key));
	put(w, ": ", 2);
	w->after_key = true;
}

void plan_json_value(struct plan_json *w, const json_t *v)
{
	if (w->fd < 0 && !w->mem) {
		w->after_key = false;
		return;
	}
	before_value(w);
	dump(w, v, w->depth);
}

static bool writing(struct plan_json *w)
{
	if (w->fd < 0 && !w->mem) {
		w->after_key = false;
		return false;
	}
	before_value(w);
	return true;
}

void plan_json_string(struct plan_json *w, const char *s, size_t n)
{
	if (writing(w))
		put_string(w, s, n);
}

void plan_json_integer(struct plan_json *w, json_int_t v)
{
	if (writing(w))
		put_integer(w, v);
}

void plan_json_bool(struct plan_json *w, bool v)
{
	if (writing(w))
		put(w, v ? "true" : "false", v ? 4 : 5);
}

void plan_json_null(struct plan_json *w)
{
	if (writing(w))
		put(w, "null", 4);
}

int plan_json_finish(struct plan_json *w)
{
	putc_(w, '\n');
	flush(w);
	return w->err;
}
