/*
 * sha256(s): the SHA-256 digest of a string's UTF-8 bytes, as 64 lowercase
 * hex digits (what sha256sum prints). The hash is OpenSSL's libcrypto.
 */
#include "entries.h"
#include "fnlib.h"

#include <openssl/evp.h>

static json_t *fn_sha256(json_t *const *args, size_t nargs, char **reterr)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	char out[2 * EVP_MAX_MD_SIZE];
	size_t len;
	const char *s = fnlib_string("sha256", "s", args, nargs, 0, &len, reterr);

	if (!s)
		return NULL;
	if (EVP_Digest(s, len, md, &mdlen, EVP_sha256(), NULL) != 1 || mdlen != 32)
		return fnlib_error(reterr, "sha256() failed in libcrypto");
	for (unsigned int i = 0; i < mdlen; i++) {
		out[2 * i] = hex[md[i] >> 4];
		out[2 * i + 1] = hex[md[i] & 0xF];
	}
	return fnlib_stringn(out, 2 * (size_t)mdlen, reterr);
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
