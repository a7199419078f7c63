/*
 * modlib_task: the helpers of stdlib/module.h for a task's result and
 * arguments, and the changes a module collects into its result (modlib.h).
 */
#include "modlib.h"

#include "builtins.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

/* ==== results ============================================================================== */

void task_result_release(struct task_result *res)
{
	if (!res)
		return;
	free(res->msg);
	free(res->diff);
	free(res->output);
	free(res->cmd);
	free(res->stderr_tail);
	free(res->stdout_tail);
	free(res->stdout_full);
	free(res->stderr_full);
	*res = (struct task_result){0};
}

static int set_result(struct task_result *res, enum task_status status, const char *fmt, va_list ap)
    __attribute__((format(printf, 3, 0)));

static int set_result(struct task_result *res, enum task_status status, const char *fmt, va_list ap)
{
	res->status = status;
	free(res->msg);
	res->msg = xvasprintf(fmt, ap);
	/* one line for a person */
	for (char *p = res->msg; *p; p++)
		if (*p == '\n' || *p == '\r')
			*p = ' ';
	return 0;
}

int task_ok(struct task_result *res, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	set_result(res, TASK_OK, fmt, ap);
	va_end(ap);
	return 0;
}

int task_changed(struct task_result *res, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	set_result(res, TASK_CHANGED, fmt, ap);
	va_end(ap);
	return 0;
}

int task_failed(struct task_result *res, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	set_result(res, TASK_FAILED, fmt, ap);
	va_end(ap);
	return 0;
}

int mod_fail(struct task_result *res, const struct rt_error *err)
{
	task_failed(res, "%s", err->msg[0] ? err->msg : strerror(-err->code));
	return -1;
}

/* ==== arguments ============================================================================ */

json_t *mod_arg(const struct task_ctx *ctx, const char *name)
{
	json_t *v = ctx->args ? json_object_get(ctx->args, name) : NULL;
	return v && !json_is_null(v) ? v : NULL;
}

const char *task_arg_str(const struct task_ctx *ctx, const char *name, const char *def)
{
	json_t *v = mod_arg(ctx, name);
	return v && json_is_string(v) ? json_string_value(v) : def;
}

bool task_arg_bool(const struct task_ctx *ctx, const char *name, bool def)
{
	json_t *v = mod_arg(ctx, name);
	if (v && json_is_boolean(v))
		return json_is_true(v);
	if (v && json_is_string(v)) {
		const char *s = json_string_value(v);
		if (!strcmp(s, "true") || !strcmp(s, "yes"))
			return true;
		if (!strcmp(s, "false") || !strcmp(s, "no"))
			return false;
	}
	return def;
}

long long task_arg_int(const struct task_ctx *ctx, const char *name, long long def)
{
	json_t *v = mod_arg(ctx, name);
	if (v && json_is_integer(v))
		return json_integer_value(v);
	if (v && json_is_string(v)) {
		char *end;
		errno = 0;
		long long n = strtoll(json_string_value(v), &end, 10);
		if (!errno && end != json_string_value(v) && !*end)
			return n;
	}
	return def;
}

mode_t task_arg_mode(const struct task_ctx *ctx, const char *name)
{
	json_t *v = mod_arg(ctx, name);
	if (v && json_is_integer(v)) {
		long long n = json_integer_value(v);
		return n >= 0 && n <= 07777 ? (mode_t)n : (mode_t)-1;
	}
	/* the plan holds ints; a string is a value known only while building (a fact) */
	unsigned m;
	const char *why;
	if (v && json_is_string(v) && stdlib_mode_parse(json_string_value(v), &m, &why) == 0)
		return (mode_t)m;
	return (mode_t)-1;
}

/* ==== changes ============================================================================== */

/* Past this, the message only counts further changes. */
#define NOTES_MAX 400

void mod_note(struct mod_changes *ch, const char *fmt, ...)
{
	ch->n++;
	if (ch->what.len >= NOTES_MAX)
		return;
	ch->shown++;
	va_list ap;
	va_start(ap, fmt);
	char *s = xvasprintf(fmt, ap);
	va_end(ap);
	if (ch->what.len)
		sb_adds(&ch->what, ", ");
	sb_adds(&ch->what, s);
	free(s);
}

void mod_diff(struct mod_changes *ch, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	char *s = xvasprintf(fmt, ap);
	va_end(ap);
	sb_adds(&ch->diff, s);
	if (ch->diff.len && ch->diff.buf[ch->diff.len - 1] != '\n')
		sb_addc(&ch->diff, '\n');
	free(s);
}

void mod_diff_text(struct mod_changes *ch, const char *path, const char *old, size_t oldlen,
                   const char *new, size_t newlen)
{
	char *la = xasprintf("%s (before)", path);
	char *lb = xasprintf("%s (after)", path);
	char *d =
	    text_diff(la, old ? old : "", old ? oldlen : 0, lb, new ? new : "", new ? newlen : 0);
	sb_adds(&ch->diff, d);
	free(d);
	free(la);
	free(lb);
}

void mod_changes_release(struct mod_changes *ch)
{
	sb_release(&ch->what);
	sb_release(&ch->diff);
	ch->n = ch->shown = 0;
}

int mod_finish(const struct task_ctx *ctx, struct task_result *res, struct mod_changes *ch,
               const char *ok_msg)
{
	if (!ch->n) {
		task_ok(res, "%s", ok_msg);
	} else {
		if (ch->n > ch->shown)
			task_changed(res, "%s%s, and %zu more", ctx->check ? "would change: " : "",
			             ch->what.buf, ch->n - ch->shown);
		else
			task_changed(res, "%s%s", ctx->check ? "would change: " : "",
			             ch->what.buf ? ch->what.buf : "changed");
		if (ctx->diff) {
			free(res->diff);
			res->diff = sb_detach(&ch->diff);
		}
	}
	mod_changes_release(ch);
	return 0;
}
