/* check: the smallest test harness; CHECK records a failure and goes on. */
#ifndef KILN_CHECK_H
#define KILN_CHECK_H

#include <stdio.h>

static int check_failures, check_count;

#define CHECK(cond)                                                                                \
	do {                                                                                       \
		check_count++;                                                                     \
		if (!(cond)) {                                                                     \
			check_failures++;                                                          \
			fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);   \
		}                                                                                  \
	} while (0)

#define CHECK_DONE()                                                                               \
	(printf("%d checks, %d failed\n", check_count, check_failures), check_failures ? 1 : 0)

#endif
