/*
 * output_sink: byte sinks (output_impl.h). A sink streams to a file
 * descriptor through an optional compressor (libdeflate in out_threads() threads
 * for gzip, libzstd with out_threads() workers for zstd) in fixed buffers, with sha256
 * digests of the bytes given and the bytes written; and the digests of
 * files. The compressed bytes depend only on the bytes given, never on how
 * they were cut into writes or on thread timing.
 */
#include "output_impl.h"

#include "arena.h"
#include "atomic.h"
#include "deflate_join.h"
#include "hex.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <libdeflate.h>
#include <stdio.h>
#include <zlib.h>
#include <zstd.h>

enum {
	SINK_IN_CAP = 1 << 20,  /* staging buffer: small writes are gathered to this (GZ_BLOCK) */
	SINK_OUT_CAP = 1 << 18, /* compressor output */
};

/* ---- threads --------------------------------------------------------------------------- */

unsigned out_threads(void)
{
	const char *e = getenv("KILN_JOBS");
	if (e && *e) {
		char *end;
		long v = strtol(e, &end, 10);
		if (!*end && v > 0)
			return v > 256 ? 256 : (unsigned)v;
	}
	cpu_set_t set;
	if (sched_getaffinity(0, sizeof(set), &set) == 0 && CPU_COUNT(&set) > 0)
		return (unsigned)CPU_COUNT(&set);
	long n = sysconf(_SC_NPROCESSORS_ONLN);
	return n > 0 ? (unsigned)n : 1;
}

/* ---- sinks ----------------------------------------------------------------------------- */

struct gz_pool;

struct out_sink_state {
	EVP_MD_CTX *in_md, *out_md;
	struct gz_pool *gz;
	ZSTD_CCtx *zc;
	unsigned char *ibuf, *obuf;
	size_t ilen;
};

int out_write_all(int fd, const void *buf, size_t n, struct rt_error *err)
{
	int r = fd_write_all(fd, buf, n);
	if (r == -EINTR)
		return rt_error_set(err, -EINTR, "interrupted");
	return r < 0 ? rt_error_errno(err, r, "write") : 0;
}

static int emit(struct out_sink *s, const void *buf, size_t n, struct rt_error *err)
{
	if (!n)
		return 0;
	EVP_DigestUpdate(s->st->out_md, buf, n);
	s->out_bytes += n;
	return out_write_all(s->fd, buf, n, err);
}

/* ---- parallel gzip --------------------------------------------------------------------- */

/*
 * gzip in out_threads() threads, as pigz does, with libdeflate (about twice as
 * fast as zlib at the same level and ratio): the input is cut into blocks of
 * GZ_BLOCK bytes, each compressed on its own into raw deflate. libdeflate
 * compresses whole buffers only and ends each with a final block: every block
 * but the last is made continuable (deflate_unfinal: the final bit cleared,
 * then an empty stored block, as zlib's sync flush ends a block), so the
 * blocks make one deflate stream, written in order between a gzip header
 * without name or time and the trailer (crc32 combined from the blocks', and
 * the length): one ordinary gzip member. The bytes depend on the input, the
 * level and libdeflate's version only (portable C: the same on every CPU),
 * never on timing or the number of threads; blob cache keys name the version
 * (out_comp_key).
 */
enum { GZ_MAX_THREADS = 64, GZ_BLOCK = 1 << 20 };
_Static_assert((int)GZ_BLOCK == (int)SINK_IN_CAP, "gzip blocks are the sink's staging buffers");

struct gz_job {
	unsigned char *in, *out;
	size_t in_len, out_len, out_cap;
	uint32_t crc;
	bool last;
	enum { GZ_FREE, GZ_QUEUED, GZ_WORKING, GZ_DONE, GZ_FAILED } state;
};

struct gz_pool {
	pthread_t threads[GZ_MAX_THREADS];
	size_t nthreads;
	size_t njobs; /* 2 per thread: one compressing, one waiting or being written */
	pthread_mutex_t mu;
	pthread_cond_t work, done;
	struct gz_job *jobs;
	size_t head;  /* the oldest job not yet written */
	size_t count; /* jobs between head and the next free one */
	bool stop;
	int level;
	uLong crc; /* of the input so far (written blocks) */
	uint64_t isize;
};

static int gz_level(int level)
{
	return level > 0 && level <= 9 ? level : OUT_GZIP_DEFAULT_LEVEL;
}

/* Compress job j with c: a continuable stream, or the final one. */
static bool gz_compress(struct libdeflate_compressor *c, struct gz_job *j)
{
	j->crc = libdeflate_crc32(0, j->in, j->in_len);
	if (j->last && !j->in_len) { /* an empty final block (fixed codes) */
		memcpy(j->out, "\x03\x00", 2);
		j->out_len = 2;
		return true;
	}
	size_t n = libdeflate_deflate_compress(c, j->in, j->in_len, j->out,
	                                       j->out_cap - DEFLATE_UNFINAL_EXTRA);
	if (n && !j->last)
		n = deflate_unfinal(j->out, n, j->out_cap);
	j->out_len = n;
	return n > 0;
}

