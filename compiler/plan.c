/*
 * plan: write, read and show plans. Input: the plan (JSON). Output:
 * plan.json (sorted keys, two-space indent, written with atomic.h), the
 * readable plan `kiln plan` prints, the Graphviz DOT of `kiln graph`, and
 * the IR dump of --dump=ir.
 */
#include "plan.h"

#include "arena.h"
#include "atomic.h"
#include "lower.h"
#include "plan_format.h"
#include "plan_json.h"
#include "plan_view.h"
#include "strbuf.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
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

/* Copy what fd holds (from its start) to out. */
static int copy_back(int fd, int out)
{
	char *buf = xmalloc(PLAN_JSON_BUF);
	int r = lseek(fd, 0, SEEK_SET) < 0 ? -errno : 0;
	while (r >= 0) {
		ssize_t n = read(fd, buf, PLAN_JSON_BUF);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			r = n < 0 ? -errno : 0;
			break;
		}
		r = fd_write_all(out, buf, (size_t)n);
	}
	free(buf);
	return r;
}

int plan_write_with(const char *path, int (*fill)(struct plan_json *w, void *arg), void *arg,
                    char **reterr)
{
	/* streamed (no copy of the text in memory) to a temporary renamed into place, or to
	   standard output, a character device or a FIFO; see atomic.h. Those take the text
	   only once fill succeeded: it goes to an anonymous file first. */
	struct atomic_file af;
	struct rt_error err = {0};
	*reterr = NULL;
	int r = atomic_file_open(&af, path, 0644, ATOMIC_DASH_STDOUT, &err);
	bool filled = true;
	int mfd = -1;
	if (r >= 0 && af.direct && (mfd = memfd_create("kiln-plan", MFD_CLOEXEC)) < 0)
		r = rt_error_errno(&err, -errno, "cannot write %s", path);
	if (r >= 0) {
		struct plan_json *w = xmalloc(sizeof(*w));
		plan_json_init(w, mfd >= 0 ? mfd : af.fd);
		filled = fill(w, arg) >= 0;
		int wr = plan_json_finish(w);
		if (filled && wr >= 0 && mfd >= 0)
			wr = copy_back(mfd, af.fd);
		if (filled && wr < 0)
			r = rt_error_errno(&err, wr, "cannot write %s", path);
		free(w);
	}
	if (mfd >= 0)
		close(mfd);
	if (r >= 0 && filled)
		r = atomic_file_commit(&af, &err);
	atomic_file_abort(&af);
	if (r < 0)
		*reterr = xstrdup(err.msg);
	return r < 0 || !filled ? -1 : 0;
}

static int fill_value(struct plan_json *w, void *plan)
{
	plan_json_value(w, plan);
	return 0;
}

int plan_write(json_t *plan, const char *path, char **reterr)
{
	return plan_write_with(path, fill_value, plan, reterr);
}

/* ---- counting --------------------------------------------------------------- */

static size_t count_tasks(json_t *blocks)
{
	size_t n = 0, i;
	json_t *b;
	json_array_foreach (blocks, i, b) {
		n += json_array_size(json_object_get(b, PLAN_K_TASKS));
	}
	return n;
}

struct plan_counts plan_count(json_t *plan)
{
	struct plan_counts c = {0};
	size_t i;
	json_t *img;
	json_t *images = json_object_get(plan, PLAN_K_IMAGES);
	c.images = json_array_size(images);
	json_array_foreach (images, i, img) {
		json_t *stages = json_object_get(img, PLAN_K_STAGES);
		c.stages += json_array_size(stages);
		c.tasks += count_tasks(stages);
		c.handlers += json_array_size(json_object_get(img, PLAN_K_HANDLERS));
		c.outputs += json_array_size(json_object_get(img, PLAN_K_OUTPUTS));
		c.tests += json_array_size(json_object_get(img, PLAN_K_TESTS));
	}
	json_t *applies = json_object_get(plan, PLAN_K_APPLIES);
	c.applies = json_array_size(applies);
	c.apply_tasks = count_tasks(applies);
	c.groups = json_object_size(json_object_get(plan, PLAN_K_GROUPS));
	return c;
}

