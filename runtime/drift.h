/*
 * drift: `kiln plan` against hosts. Every apply block of a plan runs on its hosts as
 * `kiln apply --check --diff` runs it (the same path: connections, facts, tasks and the
 * handlers they notify; modules get conn_check's target, which refuses every change),
 * and what would change is printed Terraform-style: a symbol per task, its diff, a
 * summary per host and a total line. Nothing on a host changes.
 */
#ifndef KILN_DRIFT_H
#define KILN_DRIFT_H

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>

struct drift_opts {
	const char *root;          /* the directory plan paths are relative to */
	json_t *secrets;           /* each secret param's value (as for apply_plan) */
	bool accept_new_host_keys; /* over SSH: add an unknown host key (known_hosts changes) */
	bool color;
	FILE *out; /* the report */
};

enum drift_status { DRIFT_NONE = 0, DRIFT_FOUND = 1, DRIFT_ERROR = -1 };

/* Check the hosts of every apply block of plan and print what would change on each.
   DRIFT_ERROR when a host could not be reached or a task fails in check mode (the
   report says which), else DRIFT_FOUND when some task would change a host. */
enum drift_status drift_plan(json_t *plan, const struct drift_opts *o);

#endif
