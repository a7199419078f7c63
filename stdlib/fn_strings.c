/*
 * String functions: join, split, lower, upper, format. All pure: the
 * result depends on the arguments only. Strings are UTF-8 and may hold any
 * code point; lower and upper change ASCII letters only, so they never
 * depend on a locale. join and split take the separator first, as in HCL
 * and Terraform: join(sep, list), split(sep, s).
 */
#include "entries.h"
#include "fnlib.h"

#include <string.h>

/* ---- join(sep, list) ----------------------------------------------------------------------- */

static json_t *fn_join(json_t *const *args, size_t nargs, char **reterr)
{
	json_t *list = fnlib_arg(args, nargs, 1);
	struct strbuf b = STRBUF_INIT;
	json_t *v, *ret;
	size_t i, seplen;

	/* the arguments the wrong way round, in the order of Jinja's list | join(sep) */
	if (json_is_array(fnlib_arg(args, nargs, 0)) && json_is_string(list))
		return fnlib_error(reterr, "join() takes the separator first: join(sep, list)");
	const char *sep = fnlib_string("join", "sep", args, nargs, 0, &seplen, reterr);
	if (!sep)
		return NULL;
	if (!json_is_array(list))
		return fnlib_error(reterr,
		                   "argument 'list' of join() must be a list of strings, not %s",
		                   fnlib_type_name(list));
	json_array_foreach (list, i, v) {
		if (!json_is_string(v)) {
			sb_release(&b);
			return fnlib_error(
			    reterr,
			    "element %zu of argument 'list' of join() must be a string, "
			    "not %s",
			    i, fnlib_type_name(v));
		}
		if (i > 0)
			sb_add(&b, sep, seplen);
		sb_add(&b, json_string_value(v), json_string_length(v));
	}
	ret = fnlib_stringn(b.buf, b.len, reterr);
	sb_release(&b);
	return ret;
}

static const struct kiln_arg join_args[] = {
    {"sep", "string", true, NULL, "what goes between two strings, e.g. \", \""},
    {"list", "list<string>", true, NULL, "the strings to join"},
    {0},
};

const struct kiln_schema fn_join_schema = {
    .kind = SCHEMA_FUNCTION,
    .name = "join",
    .doc = "the strings of a list, one after the other, with a separator between them",
    .args = join_args,
    .returns = "string",
    .fn = fn_join,
    .example = "let flags = join(\" \", [\"-a\", \"-b\", \"-c\"])",
};

/* ---- split(sep, s) ------------------------------------------------------------------------- */

/* First occurrence of needle[0..m) in hay[0..n), m > 0, or NULL. */
static const char *find(const char *hay, size_t n, const char *needle, size_t m)
{
	for (size_t i = 0; m <= n && i <= n - m; i++)
		if (hay[i] == needle[0] && !memcmp(hay + i, needle, m))
			return hay + i;
	return NULL;
}

static json_t *fn_split(json_t *const *args, size_t nargs, char **reterr)
{
	size_t len = 0, seplen = 0;
	const char *sep = fnlib_string("split", "sep", args, nargs, 0, &seplen, reterr);
	const char *s = sep ? fnlib_string("split", "s", args, nargs, 1, &len, reterr) : NULL;

	if (!sep || !s)
		return NULL;
	if (seplen == 0)
		return fnlib_error(reterr, "split() needs a separator, not an empty string");
	json_t *list = json_array();
	const char *p = s, *end = s + len;
	for (;;) {
		const char *hit = find(p, (size_t)(end - p), sep, seplen);
		const char *stop = hit ? hit : end;
		/* A valid separator starts and ends on character boundaries: no check needed. */
		json_array_append_new(list, json_stringn_nocheck(p, (size_t)(stop - p)));
		if (!hit)
			break;
		p = hit + seplen;
	}
	return list;
}

static const struct kiln_arg split_args[] = {
    {"sep", "string", true, NULL, "the separator, not empty"},
    {"s", "string", true, NULL, "the string to cut; split(\",\", \"\") is [\"\"]"},
    {0},
};

const struct kiln_schema fn_split_schema = {
    .kind = SCHEMA_FUNCTION,
    .name = "split",
    .doc = "the pieces of a string between separators (join's inverse)",
    .args = split_args,
    .returns = "list<string>",
    .fn = fn_split,
    .example = "let parts = split(\",\", \"a,b,c\")",
};

/* ---- lower(s), upper(s) -------------------------------------------------------------------- */

static json_t *change_case(const char *fn, bool upper, json_t *const *args, size_t nargs,
                           char **reterr)
{
	size_t len;
	const char *s = fnlib_string(fn, "s", args, nargs, 0, &len, reterr);
	struct strbuf b = STRBUF_INIT;

	if (!s)
		return NULL;
	sb_add(&b, s, len);
	for (size_t i = 0; i < len; i++) {
		char c = b.buf[i];

		if (upper && c >= 'a' && c <= 'z')
			b.buf[i] = (char)(c - 'a' + 'A');
		else if (!upper && c >= 'A' && c <= 'Z')
			b.buf[i] = (char)(c - 'A' + 'a');
	}
	json_t *ret = fnlib_stringn(b.buf, b.len, reterr);
	sb_release(&b);
	return ret;
}

static json_t *fn_lower(json_t *const *args, size_t nargs, char **reterr)
{
	return change_case("lower", false, args, nargs, reterr);
}

static json_t *fn_upper(json_t *const *args, size_t nargs, char **reterr)
{
	return change_case("upper", true, args, nargs, reterr);
}

