/* source: see source.h. */
#include "source.h"

#include "arena.h"
#include "utf8.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static uint32_t add_file(struct source_map *sm, const char *name)
{
	if (sm->n == sm->cap) {
		sm->cap = sm->cap ? sm->cap * 2 : 8;
		sm->files = xrealloc(sm->files, sm->cap * sizeof(*sm->files));
	}
	struct source_file *f = xcalloc(1, sizeof(*f));
	f->name = xstrdup(name);
	f->text = xcalloc(1, 2);
	sm->files[sm->n] = f;
	return sm->n++;
}

uint32_t source_add(struct source_map *sm, const char *name, const char *text, size_t len)
{
	uint32_t id = add_file(sm, name);
	struct source_file *f = sm->files[id];
	free(f->text);
	f->text = xmalloc(len + 2);
	memcpy(f->text, text, len);
	f->text[len] = f->text[len + 1] = '\0';
	f->len = (uint32_t)len;
	f->loaded = true;
	return id;
}

int source_load(struct source_map *sm, const char *path, uint32_t *reterr_id)
{
	uint32_t id = add_file(sm, path);
	struct source_file *f = sm->files[id];
	/* non-blocking, so a FIFO or device does not hang the open; checked below */
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0)
		goto fail;
	struct stat st;
	if (fstat(fd, &st) < 0)
		goto fail_close;
	if (S_ISDIR(st.st_mode)) {
		errno = EISDIR;
		goto fail_close;
	}
	if (!S_ISREG(st.st_mode)) {
		errno = EINVAL;
		goto fail_close;
	}
	if ((uint64_t)st.st_size > SOURCE_MAX_SIZE) {
		errno = EFBIG;
		goto fail_close;
	}
	/* one byte more than the size, so the read that finds the end needs no growth */
	size_t cap = (size_t)st.st_size + 1, len = 0;
	char *text = xmalloc(cap + 2);
	for (;;) {
		if (len == cap) {
			/* the file grew while we read it: read on, within the limit */
			if (cap >= SOURCE_MAX_SIZE) {
				free(text);
				errno = EFBIG;
				goto fail_close;
			}
			cap = cap ? cap * 2 : 4096;
			text = xrealloc(text, cap + 2);
		}
		ssize_t r = read(fd, text + len, cap - len);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			int e = errno;
			free(text);
			errno = e;
			goto fail_close;
		}
		if (r == 0)
			break;
		len += (size_t)r;
	}
	close(fd);
	text[len] = text[len + 1] = '\0';
	free(f->text);
	f->text = text;
	f->len = (uint32_t)len;
	f->loaded = true;
	return (int)id;

fail_close:;
	int e = errno;
	close(fd);
	errno = e;
fail:
	*reterr_id = id;
	return -errno;
}

struct source_file *source_get(const struct source_map *sm, uint32_t id)
{
	return id < sm->n ? sm->files[id] : NULL;
}

static void index_lines(struct source_file *f)
{
	if (f->lines)
		return;
	/* memchr finds newlines many bytes at a time */
	uint32_t n = 1;
	const char *end = f->text + f->len;
	for (const char *p = f->text; (p = memchr(p, '\n', (size_t)(end - p))); p++)
		n++;
	f->lines = xmalloc(n * sizeof(*f->lines));
	f->lines[0] = 0;
	uint32_t k = 1;
	for (const char *p = f->text; (p = memchr(p, '\n', (size_t)(end - p))); p++)
		f->lines[k++] = (uint32_t)(p - f->text) + 1;
	f->nlines = n;
}

void source_position(struct source_file *f, uint32_t off, uint32_t *ret_line, uint32_t *ret_col)
{
	index_lines(f);
	if (off > f->len)
		off = f->len;
	uint32_t lo = 0, hi = f->nlines; /* find the last line start <= off */
	while (hi - lo > 1) {
		uint32_t mid = lo + (hi - lo) / 2;
		if (f->lines[mid] <= off)
			lo = mid;
		else
			hi = mid;
	}
	*ret_line = lo + 1;
	*ret_col = (uint32_t)utf8_count((const unsigned char *)f->text + f->lines[lo],
	                                off - f->lines[lo]) +
	           1;
}

void source_line(struct source_file *f, uint32_t line, uint32_t *ret_start, uint32_t *ret_len)
{
	index_lines(f);
	if (line < 1)
		line = 1;
	if (line > f->nlines)
		line = f->nlines;
	uint32_t start = f->lines[line - 1];
	uint32_t end = line < f->nlines ? f->lines[line] - 1 : f->len;
	if (end > start && f->text[end - 1] == '\r')
		end--;
	*ret_start = start;
	*ret_len = end - start;
}

void source_map_release(struct source_map *sm)
{
	for (uint32_t i = 0; i < sm->n; i++) {
		free(sm->files[i]->name);
		free(sm->files[i]->text);
		free(sm->files[i]->lines);
		free(sm->files[i]);
	}
	free(sm->files);
	*sm = (struct source_map){0};
}
