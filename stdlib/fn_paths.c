/*
 * basename(path), dirname(path): the last component of a path and what
 * comes before it, with POSIX basename(1)/dirname(1) semantics. They read
 * the string only, never the file system, so they are pure.
 */
#include "entries.h"
#include "fnlib.h"

/* Length of path without its trailing slashes, but at least 1 if it is all slashes. */
static size_t strip_slashes(const char *p, size_t len)
{
	while (len > 1 && p[len - 1] == '/')
		len--;
	return len;
}

static json_t *fn_basename(json_t *const *args, size_t nargs, char **reterr)
{
	size_t len;
	const char *p = fnlib_string("basename", "path", args, nargs, 0, &len, reterr);

	if (!p)
		return NULL;
	if (len == 0)
		return json_string(".");
	len = strip_slashes(p, len);
	if (len == 1 && p[0] == '/')
		return json_string("/");
	size_t start = len;
	while (start > 0 && p[start - 1] != '/')
		start--;
	return fnlib_stringn(p + start, len - start, reterr);
}

static json_t *fn_dirname(json_t *const *args, size_t nargs, char **reterr)
{
	size_t len;
	const char *p = fnlib_string("dirname", "path", args, nargs, 0, &len, reterr);

	if (!p)
		return NULL;
	len = strip_slashes(p, len);
	/* drop the last component */
	while (len > 0 && p[len - 1] != '/')
		len--;
	if (len == 0)
		return json_string(".");
	/* and the slashes before it */
	len = strip_slashes(p, len);
	return fnlib_stringn(p, len, reterr);
}

static const struct kiln_arg path_args[] = {
    {"path", "string", true, NULL, "a path; the file system is not read"},
    {0},
};

const struct kiln_schema fn_basename_schema = {
    .kind = SCHEMA_FUNCTION,
    .name = "basename",
    .doc = "the last component of a path: \"/srv/app/\" gives \"app\", \"/\" gives \"/\"",
    .args = path_args,
    .returns = "string",
    .fn = fn_basename,
    .example = "let archive = basename(\"dist/app-1.0.tar.gz\")",
};

const struct kiln_schema fn_dirname_schema = {
    .kind = SCHEMA_FUNCTION,
    .name = "dirname",
    .doc = "a path without its last component: \"/srv/app\" gives \"/srv\", \"app\" gives \".\"",
    .args = path_args,
    .returns = "string",
    .fn = fn_dirname,
    .example = "let conf_dir = dirname(\"/etc/nginx/nginx.conf\")",
};
