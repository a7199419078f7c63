/* rt: errors of the runtime and the modules; see rt.h. */
#include "rt.h"

#include <stdio.h>
#include <string.h>

volatile sig_atomic_t rt_interrupted;

static int vset(struct rt_error *err, int code, bool with_errno, const char *fmt, va_list ap)
    __attribute__((format(printf, 4, 0)));

static int vset(struct rt_error *err, int code, bool with_errno, const char *fmt, va_list ap)
{
	if (!err)
		return code;
	err->code = code;
	int n = vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	if (with_errno && n >= 0 && (size_t)n < sizeof(err->msg))
		snprintf(err->msg + n, sizeof(err->msg) - (size_t)n, ": %s", strerror(-code));
	return code;
}

int rt_error_set(struct rt_error *err, int code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vset(err, code, false, fmt, ap);
	va_end(ap);
	return code;
}

int rt_error_errno(struct rt_error *err, int code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vset(err, code, true, fmt, ap);
	va_end(ap);
	return code;
}
