/*
 * fmt: the kiln fmt command (the layout itself is grammar/format.c), and
 * standard input for '-'.
 */
#include "cli_fmt.h"

#include "arena.h"
#include "source.h"

#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

char *cli_read_stdin(size_t *ret_len)
{
	size_t len = 0, cap = 8192;
	char *text = xmalloc(cap + 1);
	for (;;) {
		if (len == cap) {
			if (cap >= SOURCE_MAX_SIZE) {
				free(text);
				errno = EFBIG;
				return NULL;
			}
			cap *= 2;
			text = xrealloc(text, cap + 1);
		}
		ssize_t r = read(STDIN_FILENO, text + len, cap - len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			int e = errno;
			free(text);
			errno = e;
			return NULL;
		}
		if (r == 0)
			break;
		len += (size_t)r;
	}
	text[len] = '\0';
	*ret_len = len;
	return text;
}
