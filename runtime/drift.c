/*
 * drift: `kiln plan` against hosts; see drift.h. The apply blocks run through apply_plan
 * (hosts only, --check, --diff) with the printed events thrown away; an events observer
 * gathers each task's result per host, and the report is printed once every host is done
 * (hosts may run in parallel: the observer locks), hosts by name.
 */
#include "drift.h"

#include "arena.h"
#include "events.h"
#include "exec.h"
#include "plan_format.h"
#include "plan_view.h"
#include "strbuf.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

struct drift_task {
	/* '+' create, '~' change, '-' remove, '>' a command would run, '!' fails, '?' fails in
	   check mode after an earlier change of the same host (it may depend on it) */
	char sym;
	char *what, *stage, *msg, *diff, *source;
};

struct drift_host {
	char *name;
	struct drift_task *tasks; /* the tasks that would change the host, or fail */
	size_t ntasks;
	unsigned change, sync, skipped, failed, ignored;
	char *error; /* the host could not be reached or logged in to */
};

struct drift {
	pthread_mutex_t lock;
	struct drift_host *hosts;
	size_t nhosts;
	struct strbuf errors; /* errors of the run itself (a secret without a value, ...) */
};

static struct drift_host *host_of(struct drift *d, const char *name)
{
	for (size_t i = 0; i < d->nhosts; i++)
		if (!strcmp(d->hosts[i].name, name))
			return &d->hosts[i];
	d->hosts = xrealloc(d->hosts, (d->nhosts + 1) * sizeof(*d->hosts));
	struct drift_host *h = &d->hosts[d->nhosts++];
	*h = (struct drift_host){.name = xstrdup(name)};
	return h;
}

static bool starts(const char *s, const char *prefix)
{
	return !strncmp(s, prefix, strlen(prefix));
}

/*
 * The symbol of a change, from the module's message: the notes of stdlib's modules start
 * with what they do ("created /etc/motd", "removed user bob", "installed vim", "would
 * run: ..."), joined by ", " after "would change: ". All creations: '+'; all removals:
 * '-'; a command: '>'; anything else: '~'.
 */
static char change_symbol(const char *msg)
{
	if (!msg)
		return '~';
	if (starts(msg, "would run"))
		return '>';
	const char *p = starts(msg, "would change: ") ? msg + 14 : msg;
	bool add = true, remove = true;
	while (*p) {
		add = add && (starts(p, "created ") || starts(p, "installed ") ||
		              starts(p, "would create ") || starts(p, "would unpack ") ||
		              starts(p, "unpacked "));
		remove = remove && starts(p, "removed ");
		const char *next = strstr(p, ", ");
		p = next ? next + 2 : p + strlen(p);
	}
	return add ? '+' : remove ? '-' : '~';
}

static char *dup_or_null(const char *s)
{
	return s && *s ? xstrdup(s) : NULL;
}

static void on_task_end(void *data, const struct task_event *te, const struct task_result *res)
{
	struct drift *d = data;
	pthread_mutex_lock(&d->lock);
	struct drift_host *h = host_of(d, te->image);
	bool shown = false;
	char sym = '!';
	switch (res->status) {
	case TASK_OK:
		h->sync++;
		break;
	case TASK_SKIPPED:
		h->skipped++;
		break;
	case TASK_CHANGED:
		h->change++;
		sym = change_symbol(res->msg);
		shown = true;
		break;
	case TASK_FAILED:
		if (te->ignored) {
			h->ignored++;
		} else if (h->change) {
			/* an earlier task would change the host first (add the user a file is
			   owned by, ...): what this one does is known only after it, and apply
			   would run it then; counted with the changes */
			h->change++;
			sym = '?';
		} else {
			h->failed++;
		}
		shown = true;
		break;
	}
	if (shown) {
		h->tasks = xrealloc(h->tasks, (h->ntasks + 1) * sizeof(*h->tasks));
		const char *src = te->source
		                      ? te->source
		                      : json_string_value(json_object_get(te->task, PLAN_K_SOURCE));
		h->tasks[h->ntasks++] = (struct drift_task){
		    .sym = sym,
		    .what = xstrdup(te->what ? te->what : "?"),
		    .stage = strcmp(te->stage, "apply") ? xstrdup(te->stage) : NULL,
		    .msg = dup_or_null(res->msg),
		    .diff = dup_or_null(res->diff),
		    .source = dup_or_null(src),
		};
	}
	pthread_mutex_unlock(&d->lock);
}