/* ---- the readable plan --------------------------------------------------------- */

/* A value as a person reads it in a plan: deferred ones say so, secrets never show. */
static void show_value(struct strbuf *sb, json_t *v)
{
	if (json_is_object(v) && json_object_get(v, PLAN_K_EXPR)) {
		sb_adds(sb, plan_has_secret(v) ? "(secret)" : "(known at build time)");
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
	json_t *args = json_object_get(t, PLAN_K_ARGS);
	json_t *label = json_object_get(t, PLAN_K_LABEL);
	sb_addf(&sb, "%s%s+%s %s%s%s", indent, st->add, st->reset, st->bold,
	        json_string_value(json_object_get(t, PLAN_K_MODULE)), st->reset);
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
	json_t *when = json_object_get(t, PLAN_K_WHEN);
	if (when)
		sb_addf(&sb, " %s(when: at build time)%s", st->dim, st->reset);
	json_t *notify = json_object_get(t, PLAN_K_NOTIFY);
	if (json_array_size(notify)) {
		sb_addf(&sb, " %snotify:", st->dim);
		size_t i;
		json_t *h;
		json_array_foreach (notify, i, h) {
			sb_addf(&sb, "%s%s", i ? "," : " ", json_string_value(h));
		}
		sb_adds(&sb, st->reset);
	}
	json_t *role = json_object_get(t, PLAN_K_ROLE);
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
	json_t *img = json_object_get(from, PLAN_K_IMAGE);
	if (img) {
		sb_addf(sb, "image %s", json_string_value(img));
		return;
	}
	sb_addf(sb, "%s(", json_string_value(json_object_get(from, PLAN_K_BASE)));
	const char *k;
	json_t *v;
	int i = 0;
	json_object_foreach (json_object_get(from, PLAN_K_ARGS), k, v) {
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
	json_array_foreach (json_object_get(plan, PLAN_K_IMAGES), i, img) {
		struct strbuf sb = STRBUF_INIT;
		print_from(&sb, json_object_get(img, PLAN_K_FROM));
		fprintf(out, "%s+%s image %s%s%s from %s  %s%s%s\n", st->add, st->reset, st->bold,
		        json_string_value(json_object_get(img, PLAN_K_NAME)), st->reset, sb.buf,
		        st->dim, json_string_value(json_object_get(img, PLAN_K_SOURCE)), st->reset);
		sb_release(&sb);
		size_t j;
		json_t *s;
		json_array_foreach (json_object_get(img, PLAN_K_STAGES), j, s) {
			size_t n = json_array_size(json_object_get(s, PLAN_K_TASKS));
			fprintf(out, "    stage %s (%zu task%s)\n",
			        json_string_value(json_object_get(s, PLAN_K_NAME)), n, plural(n));
			print_tasks(out, json_object_get(s, PLAN_K_TASKS), "      ", st);
		}
		json_array_foreach (json_object_get(img, PLAN_K_HANDLERS), j, s) {
			size_t n = json_array_size(json_object_get(s, PLAN_K_TASKS));
			fprintf(out, "    handler %s (%zu task%s, runs if notified)\n",
			        json_string_value(json_object_get(s, PLAN_K_NAME)), n, plural(n));
			print_tasks(out, json_object_get(s, PLAN_K_TASKS), "      ", st);
		}
		json_t *config = json_object_get(img, PLAN_K_CONFIG);
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
		json_array_foreach (json_object_get(img, PLAN_K_TESTS), j, s) {
			fprintf(out, "    test %s (%zu task%s)\n",
			        json_string_value(json_object_get(s, PLAN_K_NAME)),
			        json_array_size(json_object_get(s, PLAN_K_TASKS)),
			        plural(json_array_size(json_object_get(s, PLAN_K_TASKS))));
		}
		json_array_foreach (json_object_get(img, PLAN_K_OUTPUTS), j, s) {
			struct strbuf os = STRBUF_INIT;
			const char *k;
			json_t *v;
			json_object_foreach (json_object_get(s, PLAN_K_ARGS), k, v) {
				sb_addf(&os, " %s=", k);
				show_value(&os, v);
			}
			fprintf(out, "    %s+%s output %s %s%s\n", st->add, st->reset,
			        json_string_value(json_object_get(s, PLAN_K_TYPE)),
			        json_string_value(json_object_get(s, PLAN_K_PATH)),
			        os.buf ? os.buf : "");
			sb_release(&os);
		}
	}
	const char *k;
	json_t *g;
	json_object_foreach (json_object_get(plan, PLAN_K_GROUPS), k, g) {
		size_t n = json_object_size(json_object_get(g, PLAN_K_HOSTS));
		size_t nc = json_array_size(json_object_get(g, PLAN_K_CHILDREN));
		fprintf(out, "  hosts %s: %zu host%s", k, n, plural(n));
		if (nc)
			fprintf(out, ", %zu child group%s", nc, plural(nc));
		fputc('\n', out);
	}
	json_t *ap;
	json_array_foreach (json_object_get(plan, PLAN_K_APPLIES), i, ap) {
		size_t n = json_array_size(json_object_get(ap, PLAN_K_TASKS));
		fprintf(out, "%s~%s apply to %s (%zu task%s)  %s%s%s\n", st->add, st->reset,
		        json_string_value(json_object_get(ap, PLAN_K_TARGET)), n, plural(n),
		        st->dim, json_string_value(json_object_get(ap, PLAN_K_SOURCE)), st->reset);
		print_tasks(out, json_object_get(ap, PLAN_K_TASKS), "      ", st);
	}
	fprintf(out,
	        "\nBuild: %zu image%s (%zu stage%s, %zu task%s, %zu handler%s), "
	        "%zu output%s",
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
	json_array_foreach (json_object_get(plan, PLAN_K_IMAGES), i, img) {
		const char *name = json_string_value(json_object_get(img, PLAN_K_NAME));
		json_t *from = json_object_get(img, PLAN_K_FROM);
		json_t *parent = json_object_get(from, PLAN_K_IMAGE);
		char *node = xasprintf("image %s", name);
		if (!parent) {
			char *base = xasprintf(
			    "base %s", json_string_value(json_object_get(from, PLAN_K_BASE)));
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
		json_array_foreach (json_object_get(img, PLAN_K_STAGES), j, st) {
			char *sid = xasprintf("%s/%s", name,
			                      json_string_value(json_object_get(st, PLAN_K_NAME)));
			char *slabel =
			    xasprintf("stage %s\\n%zu task%s",
			              json_string_value(json_object_get(st, PLAN_K_NAME)),
			              json_array_size(json_object_get(st, PLAN_K_TASKS)),
			              plural(json_array_size(json_object_get(st, PLAN_K_TASKS))));
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
		json_array_foreach (json_object_get(img, PLAN_K_OUTPUTS), j, o) {
			char *oid = xasprintf("%s output %zu", name, j);
			char *olabel =
			    xasprintf("%s %s", json_string_value(json_object_get(o, PLAN_K_TYPE)),
			              json_string_value(json_object_get(o, PLAN_K_PATH)));
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
	json_object_foreach (json_object_get(plan, PLAN_K_GROUPS), k, g) {
		char *gid = xasprintf("hosts %s", k);
		sb_adds(&sb, "\t");
		dot_id(&sb, gid);
		sb_adds(&sb, " [shape=folder];\n");
		size_t j;
		json_t *c;
		json_array_foreach (json_object_get(g, PLAN_K_CHILDREN), j, c) {
			char *cid = xasprintf("hosts %s", json_string_value(c));
			dot_edge(&sb, "\t", gid, cid, " [style=dashed]");
			free(cid);
		}
		free(gid);
	}
	json_t *ap;
	json_array_foreach (json_object_get(plan, PLAN_K_APPLIES), i, ap) {
		char *aid = xasprintf("apply %zu", i);
		char *gid =
		    xasprintf("hosts %s", json_string_value(json_object_get(ap, PLAN_K_TARGET)));
		size_t ntasks = json_array_size(json_object_get(ap, PLAN_K_TASKS));
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
		char *args =
		    json_dumps(json_object_get(t, PLAN_K_ARGS), JSON_COMPACT | JSON_SORT_KEYS);
		fprintf(out, "%sTASK %s %s %s", indent,
		        json_string_value(json_object_get(t, PLAN_K_ID)),
		        json_string_value(json_object_get(t, PLAN_K_MODULE)), args ? args : "{}");
		free(args);
		json_t *when = json_object_get(t, PLAN_K_WHEN);
		if (when) {
			char *w = json_dumps(json_object_get(when, PLAN_K_EXPR),
			                     JSON_COMPACT | JSON_SORT_KEYS);
			fprintf(out, " when=%s", w ? w : "?");
			free(w);
		}
		json_t *notify = json_object_get(t, PLAN_K_NOTIFY);
		if (notify) {
			char *n = json_dumps(notify, JSON_COMPACT);
			fprintf(out, " notify=%s", n ? n : "[]");
			free(n);
		}
		fprintf(out, " @%s\n", json_string_value(json_object_get(t, PLAN_K_SOURCE)));
	}
}

void plan_dump_ir(FILE *out, json_t *plan)
{
	size_t i;
	json_t *img;
	json_array_foreach (json_object_get(plan, PLAN_K_IMAGES), i, img) {
		char *from =
		    json_dumps(json_object_get(img, PLAN_K_FROM), JSON_COMPACT | JSON_SORT_KEYS);
		fprintf(out, "IMAGE %s from=%s @%s\n",
		        json_string_value(json_object_get(img, PLAN_K_NAME)), from ? from : "?",
		        json_string_value(json_object_get(img, PLAN_K_SOURCE)));
		free(from);
		size_t j;
		json_t *s;
		json_array_foreach (json_object_get(img, PLAN_K_STAGES), j, s) {
			fprintf(out, "  STAGE %s @%s\n",
			        json_string_value(json_object_get(s, PLAN_K_NAME)),
			        json_string_value(json_object_get(s, PLAN_K_SOURCE)));
			ir_tasks(out, json_object_get(s, PLAN_K_TASKS), "    ");
		}
		json_array_foreach (json_object_get(img, PLAN_K_HANDLERS), j, s) {
			fprintf(out, "  HANDLER %s @%s\n",
			        json_string_value(json_object_get(s, PLAN_K_NAME)),
			        json_string_value(json_object_get(s, PLAN_K_SOURCE)));
			ir_tasks(out, json_object_get(s, PLAN_K_TASKS), "    ");
		}
		json_array_foreach (json_object_get(img, PLAN_K_OUTPUTS), j, s) {
			char *args = json_dumps(json_object_get(s, PLAN_K_ARGS),
			                        JSON_COMPACT | JSON_SORT_KEYS);
			fprintf(out, "  OUTPUT %s %s %s @%s\n",
			        json_string_value(json_object_get(s, PLAN_K_TYPE)),
			        json_string_value(json_object_get(s, PLAN_K_PATH)),
			        args ? args : "{}",
			        json_string_value(json_object_get(s, PLAN_K_SOURCE)));
			free(args);
		}
	}
	json_t *ap;
	json_array_foreach (json_object_get(plan, PLAN_K_APPLIES), i, ap) {
		fprintf(out, "APPLY %s @%s\n",
		        json_string_value(json_object_get(ap, PLAN_K_TARGET)),
		        json_string_value(json_object_get(ap, PLAN_K_SOURCE)));
		ir_tasks(out, json_object_get(ap, PLAN_K_TASKS), "  ");
	}
}
