/* path: see path.h. */
#include "path.h"

#include "arena.h"
#include "strbuf.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

char *path_normalize(const char *p)
{
	bool abs = p[0] == '/';
	char *copy = xstrdup(p);
	const char **parts = xmalloc((strlen(p) / 2 + 2) * sizeof(*parts));
	size_t n = 0;
	char *save = NULL;
	for (char *s = strtok_r(copy, "/", &save); s; s = strtok_r(NULL, "/", &save)) {
		if (!strcmp(s, "."))
			continue;
		if (!strcmp(s, "..")) {
			if (n > 0 && strcmp(parts[n - 1], ".."))
				n--;
			else if (!abs)
				parts[n++] = s;
			continue;
		}
		parts[n++] = s;
	}
	struct strbuf sb = STRBUF_INIT;
	if (abs)
		sb_addc(&sb, '/');
	for (size_t i = 0; i < n; i++) {
		if (i)
			sb_addc(&sb, '/');
		sb_adds(&sb, parts[i]);
	}
	if (sb.len == 0)
		sb_addc(&sb, '.');
	free(parts);
	free(copy);
	return sb_detach(&sb);
}

char *path_join(const char *dir, const char *p)
{
	if (p[0] == '/' || !dir || !*dir)
		return path_normalize(p);
	size_t nd = strlen(dir), np = strlen(p);
	char buf[512], *j = nd + np + 2 <= sizeof(buf) ? buf : xmalloc(nd + np + 2);
	memcpy(j, dir, nd);
	j[nd] = '/';
	memcpy(j + nd + 1, p, np + 1);
	char *n = path_normalize(j);
	if (j != buf)
		free(j);
	return n;
}

char *path_dirname(const char *p)
{
	const char *slash = strrchr(p, '/');
	if (!slash)
		return xstrdup(".");
	if (slash == p)
		return xstrdup("/");
	char *d = xstrndup(p, (size_t)(slash - p));
	char *n = path_normalize(d);
	free(d);
	return n;
}

/* Split a normalized path into components (modifies s). "." has none. */
static size_t split(char *s, char **parts)
{
	size_t n = 0;
	char *save = NULL;
	if (!strcmp(s, "."))
		return 0;
	for (char *c = strtok_r(s, "/", &save); c; c = strtok_r(NULL, "/", &save))
		parts[n++] = c;
	return n;
}

char *path_relative(const char *base, const char *p)
{
	char *b = path_normalize(base), *q = path_normalize(p);
	if ((b[0] == '/') != (q[0] == '/')) {
		free(b);
		return q;
	}
	char **bp = xmalloc((strlen(b) + 2) * sizeof(*bp));
	char **qp = xmalloc((strlen(q) + 2) * sizeof(*qp));
	size_t nb = split(b, bp), nq = split(q, qp), k = 0;
	while (k < nb && k < nq && !strcmp(bp[k], qp[k]))
		k++;
	struct strbuf sb = STRBUF_INIT;
	for (size_t i = k; i < nb; i++)
		sb_adds(&sb, i > k ? "/.." : "..");
	for (size_t i = k; i < nq; i++) {
		if (sb.len)
			sb_addc(&sb, '/');
		sb_adds(&sb, qp[i]);
	}
	if (!sb.len)
		sb_addc(&sb, '.');
	free(bp);
	free(qp);
	free(b);
	free(q);
	return sb_detach(&sb);
}

char *path_from_root(const char *root, const char *p)
{
	if (p[0] == '/' || !root || !*root)
		return xstrdup(p);
	size_t n = strlen(root);
	while (n > 1 && root[n - 1] == '/')
		n--;
	if (!*p)
		return xstrndup(root, n);
	if (n == 1 && root[0] == '/')
		return xasprintf("/%s", p);
	return xasprintf("%.*s/%s", (int)n, root, p);
}