static void *gz_worker(void *arg)
{
	struct gz_pool *p = arg;
	struct libdeflate_compressor *c = libdeflate_alloc_compressor(p->level);
	pthread_mutex_lock(&p->mu);
	for (;;) {
		struct gz_job *j = NULL;
		for (size_t i = 0; i < p->count && !j; i++) {
			struct gz_job *q = &p->jobs[(p->head + i) % p->njobs];
			if (q->state == GZ_QUEUED)
				j = q;
		}
		if (!j) {
			if (p->stop)
				break;
			pthread_cond_wait(&p->work, &p->mu);
			continue;
		}
		j->state = GZ_WORKING;
		pthread_mutex_unlock(&p->mu);
		bool good = c && gz_compress(c, j);
		pthread_mutex_lock(&p->mu);
		j->state = good ? GZ_DONE : GZ_FAILED;
		pthread_cond_broadcast(&p->done);
	}
	pthread_mutex_unlock(&p->mu);
	if (c)
		libdeflate_free_compressor(c);
	return NULL;
}

static void gz_free(struct gz_pool *p)
{
	if (!p)
		return;
	pthread_mutex_lock(&p->mu);
	p->stop = true;
	pthread_cond_broadcast(&p->work);
	pthread_mutex_unlock(&p->mu);
	for (size_t i = 0; i < p->nthreads; i++)
		pthread_join(p->threads[i], NULL);
	for (size_t i = 0; i < p->njobs; i++) {
		free(p->jobs[i].in);
		free(p->jobs[i].out);
	}
	free(p->jobs);
	pthread_mutex_destroy(&p->mu);
	pthread_cond_destroy(&p->work);
	pthread_cond_destroy(&p->done);
	free(p);
}

static struct gz_pool *gz_new(int level, unsigned threads)
{
	struct gz_pool *p = xcalloc(1, sizeof(*p));
	if (threads > GZ_MAX_THREADS)
		threads = GZ_MAX_THREADS;
	p->level = level;
	p->njobs = 2 * (size_t)threads;
	p->jobs = xcalloc(p->njobs, sizeof(*p->jobs));
	p->crc = crc32(0, NULL, 0);
	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->work, NULL);
	pthread_cond_init(&p->done, NULL);
	size_t cap = libdeflate_deflate_compress_bound(NULL, GZ_BLOCK) + DEFLATE_UNFINAL_EXTRA;
	for (size_t i = 0; i < p->njobs; i++) {
		p->jobs[i].in = xmalloc(GZ_BLOCK);
		p->jobs[i].out_cap = cap;
		p->jobs[i].out = xmalloc(cap);
	}
	for (; p->nthreads < threads; p->nthreads++)
		if (pthread_create(&p->threads[p->nthreads], NULL, gz_worker, p))
			break;
	if (!p->nthreads) {
		gz_free(p);
		return NULL;
	}
	return p;
}

static void put_le32(unsigned char *b, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		b[i] = (unsigned char)(v >> (8 * i));
}

/* Write the oldest job once it is done. Called with the lock held; returns with it. */
static int gz_write_head(struct out_sink *s, struct rt_error *err)
{
	struct gz_pool *p = s->st->gz;
	struct gz_job *j = &p->jobs[p->head];
	while (j->state == GZ_QUEUED || j->state == GZ_WORKING)
		pthread_cond_wait(&p->done, &p->mu);
	if (j->state == GZ_FAILED)
		return rt_error_set(err, -EIO, "gzip: compression failed");
	pthread_mutex_unlock(&p->mu);
	int r = emit(s, j->out, j->out_len, err);
	pthread_mutex_lock(&p->mu);
	if (r < 0)
		return r;
	p->crc = crc32_combine(p->crc, j->crc, (z_off_t)j->in_len);
	p->isize += j->in_len;
	j->state = GZ_FREE;
	p->head = (p->head + 1) % p->njobs;
	p->count--;
	return 0;
}

/* Queue n bytes (at most GZ_BLOCK) as the next block. */
static int gz_queue(struct out_sink *s, const unsigned char *buf, size_t n, bool last,
                    struct rt_error *err)
{
	struct gz_pool *p = s->st->gz;
	int r = 0;
	pthread_mutex_lock(&p->mu);
	if (p->count == p->njobs)
		r = gz_write_head(s, err);
	if (r >= 0) {
		struct gz_job *j = &p->jobs[(p->head + p->count) % p->njobs];
		if (n)
			memcpy(j->in, buf, n);
		j->in_len = n;
		j->last = last;
		j->state = GZ_QUEUED;
		p->count++;
		pthread_cond_signal(&p->work);
	}
	pthread_mutex_unlock(&p->mu);
	return r;
}

