/*
 * inventory: Ansible INI inventories, read as Ansible's ini plugin reads them.
 *
 * Hosts before any section are in 'ungrouped'; [g] lists hosts (host ranges
 * www[01:50].x, db-[a:f], steps [1:9:2], host:port, key=value with shell quoting
 * and '#' comments), [g:children] child groups, [g:vars] group values. Values
 * are typed as Python literals (ints, floats, True/False/None, strings, lists,
 * dicts), as Ansible types them; what is not a literal stays a string. After
 * reading, every group without a parent is a child of 'all' and every host in
 * no group is in 'ungrouped'. A host's values are its groups' merged by
 * Ansible's precedence ('all' first, then by depth, ansible_group_priority and
 * name), then its own.
 */
#ifndef KILN_INVENTORY_H
#define KILN_INVENTORY_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

struct inventory;

struct inventory *inventory_new(void);
void inventory_free(struct inventory *inv);

/* Where the groups read next come from (the plan's "source" of a group). */
/* Group names must be names of the language, as a build's plan needs them (compile sets
   this; kiln inventory reads as Ansible does, where any name goes). */
void inventory_require_names(struct inventory *inv);
void inventory_set_source(struct inventory *inv, const char *source);
/* Add one INI file's text to inv. Returns 0, or -1 with *ret_line, *ret_col (1-based)
   and *ret_msg (malloc'd: what is wrong and what to write instead). */
int inventory_read_ini(struct inventory *inv, const char *text, uint32_t len, uint32_t *ret_line,
                       uint32_t *ret_col, char **ret_msg);

/* What `ansible-inventory --list` prints: groups with "hosts" and "children",
   "all", "ungrouped" and "_meta": {"hostvars": {HOST: {NAME: VALUE}}}. */
json_t *inventory_list(struct inventory *inv);
/* What `ansible-inventory --graph` prints, from group `top` ("all"), with each
   host's and group's values when `vars` (--vars); NULL if there is no such group.
   malloc'd, ends in a newline. */
char *inventory_graph(struct inventory *inv, const char *top, bool vars);
bool inventory_has_host(struct inventory *inv, const char *host);
/* A host's values, merged by precedence (a new reference). */
json_t *inventory_hostvars(struct inventory *inv, const char *host);
/* The plan's "groups" (docs/plan-format.md): every group with "hosts" (each host's
   connection: address, port, user, identity_file, and "vars": its merged values),
   "children", "vars" (the group's own) and "source" (where it was first named). */
json_t *inventory_plan_groups(struct inventory *inv);

/* v as ansible-inventory writes JSON: keys sorted, 4-space indents, each float in
   its shortest exact form (0.1, not 0.10000000000000001). malloc'd, ends in '\n'. */
char *inventory_json_text(json_t *v);

#endif
