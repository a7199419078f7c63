/*
 * adhoc: the task of `kiln run PATTERN -m MODULE -a ARGS` (Ansible's ad-hoc command,
 * `ansible PATTERN -m MODULE -a ARGS`). Its arguments, written as Ansible's key=value
 * words, become the text of a .img file holding one apply block on the group `all`, which
 * is compiled like any file: an unknown argument or a value of the wrong type gets the
 * same diagnostic as in a file. The pattern then narrows the plan's hosts.
 */
#ifndef KILN_ADHOC_H
#define KILN_ADHOC_H

#include <jansson.h>
#include <stdbool.h>

/* The name of the text in diagnostics (compile.c reads it from the source map). */
#define ADHOC_SOURCE_NAME "<kiln run>"

struct adhoc_opts {
	const char *module;      /* -m NAME */
	const char *args;        /* -a ARGS, or NULL */
	bool become;             /* -b: commands through sudo */
	const char *user;        /* -u USER: the user to log in as, or NULL */
	const char *known_hosts; /* --known-hosts FILE, or NULL (~/.ssh/known_hosts) */
};

/*
 * The .img text of the task (malloc'd), or NULL with *ret_err (malloc'd) when ARGS cannot
 * be read or the module does not exist. ARGS are words split as Ansible splits them
 * (blanks; '...' and "..." quote, as in key="a b"; a backslash escapes the next
 * character): key=value words are arguments, typed by the module's schema (a bool from
 * yes/no/true/false/on/off/1/0, an int, a list from a,b,c or [JSON], a map from {JSON});
 * the other words, for a module whose label is its command line (command, shell), are
 * the command itself ("free form"), their quotes kept.
 */
char *adhoc_source(const struct adhoc_opts *o, char **ret_err);

/*
 * Keep in the plan's groups only the hosts that pattern selects: Ansible's host
 * patterns as plan/host_pattern.h evaluates them for kiln apply --limit. 0, or -1 with
 * *ret_err when no host matches or the pattern is malformed.
 */
int adhoc_limit(json_t *plan, const char *pattern, char **ret_err);

/* The hosts of group name and of its children, each once, in the order of the plan's
   groups (a list of names, new). */
json_t *adhoc_hosts(json_t *plan, const char *group);

#endif
