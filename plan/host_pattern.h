/*
 * host_pattern: which of a plan's hosts an Ansible host pattern selects
 * (`kiln apply --limit`, `--list-hosts`), as Ansible's InventoryManager
 * evaluates one:
 *
 *   all, *          every host
 *   NAME            the hosts of group NAME and of its descendants, or the host NAME
 *   web*, db[12]    a glob (fnmatch, case-sensitive) over group names and host names
 *   ~REGEX          an extended regular expression matched at the start of group and
 *                   host names
 *   a:b, a,b        union (',' when the pattern has one, else ':'; brackets keep
 *                   their colons)
 *   a:&b            intersection
 *   a:!b            exclusion
 *
 * Terms are applied as Ansible applies them: the plain ones first (in order,
 * each adding the hosts not yet selected), then each '&', then each '!'; a
 * pattern of only '&'/'!' terms starts from all. A group's hosts come
 * breadth first: its own, then its children's, level by level.
 */
#ifndef KILN_HOST_PATTERN_H
#define KILN_HOST_PATTERN_H

#include "rt.h"

#include <jansson.h>

/* The hosts of the plan's groups (the plan's "groups" object) that pattern selects,
   each once: a new list of host names. NULL with err when the pattern is malformed
   (an empty term, a bad regular expression) or selects no host. */
json_t *host_pattern_select(json_t *groups, const char *pattern, struct rt_error *err);

/* The hosts of group and of its descendants, breadth first, each once (new list;
   empty when there is no such group). */
json_t *host_pattern_group_hosts(json_t *groups, const char *group);

#endif
