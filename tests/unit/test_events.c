/*
 * test_events: the --events=json lines (runtime/events.c writes them itself) are
 * the bytes json_dumps(JSON_COMPACT | JSON_PRESERVE_ORDER) writes for the same
 * event, with "time" last: strings with quotes, backslashes, control characters
 * and UTF-8, reals of every shape, integers, nested values. Secrets are redacted
 * in values (before escaping) and keys; the log line carries the full output in
 * the place of the tail; the plan's values given to an event are left unchanged.
 */
#include "check.h"
#include "events.h"

#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* What the events wrote to f since the last call (f rewound and emptied). */
static char *drain(FILE *f)
{
	fflush(f);
	long n = ftell(f);
	char *s = calloc(1, (size_t)n + 1);
	rewind(f);
	if (n > 0 && fread(s, 1, (size_t)n, f) != (size_t)n)
		s[0] = '\0';
	rewind(f);
	if (ftruncate(fileno(f), 0) < 0)
		s[0] = '\0';
	return s;
}

/* line without its ',"time":"…"}' end, or NULL when it has none */
static char *untimed(const char *line)
{
	const char *t = strstr(line, ",\"time\":\"");
	if (!t || strlen(t) != strlen(",\"time\":\"2026-01-01T00:00:00.000Z\"}\n"))
		return NULL;
	char *s = strndup(line, (size_t)(t - line));
	return s;
}

/* The task_start line of a task whose id is v, against json_dumps of the same object. */
static void check_value(struct events *ev, FILE *out, json_t *v)
{
	json_t *task = json_pack("{s:O,s:s,s:s}", "id", v, "module", "file", "source", "a.img:1:2");
	char *before = json_dumps(task, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_ENCODE_ANY);
	struct task_event te = {"img", "apply", task, "file /x", NULL, false};
	events_task_start(ev, &te);
	char *line = drain(out);
	json_t *want = json_pack("{s:s,s:s,s:s,s:O,s:s,s:s,s:s}", "event", "task_start", "image",
	                         "img", "stage", "apply", "id", v, "module", "file", "task",
	                         "file /x", "source", "a.img:1:2");
	char *w = json_dumps(want, JSON_COMPACT | JSON_PRESERVE_ORDER);
	w[strlen(w) - 1] = '\0'; /* without its '}' */
	char *got = untimed(line);
	CHECK(got && !strcmp(got, w));
	if (!got || strcmp(got, w))
		fprintf(stderr, "  want %s\n  got  %s", w, line);
	char *after = json_dumps(task, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_ENCODE_ANY);
	CHECK(!strcmp(before, after)); /* the plan's task is not changed */
	free(before);
	free(after);
	free(got);
	free(w);
	free(line);
	json_decref(want);
	json_decref(task);
	json_decref(v);
}

/* The task_end event as json_pack made it (the output's, or with full the log's). */
static char *old_task_end(const struct task_event *te, const struct task_result *res, double ms,
                          bool log)
{
	static const char *const names[] = {"ok", "changed", "failed", "skipped"};
	json_t *o =
	    json_pack("{s:s,s:s,s:s,s:O,s:O,s:s,s:s,s:f,s:O}", "event", "task_end", "image",
	              te->image, "stage", te->stage, "id", json_object_get(te->task, "id"),
	              "module", json_object_get(te->task, "module"), "task", te->what, "status",
	              names[res->status], "ms", ms, "source", json_object_get(te->task, "source"));
	if (!o)
		return NULL;
	if (res->msg)
		json_object_set_new(o, "msg", json_string(res->msg));
	if (res->status == TASK_FAILED && res->cmd) {
		json_object_set_new(o, "cmd", json_string(res->cmd));
		json_object_set_new(o, "exit_status", json_integer(res->exit_status));
	}
	if (res->diff)
		json_object_set_new(o, "diff", json_string(res->diff));
	json_t *full = json_object();
	if (res->status == TASK_FAILED && res->stdout_tail)
		json_object_set_new(o, "stdout", json_string(res->stdout_tail));
	if (res->status == TASK_FAILED && res->stderr_tail)
		json_object_set_new(o, "stderr", json_string(res->stderr_tail));
	if (res->stdout_full)
		json_object_set_new(full, "stdout", json_string(res->stdout_full));
	if (res->stderr_full)
		json_object_set_new(full, "stderr", json_string(res->stderr_full));
	json_object_set_new(o, "time", json_string("T"));
	if (log)
		json_object_update(o, full);
	char *s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(o);
	json_decref(full);
	return s;
}

