/*
 * call: run a built-in function on values, as the compiler does when it
 * folds a call: count the arguments, fill in defaults from the schema,
 * then call the implementation, which may rely on every required argument
 * being present.
 */
#include "entries.h"
#include "fnlib.h"

#include <stdlib.h>

json_t *stdlib_call(const struct kiln_schema *fn, json_t *const *args, size_t nargs, char **reterr)
{
	size_t ndecl = 0, n;
	json_t **full = NULL, **defaults = NULL, *ret = NULL;

	if (!fn || fn->kind != SCHEMA_FUNCTION || !fn->fn)
		return fnlib_error(reterr, "'%s' is not a function", fn ? fn->name : "(null)");
	while (fn->args && fn->args[ndecl].name)
		ndecl++;
	if (nargs > ndecl && !fn->variadic)
		return fnlib_error(reterr, "%s() takes at most %zu argument%s, but %zu were given",
		                   fn->name, ndecl, ndecl == 1 ? "" : "s", nargs);
	n = nargs > ndecl ? nargs : ndecl;
	full = calloc(n ? n : 1, sizeof(*full));
	defaults = calloc(n ? n : 1, sizeof(*defaults));
	if (!full || !defaults) {
		fnlib_error(reterr, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		full[i] = i < nargs ? args[i] : NULL;
		if (full[i] || i >= ndecl)
			continue;
		const struct kiln_arg *a = &fn->args[i];
		if (a->def) {
			json_error_t jerr;

			defaults[i] = json_loads(a->def, JSON_DECODE_ANY, &jerr);
			if (!defaults[i]) {
				fnlib_error(reterr,
				            "default of argument '%s' of %s() is not JSON: %s",
				            a->name, fn->name, jerr.text);
				goto out;
			}
			full[i] = defaults[i];
		} else if (a->required) {
			fnlib_error(reterr, "%s() needs argument '%s'", fn->name, a->name);
			goto out;
		}
	}
	/* a variadic function gets exactly the values given for its last argument */
	ret = fn->fn(full, fn->variadic && nargs < ndecl ? ndecl - 1 : n, reterr);
out:
	if (defaults)
		for (size_t i = 0; i < n; i++)
			json_decref(defaults[i]);
	free(defaults);
	free(full);
	return ret;
}
