/*
 * deflate_join: see deflate_join.h. A reader of the stream's blocks that
 * decodes their Huffman codes only to find where each block ends: canonical
 * codes (RFC 1951 3.2.2) looked up FAST_BITS at a time with the extra bits
 * that follow them, longer ones bit by bit.
 */
#include "deflate_join.h"

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

enum { MAX_BITS = 15, FAST_BITS = 10, MAX_LITLEN = 288, MAX_DIST = 32 };

struct bits {
	const unsigned char *p, *end;
	uint64_t buf; /* the next n bits of the stream, the first in bit 0; the bits
	               * above are zeros or the stream's own next bits */
	unsigned n;
	size_t virt; /* zero bytes taken in past the end: more than 8, and they were read */
};

/* At least 56 bits in the buffer. */
static inline void fill(struct bits *b)
{
	if (b->end - b->p >= 8) { /* a whole word: the bytes that fit, the next one in part */
		uint64_t w;
		memcpy(&w, b->p, 8);
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
		w = __builtin_bswap64(w);
#endif
		b->buf |= w << b->n;
		b->p += (63 - b->n) >> 3;
		b->n |= 56;
		return;
	}
	while (b->n <= 56) {
		if (b->p < b->end)
			b->buf |= (uint64_t)*b->p++ << b->n;
		else
			b->virt++; /* a zero past the end: bits_pos() tells if it was read */
		b->n += 8;
	}
}

static unsigned take(struct bits *b, unsigned k)
{
	if (b->n < k)
		fill(b);
	unsigned v = (unsigned)(b->buf & ((1u << k) - 1));
	b->buf >>= k;
	b->n -= k;
	return v;
}

/* Bits read so far: what the reader consumed, not what it buffered. */
static size_t bits_pos(const struct bits *b, const unsigned char *start)
{
	return (size_t)(b->p - start + b->virt) * 8 - b->n;
}

/* Surely read past the end (the buffer holds 8 bytes at most). */
static bool overrun(const struct bits *b)
{
	return b->virt > 8;
}

/*
 * A code's lookup table: an entry per FAST_BITS next bits, (symbol << 16) |
 * (extra bits after the code << 5) | the code's length; 0: a longer code,
 * decoded bit by bit from count and sym.
 */
struct huff {
	uint32_t fast[1 << FAST_BITS];
	uint16_t count[MAX_BITS + 1]; /* codes of each length */
	uint16_t sym[MAX_LITLEN];     /* the symbols by length, then value */
};

static const uint8_t len_extra[29] = {0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2,
                                      2, 3, 3, 3, 3, 4, 4, 4, 4, 5, 5, 5, 5, 0};
static const uint8_t dist_extra[30] = {0, 0, 0, 0, 1, 1, 2, 2,  3,  3,  4,  4,  5,  5,  6,
                                       6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12, 12, 13, 13};

enum code_kind { CODE_LENS, CODE_LITLEN, CODE_DIST };

/* The extra bits after symbol s of a code of kind k (0 for symbols that are not valid). */
static unsigned extra_bits(enum code_kind k, unsigned s)
{
	if (k == CODE_LITLEN && s >= 257 && s <= 285)
		return len_extra[s - 257];
	if (k == CODE_DIST && s < 30)
		return dist_extra[s];
	return 0;
}

/* The code of n lengths; false when over-subscribed (incomplete codes are allowed). */
static bool huff_build(struct huff *h, const uint8_t *len, unsigned n, enum code_kind kind)
{
	memset(h->count, 0, sizeof(h->count));
	memset(h->fast, 0, sizeof(h->fast));
	for (unsigned i = 0; i < n; i++)
		h->count[len[i]]++;
	h->count[0] = 0;
	int left = 1;
	for (unsigned l = 1; l <= MAX_BITS; l++) {
		left = 2 * left - h->count[l];
		if (left < 0)
			return false;
	}
	uint16_t offs[MAX_BITS + 2], next[MAX_BITS + 1];
	offs[1] = 0;
	for (unsigned l = 1; l <= MAX_BITS; l++)
		offs[l + 1] = (uint16_t)(offs[l] + h->count[l]);
	unsigned code = 0;
	next[0] = 0;
	for (unsigned l = 1; l <= MAX_BITS; l++) {
		code = (code + h->count[l - 1]) << 1;
		next[l] = (uint16_t)code;
	}
	for (unsigned s = 0; s < n; s++) {
		unsigned l = len[s];
		if (!l)
			continue;
		h->sym[offs[l]++] = (uint16_t)s;
		unsigned c = next[l]++;
		if (l > FAST_BITS)
			continue;
		unsigned r = 0; /* the code's bits in stream order: reversed */
		for (unsigned i = 0; i < l; i++)
			r |= ((c >> i) & 1u) << (l - 1 - i);
		uint32_t e = (uint32_t)s << 16 | extra_bits(kind, s) << 5 | l;
		for (unsigned i = r; i < (1u << FAST_BITS); i += 1u << l)
			h->fast[i] = e;
	}
	return true;
}

