/*
 * check_output: what apply would refuse of an image's outputs, found by lint and compile
 * (see check_output.h). The schemas say what each entry is: an output's check_args, a
 * base without a kernel (no_kernel), what a module may write (writes), an output whose
 * path several outputs share (merges); nothing here compares an entry's name.
 */
#include "check_output.h"

#include "builtins.h"
#include "path.h"
#include "plan_format.h"

#include <stdlib.h>
#include <string.h>

static const struct ast_node *attr_of(const struct ast_node *body, const char *name)
{
	for (const struct ast_node *n = body; n; n = n->next)
		if (n->kind == N_ATTR && !strcmp(n->name.s, name))
			return n;
	return NULL;
}

void check_output_args(struct diag_sink *d, const struct kiln_schema *s, const struct ast_node *out,
                       json_t *args)
{
	if (!s || !s->check_args || !args)
		return;
	const char *arg = NULL;
	char *why = s->check_args(args, &arg);
	if (!why)
		return;
	const struct ast_node *a = arg ? attr_of(out->body, arg) : NULL;
	struct diag *dg = diag_error(d, E_BAD_VALUE, a ? a->value->span : out->name_span,
	                             "output %s: %s", s->name, why);
	diag_help(dg, "apply would refuse it: 'kiln doc %s' says what the output takes", s->name);
	free(why);
}

void check_output_config(struct diag_sink *d, const struct ast_node *config, json_t *values)
{
	const struct ast_node *a = attr_of(config->body, "expose");
	json_t *ports = json_object_get(values, "expose");
	if (!a || !json_is_array(ports))
		return;
	const struct ast_expr *item = a->value->kind == EX_LIST ? a->value->list.items : NULL;
	size_t i;
	json_t *v;
	json_array_foreach (ports, i, v) {
		const struct ast_expr *at = item ? item : a->value;
		if ((json_is_integer(v) &&
		     (json_integer_value(v) < 1 || json_integer_value(v) > 65535)) ||
		    (json_is_string(v) && !*json_string_value(v)))
			diag_help(diag_error(d, E_BAD_VALUE, at->span,
			                     "config expose: a port is 1 to 65535, or a "
			                     "\"PORT/PROTO\" string"),
			          "e.g. expose = [80, \"53/udp\"]: apply would refuse it");
		if (item)
			item = item->next;
	}
}

/* ---- a kernel ---------------------------------------------------------------------- */

bool check_task_may_boot(const struct kiln_schema *s, const char *path)
{
	if (!s || !s->writes)
		return true;
	if (!strcmp(s->writes, "-"))
		return false;
	return !path || path[0] != '/' || !strcmp(path, "/boot") || !strncmp(path, "/boot/", 6);
}

static bool may_boot(json_t *from, bool parent_may, bool tasks_may)
{
	if (json_object_get(from, PLAN_K_IMAGE)) {
		if (parent_may)
			return true;
	} else {
		const char *base = json_string_value(json_object_get(from, PLAN_K_BASE));
		const struct kiln_schema *s = base ? stdlib_lookup(SCHEMA_BASE, base) : NULL;
		if (!s || !s->no_kernel)
			return true;
	}
	return tasks_may;
}

bool check_output_boot(struct diag_sink *d, const struct ast_node *image, json_t *from,
                       bool parent_may, bool tasks_may, json_t *outputs)
{
	if (may_boot(from, parent_may, tasks_may))
		return true;
	size_t i = 0;
	for (const struct ast_node *n = image->body; n; n = n->next) {
		if (n->kind != N_OUTPUT)
			continue;
		json_t *o = json_array_get(outputs, i++);
		const struct kiln_schema *s = n->schema;
		/* bootable is a word or a bool: a bool reads as the word of the same name */
		json_t *bv = json_object_get(json_object_get(o, PLAN_K_ARGS), "bootable");
		const char *boot = json_is_boolean(bv) ? (json_is_true(bv) ? "true" : "false")
		                                       : json_string_value(bv);
		const struct ast_node *a = attr_of(n->body, "bootable");
		if (s && s->machine && boot && !strcmp(boot, "auto")) {
			/* apply writes it (bootable = "auto"), and it does not start */
			struct diag *dg =
			    diag_warning(d, W_CANNOT_BOOT, a ? a->value->span : n->name_span,
			                 "output %s: image '%s' can have no kernel "
			                 "(/boot/vmlinuz-*): the machine will not boot",
			                 s->name, image->name.s);
			diag_help(dg,
			          "build it on debian(...) and install a kernel in a stage (an apt "
			          "task: linux-image-cloud-amd64 and initramfs-tools), or set "
			          "bootable = \"false\" for a box that is not to boot");
		}
		if (!s || !stdlib_arg(s, "bootable") || !boot || strcmp(boot, "true") || !a)
			continue;
		struct diag *dg = diag_error(
		    d, E_NO_KERNEL, a->value->span,
		    "output %s: bootable = \"true\", and image '%s' can have no kernel "
		    "(/boot/vmlinuz-*): its base has none and no task of its stages (or of the "
		    "images it is built from) can install one",
		    s->name, image->name.s);
		struct symbol *parent = image->value ? image->value->sym : NULL;
		if (parent && parent->kind == SYM_IMAGE)
			diag_label(dg, image->value->span, "built from image '%s', which has none",
			           parent->name);
		else if (image->value)
			diag_label(dg, image->value->span, "a base without a kernel");
		diag_help(dg,
		          "build it on debian(...) and install a kernel in a stage (an apt task: "
		          "linux-image-cloud-amd64 and initramfs-tools), or set bootable = "
		          "\"false\": apply would refuse it");
	}
	return false;
}

