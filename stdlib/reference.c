/*
 * reference: stdlib_reference_check in builtins.h, the grammar of an image
 * reference as the distribution project defines it (distribution/reference,
 * which docker, podman, skopeo and buildah share):
 *
 *   reference  := name [ ":" tag ] [ "@" digest ]
 *   name       := [ domain "/" ] component ( "/" component )*     at most 255 bytes
 *   domain     := host [ ":" port ]    a first component with ".", ":" or "localhost"
 *   host       := label ( "." label )*, label := [a-zA-Z0-9] ( [a-zA-Z0-9-]* [a-zA-Z0-9] )?
 *   component  := [a-z0-9]+ ( separator [a-z0-9]+ )*, separator := "." | "_" | "__" | "-"+
 *   tag        := [A-Za-z0-9_] [A-Za-z0-9_.-]{0,127}
 *   digest     := algorithm ":" [A-Za-z0-9=_-]{32,}, algorithm := [a-z0-9]+ ( [+._-] [a-z0-9]+ )*
 */
#include "builtins.h"

#include <ctype.h>
#include <string.h>

static bool lower_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

/* One path component [s, e): NULL, or why not. */
static const char *component(const char *s, const char *e)
{
	if (s == e)
		return "an empty path component (two slashes, or one at an end)";
	for (const char *p = s; p < e; p++)
		if (*p >= 'A' && *p <= 'Z')
			return "a repository name must be lowercase";
	if (!lower_alnum(*s) || !lower_alnum(e[-1]))
		return "each part of a repository name starts and ends with a lowercase letter "
		       "or a digit";
	for (const char *p = s; p < e;) {
		if (lower_alnum(*p)) {
			p++;
			continue;
		}
		const char *q = p;
		while (q < e && !lower_alnum(*q))
			q++;
		size_t n = (size_t)(q - p);
		bool dashes = strspn(p, "-") >= n;
		if (!(dashes || (n == 1 && (*p == '.' || *p == '_')) ||
		      (n == 2 && !strncmp(p, "__", 2))))
			return "a repository name holds lowercase letters, digits and the "
			       "separators "
			       "'.', '_', '__' and '-'";
		p = q;
	}
	return NULL;
}

/* The domain [s, e): NULL, or why not. */
static const char *domain(const char *s, const char *e)
{
	const char *colon = memchr(s, ':', (size_t)(e - s));
	const char *host_end = colon ? colon : e;
	if (colon) {
		if (colon + 1 == e)
			return "a registry port is a number";
		for (const char *p = colon + 1; p < e; p++)
			if (!isdigit((unsigned char)*p))
				return "a registry port is a number";
	}
	const char *p = s;
	while (p < host_end) {
		const char *dot = memchr(p, '.', (size_t)(host_end - p));
		const char *le = dot ? dot : host_end;
		if (le == p || !isalnum((unsigned char)*p) || !isalnum((unsigned char)le[-1]))
			return "a registry host is made of labels of letters, digits and '-'";
		for (const char *q = p; q < le; q++)
			if (!isalnum((unsigned char)*q) && *q != '-')
				return "a registry host is made of labels of letters, digits and "
				       "'-'";
		p = dot ? dot + 1 : host_end;
		if (dot && p == host_end)
			return "a registry host does not end with '.'";
	}
	return NULL;
}

const char *stdlib_reference_check(const char *ref)
{
	if (!ref || !*ref)
		return "an image reference is not empty";
	const char *end = ref + strlen(ref);
	const char *at = strchr(ref, '@');
	if (at) {
		const char *c = strchr(at + 1, ':');
		if (!c || c == at + 1)
			return "a digest is ALGORITHM:HEX, e.g. sha256:...";
		for (const char *p = at + 1; p < c; p++)
			if (!lower_alnum(*p) && !strchr("+._-", *p))
				return "a digest's algorithm is lowercase letters and digits";
		if (strlen(c + 1) < 32 ||
		    strspn(c + 1, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXY"
		                  "Z0123456789=_-") != strlen(c + 1))
			return "a digest's value is at least 32 letters or digits";
		end = at;
	}
	const char *slash = NULL;
	for (const char *p = ref; p < end; p++)
		if (*p == '/')
			slash = p;
	const char *colon = NULL;
	for (const char *p = slash ? slash : ref; p < end; p++)
		if (*p == ':')
			colon = p;
	const char *name_end = colon ? colon : end;
	if (colon) {
		const char *t = colon + 1;
		size_t n = (size_t)(end - t);
		if (!n)
			return "a tag after ':' is not empty";
		if (n > 128)
			return "a tag is at most 128 characters";
		if (!isalnum((unsigned char)*t) && *t != '_')
			return "a tag starts with a letter, a digit or '_'";
		for (const char *p = t; p < end; p++)
			if (!isalnum((unsigned char)*p) && !strchr("_.-", *p))
				return "a tag holds only letters, digits, '_', '.' and '-'";
	}
	if ((size_t)(name_end - ref) > 255)
		return "a repository name is at most 255 characters";
	const char *p = ref;
	const char *first = memchr(ref, '/', (size_t)(name_end - ref));
	if (first) {
		size_t n = (size_t)(first - ref);
		if (memchr(ref, '.', n) || memchr(ref, ':', n) ||
		    (n == 9 && !strncmp(ref, "localhost", 9))) {
			const char *why = domain(ref, first);
			if (why)
				return why;
			p = first + 1;
		}
	}
	while (p <= name_end) {
		const char *s = memchr(p, '/', (size_t)(name_end - p));
		const char *e = s ? s : name_end;
		const char *why = component(p, e);
		if (why)
			return why;
		if (!s)
			break;
		p = s + 1;
	}
	return NULL;
}