/* line with its time (a timestamp, exactly 24 characters) replaced by T */
static char *time_as_t(const char *line)
{
	const char *t = strstr(line, "\"time\":\"");
	if (!t || strlen(t) < 9 + 25)
		return strdup(line);
	size_t at = (size_t)(t - line) + 7;
	char *s = malloc(strlen(line) + 1);
	memcpy(s, line, at);
	strcpy(s + at, "\"T\"");
	strcat(s, line + at + 26);
	size_t n = strlen(s);
	if (n && s[n - 1] == '\n')
		s[n - 1] = '\0';
	return s;
}

/* task_end of each result: the output's and the log's lines as json_pack's objects. */
static void check_task_end(FILE *out, FILE *log, struct task_result *res)
{
	struct events *ev = events_new(EVENTS_JSON, out, false);
	events_set_log(ev, log);
	json_t *task =
	    json_pack("{s:s,s:[i,f],s:s}", "id", "t.1", "module", 1, 0.5, "source", "s:1:1");
	struct task_event te = {"img", "apply", task, "command x", NULL, false};
	events_task_end(ev, &te, res, 0.071703001856803894);
	char *line = drain(out), *logged = drain(log);
	char *got_out = time_as_t(line), *got_log = time_as_t(logged);
	char *want_out = old_task_end(&te, res, 0.071703001856803894, false);
	char *want_log = old_task_end(&te, res, 0.071703001856803894, true);
	CHECK(want_out && !strcmp(got_out, want_out));
	CHECK(want_log && !strcmp(got_log, want_log));
	if (!want_out || strcmp(got_out, want_out) || strcmp(got_log, want_log))
		fprintf(stderr, "  want %s\n  got  %s\n  want %s\n  got  %s\n", want_out, got_out,
		        want_log, got_log);
	free(line);
	free(logged);
	free(got_out);
	free(got_log);
	free(want_out);
	free(want_log);
	json_decref(task);
	events_free(ev);
}

