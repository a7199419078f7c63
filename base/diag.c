/*
 * diag: queue and print diagnostics. Input: records with byte spans.
 * Output: text with the source line and carets, short one-liners, or JSON
 * lines. Columns count code points; carets are placed by display width.
 */
#include "diag.h"

#include "arena.h"
#include "hashmap.h"
#include "strbuf.h"
#include "utf8.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

static const char *const code_strs[] = {
#define DIAG(code, name, text) #code,
#include "diag_codes.def"
#undef DIAG
};

static const char *const code_meanings[] = {
#define DIAG(code, name, text) text,
#include "diag_codes.def"
#undef DIAG
};

const char *diag_code_str(enum diag_code code)
{
	return code < DIAG__COUNT ? code_strs[code] : "E????";
}

const char *diag_code_meaning(enum diag_code code)
{
	return code < DIAG__COUNT ? code_meanings[code] : "";
}

void diag_sink_init(struct diag_sink *s, struct source_map *sm, unsigned max_errors)
{
	*s = (struct diag_sink){.sm = sm, .max_errors = max_errors};
}

static void diag_free(struct diag *d)
{
	if (!d)
		return;
	free(d->message);
	free(d->help);
	for (int i = 0; i < d->nlabels; i++)
		free(d->labels[i].text);
	free(d);
}

/* Scratch record handed out once the sink is full; its contents are dropped. */
static struct diag scratch;

static void scratch_reset(void)
{
	free(scratch.message);
	free(scratch.help);
	for (int i = 0; i < scratch.nlabels; i++)
		free(scratch.labels[i].text);
	memset(&scratch, 0, sizeof(scratch));
}

void diag_sink_release(struct diag_sink *s)
{
	for (size_t i = 0; i < s->n; i++)
		diag_free(s->items[i]);
	free(s->items);
	for (uint32_t i = 0; i < hashmap_len(&s->seen); i++)
		free((char *)hashmap_at(&s->seen, i)->key);
	hashmap_release(&s->seen);
	scratch_reset();
	*s = (struct diag_sink){0};
}

bool diag_too_many(const struct diag_sink *s)
{
	return s->max_errors && s->nerrors >= s->max_errors;
}

/* "code:file:start:has_span", the key of a place (printf's "%d:%u:%u:%d"): made
   for every diagnostic, so without printf */
static char *diag_key(enum diag_code code, struct src_span span, bool has_span)
{
	char buf[64], *p = buf + sizeof(buf);
	uint32_t nums[3] = {(uint32_t)code, span.file, span.start};
	*--p = '\0';
	*--p = has_span ? '1' : '0';
	for (int i = 2; i >= 0; i--) {
		*--p = ':';
		uint32_t v = nums[i];
		do {
			*--p = (char)('0' + v % 10);
			v /= 10;
		} while (v);
	}
	return xstrdup(p);
}

static struct diag *push(struct diag_sink *s, enum diag_code code, enum diag_severity sev,
                         struct src_span span, bool has_span, const char *fmt, va_list ap)
    __attribute__((format(printf, 6, 0)));

static struct diag *push(struct diag_sink *s, enum diag_code code, enum diag_severity sev,
                         struct src_span span, bool has_span, const char *fmt, va_list ap)
{
	if (sev == DIAG_ERROR && diag_too_many(s)) {
		s->truncated = true;
		scratch_reset();
		return &scratch;
	}
	char *message = xvasprintf(fmt, ap);
	struct source_file *sf = source_get(s->sm, span.file);
	if (sf && sf->sensitive) {
		/* a var-file may hold secrets: say what is wrong, show none of its text */
		free(message);
		message = xasprintf("%s (the text is not shown: a var-file may hold secrets)",
		                    diag_code_meaning(code));
	}
	/* the same finding twice (a file imported by two builds of one run) is shown once:
	   code and place name the first diagnostic there; a second one with another message
	   at the same place is kept under a key with its message (rare: no copy of every
	   message in the map) */
	char *key = diag_key(code, span, has_span);
	struct diag *first = hashmap_get(&s->seen, key);
	if (first && strcmp(first->message, message) != 0) {
		free(key);
		key = xasprintf("%d:%u:%u:%d:%s", (int)code, span.file, span.start, has_span,
		                message);
		first = hashmap_get(&s->seen, key);
	}
	if (first) {
		free(key);
		free(message);
		scratch_reset();
		return &scratch;
	}
	struct diag *d = xcalloc(1, sizeof(*d));
	hashmap_put(&s->seen, key, d);
	d->code = code;
	d->severity = sev;
	d->span = span;
	d->has_span = has_span;
	d->message = message;
	d->sensitive = sf && sf->sensitive;
	if (s->n == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 16;
		s->items = xrealloc(s->items, s->cap * sizeof(*s->items));
	}
	s->items[s->n++] = d;
	if (sev == DIAG_ERROR)
		s->nerrors++;
	else
		s->nwarnings++;
	return d;
}

