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
 * Can the tree of an image have a kernel (/boot/vmlinuz-*)? from is its lowered "from",
 * parent_may its parent image's answer (when built from an image), task_lists arrays
 * of lowered tasks (its stages' and handlers'). False only when sure: a base that has
 * none (schema no_kernel) and tasks that each write only known paths outside /boot.
 */
bool check_output_may_boot(json_t *from, bool parent_may, json_t *const *task_lists, size_t nlists);

/* An image that can have no kernel: each output of it that must boot (E4007). */
void check_output_boot(struct diag_sink *d, const struct ast_node *image, json_t *outputs);

/* Outputs of the whole build (paths written as strings) that write one path (E4008). */
void check_output_paths(struct program *p);

#endif
