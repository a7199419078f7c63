/*
 * scratch(): an empty root filesystem. base.c hands over an empty
 * directory, which is all there is to do.
 */
#include "base_int.h"

static int base_scratch(struct base_run *b)
{
	(void)b;
	return 0;
}

const struct base_impl base_scratch_impl = {"scratch", base_scratch};