/* apply_host reports a host it cannot open under the host's name; apply_plan reports its
   own errors (a secret without a value, an interrupt) under "apply". */
static void on_error(void *data, const char *image, const char *msg)
{
	struct drift *d = data;
	pthread_mutex_lock(&d->lock);
	if (!strcmp(image, "apply")) {
		sb_addf(&d->errors, "error: %s\n", msg);
	} else {
		struct drift_host *h = host_of(d, image);
		if (!h->error)
			h->error = xstrdup(msg);
	}
	pthread_mutex_unlock(&d->lock);
}

/* A host whose connection was lost in the middle: its failed task is no drift. */
static void on_recap(void *data, const struct recap *r, size_t n)
{
	struct drift *d = data;
	pthread_mutex_lock(&d->lock);
	for (size_t i = 0; i < n; i++) {
		if (!r[i].unreachable)
			continue;
		struct drift_host *h = host_of(d, r[i].name);
		if (!h->error)
			h->error = xstrdup("unreachable: the connection was lost");
	}
	pthread_mutex_unlock(&d->lock);
}

static int by_name(const void *a, const void *b)
{
	return strcmp(((const struct drift_host *)a)->name, ((const struct drift_host *)b)->name);
}

static const char *plural(size_t n)
{
	return n == 1 ? "" : "s";
}

struct paint {
	const char *add, *change, *remove, *run, *fail, *dim, *bold, *reset;
};

static const char *sym_color(const struct paint *p, char sym)
{
	switch (sym) {
	case '+':
		return p->add;
	case '-':
		return p->remove;
	case '>':
		return p->run;
	case '!':
		return p->fail;
	case '?':
		return p->run;
	default:
		return p->change;
	}
}

/* Lines of text, each after indent. */
static void print_indented(FILE *out, const char *text, const char *indent)
{
	for (const char *p = text; *p;) {
		size_t n = strcspn(p, "\n");
		fprintf(out, "%s%.*s\n", indent, (int)n, p);
		p += n + (p[n] == '\n');
	}
}

static void print_host(FILE *out, const struct drift_host *h, const struct paint *p)
{
	if (h->error) {
		fprintf(out, "%s%s%s: %s%s%s\n", p->bold, h->name, p->reset, p->fail, h->error,
		        p->reset);
		if (!h->ntasks)
			return;
	} else if (!h->change && !h->failed && !h->ignored) {
		fprintf(out, "%s%s%s: in sync (%u task%s ok", p->bold, h->name, p->reset, h->sync,
		        plural(h->sync));
		if (h->skipped)
			fprintf(out, ", %u skipped", h->skipped);
		fputs(")\n", out);
		return;
	} else {
		fprintf(out, "%s%s%s: %u to change, %u in sync", p->bold, h->name, p->reset,
		        h->change, h->sync);
		if (h->skipped)
			fprintf(out, ", %u skipped", h->skipped);
		if (h->failed)
			fprintf(out, ", %s%u failing%s", p->fail, h->failed, p->reset);
		if (h->ignored)
			fprintf(out, ", %u failing (ignored)", h->ignored);
		fputc('\n', out);
	}
	for (size_t i = 0; i < h->ntasks; i++) {
		const struct drift_task *t = &h->tasks[i];
		fprintf(out, "  %s%c%s %s", sym_color(p, t->sym), t->sym, p->reset, t->what);
		if (t->stage)
			fprintf(out, " %s(%s)%s", p->dim, t->stage, p->reset);
		if (t->source)
			fprintf(out, "  %s%s%s", p->dim, t->source, p->reset);
		fputc('\n', out);
		/* the message, without the "would change: " every one of them would have */
		const char *msg = t->msg && starts(t->msg, "would change: ") ? t->msg + 14 : t->msg;
		if (msg)
			print_indented(out, msg, "      ");
		/* a command's diff only repeats its message */
		if (t->diff && !(t->msg && !strncmp(t->diff, t->msg, strlen(t->msg)) &&
		                 !strcmp(t->diff + strlen(t->msg), "\n")))
			print_indented(out, t->diff, "      ");
	}
}

/* Writes to nowhere: the printed events of the check run (the observer has the results). */
static ssize_t discard(void *cookie, const char *buf, size_t len)
{
	(void)cookie, (void)buf;
	return (ssize_t)len;
}

