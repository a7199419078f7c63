/*
 * format: the canonical layout of a kiln source file (kiln fmt; the rules are
 * in docs/language.md, "Layout"). Only the white space between tokens
 * changes: the tokens, their order and every comment stay, so the formatted
 * file means what the original meant, and formatting it again changes
 * nothing.
 */
#ifndef KILN_FORMAT_H
#define KILN_FORMAT_H

#include "arena.h"
#include "diag.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * The canonical text of file `file` of the sink's source map (a var-file of
 * NAME = VALUE lines when var_file): malloc'd, *ret_len bytes followed by a
 * NUL. NULL when the file has syntax errors (they are in the sink, with
 * file:line:col); warnings do not stop it.
 */
char *format_source(struct arena *a, struct diag_sink *diags, uint32_t file, bool var_file,
                    size_t *ret_len);

#endif
