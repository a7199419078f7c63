/*
 * plan_json: a streaming writer of plan text. It writes the bytes jansson's
 * json_dumps(v, JSON_INDENT(2) | JSON_SORT_KEYS | JSON_ENSURE_ASCII) writes
 * (two-space indent, keys sorted by strcmp, non-ASCII as \uXXXX), so a plan
 * can be written piece by piece, each piece freed once written, without the
 * whole plan in memory. The caller opens containers, names keys in sorted
 * order and writes jansson values (dumped with the same layout) inside them.
 *
 *   struct plan_json w;
 *   plan_json_init(&w, fd);          fd -1: write nothing (values are not even formatted)
 *   plan_json_begin_object(&w);
 *   plan_json_key(&w, "a");  plan_json_value(&w, v);
 *   plan_json_key(&w, "b");  plan_json_begin_array(&w); ... plan_json_end_array(&w);
 *   plan_json_end_object(&w);
 *   r = plan_json_finish(&w);        newline, flush; 0 or the first write error (-errno)
 */
#ifndef KILN_PLAN_JSON_H
#define KILN_PLAN_JSON_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum { PLAN_JSON_MAX_DEPTH = 32, PLAN_JSON_BUF = 1 << 16 };

struct strbuf;

struct plan_json {
	int fd;
	struct strbuf *mem; /* plan_json_init_mem: the text goes here, not to fd */
	unsigned base;      /* levels of indent the text starts at (init_mem) */
	int err;            /* the first write error (-errno), then nothing more is written */
	uint64_t written;   /* bytes given to fd (or discarded) */
	unsigned depth;     /* containers opened with begin_* */
	bool after_key;
	uint32_t count[PLAN_JSON_MAX_DEPTH]; /* elements written in each open container */
	size_t len;
	char buf[PLAN_JSON_BUF];
};

void plan_json_init(struct plan_json *w, int fd);
/* Write into mem instead of a file (plan_json_flush_mem passes the rest on), the text
   laid out as if it stood depth levels deep. */
void plan_json_init_mem(struct plan_json *w, struct strbuf *mem, unsigned depth);
void plan_json_flush_mem(struct plan_json *w);
/*
 * A value already written as text (n bytes, laid out as if depth levels deep,
 * as init_mem does; depth < 64): a new reference to put into a tree in its
 * place. The writer copies the text as it is when it stands that deep, else
 * re-indented; it is no JSON value of its own: only for a tree that goes to
 * this writer.
 */
json_t *plan_json_raw(const char *text, size_t n, unsigned depth);
void plan_json_begin_object(struct plan_json *w);
void plan_json_end_object(struct plan_json *w);
void plan_json_begin_array(struct plan_json *w);
void plan_json_end_array(struct plan_json *w);
/* The next member's key; keys of one object must come in strcmp order. */
void plan_json_key(struct plan_json *w, const char *key);
/* A value (a member after plan_json_key, an element, or the whole text). */
void plan_json_value(struct plan_json *w, const json_t *v);
/* Scalars written straight from C values (no json_t): what plan_json_value
   writes for json_stringn(s, n) of valid UTF-8, json_integer(v), and
   json_true()/json_false()/json_null() */
void plan_json_string(struct plan_json *w, const char *s, size_t n);
void plan_json_integer(struct plan_json *w, json_int_t v);
void plan_json_bool(struct plan_json *w, bool v);
void plan_json_null(struct plan_json *w);
/* End the text with a newline and write what is buffered. */
int plan_json_finish(struct plan_json *w);

#endif
