/*
 * events: progress and results of apply; see events.h. On a terminal a
 * thread redraws one status line (the current image, stage and task, with
 * elapsed time) ten times a second under the lines of finished tasks.
 */
#include "events.h"

#include "arena.h"
#include "plan_format.h"
#include "strbuf.h"
#include "utf8.h"

#include "atomic.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

struct events {
	enum events_mode mode;
	FILE *out;
	bool color;
	char **secrets;
	size_t nsecrets;
	/* the live status line (EVENTS_TTY) */
	pthread_t thread;
	bool thread_running;
	pthread_mutex_t lock;
	pthread_cond_t stop_cond;
	bool stop;
	char status[512];
	struct timespec status_since;
	bool status_shown;
	/* kiln plan and kiln run: told of every task end, error and recap (a worker sends
	   its task ends and errors to the parent, whose observer is told) */
	const struct events_observer *observer;
	/* --log-file: every event as a JSON line with full outputs (or, in a worker,
	   sent to the parent through relay_fd) */
	FILE *log;
	bool has_log;
	bool verbose; /* -v: what tasks printed, line by line, prefixed with the target */
	int relay_fd; /* in a worker process: where its records go (-1: not a worker) */
	char *prefix; /* a worker's text lines start with "[HOST] " */
};

/* A worker's record on its pipe: a kind byte, a length (native uint32), the bytes. */
enum { REC_OUT = 'O', REC_LOG = 'L', REC_OBS_TASK = 'T', REC_OBS_ERROR = 'E' };

