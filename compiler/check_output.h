/*
 * check_output: what apply would refuse of an image's outputs, said by lint and compile
 * (check_output.c): each output's arguments together (the schema's check_args: a disk's
 * sizes, a box's memory), a disk that must boot of an image that can have no kernel, and
 * outputs of the build that write the same path. Only what is sure is reported: a value
 * not known before the build, or a task that may install anything, says nothing.
 */
#ifndef KILN_CHECK_OUTPUT_H
#define KILN_CHECK_OUTPUT_H

#include "program.h"

#include <jansson.h>
#include <stdbool.h>

/* The output out's arguments as lowered (args): the schema's check_args (E3014). */
void check_output_args(struct diag_sink *d, const struct kiln_schema *s, const struct ast_node *out,
                       json_t *args);

/* An image's config block as lowered (values): its exposed ports (E3014). */
void check_output_config(struct diag_sink *d, const struct ast_node *config, json_t *values);

/*
 * Can a task of module s, whose argument s->writes (the path it writes) is path (NULL
 * when not a known string), put a kernel in /boot? True unless sure it cannot.
 */
bool check_task_may_boot(const struct kiln_schema *s, const char *path);

/*
 * An image as lowered: can its tree have a kernel (/boot/vmlinuz-*)? from is its "from",
 * parent_may its parent image's answer (when built from an image), tasks_may whether one
 * of its tasks (stages, handlers, tests: check_task_may_boot, asked as each is lowered,
 * whatever form the plan's tasks take) may put one there. False only when sure: a base
 * that has none (schema no_kernel) and tasks that each write only known paths outside
 * /boot; then each output of it that must boot is E4007, a machine that would not boot
 * W4002. Returns the answer.
 */
bool check_output_boot(struct diag_sink *d, const struct ast_node *image, json_t *from,
                       bool parent_may, bool tasks_may, json_t *outputs);

/* Outputs of the whole build (paths written as strings) that write one path (E4008). */
void check_output_paths(struct program *p);

#endif
