/*
 * env(name, [default]): the value of an environment variable of the
 * process running kiln (Packer's {{env `NAME`}}). Not pure: it reads the
 * environment, which is why params are the usual place to call it.
 */
#include "entries.h"
#include "fnlib.h"

#include <stdlib.h>
#include <string.h>

static json_t *fn_env(json_t *const *args, size_t nargs, char **reterr)
{
	size_t len = 0;
	const char *name = fnlib_string("env", "name", args, nargs, 0, &len, reterr);
	json_t *def = fnlib_arg(args, nargs, 1);

	if (!name)
		return NULL;
	if (!*name || strchr(name, '=') || strlen(name) != len)
		return fnlib_error(reterr, "invalid environment variable name '%s'", name);
	const char *value = getenv(name);
	if (!value) {
		if (!def)
			return fnlib_error(reterr, "environment variable '%s' is not set", name);
		if (!json_is_string(def))
			return fnlib_error(reterr,
			                   "argument 'default' of env() must be a string, not %s",
			                   fnlib_type_name(def));
		return json_incref(def);
	}
	len = strlen(value);
	if (utf8_validate((const unsigned char *)value, len) < len)
		return fnlib_error(reterr, "environment variable '%s' is not valid UTF-8", name);
	return fnlib_stringn(value, len, reterr);
}

static const struct kiln_arg args[] = {
    {"name", "string", true, NULL, "name of the variable, e.g. \"CLIENT_ID\""},
    {"default", "string", false, NULL,
     "value when the variable is not set; without it, an unset variable is an error"},
    {0},
};

const struct kiln_schema fn_env_schema = {
    .kind = SCHEMA_FUNCTION,
    .name = "env",
    .doc = "the value of an environment variable of the kiln process",
    .args = args,
    .returns = "string",
    .fn = fn_env,
    .example = "param client_id: string = env(\"CLIENT_ID\", \"\")",
    .fail_help = "set it, or give a default: env(\"NAME\", \"value\")",
};
