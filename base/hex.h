/* hex: bytes and SHA-256 digests as lowercase hex digits (what sha256sum prints). */
#ifndef KILN_HEX_H
#define KILN_HEX_H

#include <stddef.h>

/* in[0..n) as 2n hex digits and a NUL: out holds 2n + 1 bytes. */
void hex_encode(const unsigned char *in, size_t n, char *out);
/* The SHA-256 digest of data[0..n) in hex. 0, or -1 if libcrypto fails (out is then ""). */
int sha256_hex(const void *data, size_t n, char out[65]);

#endif
