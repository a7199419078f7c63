/*
 * events: progress and results of apply; see events.h. On a terminal a
 * thread redraws one status line (the current image, stage and task, with
 * elapsed time) ten times a second under the lines of finished tasks.
 */
#include "events.h"

#include "arena.h"
#include "plan_format.h"
#include "strbuf.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

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
};

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
	if (ev->mode != EVENTS_TTY)
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

/* Print a finished line above the live line. */
static void line(struct events *ev, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void line(struct events *ev, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *s = xvasprintf(fmt, ap);
	va_end(ap);
	char *r = events_redact(ev, s);
	if (ev->mode == EVENTS_TTY)
		pthread_mutex_lock(&ev->lock);
	clear_status(ev);
	fputs(r, ev->out);
	fputc('\n', ev->out);
	if (ev->mode == EVENTS_TTY) {
		draw_status(ev);
		pthread_mutex_unlock(&ev->lock);
	}
	fflush(ev->out);
	free(r);
	free(s);
}

/* Redact every string of v in place: in JSON text a value with a newline or a
   quote is escaped, and would no longer match. */
static void redact_json(const struct events *ev, json_t *v)
{
	if (json_is_object(v)) {
		const char *k;
		json_t *x;
		json_object_foreach (v, k, x) {
			if (json_is_string(x)) {
				char *r = events_redact(ev, json_string_value(x));
				if (strcmp(r, json_string_value(x)))
					json_object_set_new(v, k, json_string(r));
				free(r);
			} else {
				redact_json(ev, x);
			}
		}
	} else if (json_is_array(v)) {
		size_t i;
		json_t *x;
		json_array_foreach (v, i, x) {
			if (json_is_string(x)) {
				char *r = events_redact(ev, json_string_value(x));
				json_array_set_new(v, i, json_string(r));
				free(r);
			} else {
				redact_json(ev, x);
			}
		}
	}
}

static void emit_json(struct events *ev, json_t *event)
{
	json_t *o = json_deep_copy(event); /* it may share values with the plan */
	json_decref(event);
	redact_json(ev, o);
	char *s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(o);
	if (!s)
		return;
	char *r = events_redact(ev, s);
	fputs(r, ev->out);
	fputc('\n', ev->out);
	fflush(ev->out);
	free(r);
	free(s);
}

struct events *events_new(enum events_mode mode, FILE *out, bool color)
{
	struct events *ev = xcalloc(1, sizeof(*ev));
	ev->mode = mode;
	ev->out = out;
	ev->color = color && mode != EVENTS_JSON;
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
	if (ev->mode == EVENTS_JSON) {
		emit_json(ev, json_pack("{s:s,s:I,s:I,s:I}", "event", "apply_start", "images",
		                        (json_int_t)images, "stages", (json_int_t)stages, "tasks",
		                        (json_int_t)tasks));
		return;
	}
	line(ev, "kiln apply: %zu image%s, %zu stage%s, %zu task%s", images, images == 1 ? "" : "s",
	     stages, stages == 1 ? "" : "s", tasks, tasks == 1 ? "" : "s");
}

void events_image(struct events *ev, const char *image, const char *what)
{
	if (ev->mode == EVENTS_JSON) {
		emit_json(ev, json_pack("{s:s,s:s,s:s}", "event", "image_start", "image", image,
		                        "from", what));
		return;
	}
	line(ev, "%s==> %s%s from %s", paint(ev, "\033[1m"), image, paint(ev, "\033[0m"), what);
	set_status(ev, "[%s] preparing %s", image, what);
}

void events_stage(struct events *ev, const char *image, const char *stage, size_t ntasks)
{
	if (ev->mode == EVENTS_JSON) {
		emit_json(ev, json_pack("{s:s,s:s,s:s,s:I}", "event", "stage_start", "image", image,
		                        "stage", stage, "tasks", (json_int_t)ntasks));
		return;
	}
	line(ev, "--> %s/%s (%zu task%s)", image, stage, ntasks, ntasks == 1 ? "" : "s");
}

void events_task_start(struct events *ev, const struct task_event *te)
{
	if (ev->mode == EVENTS_JSON) {
		emit_json(ev, json_pack("{s:s,s:s,s:s,s:O,s:O,s:s,s:O}", "event", "task_start",
		                        "image", te->image, "stage", te->stage, "id",
		                        json_object_get(te->task, PLAN_K_ID), "module",
		                        json_object_get(te->task, PLAN_K_MODULE), "task", te->what,
		                        "source", json_object_get(te->task, PLAN_K_SOURCE)));
		return;
	}
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

void events_task_end(struct events *ev, const struct task_event *te, const struct task_result *res,
                     double ms)
{
	if (ev->mode == EVENTS_JSON) {
		json_t *o = json_pack("{s:s,s:s,s:s,s:O,s:O,s:s,s:s,s:f,s:O}", "event", "task_end",
		                      "image", te->image, "stage", te->stage, "id",
		                      json_object_get(te->task, PLAN_K_ID), "module",
		                      json_object_get(te->task, PLAN_K_MODULE), "task", te->what,
		                      "status", status_name(res->status), "ms", ms, "source",
		                      json_object_get(te->task, PLAN_K_SOURCE));
		if (res->msg)
			json_object_set_new(o, "msg", json_string(res->msg));
		if (res->status == TASK_FAILED && res->cmd) {
			json_object_set_new(o, "cmd", json_string(res->cmd));
			json_object_set_new(o, "exit_status", json_integer(res->exit_status));
			if (res->stderr_tail)
				json_object_set_new(o, "stderr", json_string(res->stderr_tail));
		}
		if (res->diff)
			json_object_set_new(o, "diff", json_string(res->diff));
		emit_json(ev, o);
		return;
	}
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
		if (res->stderr_tail && *res->stderr_tail) {
			struct strbuf sb = STRBUF_INIT;
			for (const char *p = res->stderr_tail; *p;) {
				const char *nl = strchr(p, '\n');
				size_t n = nl ? (size_t)(nl - p) : strlen(p);
				sb_addf(&sb, "    | %.*s\n", (int)n, p);
				p += n + (nl != NULL);
			}
			if (sb.len)
				sb.buf[--sb.len] = '\0';
			line(ev, "%s", sb.buf);
			sb_release(&sb);
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
	if (ev->mode == EVENTS_JSON)
		emit_json(ev,
		          json_pack("{s:s,s:s,s:s}", "event", "note", "image", image, "msg", msg));
	else
		line(ev, "    %s%s%s", paint(ev, "\033[2m"), msg, paint(ev, "\033[0m"));
	if (ev->mode == EVENTS_TTY)
		set_status(ev, "[%s] %s", image, msg);
	free(msg);
}

void events_artifact(struct events *ev, const char *image, const char *type, const char *path,
                     const char *digest, double ms)
{
	if (ev->mode == EVENTS_JSON) {
		emit_json(ev, json_pack("{s:s,s:s,s:s,s:s,s:s,s:f}", "event", "artifact", "image",
		                        image, "type", type, "path", path, "digest",
		                        digest ? digest : "", "ms", ms));
		return;
	}
	line(ev, "    %swrote%s   %s %s%s%s  %s(%.1f s)%s", paint(ev, "\033[32m"),
	     paint(ev, "\033[0m"), type, path, digest ? " " : "", digest ? digest : "",
	     paint(ev, "\033[2m"), ms / 1000, paint(ev, "\033[0m"));
}

void events_error(struct events *ev, const char *image, const char *msg)
{
	if (ev->mode == EVENTS_JSON) {
		emit_json(ev,
		          json_pack("{s:s,s:s,s:s}", "event", "error", "image", image, "msg", msg));
		return;
	}
	line(ev, "%s%s: error%s: %s", paint(ev, "\033[1;31m"), image, paint(ev, "\033[0m"), msg);
}

void events_stage_cached(struct events *ev, const char *image, const char *stage, const char *key,
                         size_t ntasks)
{
	if (ev->mode == EVENTS_JSON) {
		emit_json(ev, json_pack("{s:s,s:s,s:s,s:s,s:I}", "event", "stage_cached", "image",
		                        image, "stage", stage, "key", key, "tasks",
		                        (json_int_t)ntasks));
		return;
	}
	line(ev, "--> %s/%s %scached%s (%.12s): %zu task%s replayed, nothing run", image, stage,
	     paint(ev, "\033[32m"), paint(ev, "\033[0m"), key, ntasks, ntasks == 1 ? "" : "s");
}

void events_output_current(struct events *ev, const char *image, const char *type, const char *path)
{
	if (ev->mode == EVENTS_JSON) {
		emit_json(ev, json_pack("{s:s,s:s,s:s,s:s}", "event", "output_current", "image",
		                        image, "type", type, "path", path));
		return;
	}
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
	if (ev->mode == EVENTS_TTY) {
		pthread_mutex_lock(&ev->lock);
		ev->status[0] = '\0';
		clear_status(ev);
		pthread_mutex_unlock(&ev->lock);
	}
	if (ev->mode == EVENTS_JSON) {
		for (size_t i = 0; i < n; i++)
			emit_json(
			    ev, json_pack("{s:s,s:s,s:i,s:i,s:i,s:i,s:i,s:f,s:b,s:i,s:i,s:i,s:i}",
			                  "event", "recap", "name", r[i].name, "ok", r[i].ok,
			                  "changed", r[i].changed, "failed", r[i].failed, "skipped",
			                  r[i].skipped, "unreachable", r[i].unreachable, "seconds",
			                  r[i].seconds, "aborted", r[i].aborted, "stages_built",
			                  r[i].stages_built, "stages_cached", r[i].stages_cached,
			                  "outputs_written", r[i].outputs_written,
			                  "outputs_current", r[i].outputs_current));
		emit_json(ev, json_pack("{s:s,s:i,s:i,s:i,s:i}", "event", "summary", "stages_built",
		                        built, "stages_cached", cached, "outputs_written", written,
		                        "outputs_current", current));
		return;
	}
	size_t w = 0;
	for (size_t i = 0; i < n; i++)
		if (strlen(r[i].name) > w)
			w = strlen(r[i].name);
	line(ev, "\nRECAP");
	for (size_t i = 0; i < n; i++)
		line(
		    ev,
		    "%-*s : ok=%-4u changed=%-4u failed=%-4u skipped=%-4u unreachable=%-4u %.1fs%s",
		    (int)w, r[i].name, r[i].ok, r[i].changed, r[i].failed, r[i].skipped,
		    r[i].unreachable, r[i].seconds, r[i].aborted ? "  (stopped)" : "");
	if (built + cached + written + current)
		line(ev, "stages: %u built, %u cached; outputs: %u written, %u up to date", built,
		     cached, written, current);
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
