/*
 * plan: write, read and show plans. Input: the plan (JSON). Output:
 * plan.json (sorted keys, two-space indent, written to a temporary name and
 * renamed), the readable plan `kiln plan` prints, the Graphviz DOT of
 * `kiln graph`, and the IR dump of --dump=ir.
 */
#include "plan.h"

#include "arena.h"
#include "lower.h"
#include "strbuf.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* sorted keys, two-space indent, ASCII: the same plan gives the same bytes */
enum { PLAN_JSON_FLAGS = JSON_INDENT(2) | JSON_SORT_KEYS | JSON_ENSURE_ASCII };

char *plan_dumps(json_t *plan)
{
	char *s = json_dumps(plan, PLAN_JSON_FLAGS);
	if (!s)
		return xstrdup("{}\n");
	char *out = xasprintf("%s\n", s);
	free(s);
	return out;
}

int plan_write(json_t *plan, const char *path, char **reterr)
{
	if (!strcmp(path, "-")) {
		json_dumpf(plan, stdout, PLAN_JSON_FLAGS);
		fputc('\n', stdout);
		return 0;
	}
	/* streamed to a temporary file (no copy of the text in memory), then renamed */
	char *tmp = xasprintf("%s.tmp.%ld", path, (long)getpid());
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	int err = fd < 0 ? errno : 0;
	FILE *f = fd < 0 ? NULL : fdopen(fd, "w");
	if (!err && !f)
		err = errno;
	if (f) {
		if (json_dumpf(plan, f, PLAN_JSON_FLAGS) < 0 || fputc('\n', f) == EOF || fflush(f))
			err = errno ? errno : EIO;
		if (!err && fsync(fileno(f)) < 0)
			err = errno;
		if (fclose(f) != 0 && !err)
			err = errno;
	} else if (fd >= 0) {
		close(fd);
	}
	if (!err && rename(tmp, path) < 0)
		err = errno;
	if (err) {
		unlink(tmp);
		*reterr = xasprintf("cannot write %s: %s", path, strerror(err));
	}
	free(tmp);
	return err ? -1 : 0;
}

json_t *plan_read(const char *path, char **reterr)
{
	json_error_t e;
	json_t *plan = json_load_file(path, 0, &e);
	if (!plan) {
		*reterr = e.line > 0 ? xasprintf("%s:%d:%d: not a plan: %s", path, e.line, e.column,
		                                 e.text)
		                     : xasprintf("%s: %s", path, e.text);
		return NULL;
	}
	json_t *v = json_object_get(plan, "format_version");
	if (!json_is_integer(v) || !json_is_array(json_object_get(plan, "images"))) {
		*reterr = xasprintf("%s: not a kiln plan (no format_version or images)", path);
		json_decref(plan);
		return NULL;
	}
	if (json_integer_value(v) != PLAN_FORMAT_VERSION) {
		*reterr = xasprintf("%s: plan format %" JSON_INTEGER_FORMAT
		                    " is not the one this kiln reads (%d); compile it again",
		                    path, json_integer_value(v), PLAN_FORMAT_VERSION);
		json_decref(plan);
		return NULL;
	}
	return plan;
}

/* ---- counting --------------------------------------------------------------- */

static size_t count_tasks(json_t *blocks)
{
	size_t n = 0, i;
	json_t *b;
	json_array_foreach (blocks, i, b) {
		n += json_array_size(json_object_get(b, "tasks"));
	}
	return n;
}

struct plan_counts plan_count(json_t *plan)
{
	struct plan_counts c = {0};
	size_t i;
	json_t *img;
	json_t *images = json_object_get(plan, "images");
	c.images = json_array_size(images);
	json_array_foreach (images, i, img) {
		json_t *stages = json_object_get(img, "stages");
		c.stages += json_array_size(stages);
		c.tasks += count_tasks(stages);
		c.handlers += json_array_size(json_object_get(img, "handlers"));
		c.outputs += json_array_size(json_object_get(img, "outputs"));
		c.tests += json_array_size(json_object_get(img, "tests"));
	}
	json_t *applies = json_object_get(plan, "applies");
	c.applies = json_array_size(applies);
	c.apply_tasks = count_tasks(applies);
	c.groups = json_object_size(json_object_get(plan, "groups"));
	return c;
}

