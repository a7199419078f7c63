/*
 * exec: carry out a plan (`kiln apply`). Input: the plan (from .img files
 * compiled in the same run, or read from plan.json: the same code path).
 * Output: baked images and their artifacts, progress through events.h, and
 * a recap in Ansible's shape. Images are built in the plan's order (parents
 * first); an image whose task fails is abandoned (no artifact written), and
 * so are the images built from it; the others go on.
 *
 * Work happens in a fresh directory under the work directory (default
 * /var/tmp/kiln), removed at the end, on failure and on SIGINT/SIGTERM;
 * one left by a killed kiln is removed by the next apply.
 */
#ifndef KILN_EXEC_H
#define KILN_EXEC_H

#include "events.h"

#include <jansson.h>
#include <stdio.h>

struct apply_opts {
	bool check;            /* change nothing; report what would change */
	bool diff;             /* show what changes */
	const char *root;      /* the directory plan paths are relative to */
	const char *work_dir;  /* NULL: $KILN_WORK_DIR or /var/tmp/kiln */
	const char *cache_dir; /* NULL: base.h's default */
	json_t *secrets;       /* each secret param's value (name -> string), read by the
	                          caller (kiln: the compiler's vars.c); never from a file here */
	struct events *events;
	bool accept_new_host_keys; /* over SSH: add a host key that is unknown, not refuse it */
	bool hosts_only;      /* only the apply blocks (kiln plan against hosts, kiln run): no image
	                         is baked and no work directory made */
	unsigned forks;       /* hosts applied at once (each in a worker process); 0: 10 */
	const char *limit;    /* only the hosts this Ansible host pattern selects (NULL: all) */
	const char *cache_to; /* a registry repository the stage cache is pushed to */
	const char *cache_from; /* one stages missing here are fetched from */
	bool cache_insecure;    /* plain HTTP for both */
	bool no_cache;       /* run every stage (results are still stored) and write every output */
	bool refresh_base;   /* make bases again (not from their caches), and as no_cache */
	double lock_timeout; /* seconds to wait for another apply's lock (0: fail at once) */
};

/* Returns 0 when every image was baked, 1 when a task or a step failed, < 0 when
   the plan does not pass plan_validate (nothing is done) or on kiln's own errors
   (reported through events). */
int apply_plan(json_t *plan, const struct apply_opts *opts);

/* --list-hosts: print the hosts each apply block would touch (narrowed by the host
   pattern limit, or NULL) to out, as ansible-playbook --list-hosts does; connects
   to nothing. 0, or 1 after printing why to stderr (a plan that does not validate,
   a pattern that selects no host). */
int apply_list_hosts(json_t *plan, const char *limit, FILE *out);

#endif
