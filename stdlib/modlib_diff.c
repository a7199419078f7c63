/*
 * modlib_diff: text_diff (stdlib/module.h), a unified diff of two texts
 * (Myers' algorithm), as the modules show it in --diff.
 */
#include "modlib.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* ==== unified diff ========================================================================= */

struct dline {
	const char *s;
	size_t len; /* with its '\n', if it has one */
};

static struct dline *split_dlines(const char *t, size_t len, size_t *ret_n)
{
	size_t n = 0, cap = 16;
	struct dline *v = xmalloc(cap * sizeof(*v));
	size_t i = 0;
	while (i < len) {
		const char *nl = memchr(t + i, '\n', len - i);
		size_t l = nl ? (size_t)(nl - (t + i)) + 1 : len - i;
		if (n == cap) {
			cap *= 2;
			v = xrealloc(v, cap * sizeof(*v));
		}
		v[n++] = (struct dline){t + i, l};
		i += l;
	}
	*ret_n = n;
	return v;
}

static bool dline_eq(const struct dline *a, const struct dline *b)
{
	return a->len == b->len && !memcmp(a->s, b->s, a->len);
}

/* Limits: beyond them, a diff says how many lines changed instead of which. */
#define DIFF_MAX_LINES 200000
#define DIFF_MAX_D 1000

/*
 * Myers' O(ND) greedy algorithm on a[0..n) and b[0..m), keeping V of every round for the
 * walk back. Writes the edit script into ops (' ', '-', '+'), returns its length, or -1
 * when the distance exceeds DIFF_MAX_D.
 */
static long myers(const struct dline *a, long n, const struct dline *b, long m, char *ops)
{
	long dmax = n + m < DIFF_MAX_D ? n + m : DIFF_MAX_D;
	long **trace = xcalloc((size_t)dmax + 1, sizeof(*trace));
	long found = -1, len = -1;

	for (long d = 0; d <= dmax && found < 0; d++) {
		long *v = xmalloc((size_t)(2 * d + 1) * sizeof(*v));
		long *pv = d ? trace[d - 1] : NULL; /* indexed k + (d - 1) */
		trace[d] = v;
		for (long k = -d; k <= d; k += 2) {
			long x;
			if (d == 0)
				x = 0;
			else if (k == -d || (k != d && pv[k - 1 + d - 1] < pv[k + 1 + d - 1]))
				x = pv[k + 1 + d - 1]; /* down: b[y] inserted */
			else
				x = pv[k - 1 + d - 1] + 1; /* right: a[x] deleted */
			long y = x - k;
			while (x < n && y < m && dline_eq(&a[x], &b[y]))
				x++, y++;
			v[k + d] = x;
			if (x >= n && y >= m) {
				found = d;
				break;
			}
		}
	}
	if (found < 0)
		goto out;

	/* Walk back from (n, m), writing the script from its end. */
	len = 0;
	{
		long x = n, y = m, pos = n + m + found; /* upper bound of the script's length */
		char *rev = xmalloc((size_t)pos + 1);
		long r = 0;
		for (long d = found; d > 0; d--) {
			long *pv = trace[d - 1];
			long k = x - y, pk;
			if (k == -d || (k != d && pv[k - 1 + d - 1] < pv[k + 1 + d - 1]))
				pk = k + 1;
			else
				pk = k - 1;
			long px = pv[pk + d - 1], py = px - pk;
			long mx = pk == k + 1 ? px : px + 1; /* after the one edit */
			while (x > mx) {
				rev[r++] = ' ';
				x--, y--;
			}
			rev[r++] = pk == k + 1 ? '+' : '-';
			x = px, y = py;
		}
		while (x > 0) {
			rev[r++] = ' ';
			x--;
		}
		for (long i = 0; i < r; i++)
			ops[i] = rev[r - 1 - i];
		len = r;
		free(rev);
	}
out:
	for (long d = 0; d <= dmax; d++)
		free(trace[d]);
	free(trace);
	return len;
}

static void add_hunk_line(struct strbuf *sb, char op, const struct dline *l)
{
	sb_addc(sb, op);
	sb_add(sb, l->s, l->len);
	if (!l->len || l->s[l->len - 1] != '\n')
		sb_adds(sb, "\n\\ No newline at end of file\n");
}

