/*
 * events: what `kiln apply` shows while it works, in one of three forms:
 * plain lines for logs and CI (--progress=plain), the same lines plus a
 * live status line on a terminal (the default on a tty), or JSON lines for
 * machines (--events=json, one object per event). Everything printed passes
 * through the redactor (JSON events string by string, before encoding): a
 * secret's value never reaches the output.
 */
#ifndef KILN_EVENTS_H
#define KILN_EVENTS_H

#include "module.h"

#include <jansson.h>
#include <stdio.h>

enum events_mode { EVENTS_PLAIN, EVENTS_TTY, EVENTS_JSON };

/* The version of the --events=json stream (docs/events.md), in its apply_start
   event: raised when a field changes meaning or goes away, not when one is added. */
#define EVENTS_VERSION 1

struct events;

struct events *events_new(enum events_mode mode, FILE *out, bool color);
void events_free(struct events *ev);

/* Strings replaced by "********" wherever they would be printed: the value, and
   each line of a multi-line one (of 3 characters or more), the longest first. */
void events_add_secret(struct events *ev, const char *value);
/* The redacted copy of s (malloc'd). Redact before shortening text: a cut value
   is not recognised. */
char *events_redact(const struct events *ev, const char *s);

struct task_event {
	const char *image;  /* or the apply target */
	const char *stage;  /* or "handler NAME", "test NAME" */
	json_t *task;       /* the plan's task */
	const char *what;   /* a person's one-line name of the task (already redacted) */
	const char *source; /* FILE:LINE:COL with FILE as the user named it, or NULL */
	bool ignored;       /* at task_end: a failure that ignore_errors lets pass */
};

void events_plan(struct events *ev, size_t images, size_t stages, size_t tasks);
void events_image(struct events *ev, const char *image, const char *what);
void events_stage(struct events *ev, const char *image, const char *stage, size_t ntasks);
void events_task_start(struct events *ev, const struct task_event *te);
void events_task_end(struct events *ev, const struct task_event *te, const struct task_result *res,
                     double ms);
void events_note(struct events *ev, const char *image, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void events_artifact(struct events *ev, const char *image, const char *type, const char *path,
                     const char *digest, double ms);
void events_error(struct events *ev, const char *image, const char *msg);
/* A stage replayed from the stage cache (key: its cache key), and an output left
   as it is because it is up to date: nothing was run or written for them. */
void events_stage_cached(struct events *ev, const char *image, const char *stage, const char *key,
                         size_t ntasks);
void events_output_current(struct events *ev, const char *image, const char *type,
                           const char *path);

struct recap {
	const char *name;
	unsigned ok, changed, failed, skipped;
	unsigned unreachable; /* a host kiln cannot reach (over SSH, for now) */
	unsigned rescued;     /* Ansible's column; kiln has no rescue blocks: always 0 */
	unsigned ignored;     /* tasks that failed with ignore_errors (not counted as failed) */
	double seconds;
	bool aborted; /* stopped early: a task failed, or interrupted */
	/* images: stages run and replayed from the cache, outputs written and up to date */
	unsigned stages_built, stages_cached, outputs_written, outputs_current;
};

void events_recap(struct events *ev, const struct recap *r, size_t n);

/* --log-file: every event also goes to log as a JSON line (the --events=json
   shape, with a timestamp and what commands printed in full), redacted. The
   caller opens and closes log. */
void events_set_log(struct events *ev, FILE *log);
/* -v: what commands print, as they print it, line by line (events_output). */
void events_set_verbose(struct events *ev, bool verbose);
bool events_verbose(const struct events *ev);
/* One line a task's command printed (stream 1: stdout, 2: stderr), prefixed with its
   target: "[TARGET] | " for stdout, "[TARGET] ! " for stderr; an "output" event in JSON. */
void events_output(struct events *ev, const struct task_event *te, int stream, const char *text);
void events_flush(struct events *ev);
/* On a terminal: the live status line says text (hosts in parallel: how far). */
void events_progress(struct events *ev, const char *text);

/*
 * Workers: exec.c applies each host in a forked process. In the worker,
 * events_relay_to(ev, fd) sends every line (output and log) to the parent
 * through fd as whole records, already redacted with the worker's secrets, and
 * in text each line starts with "[TARGET] ";
 * events_relay_send adds a record of its own kind (the worker's result). In
 * the parent, events_relay_read reads what a worker's pipe holds and prints
 * each complete record at once, so lines of different hosts never mix.
 * Fork with events_hold held: the worker's events_relay_to lets it go.
 */
void events_relay_to(struct events *ev, int fd, const char *target);
/* A host applied in kiln's own process (one host, no worker): its text lines start with
   "[TARGET] " as a worker's do, until events_set_target(ev, NULL). */
void events_set_target(struct events *ev, const char *target);
/* Whether a status thread runs (a terminal): then clones need events_hold. */
bool events_live(const struct events *ev);
void events_relay_send(struct events *ev, char kind, const char *data);
struct events_relay;
struct events_relay *events_relay_new(void);
void events_relay_free(struct events_relay *r);
/* Read once from fd: 1 more to come, 0 at end of file, < 0 -errno. */
int events_relay_read(struct events *ev, struct events_relay *r, int fd);
/* The last record of a kind other than output and log, or NULL. */
const char *events_relay_result(const struct events_relay *r);

/*
 * Someone who reads the results besides the printed events: kiln plan against hosts
 * (drift.c) and kiln run (adhoc.c) make their own report from them. Each function may be
 * NULL; they are called where the event happens (a host's thread, when hosts run in
 * parallel), with every text already redacted.
 */
struct events_observer {
	void (*task_end)(void *data, const struct task_event *te, const struct task_result *res);
	void (*error)(void *data, const char *image, const char *msg);
	void (*recap)(void *data, const struct recap *r, size_t n);
	void *data;
};

/* Tell obs (kept by pointer; NULL: no one) of every task end, error and recap. */
void events_observe(struct events *ev, const struct events_observer *obs);

/*
 * Keep the status thread still (waiting, holding no lock of the C library)
 * while kiln clones a process: a connection's namespace holder is a raw
 * clone of kiln, which must not inherit a lock another thread held.
 */
void events_hold(struct events *ev);
void events_release(struct events *ev);

#endif