enum drift_status drift_plan(json_t *plan, const struct drift_opts *o)
{
	struct drift d = {.errors = STRBUF_INIT};
	pthread_mutex_init(&d.lock, NULL);
	FILE *sink = fopencookie(NULL, "w", (cookie_io_functions_t){.write = discard});
	if (!sink) {
		fprintf(stderr, "kiln: cannot open an output stream\n");
		return DRIFT_ERROR;
	}
	struct events *ev = events_new(EVENTS_PLAIN, sink, false);
	struct events_observer obs = {
	    .task_end = on_task_end, .error = on_error, .recap = on_recap, .data = &d};
	events_observe(ev, &obs);
	struct apply_opts ao = {
	    .check = true,
	    .diff = true,
	    .root = o->root,
	    .secrets = o->secrets,
	    .events = ev,
	    .accept_new_host_keys = o->accept_new_host_keys,
	    .hosts_only = true,
	};
	int r = apply_plan(plan, &ao);
	events_free(ev);
	fclose(sink);

	static const struct paint plain = {"", "", "", "", "", "", "", ""};
	static const struct paint colored = {"\033[32m",   "\033[33m", "\033[31m", "\033[36m",
	                                     "\033[1;31m", "\033[2m",  "\033[1m",  "\033[0m"};
	const struct paint *p = o->color ? &colored : &plain;
	FILE *out = o->out;
	qsort(d.hosts, d.nhosts, sizeof(*d.hosts), by_name);
	unsigned change = 0, sync = 0, skipped = 0, failed = 0, drifted = 0, broken = 0;
	bool any_shown = false;
	for (size_t i = 0; i < d.nhosts; i++) {
		const struct drift_host *h = &d.hosts[i];
		change += h->change;
		sync += h->sync;
		skipped += h->skipped;
		failed += h->failed;
		drifted += h->change > 0;
		broken += h->error != NULL;
		any_shown = any_shown || h->ntasks;
	}
	fprintf(out, "\n%sHosts%s, checked without changing them (apply --check --diff):\n",
	        p->bold, p->reset);
	if (any_shown)
		fprintf(out,
		        "  %s+%s create   %s~%s change   %s-%s remove   %s>%s a command would run"
		        "   %s!%s fails\n"
		        "  %s?%s fails in check mode after an earlier change: known once that is "
		        "made\n",
		        p->add, p->reset, p->change, p->reset, p->remove, p->reset, p->run,
		        p->reset, p->fail, p->reset, p->run, p->reset);
	for (size_t i = 0; i < d.nhosts; i++) {
		fputc('\n', out);
		print_host(out, &d.hosts[i], p);
	}
	if (d.errors.len)
		fprintf(out, "\n%s", d.errors.buf);
	if (change)
		fprintf(out, "\n%sPlan:%s %u task%s to change on %u host%s, %u in sync", p->bold,
		        p->reset, change, plural(change), drifted, plural(drifted), sync);
	else
		fprintf(out, "\n%sPlan:%s no changes on %zu host%s, %u task%s in sync", p->bold,
		        p->reset, d.nhosts - broken, plural(d.nhosts - broken), sync, plural(sync));
	if (skipped)
		fprintf(out, ", %u skipped", skipped);
	if (failed)
		fprintf(out, "; %u task%s fail%s in check mode", failed, plural(failed),
		        failed == 1 ? "s" : "");
	if (broken)
		fprintf(out, "; %u host%s not reached", broken, plural(broken));
	fputs(".\n", out);

	enum drift_status status = r < 0 || d.errors.len || failed || broken ? DRIFT_ERROR
	                           : change                                  ? DRIFT_FOUND
	                                                                     : DRIFT_NONE;
	for (size_t i = 0; i < d.nhosts; i++) {
		struct drift_host *h = &d.hosts[i];
		for (size_t j = 0; j < h->ntasks; j++) {
			free(h->tasks[j].what);
			free(h->tasks[j].stage);
			free(h->tasks[j].msg);
			free(h->tasks[j].diff);
			free(h->tasks[j].source);
		}
		free(h->tasks);
		free(h->name);
		free(h->error);
	}
	free(d.hosts);
	sb_release(&d.errors);
	pthread_mutex_destroy(&d.lock);
	return status;
}
