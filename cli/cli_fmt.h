/*
 * cli_fmt: kiln fmt, and reading standard input for the commands that take
 * '-' (lint, fmt).
 */
#ifndef KILN_CLI_FMT_H
#define KILN_CLI_FMT_H

#include <stddef.h>

/* All of standard input (malloc'd, *ret_len bytes, NUL after them), or NULL with
   errno set (EFBIG: larger than the largest source kiln reads). */
char *cli_read_stdin(size_t *ret_len);

#endif
