/*
 * mode: the one reading of a file mode, shared by the compiler (check and
 * lowering) and the modules, so what lints is what applies. See
 * stdlib_mode_parse in builtins.h.
 */
#include "builtins.h"

#include <string.h>

static const char *const relative_why =
    "'+', '-', 'X' and copies such as g=u change the file's current mode, which is not known "
    "before the build: use an absolute form such as u=rwx,go=rx or an octal number";

static int octal(const char *s, unsigned *ret, const char **why)
{
	size_t n = strlen(s);
	if (strspn(s, "01234567") != n) {
		*why = "an octal mode has only the digits 0 to 7, e.g. 0644";
		return -1;
	}
	if (n > 4) {
		*why = "an octal mode has at most 4 digits, e.g. 0644 or 4755";
		return -1;
	}
	unsigned m = 0;
	for (; *s; s++)
		m = m * 8 + (unsigned)(*s - '0');
	*ret = m;
	return 0;
}

int stdlib_mode_parse(const char *s, unsigned *ret, const char **why)
{
	static const unsigned shift[3] = {6, 3, 0};               /* u, g, o */
	static const unsigned special[3] = {04000, 02000, 01000}; /* s for u, s for g, t for o */
	if (!s || !*s) {
		*why = "a mode cannot be empty: write e.g. 0644 or u=rw,go=r";
		return -1;
	}
	if (*s >= '0' && *s <= '9')
		return octal(s, ret, why);
	unsigned m = 0, set = 0; /* set: the classes a clause assigned (bit 0 u, 1 g, 2 o) */
	const char *p = s;
	for (;;) {
		unsigned who = 0;
		for (; *p && strchr("ugoa", *p); p++)
			who |= *p == 'u' ? 1 : *p == 'g' ? 2 : *p == 'o' ? 4 : 7;
		if (*p == '+' || *p == '-') {
			*why = relative_why;
			return -1;
		}
		if (*p != '=') {
			*why =
			    "a symbolic mode is clauses such as u=rw,go=r: who (u, g, o, a), '=', "
			    "then permissions (r, w, x, s, t)";
			return -1;
		}
		if (!who) {
			*why =
			    "say whom each clause sets: u, g, o or a, e.g. a=r (a bare '=' would "
			    "depend on the umask)";
			return -1;
		}
		p++;
		unsigned perms = 0, spec = 0;
		for (; *p && *p != ','; p++) {
			if (*p == 'r' || *p == 'w' || *p == 'x') {
				perms |= *p == 'r' ? 4 : *p == 'w' ? 2 : 1;
			} else if (*p == 's' && (who & 3)) {
				spec |= (who & 1 ? 04000 : 0) | (who & 2 ? 02000 : 0);
			} else if (*p == 't' && (who & 4)) {
				spec |= 01000;
			} else if (*p == 's' || *p == 't') {
				*why = "'s' sets user or group ids (u or g), 't' the sticky bit (o "
				       "or a)";
				return -1;
			} else if (strchr("Xugo+-=", *p)) {
				*why = relative_why;
				return -1;
			} else {
				*why = "the permissions of a clause are r, w, x, s and t";
				return -1;
			}
		}
		for (int c = 0; c < 3; c++) {
			if (!(who & (1u << c)))
				continue;
			m &= ~((7u << shift[c]) | special[c]);
			m |= (perms << shift[c]) | (spec & special[c]);
		}
		set |= who;
		if (!*p)
			break;
		p++; /* ',' */
	}
	if (set != 7) {
		*why = "a symbolic mode must set each of u, g and o (e.g. u=rw,go=r, or a=r,u=rw), "
		       "so that it does not depend on the file's current mode";
		return -1;
	}
	*ret = m;
	return 0;
}
