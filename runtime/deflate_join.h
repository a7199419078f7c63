/*
 * deflate_join: raw deflate streams (RFC 1951) that follow one another in one
 * stream. A compressor that works on whole buffers (libdeflate) ends every
 * stream with a final block; deflate_unfinal() turns such a stream into one a
 * next one can follow, as zlib's sync flush leaves it: the last block's BFINAL
 * bit cleared and an empty stored block after it, which ends it on a byte
 * boundary. Streams so ended, then one ended as usual, concatenate into one
 * deflate stream (the blocks of a gzip member). It walks the blocks' Huffman
 * codes without writing out the data: about a tenth of the time compressing
 * them took.
 */
#ifndef KILN_DEFLATE_JOIN_H
#define KILN_DEFLATE_JOIN_H

#include <stddef.h>

/* Room deflate_unfinal() may add after the stream. */
enum { DEFLATE_UNFINAL_EXTRA = 5 };

/*
 * Make the complete raw deflate stream buf[0, len) continuable: returns its
 * new length (at most len + DEFLATE_UNFINAL_EXTRA, within cap), or 0 when
 * buf does not hold exactly one valid deflate stream or cap is too small (buf
 * may then be changed).
 */
size_t deflate_unfinal(unsigned char *buf, size_t len, size_t cap);

#endif