static void add_range(struct strbuf *sb, char sign, size_t before, size_t count)
{
	/* GNU diff: an empty range names the line before it */
	sb_addf(sb, "%c%zu", sign, count ? before + 1 : before);
	if (count != 1)
		sb_addf(sb, ",%zu", count);
}

#define DIFF_CONTEXT 3

char *text_diff(const char *label_a, const char *a, size_t alen, const char *label_b, const char *b,
                size_t blen)
{
	struct strbuf sb = STRBUF_INIT;

	if (alen == blen && (!alen || !memcmp(a, b, alen)))
		return sb_detach(&sb);
	if (memchr(a, '\0', alen) || memchr(b, '\0', blen)) {
		sb_addf(&sb, "Binary files %s and %s differ\n", label_a, label_b);
		return sb_detach(&sb);
	}
	size_t na, nb;
	struct dline *la = split_dlines(a, alen, &na);
	struct dline *lb = split_dlines(b, blen, &nb);

	/* Common head and tail need no search. */
	size_t pre = 0, suf = 0;
	while (pre < na && pre < nb && dline_eq(&la[pre], &lb[pre]))
		pre++;
	while (suf < na - pre && suf < nb - pre && dline_eq(&la[na - 1 - suf], &lb[nb - 1 - suf]))
		suf++;
	size_t ma = na - pre - suf, mb = nb - pre - suf;

	sb_addf(&sb, "--- %s\n+++ %s\n", label_a, label_b);
	char *ops = NULL;
	long mlen = -1;
	if (ma + mb <= DIFF_MAX_LINES) {
		ops = xmalloc(pre + suf + ma + mb + 1);
		memset(ops, ' ', pre);
		mlen = myers(la + pre, (long)ma, lb + pre, (long)mb, ops + pre);
	}
	if (mlen < 0) {
		sb_addf(&sb, "@@ -%zu,%zu +%zu,%zu @@ %zu lines changed (too many to show)\n",
		        pre + 1, ma, pre + 1, mb, ma > mb ? ma : mb);
		goto out;
	}
	size_t nops = pre + (size_t)mlen + suf;
	memset(ops + pre + mlen, ' ', suf);

	/* Group the script into hunks with DIFF_CONTEXT lines around each change. */
	size_t i = 0, ai = 0, bi = 0; /* position in ops, and in a and b */
	while (true) {
		size_t c = i;
		while (c < nops && ops[c] == ' ')
			c++;
		if (c == nops)
			break;
		size_t hs = c >= i + DIFF_CONTEXT ? c - DIFF_CONTEXT : i;
		/* lines of a and b before hs */
		for (size_t j = i; j < hs; j++)
			ai++, bi++;
		size_t he = c;
		while (true) {
			while (he < nops && ops[he] != ' ')
				he++;
			size_t run = he;
			while (run < nops && ops[run] == ' ')
				run++;
			if (run < nops && run - he <= 2 * DIFF_CONTEXT) {
				he = run;
				continue;
			}
			he = run - he > DIFF_CONTEXT ? he + DIFF_CONTEXT : run;
			break;
		}
		size_t ca = 0, cb = 0;
		for (size_t j = hs; j < he; j++) {
			ca += ops[j] != '+';
			cb += ops[j] != '-';
		}
		sb_adds(&sb, "@@ ");
		add_range(&sb, '-', ai, ca);
		sb_addc(&sb, ' ');
		add_range(&sb, '+', bi, cb);
		sb_adds(&sb, " @@\n");
		for (size_t j = hs; j < he; j++) {
			if (ops[j] == ' ') {
				add_hunk_line(&sb, ' ', &la[ai]);
				ai++, bi++;
			} else if (ops[j] == '-') {
				add_hunk_line(&sb, '-', &la[ai++]);
			} else {
				add_hunk_line(&sb, '+', &lb[bi++]);
			}
		}
		i = he;
	}
out:
	free(ops);
	free(la);
	free(lb);
	return sb_detach(&sb);
}
