/* utf8: validation, decoding and display width of UTF-8 text. */
#ifndef KILN_UTF8_H
#define KILN_UTF8_H

#include <stddef.h>
#include <stdint.h>

/*
 * Decode one code point at s (n bytes available). Returns its length in
 * bytes (1..4) and stores it in *ret_cp; for an invalid or truncated sequence
 * returns 0 and stores U+FFFD.
 */
size_t utf8_decode(const unsigned char *s, size_t n, uint32_t *ret_cp);
/* Offset of the first invalid byte in s[0..n), or n when all is valid. */
size_t utf8_validate(const unsigned char *s, size_t n);
/* Columns a terminal uses for cp: 0 (combining), 1 or 2 (East Asian wide). */
int utf8_width(uint32_t cp);
/* Number of code points in s[0..n) (invalid bytes count one each). */
size_t utf8_count(const unsigned char *s, size_t n);
/* Append the UTF-8 encoding of cp to buf (room for 4); returns the length. */
size_t utf8_encode(uint32_t cp, char *buf);

#endif
