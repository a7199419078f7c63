/*
 * entries: the declaration of every schema listed in stdlib.def, so each
 * mod_*.c, base_*.c, out_*.c and fn_*.c defines a variable declared
 * beforehand, and registry.c can take their addresses. Internal to stdlib/.
 */
#ifndef KILN_STDLIB_ENTRIES_H
#define KILN_STDLIB_ENTRIES_H

#include "builtins.h"

#define ENTRY(var) extern const struct kiln_schema var;
#include "stdlib.def"
#undef ENTRY

#endif