/* The next symbol of h and its extra bits (skipped), or -1 for a code not in h. The
 * buffer must hold at least 28 bits (MAX_BITS + 13 extra). */
static int decode(struct bits *b, const struct huff *h, enum code_kind kind)
{
	uint32_t e = h->fast[b->buf & ((1u << FAST_BITS) - 1)];
	if (e) {
		unsigned k = (e & 31) + ((e >> 5) & 31);
		b->buf >>= k;
		b->n -= k;
		return (int)(e >> 16);
	}
	/* bit by bit: codes of each length are consecutive numbers, the first
	 * after the last of the length before, doubled */
	int code = 0, first = 0, index = 0;
	for (unsigned l = 1; l <= MAX_BITS; l++) {
		code |= (int)take(b, 1);
		int count = h->count[l];
		if (code - count < first) {
			int s = h->sym[index + (code - first)];
			take(b, extra_bits(kind, (unsigned)s));
			return s;
		}
		index += count;
		first = (first + count) << 1;
		code <<= 1;
	}
	return -1;
}

/* The symbols of a Huffman-coded block, up to its end-of-block code. The fast
 * path keeps the reader in locals (registers); the rare one goes through b. */
static bool skip_codes(struct bits *b, const struct huff *lit, const struct huff *dist)
{
	uint64_t buf = b->buf;
	unsigned n = b->n;
	const unsigned char *p = b->p, *end = b->end;
#define SAVE() (b->buf = buf, b->n = n, b->p = p)
#define LOAD() (buf = b->buf, n = b->n, p = b->p)
#define REFILL()                                                                                   \
	do {                                                                                       \
		if (n >= 32)                                                                       \
			break;                                                                     \
		if (end - p >= 8) {                                                                \
			uint64_t w;                                                                \
			memcpy(&w, p, 8);                                                          \
			if (__BYTE_ORDER__ == __ORDER_BIG_ENDIAN__)                                \
				w = __builtin_bswap64(w);                                          \
			buf |= w << n;                                                             \
			p += (63 - n) >> 3;                                                        \
			n |= 56;                                                                   \
		} else {                                                                           \
			SAVE();                                                                    \
			fill(b);                                                                   \
			LOAD();                                                                    \
			if (overrun(b))                                                            \
				return false;                                                      \
		}                                                                                  \
	} while (0)
	for (;;) {
		REFILL();
		uint32_t e = lit->fast[buf & ((1u << FAST_BITS) - 1)];
		int s;
		if (e) {
			unsigned k = (e & 31) + ((e >> 5) & 31);
			buf >>= k;
			n -= k;
			s = (int)(e >> 16);
			if (s < 256)
				continue;
		} else {
			SAVE();
			s = decode(b, lit, CODE_LITLEN);
			LOAD();
			if (s < 0)
				return false;
			if (s < 256)
				continue;
		}
		if (s == 256) {
			SAVE();
			return true;
		}
		if (s > 285)
			return false;
		REFILL();
		e = dist->fast[buf & ((1u << FAST_BITS) - 1)];
		if (e) {
			unsigned k = (e & 31) + ((e >> 5) & 31);
			buf >>= k;
			n -= k;
			s = (int)(e >> 16);
		} else {
			SAVE();
			s = decode(b, dist, CODE_DIST);
			LOAD();
		}
		if (s < 0 || s > 29)
			return false;
	}
#undef SAVE
#undef LOAD
#undef REFILL
}

struct tables {
	struct huff lit, dist, lens;
	uint8_t len[MAX_LITLEN + MAX_DIST];
};

