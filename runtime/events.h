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
	double seconds;
	bool aborted; /* stopped early: a task failed, or interrupted */
	/* images: stages run and replayed from the cache, outputs written and up to date */
	unsigned stages_built, stages_cached, outputs_written, outputs_current;
};

void events_recap(struct events *ev, const struct recap *r, size_t n);

/*
 * Keep the status thread still (waiting, holding no lock of the C library)
 * while kiln clones a process: a connection's namespace holder is a raw
 * clone of kiln, which must not inherit a lock another thread held.
 */
void events_hold(struct events *ev);
void events_release(struct events *ev);

#endif
