/*
 * plan: plan.json on disk and the plan shown to people; see plan.c and
 * docs/plan-format.md.
 */
#ifndef KILN_PLAN_H
#define KILN_PLAN_H

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>

struct plan_counts {
	size_t images, stages, tasks, handlers, outputs, tests, applies, apply_tasks, groups;
};

/* The plan's bytes: sorted keys, two-space indent, ASCII, final newline. Caller frees. */
char *plan_dumps(json_t *plan);
/* Write atomically (random temporary name, fsync, rename; see atomic.h); "-" is stdout,
   a character device or FIFO is written through, a directory or socket refused. */
int plan_write(json_t *plan, const char *path, char **reterr);
/* The same, the text written by fill (see plan_json.h) as it goes. When fill returns < 0
   nothing is written (not even to standard output) and *reterr stays NULL. */
struct plan_json;
int plan_write_with(const char *path, int (*fill)(struct plan_json *w, void *arg), void *arg,
                    char **reterr);
struct plan_counts plan_count(json_t *plan);
void plan_print(FILE *out, json_t *plan, bool color);
void plan_graph(FILE *out, json_t *plan);
void plan_dump_ir(FILE *out, json_t *plan);

#endif