/* ---- paths ------------------------------------------------------------------------- */

struct written {
	char *path;
	const struct kiln_schema *s;
	const struct ast_node *out;
	const char *image;
	bool reported;
};

static const struct ast_file *file_of(struct program *p, uint32_t id)
{
	for (uint32_t i = 0; i < p->nfiles; i++)
		if (p->files[i]->file == id)
			return p->files[i];
	return NULL;
}

/* The tags of an output written as strings (at most max), in *ret. */
static void tags_of(const struct ast_node *out, struct ast_expr **ret, size_t *n, size_t max)
{
	const struct ast_node *a = attr_of(out->body, "tag");
	const struct ast_expr *v = a ? a->value : NULL;
	if (v && v->kind == EX_STRING && *n < max)
		ret[(*n)++] = (struct ast_expr *)v;
	for (struct ast_expr *e = v && v->kind == EX_LIST ? v->list.items : NULL; e; e = e->next)
		if (e->kind == EX_STRING && *n < max)
			ret[(*n)++] = e;
}

static void clash(struct program *p, const struct written *a, struct written *b, const char *what,
                  const char *help)
{
	if (b->reported)
		return; /* one report for each output */
	b->reported = true;
	struct diag *d = diag_error(&p->cx->diags, E_OUTPUT_CLASH, b->out->label->span,
	                            "output %s of image '%s' %s output %s of image '%s'",
	                            b->s->name, b->image, what, a->s->name, a->image);
	diag_label(d, a->out->label->span, "output %s of image '%s'", a->s->name, a->image);
	diag_help(d, "%s", help);
}

/* Does b write inside a's directory (a layout)? */
static bool inside(const struct written *a, const struct written *b)
{
	size_t n = strlen(a->path);
	return a->s->merges && !strncmp(b->path, a->path, n) && b->path[n] == '/';
}

/* Two images' outputs to one layout: each tag once, or the second's entry replaces the
   first's. */
static void same_tags(struct program *p, const struct written *a, const struct written *b)
{
	if (!strcmp(a->image, b->image))
		return; /* the same entries twice */
	struct ast_expr *ta[64], *tb[64];
	size_t na = 0, nb = 0;
	tags_of(a->out, ta, &na, 64);
	tags_of(b->out, tb, &nb, 64);
	for (size_t x = 0; x < nb; x++)
		for (size_t y = 0; y < na; y++) {
			if (strcmp(tb[x]->str.s, ta[y]->str.s))
				continue;
			struct diag *d =
			    diag_error(&p->cx->diags, E_OUTPUT_CLASH, tb[x]->span,
			               "tag '%s' is written to layout '%s' by image '%s' and by "
			               "image '%s': the second entry would replace the first",
			               tb[x]->str.s, b->out->label->str.s, a->image, b->image);
			diag_label(d, ta[y]->span, "image '%s' writes it here", a->image);
			diag_help(d, "give each image its own tag");
		}
}

void check_output_paths(struct program *p)
{
	size_t n = 0, cap = 16;
	struct written *w = malloc(cap * sizeof(*w));
	if (!w)
		abort();
	for (uint32_t f = 0; f < p->nfiles; f++)
		for (struct ast_node *img = p->files[f]->items; img; img = img->next) {
			struct symbol *sym = img->kind == N_IMAGE ? img->sym : NULL;
			if (!sym || sym->decl != img)
				continue;
			for (struct ast_node *o = img->body; o; o = o->next) {
				const struct kiln_schema *s =
				    o->kind == N_OUTPUT ? o->schema : NULL;
				const struct kiln_arg *la =
				    s && s->label ? stdlib_arg(s, s->label) : NULL;
				if (!la || strcmp(la->type, "path") || !o->label ||
				    o->label->kind != EX_STRING)
					continue;
				const struct ast_file *af = file_of(p, o->label->span.file);
				if (n == cap && !(w = realloc(w, (cap *= 2) * sizeof(*w))))
					abort();
				w[n++] =
				    (struct written){path_join(af ? af->dir : ".", o->label->str.s),
				                     s, o, img->name.s, false};
			}
		}
	for (size_t j = 1; j < n; j++)
		for (size_t i = 0; i < j; i++) {
			struct written *a = &w[i], *b = &w[j];
			if (!strcmp(a->path, b->path) && a->s == b->s && a->s->merges) {
				same_tags(p, a, b);
				continue;
			}
			if (!strcmp(a->path, b->path))
				clash(
				    p, a, b, "writes the same path as",
				    "give each output a path of its own: the second would replace "
				    "the first's file");
			else if (inside(a, b))
				clash(
				    p, a, b, "writes inside the OCI layout of",
				    "an OCI layout is a directory of its own: write other outputs "
				    "beside it");
			else if (inside(b, a))
				clash(
				    p, b, a, "writes inside the OCI layout of",
				    "an OCI layout is a directory of its own: write other outputs "
				    "beside it");
		}
	for (size_t i = 0; i < n; i++)
		free(w[i].path);
	free(w);
}