struct diag *diag_error(struct diag_sink *s, enum diag_code code, struct src_span span,
                        const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	struct diag *d = push(s, code, DIAG_ERROR, span, true, fmt, ap);
	va_end(ap);
	return d;
}

struct diag *diag_warning(struct diag_sink *s, enum diag_code code, struct src_span span,
                          const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	struct diag *d = push(s, code, DIAG_WARNING, span, true, fmt, ap);
	va_end(ap);
	return d;
}

struct diag *diag_file_error(struct diag_sink *s, enum diag_code code, uint32_t file,
                             const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	struct diag *d = push(s, code, DIAG_ERROR, (struct src_span){file, 0, 0}, false, fmt, ap);
	va_end(ap);
	return d;
}

struct diag *diag_file_warning(struct diag_sink *s, enum diag_code code, uint32_t file,
                               const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	struct diag *d = push(s, code, DIAG_WARNING, (struct src_span){file, 0, 0}, false, fmt, ap);
	va_end(ap);
	return d;
}

void diag_label(struct diag *d, struct src_span span, const char *fmt, ...)
{
	if (d == &scratch || d->sensitive || d->nlabels == DIAG_MAX_LABELS)
		return;
	va_list ap;
	va_start(ap, fmt);
	d->labels[d->nlabels].span = span;
	d->labels[d->nlabels].text = xvasprintf(fmt, ap);
	d->nlabels++;
	va_end(ap);
}

void diag_help(struct diag *d, const char *fmt, ...)
{
	if (d == &scratch || d->sensitive)
		return;
	va_list ap;
	va_start(ap, fmt);
	free(d->help);
	d->help = xvasprintf(fmt, ap);
	va_end(ap);
}

/* Damerau-style edit distance (optimal string alignment), capped inputs. */
static size_t edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	if (la > 64 || lb > 64)
		return (size_t)-1;
	size_t d[65][65];
	for (size_t i = 0; i <= la; i++)
		d[i][0] = i;
	for (size_t j = 0; j <= lb; j++)
		d[0][j] = j;
	for (size_t i = 1; i <= la; i++) {
		for (size_t j = 1; j <= lb; j++) {
			size_t cost = a[i - 1] != b[j - 1];
			size_t v = d[i - 1][j] + 1;
			if (d[i][j - 1] + 1 < v)
				v = d[i][j - 1] + 1;
			if (d[i - 1][j - 1] + cost < v)
				v = d[i - 1][j - 1] + cost;
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
			    d[i - 2][j - 2] + 1 < v)
				v = d[i - 2][j - 2] + 1;
			d[i][j] = v;
		}
	}
	return d[la][lb];
}

const char *diag_closest(const char *const *candidates, size_t n, const char *name)
{
	const char *best = NULL;
	size_t best_d = (size_t)-1;
	size_t limit = strlen(name) / 3 + 1; /* about one typo per three letters */
	for (size_t i = 0; i < n; i++) {
		if (!candidates[i] || !strcmp(candidates[i], name))
			continue;
		size_t dist = edit_distance(candidates[i], name);
		if (dist <= limit && dist < best_d) {
			best = candidates[i];
			best_d = dist;
		}
	}
	return best;
}

void diag_suggest(struct diag *d, const char *const *candidates, size_t n, const char *name)
{
	const char *best = diag_closest(candidates, n, name);
	if (best)
		diag_help(d, "did you mean '%s'?", best);
}

/* ---- printing ---------------------------------------------------------- */

struct style {
	const char *bold, *red, *yellow, *cyan, *blue, *reset;
};

static const struct style plain_style = {"", "", "", "", "", ""};
static const struct style color_style = {"\033[1m",    "\033[1;31m", "\033[1;33m",
                                         "\033[1;36m", "\033[1;34m", "\033[0m"};