int main(void)
{
	FILE *out = tmpfile(), *log = tmpfile();
	struct events *ev = events_new(EVENTS_JSON, out, false);

	const double reals[] = {
	    0.1,  1e-5,  1e20, -0.0, 3.0, 1.5e300, -2.5e-300, 123456789.0, 0.071703001856803894,
	    1e16, 5e-324};
	for (size_t i = 0; i < sizeof(reals) / sizeof(reals[0]); i++)
		check_value(ev, out, json_real(reals[i]));
	check_value(ev, out, json_integer(0));
	check_value(ev, out, json_integer(-5));
	check_value(ev, out, json_integer(INT64_MAX));
	check_value(ev, out, json_integer(INT64_MIN));
	check_value(ev, out, json_string("a\"b\\c/d\n\t\r\b\f\x01\x1f\x7f é 日本 😀"));
	check_value(ev, out, json_string(""));
	check_value(ev, out, json_true());
	check_value(ev, out, json_false());
	check_value(ev, out, json_null());
	check_value(ev, out, json_object());
	check_value(ev, out, json_array());
	check_value(ev, out,
	            json_pack("{s:[i,f,s,{s:n,s:[]}],s:{},s:b,s:s}", "z", 1, 2.5, "x\ny", "k\"",
	                      "e", "a", "t", 1, "ü", "\x02"));

	/* a secret: in values before escaping (with a quote and a newline in it), each of
	   its lines, and in keys (by the pass over the whole line: there only as escaped) */
	events_add_secret(ev, "pa\"ss\nword-line");
	json_t *v = json_pack("{s:s,s:[s],s:s}", "k", "x pa\"ss\nword-line y", "arr", "word-line",
	                      "word-line", "v");
	json_t *task = json_pack("{s:O,s:s,s:s}", "id", v, "module", "m", "source", "s");
	struct task_event te = {"img", "apply", task, "what", NULL, false};
	events_task_start(ev, &te);
	char *line = drain(out);
	CHECK(!strstr(line, "pa\\\"ss"));
	CHECK(!strstr(line, "word-line"));
	CHECK(strstr(line, "\"k\":\"x ******** y\""));
	CHECK(strstr(line, "\"arr\":[\"********\"]"));
	CHECK(strstr(line, "\"********\":\"v\""));
	free(line);
	json_decref(v);
	json_decref(task);
	events_free(ev);

	/* the log: the full output in the place of the tail, "time" before what is only
	   in the log; the output shows the tail */
	ev = events_new(EVENTS_JSON, out, false);
	events_set_log(ev, log);
	task = json_pack("{s:s,s:s,s:s}", "id", "t.1", "module", "command", "source", "s:1:1");
	te = (struct task_event){"img", "apply", task, "command x", NULL, false};
	char msg[] = "exit status 3", cmd[] = "x", tail[] = "tail", full[] = "all\nof it",
	     err[] = "err";
	struct task_result res = {.status = TASK_FAILED,
	                          .msg = msg,
	                          .cmd = cmd,
	                          .exit_status = 3,
	                          .stdout_tail = tail,
	                          .stdout_full = full,
	                          .stderr_full = err};
	events_task_end(ev, &te, &res, 1.25);
	line = drain(out);
	char *logged = drain(log);
	CHECK(strstr(line, "\"ms\":1.25,"));
	CHECK(strstr(line, "\"stdout\":\"tail\""));
	CHECK(!strstr(line, "of it"));
	CHECK(strstr(logged, "\"stdout\":\"all\\nof it\""));
	CHECK(!strstr(logged, "tail"));
	const char *t = strstr(logged, ",\"time\":"), *e = strstr(logged, ",\"stderr\":\"err\"}");
	CHECK(t && e && t < e);
	CHECK(strstr(line, ",\"time\":") && strstr(line, "\"}\n"));
	free(line);
	free(logged);
	json_decref(task);
	events_free(ev);

	/* task_end of every shape, against the objects json_pack made: optional members
	   that are not UTF-8 are left out, the full output takes the tail's place */
	char bad[] = "bad \xff byte", diff[] = "--- a\n+++ b\n", a[] = "all out", ae[] = "all err";
	struct task_result shapes[] = {
	    {.status = TASK_OK, .msg = msg},
	    {.status = TASK_CHANGED, .msg = msg, .diff = diff},
	    {.status = TASK_SKIPPED},
	    {.status = TASK_FAILED,
	     .msg = msg,
	     .cmd = cmd,
	     .exit_status = 3,
	     .stdout_tail = tail,
	     .stderr_tail = tail,
	     .stdout_full = a,
	     .stderr_full = ae},
	    {.status = TASK_FAILED, .cmd = cmd, .stdout_tail = tail, .stderr_full = ae},
	    {.status = TASK_FAILED, .stdout_full = a, .stderr_full = ae},
	    {.status = TASK_CHANGED, .msg = bad, .diff = bad, .stdout_full = bad},
	    {.status = TASK_FAILED,
	     .cmd = bad,
	     .stdout_tail = bad,
	     .stdout_full = a,
	     .stderr_tail = tail,
	     .stderr_full = bad},
	    {.status = TASK_OK, .stdout_tail = tail, .stdout_full = a},
	};
	for (size_t i = 0; i < sizeof(shapes) / sizeof(shapes[0]); i++)
		check_task_end(out, log, &shapes[i]);
	fclose(out);
	fclose(log);
	return CHECK_DONE();
}