/* ---- the readable plan --------------------------------------------------------- */

/* A value as a person reads it in a plan: deferred ones say so, secrets never show. */
static void show_value(struct strbuf *sb, json_t *v)
{
	if (json_is_object(v) && json_object_get(v, "$expr")) {
		char *s = json_dumps(json_object_get(v, "$expr"), JSON_COMPACT | JSON_SORT_KEYS);
		bool secret = s && strstr(s, "\"secret\"");
		free(s);
		sb_adds(sb, secret ? "(secret)" : "(known at build time)");
		return;
	}
	if (json_is_string(v)) {
		const char *s = json_string_value(v);
		size_t n = strlen(s);
		const char *nl = strchr(s, '\n');
		if (nl && (size_t)(nl - s) + 1 < n) {
			size_t lines = 0;
			for (const char *c = s; *c; c++)
				lines += *c == '\n';
			sb_addf(sb, "<%zu lines>", lines + (s[n - 1] != '\n'));
			return;
		}
		if (n > 60)
			sb_addf(sb, "\"%.57s...\"", s);
		else
			sb_addf(sb, "\"%.*s\"", (int)(nl ? (size_t)(nl - s) : n), s);
		return;
	}
	char *s = json_dumps(v, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY);
	if (s && strlen(s) > 60)
		sb_addf(sb, "%.57s...", s);
	else
		sb_adds(sb, s ? s : "?");
	free(s);
}

struct style {
	const char *add, *dim, *bold, *reset;
};

static void print_task(FILE *out, json_t *t, const char *indent, const struct style *st)
{
	struct strbuf sb = STRBUF_INIT;
	json_t *args = json_object_get(t, "args");
	json_t *label = json_object_get(t, "label");
	sb_addf(&sb, "%s%s+%s %s%s%s", indent, st->add, st->reset, st->bold,
	        json_string_value(json_object_get(t, "module")), st->reset);
	if (label) {
		sb_addc(&sb, ' ');
		show_value(&sb, label);
	}
	const char *k;
	json_t *v;
	int shown = 0;
	json_object_foreach (args, k, v) {
		if (shown++ == 4) {
			sb_adds(&sb, " ...");
			break;
		}
		sb_addf(&sb, " %s=", k);
		show_value(&sb, v);
	}
	json_t *when = json_object_get(t, "when");
	if (when)
		sb_addf(&sb, " %s(when: at build time)%s", st->dim, st->reset);
	json_t *notify = json_object_get(t, "notify");
	if (json_array_size(notify)) {
		sb_addf(&sb, " %snotify:", st->dim);
		size_t i;
		json_t *h;
		json_array_foreach (notify, i, h) {
			sb_addf(&sb, "%s%s", i ? "," : " ", json_string_value(h));
		}
		sb_adds(&sb, st->reset);
	}
	json_t *role = json_object_get(t, "role");
	if (role)
		sb_addf(&sb, " %s(role %s)%s", st->dim, json_string_value(role), st->reset);
	fprintf(out, "%s\n", sb.buf);
	sb_release(&sb);
}

static void print_tasks(FILE *out, json_t *tasks, const char *indent, const struct style *st)
{
	size_t i;
	json_t *t;
	json_array_foreach (tasks, i, t) {
		print_task(out, t, indent, st);
	}
}

static void print_from(struct strbuf *sb, json_t *from)
{
	json_t *img = json_object_get(from, "image");
	if (img) {
		sb_addf(sb, "image %s", json_string_value(img));
		return;
	}
	sb_addf(sb, "%s(", json_string_value(json_object_get(from, "base")));
	const char *k;
	json_t *v;
	int i = 0;
	json_object_foreach (json_object_get(from, "args"), k, v) {
		sb_addf(sb, "%s%s=", i++ ? ", " : "", k);
		show_value(sb, v);
	}
	sb_addc(sb, ')');
}

static const char *plural(size_t n)
{
	return n == 1 ? "" : "s";
}