static int cmp_diag(const void *pa, const void *pb)
{
	const struct diag *a = *(const struct diag *const *)pa;
	const struct diag *b = *(const struct diag *const *)pb;
	if (a->span.file != b->span.file)
		return a->span.file < b->span.file ? -1 : 1;
	if (a->has_span != b->has_span)
		return a->has_span ? 1 : -1;
	if (a->span.start != b->span.start)
		return a->span.start < b->span.start ? -1 : 1;
	return 0;
}

struct diag **diag_sorted(const struct diag_sink *s)
{
	struct diag **v = xmalloc((s->n ? s->n : 1) * sizeof(*v));
	if (s->n)
		memcpy(v, s->items, s->n * sizeof(*v));
	/* insertion sort is stable; the list is short and nearly sorted */
	for (size_t i = 1; i < s->n; i++) {
		struct diag *x = v[i];
		size_t j = i;
		while (j > 0 && cmp_diag(&v[j - 1], &x) > 0) {
			v[j] = v[j - 1];
			j--;
		}
		v[j] = x;
	}
	return v;
}

/* v in decimal, right-aligned in width characters (printf's %*u, without printf:
   a diagnostic prints several numbers, and a build may have thousands of them) */
static void put_uint(FILE *out, uint32_t v, int width)
{
	char buf[16], *p = buf + sizeof(buf);
	do {
		*--p = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	while (buf + sizeof(buf) - p < width)
		*--p = ' ';
	fwrite(p, 1, (size_t)(buf + sizeof(buf) - p), out);
}

/* ":line:col" */
static void put_line_col(FILE *out, uint32_t line, uint32_t col)
{
	putc_unlocked(':', out);
	put_uint(out, line, 0);
	putc_unlocked(':', out);
	put_uint(out, col, 0);
}

/* Write text with invalid UTF-8 and control characters made visible. */
static void put_clean(FILE *out, const char *s, size_t n)
{
	size_t i = 0;
	while (i < n) {
		unsigned char c = (unsigned char)s[i];
		if (c == '\t' || (c >= 0x20 && c < 0x7F)) {
			/* a run of plain characters at once */
			size_t j = i + 1;
			while (j < n && (s[j] == '\t' || ((unsigned char)s[j] >= 0x20 &&
			                                  (unsigned char)s[j] < 0x7F)))
				j++;
			fwrite(s + i, 1, j - i, out);
			i = j;
			continue;
		}
		if (c < 0x80) {
			fputc(' ', out);
			i++;
			continue;
		}
		uint32_t cp;
		size_t len = utf8_decode((const unsigned char *)s + i, n - i, &cp);
		if (len == 0) {
			fputs("\xEF\xBF\xBD", out);
			i++;
		} else {
			fwrite(s + i, 1, len, out);
			i += len;
		}
	}
}

/*
 * The marker line under line[0..len): blanks up to byte col_start (tabs
 * copied, wide characters counted twice), then marks up to col_end.
 */
static void put_marker_line(FILE *out, const char *line, uint32_t len, uint32_t col_start,
                            uint32_t col_end, char mark)
{
	uint32_t i = 0;
	while (i < col_start) {
		if ((unsigned char)line[i] < 0x80 && line[i] != '\t') {
			/* ASCII: one column each */
			putc_unlocked(' ', out);
			i++;
			continue;
		}
		uint32_t cp;
		size_t n = utf8_decode((const unsigned char *)line + i, len - i, &cp);
		if (n == 0)
			n = 1;
		if (line[i] == '\t')
			fputc('\t', out);
		else
			for (int w = utf8_width(cp); w > 0; w--)
				fputc(' ', out);
		i += (uint32_t)n;
	}
	int marks = 0;
	while (i < col_end) {
		if ((unsigned char)line[i] < 0x80 && line[i] != '\t') {
			putc_unlocked(mark, out);
			marks++;
			i++;
			continue;
		}
		uint32_t cp;
		size_t n = utf8_decode((const unsigned char *)line + i, len - i, &cp);
		if (n == 0)
			n = 1;
		int w = line[i] == '\t' ? 1 : utf8_width(cp);
		for (; w > 0; w--, marks++)
			fputc(mark, out);
		i += (uint32_t)n;
	}
	if (marks == 0)
		fputc(mark, out);
}

/* Lines longer than this are shown as a window around the span. */
enum { SNIPPET_MAX = 160, SNIPPET_BEFORE = 60 };

static uint32_t char_start(const char *text, uint32_t i)
{
	while (i > 0 && (text[i] & 0xC0) == 0x80)
		i--;
	return i;
}

static void print_snippet(FILE *out, struct source_file *f, struct src_span span, char mark,
                          const struct style *st, const char *color)
{
	uint32_t line, col, lstart, llen;
	source_position(f, span.start, &line, &col);
	source_line(f, line, &lstart, &llen);
	const char *text = f->text + lstart;
	uint32_t a = span.start - lstart;
	uint32_t b = span.end > span.start ? span.end - lstart : a;
	if (b > llen)
		b = llen; /* a span over several lines is marked on its first */
	if (a > llen)
		a = llen;
	/* a very long line: a window around the span, "..." where it is cut */
	uint32_t from = 0, to = llen;
	if (llen > SNIPPET_MAX) {
		from = a > SNIPPET_BEFORE ? char_start(text, a - SNIPPET_BEFORE) : 0;
		to = from + SNIPPET_MAX < llen ? char_start(text, from + SNIPPET_MAX) : llen;
		if (b > to)
			b = to;
	}
	const char *pre = from ? "..." : "";
	fputs(st->blue, out);
	put_uint(out, line, 5);
	fputs(" |", out);
	fputs(st->reset, out);
	putc_unlocked(' ', out);
	fputs(pre, out);
	put_clean(out, text + from, to - from);
	fputs(to < llen ? "...\n" : "\n", out);
	fputs(st->blue, out);
	fputs("      |", out);
	fputs(st->reset, out);
	fputs(from ? "    " : " ", out);
	fputs(color, out);
	put_marker_line(out, text + from, to - from, a - from, b - from, mark);
	fputs(st->reset, out);
	putc_unlocked('\n', out);
}

static void print_text(const struct diag_sink *s, const struct diag *d, FILE *out,
                       const struct style *st)
{
	struct source_file *f = source_get(s->sm, d->span.file);
	const char *sev = d->severity == DIAG_ERROR ? "error" : "warning";
	const char *color = d->severity == DIAG_ERROR ? st->red : st->yellow;
	fputs(st->bold, out);
	put_clean(out, f->name, strlen(f->name));
	if (d->has_span) {
		uint32_t line, col;
		source_position(f, d->span.start, &line, &col);
		put_line_col(out, line, col);
	}
	putc_unlocked(':', out);
	fputs(st->reset, out);
	putc_unlocked(' ', out);
	fputs(color, out);
	fputs(sev, out);
	putc_unlocked('[', out);
	fputs(diag_code_str(d->code), out);
	putc_unlocked(']', out);
	fputs(st->reset, out);
	fputs(st->bold, out);
	fputs(": ", out);
	put_clean(out, d->message, strlen(d->message));
	fputs(st->reset, out);
	putc_unlocked('\n', out);
	if (d->has_span && f->loaded && !f->sensitive)
		print_snippet(out, f, d->span, '^', st, color);
	for (int i = 0; i < d->nlabels; i++) {
		const struct diag_label *l = &d->labels[i];
		struct source_file *lf = source_get(s->sm, l->span.file);
		uint32_t line, col;
		source_position(lf, l->span.start, &line, &col);
		fputs(st->bold, out);
		put_clean(out, lf->name, strlen(lf->name));
		fprintf(out, ":%u:%u:%s %snote%s: ", line, col, st->reset, st->cyan, st->reset);
		put_clean(out, l->text, strlen(l->text));
		fputc('\n', out);
		if (lf->loaded)
			print_snippet(out, lf, l->span, '~', st, st->cyan);
	}
	if (d->help) {
		fputs("      ", out);
		fputs(st->blue, out);
		putc_unlocked('=', out);
		fputs(st->reset, out);
		putc_unlocked(' ', out);
		fputs(st->bold, out);
		fputs("help", out);
		fputs(st->reset, out);
		fputs(": ", out);
		put_clean(out, d->help, strlen(d->help));
		fputc('\n', out);
	}
}

static void print_short(const struct diag_sink *s, const struct diag *d, FILE *out)
{
	struct source_file *f = source_get(s->sm, d->span.file);
	uint32_t line = 1, col = 1;
	if (d->has_span)
		source_position(f, d->span.start, &line, &col);
	put_clean(out, f->name, strlen(f->name));
	fprintf(out, ":%u:%u: %s: ", line, col, d->severity == DIAG_ERROR ? "error" : "warning");
	put_clean(out, d->message, strlen(d->message));
	fprintf(out, " [%s]\n", diag_code_str(d->code));
}

/* A JSON string of arbitrary bytes: invalid UTF-8 becomes U+FFFD. */
static json_t *json_clean_string(const char *s)
{
	struct strbuf sb = STRBUF_INIT;
	size_t n = strlen(s), i = 0;
	while (i < n) {
		uint32_t cp;
		size_t len = utf8_decode((const unsigned char *)s + i, n - i, &cp);
		if (len == 0) {
			sb_add(&sb, "\xEF\xBF\xBD", 3);
			i++;
		} else {
			sb_add(&sb, s + i, len);
			i += len;
		}
	}
	json_t *j = json_stringn(sb.buf ? sb.buf : "", sb.len);
	sb_release(&sb);
	return j;
}

static json_t *json_pos(struct source_file *f, uint32_t off)
{
	uint32_t line, col;
	source_position(f, off, &line, &col);
	return json_pack("{s:I,s:I,s:I}", "line", (json_int_t)line, "column", (json_int_t)col,
	                 "offset", (json_int_t)off);
}

static void print_json(const struct diag_sink *s, const struct diag *d, FILE *out)
{
	struct source_file *f = source_get(s->sm, d->span.file);
	json_t *o = json_object();
	json_object_set_new(o, "code", json_string(diag_code_str(d->code)));
	json_object_set_new(o, "severity",
	                    json_string(d->severity == DIAG_ERROR ? "error" : "warning"));
	json_object_set_new(o, "message", json_clean_string(d->message));
	json_object_set_new(o, "file", json_clean_string(f->name));
	/* a diagnostic about a whole file points at its start, so editors can place it */
	json_object_set_new(o, "start", json_pos(f, d->has_span ? d->span.start : 0));
	json_object_set_new(o, "end", json_pos(f, d->has_span ? d->span.end : 0));
	json_t *labels = json_array();
	for (int i = 0; i < d->nlabels; i++) {
		const struct diag_label *l = &d->labels[i];
		struct source_file *lf = source_get(s->sm, l->span.file);
		json_t *lo = json_object();
		json_object_set_new(lo, "file", json_clean_string(lf->name));
		json_object_set_new(lo, "start", json_pos(lf, l->span.start));
		json_object_set_new(lo, "end", json_pos(lf, l->span.end));
		json_object_set_new(lo, "text", json_clean_string(l->text));
		json_array_append_new(labels, lo);
	}
	json_object_set_new(o, "labels", labels);
	if (d->help)
		json_object_set_new(o, "help", json_clean_string(d->help));
	char *line = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
	if (line) {
		fputs(line, out);
		fputc('\n', out);
		free(line);
	}
	json_decref(o);
}

static ssize_t relay_write(void *cookie, const char *buf, size_t n)
{
	return (ssize_t)fwrite(buf, 1, n, cookie);
}

void diag_print(const struct diag_sink *s, FILE *final_out, enum diag_format fmt, bool color)
{
	/* stderr is unbuffered: print through a buffered stream that passes whole
	   blocks on, so a thousand diagnostics are a few writes, in little memory */
	FILE *out = fopencookie(final_out, "w", (cookie_io_functions_t){.write = relay_write});
	if (!out)
		out = final_out;
	else
		setvbuf(out, NULL, _IOFBF, 1 << 16);
	const struct style *st = color ? &color_style : &plain_style;
	struct diag **v = diag_sorted(s);
	for (size_t i = 0; i < s->n; i++) {
		switch (fmt) {
		case DIAG_TEXT:
			print_text(s, v[i], out, st);
			break;
		case DIAG_SHORT:
			print_short(s, v[i], out);
			break;
		case DIAG_JSON:
			print_json(s, v[i], out);
			break;
		}
	}
	free(v);
	if (fmt == DIAG_TEXT && (s->nerrors || s->nwarnings)) {
		if (s->truncated)
			fprintf(out, "kiln: too many errors, stopped after %u (--max-errors)\n",
			        s->max_errors);
		fprintf(out, "kiln: %u error%s, %u warning%s\n", s->nerrors,
		        s->nerrors == 1 ? "" : "s", s->nwarnings, s->nwarnings == 1 ? "" : "s");
	}
	if (out != final_out)
		fclose(out);
	fflush(final_out);
}
