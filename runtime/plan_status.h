/*
 * plan_status: what an apply of a plan would do, from the plan, the build
 * machine's input files and the cache alone (nothing is extracted or run):
 * the cache key of every stage (the one computation both `kiln plan` and
 * `kiln apply` use), whether its layer is in the stage cache or why it is to
 * be built (the first input that differs from the most recent record of the
 * same image and stage: cache.h), and whether each output is up to date (the
 * file or directory at its path is what the last apply recorded for the same
 * keys) or to be written.
 *
 * An image is current when every stage is cached and every output up to
 * date: apply then does no work for it (no base, no replay, no output). It
 * is needed when apply must make its tree: it is not current, or an image
 * built from it needs the tree.
 */
#ifndef KILN_PLAN_STATUS_H
#define KILN_PLAN_STATUS_H

#include "rt.h"

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>

struct stage_status {
	const char *name;
	char *key;      /* NULL: the stage is not cached (why says why) */
	json_t *record; /* the key's inputs, stored beside its layer; NULL without key */
	bool cached;    /* its layer is in the cache and so are the stages before it */
	char *why;      /* when not cached: why it is built */
};

struct output_status {
	const char *type, *path; /* as the plan gives them */
	char *final;             /* the path, resolved against the root */
	char *key;               /* NULL: the image is not cached */
	bool current;            /* up to date */
	char *why;               /* when not current: why it is written */
};

struct image_status {
	const char *name;
	const char *from_image; /* the image it is built from, or NULL */
	char *key;              /* the key of its last stage (of its base without stages) */
	char *base_key;         /* from a base: the base's key (its layer is cached under it) */
	json_t *base_record;    /* the base key's inputs */
	bool base_cached;       /* from a base: the base's layer is in the cache */
	bool chain_cached;      /* every layer of its tree (its base's, its parents' stages,
	                           its stages) is in the cache: an image built from it can
	                           unpack them instead of making this image's tree */
	size_t nstages, noutputs;
	struct stage_status *stages;
	struct output_status *outputs;
	bool current; /* every stage cached, every output up to date */
	bool needed;  /* apply must make its tree */
};

struct plan_status {
	size_t nimages;
	struct image_status *images;
	unsigned to_build, cached, to_write, up_to_date;
	unsigned apply_tasks; /* tasks of apply blocks: run on every apply */
	char *key_note;       /* why the cache's secret key cannot be used, or NULL */
};

struct status_opts {
	const char *root;      /* plan paths are relative to it */
	const char *cache_dir; /* resolved (cache_dir_default) */
	json_t *secrets;       /* name -> value; NULL: none known (their stages are not keyed) */
	bool create_key;       /* apply: make the cache's secret key when a stage needs it */
	bool no_cache;         /* --no-cache: every stage is built, every output written */
	bool refresh_base;     /* --refresh-base: the same, and bases are made again */
};

/* Fills *ret (release it in every case). < 0 only on kiln's own errors. */
int plan_status_compute(json_t *plan, const struct status_opts *o, struct plan_status *ret,
                        struct rt_error *err);
void plan_status_release(struct plan_status *s);
/* The status of image name, or NULL. */
struct image_status *plan_status_image(struct plan_status *s, const char *name);

/* Print what apply would do: a line per stage and output, the summary line
   (`Plan: 1 stage to build, 4 cached; 2 outputs to write, 1 up to date`) and a legend. */
void plan_status_print(FILE *out, const struct plan_status *s, bool color);
/* Whether a stage (its tasks and the handlers they notify) reads a secret. */
bool plan_status_reads_secret(json_t *stage, json_t *handlers);
/* Whether apply has something to do. */
bool plan_status_pending(const struct plan_status *s);

/* After apply wrote an image's outputs: record each one's key and what is now at its
   path (CACHE/outputs/), so that the next plan and apply know it is up to date. */
int plan_status_outputs_written(const char *cache_dir, const struct image_status *is,
                                struct rt_error *err);

#endif
