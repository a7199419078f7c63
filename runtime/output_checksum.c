/*
 * output checksum: digests of the build's artifacts in the format
 * sha256sum and sha512sum print and check ("HEX  NAME", one line a file).
 * What is summed: args.of (paths relative to the plan's root) or every
 * artifact the build wrote before this output; a directory (an OCI layout)
 * contributes every regular file below it, in sorted order. Names are
 * relative to the checksum file's directory, so `cd DIR && sha256sum -c
 * FILE` checks them. The checksum file itself is never summed. A name with a newline or a backslash
 * is escaped as the coreutils do (a leading backslash on the line).
 *
 * A file this build's outputs just wrote is not read again for a sha256: a file
 * artifact's digest is the sha256 its writer computed while writing it (taken when the
 * file still has the artifact's size), and a blob of an OCI layout written by the build
 * is named by its sha256 (blobs/sha256/HEX). Other files, and sha512, are read.
 */
#include "output_impl.h"

#include "arena.h"
#include "path.h"
#include "strbuf.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

enum { MAX_DEPTH = 64 };

struct sums {
	const struct output_ctx *ctx;
	const char *algo;
	const char *base_dir; /* the checksum file's directory */
	const char *self;     /* the checksum file, never summed (an old one may be there) */
	struct strbuf text;
};

static void add_line(struct sums *s, const char *hex, const char *name)
{
	bool esc = strpbrk(name, "\\\n") != NULL;
	if (esc)
		sb_addc(&s->text, '\\');
	sb_adds(&s->text, hex);
	sb_adds(&s->text, "  ");
	for (const char *c = name; *c; c++) {
		if (esc && *c == '\\')
			sb_adds(&s->text, "\\\\");
		else if (*c == '\n')
			sb_adds(&s->text, "\\n");
		else
			sb_addc(&s->text, *c);
	}
	sb_addc(&s->text, '\n');
}

static int cmp_dirent(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

static bool is_hex64(const char *h)
{
	return strlen(h) == 64 && strspn(h, "0123456789abcdef") == 64;
}

/* The sha256 (hex, borrowed) the build's outputs computed for the file at path (st: its
   lstat), or NULL when it must be read. */
static const char *known_sha256(const struct sums *s, const char *path, const struct stat *st)
{
	if (strcmp(s->algo, "sha256") || !s->ctx->artifacts)
		return NULL;
	size_t i;
	json_t *a;
	json_array_foreach (s->ctx->artifacts, i, a) {
		const char *type = json_string_value(json_object_get(a, "type"));
		const char *p = json_string_value(json_object_get(a, "path"));
		const char *digest = json_string_value(json_object_get(a, "digest"));
		if (!type || !p || !digest || strncmp(digest, "sha256:", 7) ||
		    !is_hex64(digest + 7))
			continue;
		char *full = path_join(s->ctx->local_root, p);
		const char *hit = NULL;
		size_t n = strlen(full);
		if (!strcmp(type, "oci")) {
			/* a blob of the layout: named by its digest */
			const char *rest = !strncmp(path, full, n) ? path + n : NULL;
			if (rest && !strncmp(rest, "/blobs/sha256/", 14) && is_hex64(rest + 14))
				hit = rest + 14;
		} else if (strcmp(type, "registry") && !strcmp(full, path) &&
		           json_integer_value(json_object_get(a, "size")) ==
		               (json_int_t)st->st_size) {
			hit = digest + 7; /* a file artifact: its digest is the file's sha256 */
		}
		free(full);
		if (hit)
			return hit;
	}
	return NULL;
}

static int sum_path(struct sums *s, const char *path, int depth, struct rt_error *err)
{
	struct stat st;
	if (!strcmp(path, s->self))
		return 0;
	if (lstat(path, &st) < 0)
		return rt_error_errno(err, -errno, "checksum of %s", path);
	if (S_ISREG(st.st_mode)) {
		char hex[129];
		const char *known = known_sha256(s, path, &st);
		int r = known ? 0 : out_hash_file(path, s->algo, hex, sizeof(hex), NULL, err);
		if (r < 0)
			return r;
		if (known)
			snprintf(hex, sizeof(hex), "%s", known);
		char *name = path_relative(s->base_dir, path);
		add_line(s, hex, name);
		free(name);
		return 0;
	}
	if (!S_ISDIR(st.st_mode))
		return 0; /* symlinks and special files have no content to sum */
	if (depth >= MAX_DEPTH)
		return rt_error_set(err, -ELOOP, "checksum of %s: too deep", path);
	struct dirent **list;
	int n = scandir(path, &list, NULL, cmp_dirent);
	if (n < 0)
		return rt_error_errno(err, -errno, "read directory %s", path);
	int r = 0;
	for (int i = 0; i < n; i++) {
		const char *name = list[i]->d_name;
		if (r >= 0 && strcmp(name, ".") && strcmp(name, "..")) {
			char *child = xasprintf("%s/%s", path, name);
			r = sum_path(s, child, depth + 1, err);
			free(child);
		}
		free(list[i]);
	}
	free(list);
	return r;
}

int output_checksum(const struct output_ctx *ctx, struct rt_error *err)
{
	char *final = out_final_path(ctx);
	json_t *algo_arg = out_arg(ctx, "algorithm");
	const char *algo = algo_arg ? json_string_value(algo_arg) : "sha256";
	struct sums s = {.ctx = ctx, .algo = algo, .text = STRBUF_INIT};
	struct out_tmp tmp = {0};
	int fd = -1, r = 0;
	char *base_dir = path_dirname(final);
	s.base_dir = base_dir;
	s.self = final;

	if (!algo || (strcmp(algo, "sha256") && strcmp(algo, "sha512"))) {
		r = rt_error_set(err, -EINVAL, "algorithm '%s': expected sha256 or sha512",
		                 algo ? algo : "?");
		goto out;
	}
	json_t *of = out_arg(ctx, "of");
	if (of && !json_is_array(of)) {
		r = rt_error_set(err, -EINVAL, "of: expected a list of paths");
		goto out;
	}
	json_t *list = of ? of : ctx->artifacts;
	size_t i;
	json_t *v;
	json_array_foreach (list, i, v) {
		const char *p = json_string_value(of ? v : json_object_get(v, "path"));
		if (!p) {
			r = rt_error_set(err, -EINVAL, "of: expected a list of paths");
			goto out;
		}
		char *full = path_join(ctx->local_root, p);
		r = sum_path(&s, full, 0, err);
		free(full);
		if (r < 0)
			goto out;
	}
	if ((r = out_tmp_file(&tmp, final, &fd, err)) < 0 ||
	    (r = out_write_all(fd, s.text.buf ? s.text.buf : "", s.text.len, err)) < 0)
		goto out;
	close(fd);
	fd = -1;
	if ((r = out_tmp_commit(&tmp, err)) < 0)
		goto out;
	char hex[65], digest[80];
	out_sha256_hex(s.text.buf ? s.text.buf : "", s.text.len, hex);
	snprintf(digest, sizeof(digest), "sha256:%s", hex);
	out_artifact_add(ctx, "checksum", digest, s.text.len,
	                 json_pack("{s:s}", "algorithm", algo));
out:
	if (fd >= 0)
		close(fd);
	out_tmp_release(&tmp);
	sb_release(&s.text);
	free(base_dir);
	free(final);
	return r;
}

const struct output_impl output_checksum_impl = {"checksum", output_checksum};