void plan_print(FILE *out, json_t *plan, bool color)
{
	static const struct style plain = {"", "", "", ""};
	static const struct style colored = {"\033[32m", "\033[2m", "\033[1m", "\033[0m"};
	const struct style *st = color ? &colored : &plain;
	struct plan_counts c = plan_count(plan);
	size_t i;
	json_t *img;
	json_array_foreach (json_object_get(plan, "images"), i, img) {
		struct strbuf sb = STRBUF_INIT;
		print_from(&sb, json_object_get(img, "from"));
		fprintf(out, "%s+%s image %s%s%s from %s  %s%s%s\n", st->add, st->reset, st->bold,
		        json_string_value(json_object_get(img, "name")), st->reset, sb.buf, st->dim,
		        json_string_value(json_object_get(img, "source")), st->reset);
		sb_release(&sb);
		size_t j;
		json_t *s;
		json_array_foreach (json_object_get(img, "stages"), j, s) {
			size_t n = json_array_size(json_object_get(s, "tasks"));
			fprintf(out, "    stage %s (%zu task%s)\n",
			        json_string_value(json_object_get(s, "name")), n, plural(n));
			print_tasks(out, json_object_get(s, "tasks"), "      ", st);
		}
		json_array_foreach (json_object_get(img, "handlers"), j, s) {
			size_t n = json_array_size(json_object_get(s, "tasks"));
			fprintf(out, "    handler %s (%zu task%s, runs if notified)\n",
			        json_string_value(json_object_get(s, "name")), n, plural(n));
			print_tasks(out, json_object_get(s, "tasks"), "      ", st);
		}
		json_t *config = json_object_get(img, "config");
		if (config) {
			struct strbuf cs = STRBUF_INIT;
			const char *k;
			json_t *v;
			json_object_foreach (config, k, v) {
				sb_addf(&cs, " %s=", k);
				show_value(&cs, v);
			}
			fprintf(out, "    config%s\n", cs.buf ? cs.buf : "");
			sb_release(&cs);
		}
		json_array_foreach (json_object_get(img, "tests"), j, s) {
			fprintf(out, "    test %s (%zu task%s)\n",
			        json_string_value(json_object_get(s, "name")),
			        json_array_size(json_object_get(s, "tasks")),
			        plural(json_array_size(json_object_get(s, "tasks"))));
		}
		json_array_foreach (json_object_get(img, "outputs"), j, s) {
			struct strbuf os = STRBUF_INIT;
			const char *k;
			json_t *v;
			json_object_foreach (json_object_get(s, "args"), k, v) {
				sb_addf(&os, " %s=", k);
				show_value(&os, v);
			}
			fprintf(out, "    %s+%s output %s %s%s\n", st->add, st->reset,
			        json_string_value(json_object_get(s, "type")),
			        json_string_value(json_object_get(s, "path")),
			        os.buf ? os.buf : "");
			sb_release(&os);
		}
	}
	const char *k;
	json_t *g;
	json_object_foreach (json_object_get(plan, "groups"), k, g) {
		size_t n = json_object_size(json_object_get(g, "hosts"));
		size_t nc = json_array_size(json_object_get(g, "children"));
		fprintf(out, "  hosts %s: %zu host%s", k, n, plural(n));
		if (nc)
			fprintf(out, ", %zu child group%s", nc, plural(nc));
		fputc('\n', out);
	}
	json_t *ap;
	json_array_foreach (json_object_get(plan, "applies"), i, ap) {
		size_t n = json_array_size(json_object_get(ap, "tasks"));
		fprintf(out, "%s~%s apply to %s (%zu task%s)  %s%s%s\n", st->add, st->reset,
		        json_string_value(json_object_get(ap, "target")), n, plural(n), st->dim,
		        json_string_value(json_object_get(ap, "source")), st->reset);
		print_tasks(out, json_object_get(ap, "tasks"), "      ", st);
	}
	fprintf(out,
	        "\nPlan: %zu image%s to bake (%zu stage%s, %zu task%s, %zu handler%s), "
	        "%zu output%s to write",
	        c.images, plural(c.images), c.stages, plural(c.stages), c.tasks, plural(c.tasks),
	        c.handlers, plural(c.handlers), c.outputs, plural(c.outputs));
	if (c.applies)
		fprintf(out, "; %zu apply block%s (%zu task%s) for %zu host group%s", c.applies,
		        plural(c.applies), c.apply_tasks, plural(c.apply_tasks), c.groups,
		        plural(c.groups));
	fputs(".\n", out);
}

