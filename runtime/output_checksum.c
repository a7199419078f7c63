/*
 * output checksum: digests of the build's artifacts in the format
 * sha256sum and sha512sum print and check ("HEX  NAME", one line a file).
 * What is summed: args.of (paths relative to the plan's root) or every
 * artifact the build wrote before this output; a directory (an OCI layout)
 * contributes every regular file below it, in sorted order. Names are
 * relative to the checksum file's directory, so `cd DIR && sha256sum -c
 * FILE` checks them. The checksum file itself is never summed. A name with a newline or a backslash
 * is escaped as the coreutils do (a leading backslash on the line).
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

static int sum_path(struct sums *s, const char *path, int depth, struct rt_error *err)
{
	struct stat st;
	if (!strcmp(path, s->self))
		return 0;
	if (lstat(path, &st) < 0)
		return rt_error_errno(err, -errno, "checksum of %s", path);
	if (S_ISREG(st.st_mode)) {
		char hex[129];
		int r = out_hash_file(path, s->algo, hex, sizeof(hex), NULL, err);
		if (r < 0)
			return r;
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
	struct sums s = {.algo = algo, .text = STRBUF_INIT};
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