static int gz_push(struct out_sink *s, const unsigned char *buf, size_t n, bool end,
                   struct rt_error *err)
{
	struct gz_pool *p = s->st->gz;
	int r;
	if (s->out_bytes == 0) {
		static const unsigned char header[10] = {0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3};
		if ((r = emit(s, header, sizeof(header), err)) < 0)
			return r;
	}
	while (n > 0) {
		size_t k = n < GZ_BLOCK ? n : GZ_BLOCK;
		if ((r = gz_queue(s, buf, k, false, err)) < 0)
			return r;
		buf += k;
		n -= k;
	}
	if (!end)
		return 0;
	if ((r = gz_queue(s, buf, 0, true, err)) < 0)
		return r;
	pthread_mutex_lock(&p->mu);
	while (r >= 0 && p->count > 0)
		r = gz_write_head(s, err);
	pthread_mutex_unlock(&p->mu);
	if (r < 0)
		return r;
	unsigned char trailer[8];
	put_le32(trailer, (uint32_t)p->crc);
	put_le32(trailer + 4, (uint32_t)p->isize);
	return emit(s, trailer, sizeof(trailer), err);
}

void out_comp_key(enum out_comp comp, int level, char *buf, size_t cap)
{
	if (comp == OUT_COMP_GZIP)
		snprintf(buf, cap, "gzip libdeflate-%s level=%d", LIBDEFLATE_VERSION_STRING,
		         gz_level(level));
	else
		snprintf(buf, cap, "%s level=%d", comp == OUT_COMP_ZSTD ? "zstd" : "none", level);
}

ssize_t out_read(int fd, void *buf, size_t n, const char *what, struct rt_error *err)
{
	for (;;) {
		ssize_t r = read(fd, buf, n);
		if (r >= 0)
			return r;
		if (errno != EINTR)
			return rt_error_errno(err, -errno, "read %s", what);
		if (rt_interrupted)
			return rt_error_set(err, -EINTR, "interrupted");
	}
}

int out_sink_init(struct out_sink *s, int fd, enum out_comp comp, int level, bool hash_input,
                  struct rt_error *err)
{
	memset(s, 0, sizeof(*s));
	s->fd = fd;
	s->comp = comp;
	struct out_sink_state *st = xcalloc(1, sizeof(*st));
	s->st = st;
	st->out_md = EVP_MD_CTX_new();
	if (!st->out_md || !EVP_DigestInit_ex(st->out_md, EVP_sha256(), NULL))
		return rt_error_set(err, -ENOMEM, "sha256: cannot initialise a digest");
	if (hash_input) {
		st->in_md = EVP_MD_CTX_new();
		if (!st->in_md || !EVP_DigestInit_ex(st->in_md, EVP_sha256(), NULL))
			return rt_error_set(err, -ENOMEM, "sha256: cannot initialise a digest");
	}
	st->ibuf = xmalloc(SINK_IN_CAP);
	if (comp == OUT_COMP_GZIP) {
		st->gz = gz_new(gz_level(level), out_threads());
		if (!st->gz)
			return rt_error_set(err, -EAGAIN, "gzip: cannot start threads");
	} else if (comp == OUT_COMP_ZSTD) {
		st->zc = ZSTD_createCCtx();
		if (!st->zc)
			return rt_error_set(err, -ENOMEM, "zstd: cannot create a context");
		size_t r =
		    ZSTD_CCtx_setParameter(st->zc, ZSTD_c_compressionLevel, level > 0 ? level : 3);
		if (!ZSTD_isError(r))
			r = ZSTD_CCtx_setParameter(st->zc, ZSTD_c_checksumFlag, 1);
		/* with one worker or more the bytes do not depend on their number (zstd.h) */
		if (!ZSTD_isError(r))
			(void)ZSTD_CCtx_setParameter(st->zc, ZSTD_c_nbWorkers, (int)out_threads());
		if (ZSTD_isError(r))
			return rt_error_set(err, -EINVAL, "zstd: %s", ZSTD_getErrorName(r));
	}
	if (comp == OUT_COMP_ZSTD)
		st->obuf = xmalloc(SINK_OUT_CAP);
	return 0;
}