/* ---- graph --------------------------------------------------------------------- */

static void dot_id(struct strbuf *sb, const char *s)
{
	sb_addc(sb, '"');
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			sb_addc(sb, '\\');
		sb_addc(sb, *s);
	}
	sb_addc(sb, '"');
}

/* INDENT"from" -> "to"ATTRS;\n */
static void dot_edge(struct strbuf *sb, const char *indent, const char *from, const char *to,
                     const char *attrs)
{
	sb_adds(sb, indent);
	dot_id(sb, from);
	sb_adds(sb, " -> ");
	dot_id(sb, to);
	sb_adds(sb, attrs);
	sb_adds(sb, ";\n");
}

void plan_graph(FILE *out, json_t *plan)
{
	struct strbuf sb = STRBUF_INIT;
	sb_adds(&sb,
	        "digraph kiln {\n\trankdir=LR;\n\tnode [shape=box, fontname=\"sans-serif\"];\n");
	size_t i;
	json_t *img;
	json_array_foreach (json_object_get(plan, "images"), i, img) {
		const char *name = json_string_value(json_object_get(img, "name"));
		json_t *from = json_object_get(img, "from");
		json_t *parent = json_object_get(from, "image");
		char *node = xasprintf("image %s", name);
		if (!parent) {
			char *base =
			    xasprintf("base %s", json_string_value(json_object_get(from, "base")));
			sb_adds(&sb, "\t");
			dot_id(&sb, base);
			sb_adds(&sb, " [shape=ellipse];\n");
			dot_edge(&sb, "\t", base, node, "");
			free(base);
		} else {
			char *pn = xasprintf("image %s", json_string_value(parent));
			dot_edge(&sb, "\t", pn, node, "");
			free(pn);
		}
		/* the image's stages in a cluster, in order */
		sb_addf(&sb, "\tsubgraph \"cluster_%s\" {\n\t\tlabel=", name);
		dot_id(&sb, name);
		sb_adds(&sb, ";\n\t\t");
		dot_id(&sb, node);
		sb_adds(&sb, " [style=bold];\n");
		const char *prev = NULL;
		char *prev_id = NULL;
		size_t j;
		json_t *st;
		json_array_foreach (json_object_get(img, "stages"), j, st) {
			char *sid = xasprintf("%s/%s", name,
			                      json_string_value(json_object_get(st, "name")));
			char *slabel = xasprintf(
			    "stage %s\\n%zu task%s", json_string_value(json_object_get(st, "name")),
			    json_array_size(json_object_get(st, "tasks")),
			    plural(json_array_size(json_object_get(st, "tasks"))));
			sb_adds(&sb, "\t\t");
			dot_id(&sb, sid);
			sb_addf(&sb, " [label=\"%s\", shape=box, style=rounded];\n", slabel);
			dot_edge(&sb, "\t\t", prev ? prev_id : node, sid, "");
			free(prev_id);
			prev_id = sid;
			prev = sid;
			free(slabel);
		}
		json_t *o;
		json_array_foreach (json_object_get(img, "outputs"), j, o) {
			char *oid = xasprintf("%s output %zu", name, j);
			char *olabel =
			    xasprintf("%s %s", json_string_value(json_object_get(o, "type")),
			              json_string_value(json_object_get(o, "path")));
			sb_adds(&sb, "\t\t");
			dot_id(&sb, oid);
			sb_adds(&sb, " [shape=note, label=");
			dot_id(&sb, olabel);
			sb_adds(&sb, "];\n");
			dot_edge(&sb, "\t\t", prev ? prev_id : node, oid, "");
			free(oid);
			free(olabel);
		}
		free(prev_id);
		sb_adds(&sb, "\t}\n");
		free(node);
	}
	const char *k;
	json_t *g;
	json_object_foreach (json_object_get(plan, "groups"), k, g) {
		char *gid = xasprintf("hosts %s", k);
		sb_adds(&sb, "\t");
		dot_id(&sb, gid);
		sb_adds(&sb, " [shape=folder];\n");
		size_t j;
		json_t *c;
		json_array_foreach (json_object_get(g, "children"), j, c) {
			char *cid = xasprintf("hosts %s", json_string_value(c));
			dot_edge(&sb, "\t", gid, cid, " [style=dashed]");
			free(cid);
		}
		free(gid);
	}
	json_t *ap;
	json_array_foreach (json_object_get(plan, "applies"), i, ap) {
		char *aid = xasprintf("apply %zu", i);
		char *gid = xasprintf("hosts %s", json_string_value(json_object_get(ap, "target")));
		size_t ntasks = json_array_size(json_object_get(ap, "tasks"));
		char *alabel = xasprintf("apply (%zu task%s)", ntasks, plural(ntasks));
		sb_adds(&sb, "\t");
		dot_id(&sb, aid);
		sb_adds(&sb, " [shape=cds, label=");
		dot_id(&sb, alabel);
		sb_adds(&sb, "];\n");
		dot_edge(&sb, "\t", aid, gid, "");
		free(aid);
		free(gid);
		free(alabel);
	}
	sb_adds(&sb, "}\n");
	fputs(sb.buf, out);
	sb_release(&sb);
}

