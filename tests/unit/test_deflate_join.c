/*
 * test_deflate_join: runtime/deflate_join.c. Data of several kinds (text, a
 * binary, random bytes, runs of zeros, tiny and empty pieces) is cut into
 * pieces, each compressed on its own by libdeflate at levels 0 to 9 (0: stored
 * blocks only); every piece but the last goes through deflate_unfinal and
 * all are joined: zlib must inflate the whole to the data, and stop exactly at
 * its end. Streams that are not one valid deflate stream are refused.
 */
#include "check.h"
#include "deflate_join.h"

#include <libdeflate.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

static uint64_t rnd_state = 88172645463325252ull;

static uint32_t rnd(void)
{
	rnd_state ^= rnd_state << 13;
	rnd_state ^= rnd_state >> 7;
	rnd_state ^= rnd_state << 17;
	return (uint32_t)rnd_state;
}

/* Inflate the raw deflate stream z[0, zn) and compare it with want[0, n). */
static int inflates_to(const unsigned char *z, size_t zn, const unsigned char *want, size_t n)
{
	unsigned char *out = malloc(n + 1);
	z_stream s = {0};
	int ok = inflateInit2(&s, -15) == Z_OK;
	s.next_in = (unsigned char *)z;
	s.avail_in = (uInt)zn;
	s.next_out = out;
	s.avail_out = (uInt)(n + 1);
	ok = ok && inflate(&s, Z_FINISH) == Z_STREAM_END && s.avail_in == 0 && s.total_out == n &&
	     memcmp(out, want, n) == 0;
	inflateEnd(&s);
	free(out);
	return ok;
}

/* data[0, n) in pieces of the given sizes (the last piece: the rest), at level. */
static int join(const unsigned char *data, size_t n, const size_t *cuts, size_t ncuts, int level)
{
	struct libdeflate_compressor *c = libdeflate_alloc_compressor(level);
	size_t cap = libdeflate_deflate_compress_bound(NULL, n) * (ncuts + 1) + 64 * (ncuts + 1);
	unsigned char *z = malloc(cap), *piece = malloc(cap);
	size_t zn = 0, off = 0;
	int ok = c != NULL;
	for (size_t i = 0; ok && i <= ncuts; i++) {
		size_t k = i < ncuts ? cuts[i] : n - off;
		size_t pc = libdeflate_deflate_compress_bound(c, k) + DEFLATE_UNFINAL_EXTRA;
		size_t pn = libdeflate_deflate_compress(c, data + off, k, piece, pc);
		ok = pn > 0;
		if (ok && i < ncuts) {
			size_t m = deflate_unfinal(piece, pn, pc);
			ok = m > 0 && m <= pn + DEFLATE_UNFINAL_EXTRA &&
			     !memcmp(piece + m - 4, "\0\0\xff\xff", 4);
			pn = m;
		}
		if (ok) {
			memcpy(z + zn, piece, pn);
			zn += pn;
		}
		off += k;
	}
	ok = ok && inflates_to(z, zn, data, n);
	libdeflate_free_compressor(c);
	free(z);
	free(piece);
	return ok;
}

int main(void)
{
	enum { N = 3 << 20 };
	unsigned char *data = malloc(N);
	/* text, then a binary-like stretch, then random bytes, then zeros */
	size_t n = 0;
	for (unsigned i = 0; n < N / 3; i++)
		n += (size_t)snprintf((char *)data + n, N - n, "line %u: the quick brown fox %u\n",
		                      i, rnd() % 1000);
	for (; n < N / 2; n++)
		data[n] = (unsigned char)(rnd() % 7 == 0 ? rnd() : n % 251);
	for (; n < N * 3 / 4; n++)
		data[n] = (unsigned char)rnd();
	memset(data + n, 0, N - n);

	size_t even[] = {1 << 20, 1 << 20};
	size_t odd[] = {1, 0, 777777, 65535, 65536, 3, 1000000};
	for (int level = 0; level <= 9; level++) {
		CHECK(join(data, N, even, 2, level));
		CHECK(join(data, N, odd, 7, level));
		CHECK(join(data + N / 2, N / 4, (size_t[]){N / 8}, 1, level)); /* random: stored */
		CHECK(join(data + N * 3 / 4, N / 4, (size_t[]){N / 8}, 1, level)); /* zeros */
		CHECK(join(data, 10, (size_t[]){0, 5}, 2, level));
	}

	/* refused: not one whole valid stream */
	struct libdeflate_compressor *c = libdeflate_alloc_compressor(6);
	size_t cap = libdeflate_deflate_compress_bound(c, N) + 64;
	unsigned char *z = malloc(cap);
	size_t zn = libdeflate_deflate_compress(c, data, 1 << 20, z, cap);
	unsigned char *copy = malloc(cap);
	memcpy(copy, z, zn);
	CHECK(deflate_unfinal(copy, zn - 1, cap) == 0); /* cut short */
	memcpy(copy, z, zn);
	copy[zn] = 0;
	CHECK(deflate_unfinal(copy, zn + 1, cap) == 0); /* a byte after its end */
	memcpy(copy, z, zn);
	CHECK(deflate_unfinal(copy, zn, zn + 1) == 0); /* no room for the stored block */
	memcpy(copy, z, zn);
	CHECK(deflate_unfinal(copy, zn, cap) > 0);
	unsigned char bad[64];
	for (int i = 0; i < 1000; i++) { /* garbage: refused or not, never a crash */
		size_t k = 1 + rnd() % 60;
		for (size_t j = 0; j < k; j++)
			bad[j] = (unsigned char)rnd();
		bad[0] |= 6; /* BTYPE 3: invalid */
		CHECK(deflate_unfinal(bad, k, sizeof(bad)) == 0);
		bad[0] = (unsigned char)((bad[0] & ~6) | 4); /* dynamic */
		(void)deflate_unfinal(bad, k, sizeof(bad));
	}
	unsigned char empty[8] = {0x03, 0x00}; /* a final empty fixed block */
	size_t en = deflate_unfinal(empty, 2, sizeof(empty));
	CHECK(en == 6 && empty[0] == 0x02);
	CHECK(inflates_to((unsigned char[]){0x02, 0x00, 0x00, 0x00, 0xff, 0xff, 0x03, 0x00}, 8,
	                  data, 0));
	libdeflate_free_compressor(c);
	free(z);
	free(copy);
	free(data);
	return CHECK_DONE();
}
