/* Unit tests of sha256(): the FIPS 180-2 test vectors, and bytes beyond ASCII. */
#include "fn_test.h"

int main(void)
{
	/* FIPS 180-2, appendix B.1 and B.2, and the empty message */
	EXPECT("sha256", "[\"\"]",
	       "\"e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\"");
	EXPECT("sha256", "[\"abc\"]",
	       "\"ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad\"");
	EXPECT("sha256", "[\"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq\"]",
	       "\"248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1\"");

	/* B.3: one million times 'a' */
	char *million = malloc(1000000 + 5);
	memcpy(million, "[\"", 2);
	memset(million + 2, 'a', 1000000);
	memcpy(million + 2 + 1000000, "\"]", 3);
	EXPECT("sha256", million,
	       "\"cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0\"");
	free(million);

	/* the UTF-8 bytes of the string are hashed: printf 'caf\303\251' | sha256sum */
	EXPECT("sha256", "[\"caf\\u00e9\"]",
	       "\"850f7dc43910ff890f8879c0ed26fe697c93a067ad93a7d50f466a7028a9bf4e\"");
	EXPECT("sha256", "[42]", "error: argument 's' of sha256() must be a string, not int");
	return CHECK_DONE();
}