/* ---- IR dump --------------------------------------------------------------------- */

static void ir_tasks(FILE *out, json_t *tasks, const char *indent)
{
	size_t i;
	json_t *t;
	json_array_foreach (tasks, i, t) {
		char *args = json_dumps(json_object_get(t, "args"), JSON_COMPACT | JSON_SORT_KEYS);
		fprintf(out, "%sTASK %s %s %s", indent, json_string_value(json_object_get(t, "id")),
		        json_string_value(json_object_get(t, "module")), args ? args : "{}");
		free(args);
		json_t *when = json_object_get(t, "when");
		if (when) {
			char *w = json_dumps(json_object_get(when, "$expr"),
			                     JSON_COMPACT | JSON_SORT_KEYS);
			fprintf(out, " when=%s", w ? w : "?");
			free(w);
		}
		json_t *notify = json_object_get(t, "notify");
		if (notify) {
			char *n = json_dumps(notify, JSON_COMPACT);
			fprintf(out, " notify=%s", n ? n : "[]");
			free(n);
		}
		fprintf(out, " @%s\n", json_string_value(json_object_get(t, "source")));
	}
}

void plan_dump_ir(FILE *out, json_t *plan)
{
	size_t i;
	json_t *img;
	json_array_foreach (json_object_get(plan, "images"), i, img) {
		char *from =
		    json_dumps(json_object_get(img, "from"), JSON_COMPACT | JSON_SORT_KEYS);
		fprintf(out, "IMAGE %s from=%s @%s\n",
		        json_string_value(json_object_get(img, "name")), from ? from : "?",
		        json_string_value(json_object_get(img, "source")));
		free(from);
		size_t j;
		json_t *s;
		json_array_foreach (json_object_get(img, "stages"), j, s) {
			fprintf(out, "  STAGE %s @%s\n",
			        json_string_value(json_object_get(s, "name")),
			        json_string_value(json_object_get(s, "source")));
			ir_tasks(out, json_object_get(s, "tasks"), "    ");
		}
		json_array_foreach (json_object_get(img, "handlers"), j, s) {
			fprintf(out, "  HANDLER %s @%s\n",
			        json_string_value(json_object_get(s, "name")),
			        json_string_value(json_object_get(s, "source")));
			ir_tasks(out, json_object_get(s, "tasks"), "    ");
		}
		json_array_foreach (json_object_get(img, "outputs"), j, s) {
			char *args =
			    json_dumps(json_object_get(s, "args"), JSON_COMPACT | JSON_SORT_KEYS);
			fprintf(out, "  OUTPUT %s %s %s @%s\n",
			        json_string_value(json_object_get(s, "type")),
			        json_string_value(json_object_get(s, "path")), args ? args : "{}",
			        json_string_value(json_object_get(s, "source")));
			free(args);
		}
	}
	json_t *ap;
	json_array_foreach (json_object_get(plan, "applies"), i, ap) {
		fprintf(out, "APPLY %s @%s\n", json_string_value(json_object_get(ap, "target")),
		        json_string_value(json_object_get(ap, "source")));
		ir_tasks(out, json_object_get(ap, "tasks"), "  ");
	}
}