/* Push n bytes through the compressor (end: and finish the stream). */
static int push(struct out_sink *s, const unsigned char *buf, size_t n, bool end,
                struct rt_error *err)
{
	struct out_sink_state *st = s->st;
	int r;
	if (s->comp == OUT_COMP_NONE)
		return emit(s, buf, n, err);
	if (s->comp == OUT_COMP_GZIP)
		return gz_push(s, buf, n, end, err);
	ZSTD_inBuffer in = {buf, n, 0};
	for (;;) {
		ZSTD_outBuffer out = {st->obuf, SINK_OUT_CAP, 0};
		size_t left =
		    ZSTD_compressStream2(st->zc, &out, &in, end ? ZSTD_e_end : ZSTD_e_continue);
		if (ZSTD_isError(left))
			return rt_error_set(err, -EIO, "zstd: %s", ZSTD_getErrorName(left));
		r = emit(s, st->obuf, out.pos, err);
		if (r < 0)
			return r;
		if (end ? left == 0 : in.pos == in.size)
			return 0;
	}
}

int out_sink_write(struct out_sink *s, const void *buf, size_t n, struct rt_error *err)
{
	struct out_sink_state *st = s->st;
	if (rt_interrupted)
		return rt_error_set(err, -EINTR, "interrupted");
	if (st->in_md)
		EVP_DigestUpdate(st->in_md, buf, n);
	s->in_bytes += n;
	const unsigned char *p = buf;
	while (n > 0) {
		/* large: no copy, unless gzip, whose blocks must start at fixed offsets */
		if (st->ilen == 0 && n >= SINK_IN_CAP / 2 && s->comp != OUT_COMP_GZIP)
			return push(s, p, n, false, err);
		size_t k = SINK_IN_CAP - st->ilen < n ? SINK_IN_CAP - st->ilen : n;
		memcpy(st->ibuf + st->ilen, p, k);
		st->ilen += k;
		p += k;
		n -= k;
		if (st->ilen == SINK_IN_CAP) {
			int r = push(s, st->ibuf, st->ilen, false, err);
			st->ilen = 0;
			if (r < 0)
				return r;
		}
	}
	return 0;
}

static void md_hex(EVP_MD_CTX *md, char *hex, size_t cap)
{
	unsigned char d[EVP_MAX_MD_SIZE];
	unsigned int n = 0;
	EVP_DigestFinal_ex(md, d, &n);
	if (2 * (size_t)n + 1 > cap)
		n = (unsigned int)((cap - 1) / 2);
	hex_encode(d, n, hex);
}

int out_sink_finish(struct out_sink *s, struct rt_error *err)
{
	struct out_sink_state *st = s->st;
	int r = push(s, st->ibuf, st->ilen, s->comp != OUT_COMP_NONE, err);
	st->ilen = 0;
	if (r < 0)
		return r;
	md_hex(st->out_md, s->out_hex, sizeof(s->out_hex));
	if (st->in_md)
		md_hex(st->in_md, s->in_hex, sizeof(s->in_hex));
	return 0;
}

void out_sink_release(struct out_sink *s)
{
	struct out_sink_state *st = s ? s->st : NULL;
	if (!st)
		return;
	EVP_MD_CTX_free(st->in_md);
	EVP_MD_CTX_free(st->out_md);
	gz_free(st->gz);
	ZSTD_freeCCtx(st->zc);
	free(st->ibuf);
	free(st->obuf);
	free(st);
	s->st = NULL;
}

/* ---- digests of files ---------------------------------------------------------------- */

int out_hash_file(const char *path, const char *md_name, char *ret_hex, size_t hexcap,
                  uint64_t *ret_size, struct rt_error *err)
{
	const EVP_MD *md = EVP_get_digestbyname(md_name);
	if (!md)
		return rt_error_set(err, -EINVAL, "unknown digest '%s'", md_name);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return rt_error_errno(err, -errno, "open %s", path);
	EVP_MD_CTX *c = EVP_MD_CTX_new();
	char *buf = xmalloc(OUT_FILE_BUF);
	uint64_t size = 0;
	int r = 0;
	if (!c || !EVP_DigestInit_ex(c, md, NULL)) {
		r = rt_error_set(err, -ENOMEM, "%s: cannot initialise a digest", md_name);
		goto out;
	}
	for (;;) {
		if (rt_interrupted) {
			r = rt_error_set(err, -EINTR, "interrupted");
			goto out;
		}
		ssize_t n = out_read(fd, buf, OUT_FILE_BUF, path, err);
		if (n < 0) {
			r = (int)n;
			goto out;
		}
		if (n == 0)
			break;
		EVP_DigestUpdate(c, buf, (size_t)n);
		size += (uint64_t)n;
	}
	md_hex(c, ret_hex, hexcap);
	if (ret_size)
		*ret_size = size;
out:
	EVP_MD_CTX_free(c);
	free(buf);
	close(fd);
	return r;
}

void out_sha256_hex(const void *buf, size_t n, char ret_hex[65])
{
	sha256_hex(buf, n, ret_hex);
}
