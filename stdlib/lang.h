/*
 * lang: what the language itself takes beside the schemas' entries: the
 * attributes of config, host and apply blocks, images and params, the
 * attributes every task takes, the facts and the keywords, each with its
 * type and a one-line doc. The compiler checks against these tables and
 * `kiln doc` prints them, so the two cannot disagree.
 */
#ifndef KILN_LANG_H
#define KILN_LANG_H

struct kiln_attr {
	const char *name;
	const char *type; /* written as in builtins.h */
	const char *doc;  /* one line */
};

/* Each table ends with an entry whose name is NULL. */
extern const struct kiln_attr stdlib_config_attrs[];     /* config { } */
extern const struct kiln_attr stdlib_connection_attrs[]; /* hosts, a host, apply */
extern const struct kiln_attr stdlib_image_attrs[];
extern const struct kiln_attr stdlib_param_attrs[];
extern const struct kiln_attr stdlib_task_attrs[]; /* every task: notify, ignore_errors */
/* facts: name is the path below `facts` ("os.family"), at most two levels */
extern const struct kiln_attr stdlib_facts[];
/* the keywords of the language (grammar/lexer.l), type NULL */
extern const struct kiln_attr stdlib_keywords[];
/* the types a param, let or role parameter is written with; name is the form */
extern const struct kiln_attr stdlib_types[];

/* The type of `facts`, as the language writes it: object(os: object(...), ...).
   Built from stdlib_facts; static storage. */
const char *stdlib_facts_type(void);

#endif