static bool fixed_tables(struct tables *t)
{
	unsigned i = 0;
	for (; i < 144; i++)
		t->len[i] = 8;
	for (; i < 256; i++)
		t->len[i] = 9;
	for (; i < 280; i++)
		t->len[i] = 7;
	for (; i < 288; i++)
		t->len[i] = 8;
	memset(t->len + 288, 5, 30);
	return huff_build(&t->lit, t->len, 288, CODE_LITLEN) &&
	       huff_build(&t->dist, t->len + 288, 30, CODE_DIST);
}

static bool dynamic_tables(struct bits *b, struct tables *t)
{
	static const uint8_t order[19] = {16, 17, 18, 0, 8,  7, 9,  6, 10, 5,
	                                  11, 4,  12, 3, 13, 2, 14, 1, 15};
	unsigned nlit = take(b, 5) + 257, ndist = take(b, 5) + 1, ncode = take(b, 4) + 4;
	if (nlit > 286 || ndist > 30)
		return false;
	uint8_t cl[19] = {0};
	for (unsigned i = 0; i < ncode; i++)
		cl[order[i]] = (uint8_t)take(b, 3);
	if (!huff_build(&t->lens, cl, 19, CODE_LENS))
		return false;
	unsigned i = 0, total = nlit + ndist;
	while (i < total) {
		if (b->n < 32)
			fill(b);
		int s = decode(b, &t->lens, CODE_LENS);
		if (s < 0 || overrun(b))
			return false;
		if (s < 16) {
			t->len[i++] = (uint8_t)s;
			continue;
		}
		unsigned rep;
		uint8_t v = 0;
		if (s == 16) {
			if (i == 0)
				return false;
			v = t->len[i - 1];
			rep = 3 + take(b, 2);
		} else if (s == 17) {
			rep = 3 + take(b, 3);
		} else {
			rep = 11 + take(b, 7);
		}
		if (i + rep > total)
			return false;
		memset(t->len + i, v, rep);
		i += rep;
	}
	if (!t->len[256])
		return false;
	return huff_build(&t->lit, t->len, nlit, CODE_LITLEN) &&
	       huff_build(&t->dist, t->len + nlit, ndist, CODE_DIST);
}

size_t deflate_unfinal(unsigned char *buf, size_t len, size_t cap)
{
	struct bits b = {buf, buf + len, 0, 0, 0};
	struct tables t;
	bool have_fixed = false, last = false;
	size_t head = 0;
	while (!last) {
		head = bits_pos(&b, buf);
		last = take(&b, 1);
		unsigned type = take(&b, 2);
		if (type == 0) { /* stored: LEN, NLEN from the next byte, then LEN bytes */
			take(&b, b.n & 7);
			unsigned n = take(&b, 16), nn = take(&b, 16);
			if (bits_pos(&b, buf) > 8 * len || (n ^ 0xffffu) != nn)
				return 0;
			for (; n > 0 && b.n >= 8; n--)
				take(&b, 8);
			if (n && (b.virt || (size_t)(b.end - b.p) < n))
				return 0;
			if (n) { /* the buffer is empty: its bits above are the bytes skipped */
				b.p += n;
				b.buf = 0;
			}
		} else if (type == 1) {
			if (!have_fixed && !fixed_tables(&t))
				return 0;
			have_fixed = true;
			if (!skip_codes(&b, &t.lit, &t.dist))
				return 0;
		} else if (type == 2) {
			have_fixed = false;
			if (!dynamic_tables(&b, &t) || !skip_codes(&b, &t.lit, &t.dist))
				return 0;
		} else {
			return 0;
		}
	}
	size_t end = bits_pos(&b, buf); /* the bit after the final block */
	if ((end + 7) / 8 != len)
		return 0;
	size_t out = (end + 3 + 7) / 8; /* an empty stored block: 3 zero bits, to a byte */
	if (out + 4 > cap)
		return 0;
	buf[head / 8] &= (unsigned char)~(1u << (head % 8));
	if (end % 8)
		buf[end / 8] &= (unsigned char)((1u << (end % 8)) - 1);
	if (out > len)
		buf[len] = 0;
	memcpy(buf + out, "\0\0\xff\xff", 4);
	return out + 4;
}
