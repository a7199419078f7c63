/*
 * diag: diagnostics as records. Library code never prints: it queues a
 * diagnostic in a sink, and the command prints the sink at the end as text,
 * short lines or JSON lines.
 *
 *   struct diag *d = diag_error(sink, E_UNKNOWN_HANDLER, span, "unknown handler '%s'", n);
 *   diag_label(d, task_span, "notified by this task");
 *   diag_suggest(d, names, nnames, n);        (adds "did you mean 'x'?")
 */
#ifndef KILN_DIAG_H
#define KILN_DIAG_H

#include "hashmap.h"
#include "source.h"

#include <stdbool.h>
#include <stdio.h>

enum diag_code {
#define DIAG(code, name, text) name,
#include "diag_codes.def"
#undef DIAG
	DIAG__COUNT
};

enum diag_severity { DIAG_ERROR, DIAG_WARNING };

#define DIAG_MAX_LABELS 4

struct diag_label {
	struct src_span span;
	char *text;
};

struct diag {
	enum diag_code code;
	enum diag_severity severity;
	struct src_span span;
	bool has_span; /* false: about a whole file (span.file is still set) */
	char *message;
	struct diag_label labels[DIAG_MAX_LABELS];
	int nlabels;
	char *help;
	bool sensitive; /* about a file that may hold secrets: no snippet, label or help */
};

struct diag_sink {
	struct source_map *sm;
	struct diag **items;
	size_t n, cap;
	unsigned nerrors, nwarnings;
	unsigned max_errors; /* 0: no limit */
	bool truncated;      /* errors were dropped after max_errors */
	struct hashmap seen; /* every diagnostic's identity, to drop repeats */
};

void diag_sink_init(struct diag_sink *s, struct source_map *sm, unsigned max_errors);
void diag_sink_release(struct diag_sink *s);

/*
 * Queue a diagnostic. Past max_errors, errors are counted as dropped and a
 * scratch record is returned, so callers never check for NULL.
 */
struct diag *diag_error(struct diag_sink *s, enum diag_code code, struct src_span span,
                        const char *fmt, ...) __attribute__((format(printf, 4, 5)));
struct diag *diag_warning(struct diag_sink *s, enum diag_code code, struct src_span span,
                          const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* A diagnostic about file `file` as a whole (no line). */
struct diag *diag_file_error(struct diag_sink *s, enum diag_code code, uint32_t file,
                             const char *fmt, ...) __attribute__((format(printf, 4, 5)));
struct diag *diag_file_warning(struct diag_sink *s, enum diag_code code, uint32_t file,
                               const char *fmt, ...) __attribute__((format(printf, 4, 5)));
void diag_label(struct diag *d, struct src_span span, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void diag_help(struct diag *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Add "did you mean 'x'?" when one of the candidates is close to name. */
void diag_suggest(struct diag *d, const char *const *candidates, size_t n, const char *name);
/* The closest candidate to name by edit distance, or NULL if none is close. */
const char *diag_closest(const char *const *candidates, size_t n, const char *name);

bool diag_too_many(const struct diag_sink *s);
static inline bool diag_has_errors(const struct diag_sink *s)
{
	return s->nerrors > 0;
}

const char *diag_code_str(enum diag_code code);
const char *diag_code_meaning(enum diag_code code);

enum diag_format { DIAG_TEXT, DIAG_SHORT, DIAG_JSON };

/* The queued diagnostics in the order diag_print prints them: by file, a whole file's first,
   then by position; equal positions keep the order they were made. An array of s->n
   (at least one slot) for the caller to free. */
struct diag **diag_sorted(const struct diag_sink *s);

/* Print every queued diagnostic in order; text adds a summary line. */
void diag_print(const struct diag_sink *s, FILE *out, enum diag_format fmt, bool color);

#endif
