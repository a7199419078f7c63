/* lower: checked AST -> the plan (the IR, as JSON); see lower.c and docs/plan-format.md. */
#ifndef KILN_LOWER_H
#define KILN_LOWER_H

#include "plan_format.h"
#include "program.h"

struct lower_opts {
	const char *const *only; /* -only=NAME: these images and what they are built from */
	size_t nonly;
	const char *const *except; /* -except=NAME */
	size_t nexcept;
};

/* Report images built from each other (E2007); used by lint, which does not lower. */
void lower_check_images(struct program *p);
/* The plan of the whole program (new reference); errors go to the sink. */
json_t *lower_program(struct program *p, const struct lower_opts *opts);
/* The same plan written to w as it is lowered, one image at a time (see plan_json.h). */
struct plan_json;
void lower_program_write(struct program *p, const struct lower_opts *opts, struct plan_json *w);

#endif
