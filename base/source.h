/*
 * source: the text of every file of a compilation, and the mapping from byte
 * offsets to line and column. Spans are byte offsets; lines and columns are
 * computed only when a diagnostic is printed.
 */
#ifndef KILN_SOURCE_H
#define KILN_SOURCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* [start, end) in bytes of file number `file` of the source map. */
struct src_span {
	uint32_t file, start, end;
};

struct source_file {
	char *name; /* as the user wrote it */
	char *text; /* len bytes, followed by two NUL bytes (for the lexer) */
	uint32_t len;
	bool loaded;     /* false: could not be read, text is empty */
	bool sensitive;  /* may hold secrets (a var-file): diagnostics show no text of it */
	bool utf8;       /* the whole text was checked to be UTF-8 (by the parser) */
	uint32_t *lines; /* offsets of line starts, computed on first use */
	uint32_t nlines;
};

struct source_map {
	struct source_file **files;
	uint32_t n, cap;
};

/* The largest file kiln reads: offsets are 32-bit. */
#define SOURCE_MAX_SIZE (1024u * 1024u * 1024u)

/*
 * Read path into the map. Returns the file id (>= 0) on success, or a negative
 * errno on failure; on failure the file is still registered (so diagnostics
 * can name it) and its id stored in *reterr_id.
 */
int source_load(struct source_map *sm, const char *path, uint32_t *reterr_id);
/* Add text held in memory (copied). Returns the file id. */
uint32_t source_add(struct source_map *sm, const char *name, const char *text, size_t len);
struct source_file *source_get(const struct source_map *sm, uint32_t id);
/* 1-based line and column (in code points) of byte offset off. */
void source_position(struct source_file *f, uint32_t off, uint32_t *ret_line, uint32_t *ret_col);
/* Start offset and length (without the newline) of 1-based line `line`. */
void source_line(struct source_file *f, uint32_t line, uint32_t *ret_start, uint32_t *ret_len);
void source_map_release(struct source_map *sm);

#endif