static double now_s(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static double since(const struct timespec *t)
{
	return now_s() - ((double)t->tv_sec + (double)t->tv_nsec / 1e9);
}

/* ---- redaction ----------------------------------------------------------- */

/* One text to blank out; the longest first, so that a whole value goes before the
   lines it is made of. */
static void add_redacted(struct events *ev, const char *s, size_t n)
{
	if (n < 3)
		return; /* shorter ones would blank out ordinary text, and guess nothing */
	size_t at = 0;
	for (; at < ev->nsecrets; at++) {
		size_t m = strlen(ev->secrets[at]);
		if (m == n && !memcmp(ev->secrets[at], s, n))
			return;
		if (m < n)
			break;
	}
	ev->secrets = xrealloc(ev->secrets, (ev->nsecrets + 1) * sizeof(*ev->secrets));
	memmove(ev->secrets + at + 1, ev->secrets + at, (ev->nsecrets - at) * sizeof(*ev->secrets));
	ev->secrets[at] = xstrndup(s, n);
	ev->nsecrets++;
}

void events_add_secret(struct events *ev, const char *value)
{
	if (!value)
		return;
	add_redacted(ev, value, strlen(value));
	/* each line of a multi-line value too: output cut at a line (a tail of stderr,
	   a task's name) holds only some of them */
	if (!strpbrk(value, "\r\n"))
		return;
	for (const char *p = value; *p;) {
		size_t n = strcspn(p, "\r\n");
		add_redacted(ev, p, n);
		p += n;
		p += strspn(p, "\r\n");
	}
}

char *events_redact(const struct events *ev, const char *s)
{
	if (!s)
		return NULL;
	char *out = xstrdup(s);
	for (size_t i = 0; ev && i < ev->nsecrets; i++) {
		const char *sec = ev->secrets[i];
		size_t n = strlen(sec);
		struct strbuf sb = STRBUF_INIT;
		const char *p = out, *hit;
		bool any = false;
		while ((hit = strstr(p, sec))) {
			sb_add(&sb, p, (size_t)(hit - p));
			sb_adds(&sb, "********");
			p = hit + n;
			any = true;
		}
		if (!any) {
			sb_release(&sb);
			continue;
		}
		sb_adds(&sb, p);
		free(out);
		out = sb_detach(&sb);
	}
	return out;
}

/* ---- the live line ----------------------------------------------------------- */

static void clear_status(struct events *ev)
{
	if (ev->status_shown) {
		fputs("\r\033[K", ev->out);
		ev->status_shown = false;
	}
}

static void draw_status(struct events *ev)
{
	if (!ev->status[0])
		return;
	fprintf(ev->out, "\r\033[K%s%s  %.1fs%s", ev->color ? "\033[36m" : "", ev->status,
	        since(&ev->status_since), ev->color ? "\033[0m" : "");
	fflush(ev->out);
	ev->status_shown = true;
}

static void *status_thread(void *arg)
{
	struct events *ev = arg;
	pthread_mutex_lock(&ev->lock);
	while (!ev->stop) {
		struct timespec t;
		clock_gettime(CLOCK_REALTIME, &t);
		t.tv_nsec += 100 * 1000 * 1000;
		if (t.tv_nsec >= 1000000000) {
			t.tv_sec++;
			t.tv_nsec -= 1000000000;
		}
		pthread_cond_timedwait(&ev->stop_cond, &ev->lock, &t);
		if (!ev->stop)
			draw_status(ev);
	}
	pthread_mutex_unlock(&ev->lock);
	return NULL;
}

static void set_status(struct events *ev, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void set_status(struct events *ev, const char *fmt, ...)
{
	if (ev->mode != EVENTS_TTY || ev->relay_fd >= 0)
		return;
	va_list ap;
	va_start(ap, fmt);
	char *s = xvasprintf(fmt, ap);
	va_end(ap);
	char *r = events_redact(ev, s); /* before it is cut to the line's length */
	pthread_mutex_lock(&ev->lock);
	snprintf(ev->status, sizeof(ev->status), "%s", r);
	free(r);
	free(s);
	clock_gettime(CLOCK_MONOTONIC, &ev->status_since);
	draw_status(ev);
	pthread_mutex_unlock(&ev->lock);
}

static void relay_put(struct events *ev, char kind, const char *s, size_t n)
{
	unsigned char head[5];
	uint32_t len = (uint32_t)n;
	head[0] = (unsigned char)kind;
	memcpy(head + 1, &len, sizeof(len));
	/* a parent that went away (killed) leaves nobody to tell: the worker goes on and
	   its host's result is lost with the parent */
	if (fd_write_all(ev->relay_fd, head, sizeof(head)) == 0)
		(void)fd_write_all(ev->relay_fd, s, n);
}

/* Print text (one or more whole lines, without the last newline) above the live
   line: the one place text output is written, so lines never interleave. */
static char *prefixed(const char *prefix, const char *text);

static void put_text(struct events *ev, const char *r)
{
	if (ev->relay_fd >= 0) {
		/* hosts run side by side: each of a worker's lines names its host */
		char *p = ev->prefix ? prefixed(ev->prefix, *r ? r : " ") : NULL;
		relay_put(ev, REC_OUT, p ? p : r, strlen(p ? p : r));
		free(p);
		return;
	}
	/* a host applied in kiln's own process (events_set_target): its lines name it too */
	char *p = ev->prefix ? prefixed(ev->prefix, *r ? r : " ") : NULL;
	if (ev->thread_running)
		pthread_mutex_lock(&ev->lock);
	clear_status(ev);
	fputs(p ? p : r, ev->out);
	fputc('\n', ev->out);
	if (ev->mode == EVENTS_TTY)
		draw_status(ev);
	fflush(ev->out);
	if (ev->thread_running)
		pthread_mutex_unlock(&ev->lock);
	free(p);
}

static void put_log(struct events *ev, const char *r)
{
	if (ev->relay_fd >= 0) {
		relay_put(ev, REC_LOG, r, strlen(r));
		return;
	}
	if (ev->log) {
		fputs(r, ev->log);
		fputc('\n', ev->log);
		fflush(ev->log);
	}
}

/* Print a finished line above the live line. */
static void line(struct events *ev, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void line(struct events *ev, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *s = xvasprintf(fmt, ap);
	va_end(ap);
	char *r = events_redact(ev, s);
	put_text(ev, r);
	free(r);
	free(s);
}

/* ---- event lines -------------------------------------------------------------------- */

/*
 * An event as one line of JSON, written here rather than by json_dumps: the bytes
 * json_dumps(v, JSON_COMPACT | JSON_PRESERVE_ORDER) writes (members in insertion order,
 * UTF-8 kept, control characters, '"' and '\\' escaped, reals as %.17g with ".0" added
 * when neither a dot nor an exponent is there and no '+' or leading zeros in the
 * exponent), without copying the event (it may share values with the plan), without
 * jansson's loop detection and callback per piece. Each string value is redacted
 * before it is escaped (escaped, a value with a newline or a quote would no longer
 * match) and the whole line after (keys, and what escaping made of the rest).
 */
static void line_string(struct strbuf *sb, const char *s, size_t n)
{
	static const char hex[] = "0123456789ABCDEF";
	sb_grow(sb, n + 2);
	sb_addc(sb, '"');
	const unsigned char *p = (const unsigned char *)s, *end = p + n;
	while (p < end) {
		const unsigned char *run = p;
		while (p < end && *p >= 0x20 && *p != '"' && *p != '\\')
			p++;
		if (p > run)
			sb_add(sb, (const char *)run, (size_t)(p - run));
		if (p == end)
			break;
		char esc[7] = {'\\', 0};
		size_t k = 2;
		switch (*p) {
		case '"':
		case '\\':
			esc[1] = (char)*p;
			break;
		case '\b':
			esc[1] = 'b';
			break;
		case '\f':
			esc[1] = 'f';
			break;
		case '\n':
			esc[1] = 'n';
			break;
		case '\r':
			esc[1] = 'r';
			break;
		case '\t':
			esc[1] = 't';
			break;
		default:
			memcpy(esc + 1, "u00", 3);
			esc[4] = hex[*p >> 4];
			esc[5] = hex[*p & 15];
			k = 6;
			break;
		}
		sb_add(sb, esc, k);
		p++;
	}
	sb_addc(sb, '"');
}

static void line_real(struct strbuf *sb, double v)
{
	char b[48];
	int n = snprintf(b, sizeof(b) - 3, "%.17g", v);
	if (n < 0 || (size_t)n >= sizeof(b) - 3) {
		sb_adds(sb, "null");
		return;
	}
	size_t len = (size_t)n;
	if (strspn(b, "0123456789-") == len) {
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
	sb_add(sb, b, len);
}

static void line_value(struct strbuf *sb, const struct events *ev, const json_t *v);

/* An object's members, each as key:value, after a ',' when more is written than one;
   a member whose key over has is written with over's value (NULL: none). */
static void line_members(struct strbuf *sb, const struct events *ev, const json_t *o,
                         const json_t *over, bool comma)
{
	const char *k;
	json_t *m;
	json_object_foreach ((json_t *)o, k, m) {
		if (comma)
			sb_addc(sb, ',');
		comma = true;
		line_string(sb, k, strlen(k));
		sb_addc(sb, ':');
		json_t *x = over ? json_object_get(over, k) : NULL;
		line_value(sb, ev, x ? x : m);
	}
}

static void line_value(struct strbuf *sb, const struct events *ev, const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT:
		sb_addc(sb, '{');
		line_members(sb, ev, v, NULL, false);
		sb_addc(sb, '}');
		break;
	case JSON_ARRAY:
		sb_addc(sb, '[');
		for (size_t i = 0; i < json_array_size(v); i++) {
			if (i)
				sb_addc(sb, ',');
			line_value(sb, ev, json_array_get(v, i));
		}
		sb_addc(sb, ']');
		break;
	case JSON_STRING:
		if (ev->nsecrets) {
			char *r = events_redact(ev, json_string_value(v));
			line_string(sb, r, strlen(r));
			free(r);
		} else {
			line_string(sb, json_string_value(v), json_string_length(v));
		}
		break;
	case JSON_INTEGER:
		sb_addf(sb, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
		break;
	case JSON_REAL:
		line_real(sb, json_real_value(v));
		break;
	case JSON_TRUE:
		sb_adds(sb, "true");
		break;
	case JSON_FALSE:
		sb_adds(sb, "false");
		break;
	case JSON_NULL:
		sb_adds(sb, "null");
		break;
	}
}

/* The wall clock as RFC 3339 UTC with milliseconds, into buf (at least 32 bytes); the
   date and time of day are formatted once a second. */
static void timestamp(char *buf)
{
	static __thread time_t last = -1;
	static __thread char day[24];
	struct timeval tv;
	gettimeofday(&tv, NULL);
	if (tv.tv_sec != last) {
		struct tm tm;
		gmtime_r(&tv.tv_sec, &tm);
		if (!strftime(day, sizeof(day), "%Y-%m-%dT%H:%M:%S", &tm))
			day[0] = '\0';
		last = tv.tv_sec;
	}
	snprintf(buf, 32, "%s.%03dZ", day, (int)(tv.tv_usec / 1000));
}

/* The line of event with a "time" member last, and for the log the members of extra
   (a member of both: extra's value, where event has it). */
static char *event_line(const struct events *ev, const json_t *event, const char *ts,
                        const json_t *extra)
{
	struct strbuf sb = STRBUF_INIT;
	sb_grow(&sb, 256);
	sb_addc(&sb, '{');
	line_members(&sb, ev, event, extra, false);
	bool comma = json_object_size(event) > 0;
	if (!json_object_get(event, "time")) {
		sb_adds(&sb, comma ? ",\"time\":" : "\"time\":");
		line_string(&sb, ts, strlen(ts));
		comma = true;
	}
	const char *k;
	json_t *m;
	json_object_foreach ((json_t *)extra, k, m) {
		if (json_object_get(event, k) || !strcmp(k, "time"))
			continue;
		if (comma)
			sb_addc(&sb, ',');
		comma = true;
		line_string(&sb, k, strlen(k));
		sb_addc(&sb, ':');
		line_value(&sb, ev, m);
	}
	sb_addc(&sb, '}');
	char *s = sb_detach(&sb);
	if (!ev->nsecrets)
		return s;
	char *r = events_redact(ev, s);
	free(s);
	return r;
}

/* Whether events are built as JSON: for --events=json, or for the log. */
static bool want_json(const struct events *ev)
{
	return ev->mode == EVENTS_JSON || ev->has_log;
}

/* Send one event: a JSON line on the output (--events=json) and in the log (with
   the fields of log_extra added: full outputs). Takes both references. */
static void emit_event(struct events *ev, json_t *event, json_t *log_extra)
{
	if (json_is_object(event)) {
		char ts[32];
		timestamp(ts);
		if (ev->mode == EVENTS_JSON) {
			char *r = event_line(ev, event, ts, NULL);
			put_text(ev, r);
			free(r);
		}
		if (ev->has_log) {
			char *r =
			    event_line(ev, event, ts, json_is_object(log_extra) ? log_extra : NULL);
			put_log(ev, r);
			free(r);
		}
	}
	json_decref(log_extra);
	json_decref(event);
}

/*
 * The lines of the events every task sends (task_start, task_end), written member by
 * member without making the event as a json_t first: the bytes event_line writes for
 * the object json_pack would make. As with json_pack, a required string that is NULL
 * or not UTF-8 (or a plan value that is missing) drops the event, and an optional one
 * (json_string) only its member.
 */
struct eline {
	const struct events *ev;
	struct strbuf sb;
	bool ok;
};

static void el_begin(struct eline *l, const struct events *ev)
{
	*l = (struct eline){.ev = ev, .sb = STRBUF_INIT, .ok = true};
	sb_grow(&l->sb, 320);
	sb_addc(&l->sb, '{');
}

static void el_key(struct eline *l, const char *key)
{
	if (l->sb.len > 1)
		sb_addc(&l->sb, ',');
	line_string(&l->sb, key, strlen(key));
	sb_addc(&l->sb, ':');
}

static bool is_utf8(const char *s)
{
	size_t n = strlen(s);
	return utf8_validate((const unsigned char *)s, n) == n;
}

/* A string member; required: a NULL or invalid value drops the event, else the member. */
static void el_str(struct eline *l, const char *key, const char *v, bool required)
{
	if (!v || !is_utf8(v)) {
		l->ok &= !required;
		return;
	}
	el_key(l, key);
	if (l->ev->nsecrets) {
		char *r = events_redact(l->ev, v);
		line_string(&l->sb, r, strlen(r));
		free(r);
	} else {
		line_string(&l->sb, v, strlen(v));
	}
}

static void el_json(struct eline *l, const char *key, const json_t *v)
{
	if (!v) {
		l->ok = false;
		return;
	}
	el_key(l, key);
	line_value(&l->sb, l->ev, v);
}

/* The line with "time" last (NULL when the event is dropped), redacted whole. */
static char *el_end(struct eline *l, const char *ts)
{
	if (!l->ok) {
		sb_release(&l->sb);
		return NULL;
	}
	el_key(l, "time");
	line_string(&l->sb, ts, strlen(ts));
	sb_addc(&l->sb, '}');
	char *s = sb_detach(&l->sb);
	if (!l->ev->nsecrets)
		return s;
	char *r = events_redact(l->ev, s);
	free(s);
	return r;
}

/* Send a line built by el_*: on the output (--events=json) and in the log. */
static void emit_line(struct events *ev, char *line)
{
	if (line && ev->mode == EVENTS_JSON)
		put_text(ev, line);
	if (line && ev->has_log)
		put_log(ev, line);
	free(line);
}

/* Send a line to the log (log) or the output (--events=json). */
static void emit_line_to(struct events *ev, char *line, bool log)
{
	if (line && log)
		put_log(ev, line);
	else if (line)
		put_text(ev, line);
	free(line);
}

static void emit_json(struct events *ev, json_t *event)
{
	emit_event(ev, event, NULL);
}

struct events *events_new(enum events_mode mode, FILE *out, bool color)
{
	struct events *ev = xcalloc(1, sizeof(*ev));
	ev->mode = mode;
	ev->out = out;
	ev->color = color && mode != EVENTS_JSON;
	ev->relay_fd = -1;
	pthread_mutex_init(&ev->lock, NULL);
	pthread_cond_init(&ev->stop_cond, NULL);
	if (mode == EVENTS_TTY && pthread_create(&ev->thread, NULL, status_thread, ev) == 0)
		ev->thread_running = true;
	return ev;
}

void events_free(struct events *ev)
{
	if (!ev)
		return;
	if (ev->thread_running) {
		pthread_mutex_lock(&ev->lock);
		ev->stop = true;
		pthread_cond_signal(&ev->stop_cond);
		pthread_mutex_unlock(&ev->lock);
		pthread_join(ev->thread, NULL);
		clear_status(ev);
		fflush(ev->out);
	}
	pthread_mutex_destroy(&ev->lock);
	pthread_cond_destroy(&ev->stop_cond);
	free(ev->prefix);
	for (size_t i = 0; i < ev->nsecrets; i++)
		free(ev->secrets[i]);
	free(ev->secrets);
	free(ev);
}

/* ---- events ------------------------------------------------------------------- */

static const char *paint(const struct events *ev, const char *code)
{
	return ev->color ? code : "";
}

void events_plan(struct events *ev, size_t images, size_t stages, size_t tasks)
{
	if (want_json(ev))
		emit_json(ev, json_pack("{s:s,s:i,s:I,s:I,s:I}", "event", "apply_start", "version",
		                        EVENTS_VERSION, "images", (json_int_t)images, "stages",
		                        (json_int_t)stages, "tasks", (json_int_t)tasks));
	if (ev->mode == EVENTS_JSON)
		return;
	line(ev, "kiln apply: %zu image%s, %zu stage%s, %zu task%s", images, images == 1 ? "" : "s",
	     stages, stages == 1 ? "" : "s", tasks, tasks == 1 ? "" : "s");
}

void events_image(struct events *ev, const char *image, const char *what)
{
	if (want_json(ev))
		emit_json(ev, json_pack("{s:s,s:s,s:s}", "event", "image_start", "image", image,
		                        "from", what));
	if (ev->mode == EVENTS_JSON)
		return;
	line(ev, "%s==> %s%s from %s", paint(ev, "\033[1m"), image, paint(ev, "\033[0m"), what);
	set_status(ev, "[%s] preparing %s", image, what);
}

void events_stage(struct events *ev, const char *image, const char *stage, size_t ntasks)
{
	if (want_json(ev))
		emit_json(ev, json_pack("{s:s,s:s,s:s,s:I}", "event", "stage_start", "image", image,
		                        "stage", stage, "tasks", (json_int_t)ntasks));
	if (ev->mode == EVENTS_JSON)
		return;
	line(ev, "--> %s/%s (%zu task%s)", image, stage, ntasks, ntasks == 1 ? "" : "s");
}

void events_task_start(struct events *ev, const struct task_event *te)
{
	if (want_json(ev)) {
		char ts[32];
		timestamp(ts);
		struct eline l;
		el_begin(&l, ev);
		el_str(&l, "event", "task_start", true);
		el_str(&l, "image", te->image, true);
		el_str(&l, "stage", te->stage, true);
		el_json(&l, "id", json_object_get(te->task, PLAN_K_ID));
		el_json(&l, "module", json_object_get(te->task, PLAN_K_MODULE));
		el_str(&l, "task", te->what, true);
		el_json(&l, "source", json_object_get(te->task, PLAN_K_SOURCE));
		emit_line(ev, el_end(&l, ts));
	}
	if (ev->mode == EVENTS_JSON)
		return;
	char *w = events_redact(ev, te->what);
	set_status(ev, "[%s] %s: %s", te->image, te->stage, w);
	free(w);
}

static const char *status_name(enum task_status s)
{
	switch (s) {
	case TASK_OK:
		return "ok";
	case TASK_CHANGED:
		return "changed";
	case TASK_FAILED:
		return "failed";
	case TASK_SKIPPED:
		return "skipped";
	}
	return "?";
}

/* text, each line after prefix; NULL when text has no line. */
static char *prefixed(const char *prefix, const char *text)
{
	struct strbuf sb = STRBUF_INIT;
	for (const char *p = text; p && *p;) {
		const char *nl = strchr(p, '\n');
		size_t n = nl ? (size_t)(nl - p) : strlen(p);
		sb_addf(&sb, "%s%.*s\n", prefix, (int)n, p);
		p += n + (nl != NULL);
	}
	if (!sb.len) {
		sb_release(&sb);
		return NULL;
	}
	sb.buf[--sb.len] = '\0';
	return sb_detach(&sb);
}

bool events_verbose(const struct events *ev)
{
	return ev->verbose;
}

void events_output(struct events *ev, const struct task_event *te, int stream, const char *text)
{
	const char *name = stream == 2 ? "stderr" : "stdout";
	if (want_json(ev))
		emit_json(ev, json_pack("{s:s,s:s,s:s,s:O,s:s,s:s}", "event", "output", "image",
		                        te->image, "stage", te->stage, "id",
		                        json_object_get(te->task, PLAN_K_ID), "stream", name,
		                        "text", text));
	if (ev->mode == EVENTS_JSON)
		return;
	/* a worker's lines are prefixed with "[HOST] " already */
	const char *mark = stream == 2 ? "!" : "|";
	if (ev->prefix)
		line(ev, "%s %s", mark, text);
	else
		line(ev, "[%s] %s %s", te->image, mark, text);
}

/* In a worker: a task's end, for the parent's observer (te and res as JSON). */
static void relay_task_end(struct events *ev, const struct task_event *te,
                           const struct task_result *res)
{
	json_t *o =
	    json_pack("{s:s,s:s,s:O,s:i,s:i}", "image", te->image, "stage", te->stage, "task",
	              te->task, "status", (int)res->status, "exit_status", res->exit_status);
	const struct {
		const char *key, *value;
	} texts[] = {{"what", te->what},
	             {"source", te->source},
	             {"msg", res->msg},
	             {"diff", res->diff},
	             {"output", res->output},
	             {"cmd", res->cmd},
	             {"stdout_tail", res->stdout_tail},
	             {"stderr_tail", res->stderr_tail}};
	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++)
		if (texts[i].value)
			json_object_set_new(o, texts[i].key, json_string(texts[i].value));
	if (te->ignored)
		json_object_set_new(o, "ignored", json_true());
	char *text = json_dumps(o, JSON_COMPACT);
	relay_put(ev, REC_OBS_TASK, text, strlen(text));
	free(text);
	json_decref(o);
}

/* In the parent: a worker's task end or error, told to the observer. */
static void observe_relayed(struct events *ev, char kind, const char *text)
{
	json_t *o = json_loads(text, 0, NULL);
	if (!o || !ev->observer)
		goto out;
	if (kind == REC_OBS_ERROR) {
		if (ev->observer->error)
			ev->observer->error(ev->observer->data,
			                    json_string_value(json_object_get(o, "image")),
			                    json_string_value(json_object_get(o, "msg")));
		goto out;
	}
	if (!ev->observer->task_end)
		goto out;
	struct task_event te = {
	    .image = json_string_value(json_object_get(o, "image")),
	    .stage = json_string_value(json_object_get(o, "stage")),
	    .task = json_object_get(o, "task"),
	    .what = json_string_value(json_object_get(o, "what")),
	    .source = json_string_value(json_object_get(o, "source")),
	    .ignored = json_is_true(json_object_get(o, "ignored")),
	};
	struct task_result res = {
	    .status = (enum task_status)json_integer_value(json_object_get(o, "status")),
	    .exit_status = (int)json_integer_value(json_object_get(o, "exit_status")),
	    .msg = (char *)json_string_value(json_object_get(o, "msg")),
	    .diff = (char *)json_string_value(json_object_get(o, "diff")),
	    .output = (char *)json_string_value(json_object_get(o, "output")),
	    .cmd = (char *)json_string_value(json_object_get(o, "cmd")),
	    .stdout_tail = (char *)json_string_value(json_object_get(o, "stdout_tail")),
	    .stderr_tail = (char *)json_string_value(json_object_get(o, "stderr_tail")),
	};
	ev->observer->task_end(ev->observer->data, &te, &res);
out:
	json_decref(o);
}

/* task_end's line; for the log, what the command printed in full in the place of its
   last lines (a failed command's), and after "time" when they are not there. */
static char *task_end_line(const struct events *ev, const struct task_event *te,
                           const struct task_result *res, double ms, const char *ts, bool log)
{
	struct eline l;
	el_begin(&l, ev);
	el_str(&l, "event", "task_end", true);
	el_str(&l, "image", te->image, true);
	el_str(&l, "stage", te->stage, true);
	el_json(&l, "id", json_object_get(te->task, PLAN_K_ID));
	el_json(&l, "module", json_object_get(te->task, PLAN_K_MODULE));
	el_str(&l, "task", te->what, true);
	el_str(&l, "status", status_name(res->status), true);
	el_key(&l, "ms");
	line_real(&l.sb, ms);
	el_json(&l, "source", json_object_get(te->task, PLAN_K_SOURCE));
	el_str(&l, "msg", res->msg, false);
	if (res->status == TASK_FAILED && res->cmd) {
		el_str(&l, "cmd", res->cmd, false);
		el_key(&l, "exit_status");
		sb_addf(&l.sb, "%d", res->exit_status);
	}
	el_str(&l, "diff", res->diff, false);
	/* the output: the last lines of a failed command here, all of it in the log */
	bool failed = res->status == TASK_FAILED;
	const char *tail[2] = {failed ? res->stdout_tail : NULL, failed ? res->stderr_tail : NULL};
	const char *full[2] = {log ? res->stdout_full : NULL, log ? res->stderr_full : NULL};
	static const char *const names[2] = {"stdout", "stderr"};
	bool placed[2] = {false, false};
	for (int i = 0; i < 2; i++) {
		if (!tail[i] || !is_utf8(tail[i]))
			continue;
		placed[i] = true;
		el_str(&l, names[i], full[i] && is_utf8(full[i]) ? full[i] : tail[i], false);
	}
	if (!l.ok) {
		sb_release(&l.sb);
		return NULL;
	}
	el_key(&l, "time");
	line_string(&l.sb, ts, strlen(ts));
	for (int i = 0; i < 2; i++)
		if (!placed[i])
			el_str(&l, names[i], full[i], false);
	/* el_end without its "time": it is in place already */
	sb_addc(&l.sb, '}');
	char *line = sb_detach(&l.sb);
	if (!ev->nsecrets)
		return line;
	char *r = events_redact(ev, line);
	free(line);
	return r;
}

void events_task_end(struct events *ev, const struct task_event *te, const struct task_result *res,
                     double ms)
{
	if (ev->observer && ev->observer->task_end) {
		/* what the command printed, redacted as the rest is */
		struct task_result r = *res;
		r.output = events_redact(ev, res->output);
		r.stdout_tail = events_redact(ev, res->stdout_tail);
		r.stderr_tail = events_redact(ev, res->stderr_tail);
		r.stdout_full = r.stderr_full = NULL;
		if (ev->relay_fd >= 0)
			relay_task_end(ev, te, &r);
		else
			ev->observer->task_end(ev->observer->data, te, &r);
		free(r.output);
		free(r.stdout_tail);
		free(r.stderr_tail);
	}
	if (want_json(ev)) {
		char ts[32];
		timestamp(ts);
		if (ev->mode == EVENTS_JSON)
			emit_line_to(ev, task_end_line(ev, te, res, ms, ts, false), false);
		if (ev->has_log)
			emit_line_to(ev, task_end_line(ev, te, res, ms, ts, true), true);
	}
	if (ev->mode == EVENTS_JSON)
		return;
	static const char *const colors[] = {"\033[32m", "\033[33m", "\033[1;31m", "\033[36m"};
	const char *c = paint(ev, colors[res->status]);
	if (res->status == TASK_FAILED) {
		const char *src = te->source
		                      ? te->source
		                      : json_string_value(json_object_get(te->task, PLAN_K_SOURCE));
		line(ev, "    %sFAILED%s  %s  %s(%.1f ms)%s", c, paint(ev, "\033[0m"), te->what,
		     paint(ev, "\033[2m"), ms, paint(ev, "\033[0m"));
		line(ev, "%s: error[E5001]: task %s failed: %s", src ? src : "?", te->what,
		     res->msg ? res->msg : "failed");
		if (res->cmd)
			line(ev, "    command: %s\n    exit status: %d", res->cmd,
			     res->exit_status);
		/* both streams' last lines: what the command said is never lost (with -v
		   all of it is printed above already) */
		const char *tails[2][2] = {{"stdout", res->stdout_tail},
		                           {"stderr", res->stderr_tail}};
		for (int i = 0; i < 2 && !ev->verbose; i++) {
			char *p = tails[i][1] ? prefixed("    | ", tails[i][1]) : NULL;
			if (p)
				line(ev, "    %s (last lines):\n%s", tails[i][0], p);
			free(p);
		}
	} else {
		bool note = res->msg && res->status != TASK_OK;
		line(ev, "    %s%-7s%s %s%s%s%s  %s(%.1f ms)%s", c, status_name(res->status),
		     paint(ev, "\033[0m"), te->what, note ? "  (" : "", note ? res->msg : "",
		     note ? ")" : "", paint(ev, "\033[2m"), ms, paint(ev, "\033[0m"));
	}
	if (res->diff && *res->diff)
		line(ev, "%s", res->diff);
}

void events_note(struct events *ev, const char *image, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *msg = xvasprintf(fmt, ap);
	va_end(ap);
	if (want_json(ev))
		emit_json(ev,
		          json_pack("{s:s,s:s,s:s}", "event", "note", "image", image, "msg", msg));
	if (ev->mode != EVENTS_JSON)
		line(ev, "    %s%s%s", paint(ev, "\033[2m"), msg, paint(ev, "\033[0m"));
	if (ev->mode == EVENTS_TTY)
		set_status(ev, "[%s] %s", image, msg);
	free(msg);
}

void events_artifact(struct events *ev, const char *image, const char *type, const char *path,
                     const char *digest, double ms)
{
	if (want_json(ev))
		emit_json(ev, json_pack("{s:s,s:s,s:s,s:s,s:s,s:f}", "event", "artifact", "image",
		                        image, "type", type, "path", path, "digest",
		                        digest ? digest : "", "ms", ms));
	if (ev->mode == EVENTS_JSON)
		return;
	line(ev, "    %swrote%s   %s %s%s%s  %s(%.1f s)%s", paint(ev, "\033[32m"),
	     paint(ev, "\033[0m"), type, path, digest ? " " : "", digest ? digest : "",
	     paint(ev, "\033[2m"), ms / 1000, paint(ev, "\033[0m"));
}

void events_error(struct events *ev, const char *image, const char *msg)
{
	if (ev->observer && ev->observer->error) {
		char *r = events_redact(ev, msg);
		if (ev->relay_fd >= 0) {
			json_t *o = json_pack("{s:s,s:s}", "image", image, "msg", r);
			char *text = json_dumps(o, JSON_COMPACT);
			relay_put(ev, REC_OBS_ERROR, text, strlen(text));
			free(text);
			json_decref(o);
		} else {
			ev->observer->error(ev->observer->data, image, r);
		}
		free(r);
	}
	if (want_json(ev))
		emit_json(ev,
		          json_pack("{s:s,s:s,s:s}", "event", "error", "image", image, "msg", msg));
	if (ev->mode == EVENTS_JSON)
		return;
	line(ev, "%s%s: error%s: %s", paint(ev, "\033[1;31m"), image, paint(ev, "\033[0m"), msg);
}

void events_stage_cached(struct events *ev, const char *image, const char *stage, const char *key,
                         size_t ntasks)
{
	if (want_json(ev))
		emit_json(ev, json_pack("{s:s,s:s,s:s,s:s,s:I}", "event", "stage_cached", "image",
		                        image, "stage", stage, "key", key, "tasks",
		                        (json_int_t)ntasks));
	if (ev->mode == EVENTS_JSON)
		return;
	line(ev, "--> %s/%s %scached%s (%.12s): %zu task%s replayed, nothing run", image, stage,
	     paint(ev, "\033[32m"), paint(ev, "\033[0m"), key, ntasks, ntasks == 1 ? "" : "s");
}

void events_output_current(struct events *ev, const char *image, const char *type, const char *path)
{
	if (want_json(ev))
		emit_json(ev, json_pack("{s:s,s:s,s:s,s:s}", "event", "output_current", "image",
		                        image, "type", type, "path", path));
	if (ev->mode == EVENTS_JSON)
		return;
	line(ev, "    %sup-to-date%s %s %s", paint(ev, "\033[32m"), paint(ev, "\033[0m"), type,
	     path);
}

void events_recap(struct events *ev, const struct recap *r, size_t n)
{
	unsigned built = 0, cached = 0, written = 0, current = 0;
	for (size_t i = 0; i < n; i++) {
		built += r[i].stages_built;
		cached += r[i].stages_cached;
		written += r[i].outputs_written;
		current += r[i].outputs_current;
	}
	if (ev->observer && ev->observer->recap && ev->relay_fd < 0)
		ev->observer->recap(ev->observer->data, r, n);
	if (ev->mode == EVENTS_TTY && ev->relay_fd < 0) {
		if (ev->thread_running)
			pthread_mutex_lock(&ev->lock);
		ev->status[0] = '\0';
		clear_status(ev);
		if (ev->thread_running)
			pthread_mutex_unlock(&ev->lock);
	}
	for (size_t i = 0; i < n && want_json(ev); i++)
		emit_json(ev,
		          json_pack("{s:s,s:s,s:i,s:i,s:i,s:i,s:i,s:i,s:i,s:f,s:b,s:i,s:i,s:i,s:i}",
		                    "event", "recap", "name", r[i].name, "ok", r[i].ok, "changed",
		                    r[i].changed, "unreachable", r[i].unreachable, "failed",
		                    r[i].failed, "skipped", r[i].skipped, "rescued", r[i].rescued,
		                    "ignored", r[i].ignored, "seconds", r[i].seconds, "aborted",
		                    r[i].aborted, "stages_built", r[i].stages_built,
		                    "stages_cached", r[i].stages_cached, "outputs_written",
		                    r[i].outputs_written, "outputs_current", r[i].outputs_current));
	if (want_json(ev))
		emit_json(ev, json_pack("{s:s,s:i,s:i,s:i,s:i}", "event", "summary", "stages_built",
		                        built, "stages_cached", cached, "outputs_written", written,
		                        "outputs_current", current));
	if (ev->mode == EVENTS_JSON)
		return;
	size_t w = 0;
	for (size_t i = 0; i < n; i++)
		if (strlen(r[i].name) > w)
			w = strlen(r[i].name);
	line(ev, "\nRECAP");
	for (size_t i = 0; i < n; i++)
		line(ev,
		     "%-*s : ok=%-4u changed=%-4u failed=%-4u skipped=%-4u unreachable=%-4u "
		     "rescued=%-4u ignored=%-4u %.1fs%s",
		     (int)w, r[i].name, r[i].ok, r[i].changed, r[i].failed, r[i].skipped,
		     r[i].unreachable, r[i].rescued, r[i].ignored, r[i].seconds,
		     r[i].aborted ? "  (stopped)" : "");
	if (built + cached + written + current)
		line(ev, "stages: %u built, %u cached; outputs: %u written, %u up to date", built,
		     cached, written, current);
}

/* ---- logs and workers ------------------------------------------------------------ */

void events_progress(struct events *ev, const char *text)
{
	set_status(ev, "%s", text);
}

void events_set_log(struct events *ev, FILE *log)
{
	ev->log = log;
	ev->has_log = log != NULL;
}

void events_set_verbose(struct events *ev, bool verbose)
{
	ev->verbose = verbose;
}

void events_flush(struct events *ev)
{
	fflush(ev->out);
	if (ev->log)
		fflush(ev->log);
}

void events_relay_to(struct events *ev, int fd, const char *target)
{
	if (ev->mode != EVENTS_JSON && target)
		ev->prefix = xasprintf("[%s] ", target);
	/* a forked worker: the status thread stayed in the parent, and events_hold
	   (held across fork) is let go here */
	if (ev->thread_running) {
		ev->thread_running = false;
		pthread_mutex_unlock(&ev->lock);
	}
	ev->status_shown = false;
	ev->relay_fd = fd;
}

void events_set_target(struct events *ev, const char *target)
{
	free(ev->prefix);
	ev->prefix = ev->mode != EVENTS_JSON && target ? xasprintf("[%s] ", target) : NULL;
}

bool events_live(const struct events *ev)
{
	return ev && ev->thread_running;
}

void events_relay_send(struct events *ev, char kind, const char *data)
{
	if (ev->relay_fd >= 0)
		relay_put(ev, kind, data, strlen(data));
}

struct events_relay {
	struct strbuf buf;
	char *result;
};

struct events_relay *events_relay_new(void)
{
	return xcalloc(1, sizeof(struct events_relay));
}

void events_relay_free(struct events_relay *r)
{
	if (!r)
		return;
	sb_release(&r->buf);
	free(r->result);
	free(r);
}

const char *events_relay_result(const struct events_relay *r)
{
	return r->result;
}

int events_relay_read(struct events *ev, struct events_relay *r, int fd)
{
	char chunk[65536];
	ssize_t n = read(fd, chunk, sizeof(chunk));
	if (n < 0)
		return errno == EINTR || errno == EAGAIN ? 1 : -errno;
	sb_add(&r->buf, chunk, (size_t)n);
	size_t at = 0;
	while (r->buf.len - at >= 5) {
		uint32_t len;
		memcpy(&len, r->buf.buf + at + 1, sizeof(len));
		if (r->buf.len - at - 5 < len)
			break;
		char kind = r->buf.buf[at];
		char *text = xstrndup(r->buf.buf + at + 5, len);
		/* already redacted by the worker, which knows its own secrets too */
		if (kind == REC_OUT)
			put_text(ev, text);
		else if (kind == REC_LOG)
			put_log(ev, text);
		else if (kind == REC_OBS_TASK || kind == REC_OBS_ERROR)
			observe_relayed(ev, kind, text);
		else {
			free(r->result);
			r->result = text;
			text = NULL;
		}
		free(text);
		at += 5 + len;
	}
	if (at) {
		memmove(r->buf.buf, r->buf.buf + at, r->buf.len - at);
		r->buf.len -= at;
	}
	return n == 0 ? 0 : 1;
}

void events_observe(struct events *ev, const struct events_observer *obs)
{
	ev->observer = obs;
}

void events_hold(struct events *ev)
{
	if (ev && ev->thread_running)
		pthread_mutex_lock(&ev->lock);
}

void events_release(struct events *ev)
{
	if (ev && ev->thread_running)
		pthread_mutex_unlock(&ev->lock);
}