static const struct kiln_arg case_args[] = {
    {"s", "string", true, NULL, "the string; only ASCII letters change"},
    {0},
};

const struct kiln_schema fn_lower_schema = {
    .kind = SCHEMA_FUNCTION,
    .name = "lower",
    .doc = "a string with ASCII letters A-Z made lowercase",
    .args = case_args,
    .returns = "string",
    .fn = fn_lower,
    .example = "let host = lower(\"WEB1.Example.COM\")",
};

const struct kiln_schema fn_upper_schema = {
    .kind = SCHEMA_FUNCTION,
    .name = "upper",
    .doc = "a string with ASCII letters a-z made uppercase",
    .args = case_args,
    .returns = "string",
    .fn = fn_upper,
    .example = "let level = upper(\"warn\")",
};

/* ---- format(fmt, args...) ------------------------------------------------------------------ */

/* s as a kiln string literal: "..." with \" \\ \n \t \r \${ and \u{XX} for other controls. */
static void quote(struct strbuf *b, const char *s, size_t len)
{
	sb_addc(b, '"');
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		switch (c) {
		case '"':
			sb_add(b, "\\\"", 2);
			break;
		case '\\':
			sb_add(b, "\\\\", 2);
			break;
		case '\n':
			sb_add(b, "\\n", 2);
			break;
		case '\t':
			sb_add(b, "\\t", 2);
			break;
		case '\r':
			sb_add(b, "\\r", 2);
			break;
		case '$':
			if (i + 1 < len && s[i + 1] == '{')
				sb_add(b, "\\$", 2);
			else
				sb_addc(b, '$');
			break;
		default:
			if (c < 0x20 || c == 0x7F)
				sb_addf(b, "\\u{%X}", c);
			else
				sb_addc(b, (char)c);
		}
	}
	sb_addc(b, '"');
}

/* Append one value for verb %c (s, d or q), or return -1 with *reterr set. */
static int format_value(struct strbuf *b, char verb, json_t *v, size_t n, char **reterr)
{
	switch (verb) {
	case 's':
		if (json_is_string(v))
			sb_add(b, json_string_value(v), json_string_length(v));
		else if (json_is_integer(v))
			sb_addf(b, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
		else if (json_is_boolean(v))
			sb_addf(b, "%s", json_is_true(v) ? "true" : "false");
		else
			break;
		return 0;
	case 'd':
		if (!json_is_integer(v))
			break;
		sb_addf(b, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
		return 0;
	case 'q':
		if (!json_is_string(v))
			break;
		quote(b, json_string_value(v), json_string_length(v));
		return 0;
	}
	fnlib_error(reterr, "%%%c in format() needs %s, but value %zu is %s", verb,
	            verb == 's'   ? "a string, int or bool"
	            : verb == 'd' ? "an int"
	                          : "a string",
	            n, fnlib_type_name(v));
	return -1;
}

static json_t *fn_format(json_t *const *args, size_t nargs, char **reterr)
{
	size_t len;
	const char *fmt = fnlib_string("format", "fmt", args, nargs, 0, &len, reterr);
	size_t nvalues = nargs > 0 ? nargs - 1 : 0;
	size_t used = 0;
	struct strbuf b = STRBUF_INIT;
	json_t *ret = NULL;

	if (!fmt)
		return NULL;
	sb_add(&b, "", 0);
	for (size_t i = 0; i < len; i++) {
		if (fmt[i] != '%') {
			sb_addc(&b, fmt[i]);
			continue;
		}
		if (++i == len) {
			fnlib_error(reterr, "format string of format() ends with a lone '%%'");
			goto out;
		}
		char verb = fmt[i];
		if (verb == '%') {
			sb_addc(&b, '%');
			continue;
		}
		if (verb != 's' && verb != 'd' && verb != 'q') {
			/* name the whole character, even when it is not ASCII */
			size_t n = 1;
			while (i + n < len && ((unsigned char)fmt[i + n] & 0xC0) == 0x80)
				n++;
			fnlib_error(reterr,
			            "unknown verb '%%%.*s' in format(); use %%s, %%d, %%q or %%%%",
			            (int)n, fmt + i);
			goto out;
		}
		if (used == nvalues) {
			fnlib_error(reterr,
			            "format string of format() has more verbs than the %zu value%s "
			            "given",
			            nvalues, nvalues == 1 ? "" : "s");
			goto out;
		}
		json_t *v = args[1 + used++];
		if (!v) {
			fnlib_error(reterr, "value %zu of format() is missing", used);
			goto out;
		}
		if (format_value(&b, verb, v, used, reterr) < 0)
			goto out;
	}
	if (used < nvalues) {
		fnlib_error(reterr, "format() was given %zu value%s but its format string uses %zu",
		            nvalues, nvalues == 1 ? "" : "s", used);
		goto out;
	}
	ret = fnlib_stringn(b.buf, b.len, reterr);
out:
	sb_release(&b);
	return ret;
}

static const struct kiln_arg format_args[] = {
    {"fmt", "string", true, NULL,
     "text with verbs: %s a string, int or bool; %d an int; %q a quoted string; %% a %"},
    {"args", "any", false, NULL, "the values, one for each verb, in order"},
    {0},
};

const struct kiln_schema fn_format_schema = {
    .kind = SCHEMA_FUNCTION,
    .name = "format",
    .doc = "a string built printf-style from a format and values",
    .args = format_args,
    .returns = "string",
    .variadic = true,
    .fn = fn_format,
    .example = "let listen = format(\"%s:%d\", \"0.0.0.0\", 8080)",
};
