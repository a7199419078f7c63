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

extern const char cli_fmt_usage[];

/* kiln fmt ARGS (argv[0] is "fmt"): the exit status. An option it does not know
   is left to the caller: 2 with *ret_unknown set, nothing printed. */
int cli_fmt_main(int argc, char **argv, const char **ret_unknown);

#endif
