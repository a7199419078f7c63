/* Unit tests of hex digits and SHA-256 digests. */
#include "check.h"
#include "hex.h"

#include <string.h>

int main(void)
{
	char out[65];
	hex_encode((const unsigned char *)"\x00\x01\xab\xff", 4, out);
	CHECK(!strcmp(out, "0001abff"));
	hex_encode((const unsigned char *)"", 0, out);
	CHECK(!strcmp(out, ""));
	/* sha256sum of empty input and of "abc" (FIPS 180-2) */
	CHECK(sha256_hex("", 0, out) == 0);
	CHECK(!strcmp(out, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"));
	CHECK(sha256_hex("abc", 3, out) == 0);
	CHECK(!strcmp(out, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"));
	return CHECK_DONE();
}
