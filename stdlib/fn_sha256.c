/*
 * sha256(s): the SHA-256 digest of a string's UTF-8 bytes, as 64 lowercase
 * hex digits (what sha256sum prints). The hash is OpenSSL's libcrypto.
 */
#include "entries.h"
#include "fnlib.h"
#include "hex.h"

static json_t *fn_sha256(json_t *const *args, size_t nargs, char **reterr)
{
	char out[65];
	size_t len;
	const char *s = fnlib_string("sha256", "s", args, nargs, 0, &len, reterr);

	if (!s)
		return NULL;
	if (sha256_hex(s, len, out) < 0)
		return fnlib_error(reterr, "sha256() failed in libcrypto");
	return fnlib_stringn(out, 64, reterr);
}

static const struct kiln_arg args[] = {
    {"s", "string", true, NULL, "the text to hash (its UTF-8 bytes)"},
    {0},
};

const struct kiln_schema fn_sha256_schema = {
    .kind = SCHEMA_FUNCTION,
    .name = "sha256",
    .doc = "the SHA-256 digest of a string, as 64 lowercase hex digits",
    .args = args,
    .returns = "string",
    .fn = fn_sha256,
    .example = "let digest = sha256(file(\"files/app.conf\"))",
};
