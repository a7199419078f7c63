/*
 * inventory: read an Ansible INI inventory into host groups.
 * Input: the file's text. Output: JSON {"GROUP": {"hosts": {"NAME": {vars}},
 * "children": [..], "vars": {..}}}; hosts before any section go to
 * "ungrouped". Errors name the line.
 */
#ifndef KILN_INVENTORY_H
#define KILN_INVENTORY_H

#include <jansson.h>
#include <stdint.h>

/* Returns the groups, or NULL with *ret_line and *ret_msg (malloc'd) set. */
json_t *inventory_parse_ini(const char *text, uint32_t len, uint32_t *ret_line, char **ret_msg);

#endif
