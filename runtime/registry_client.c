/*
 * registry_client: the OCI distribution API on libcurl (registry_client.h).
 * libcurl because it is the HTTP stack every Linux distribution keeps patched:
 * TLS verification against the system's CAs, proxies ($https_proxy), HTTP/1.1
 * keep-alive and redirects (registries send blob GETs to object storage) come
 * with it, and kiln keeps only the protocol: references, auth, uploads,
 * digests.
 */
#include "registry_client.h"

#include "arena.h"
#include "hex.h"
#include "strbuf.h"

#include <ctype.h>
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define MANIFEST_MAX (4 * 1024 * 1024)
#define BODY_MAX (1024 * 1024) /* error bodies, token answers */
#define TRIES 4                /* attempts of a request that failed for a transient cause */

#define ACCEPT_MANIFESTS                                                                           \
	"Accept: application/vnd.oci.image.index.v1+json, "                                        \
	"application/vnd.oci.image.manifest.v1+json, "                                             \
	"application/vnd.docker.distribution.manifest.list.v2+json, "                              \
	"application/vnd.docker.distribution.manifest.v2+json"

struct reg_client {
	CURL *curl;
	char *host;   /* for messages */
	char *base;   /* "https://host/v2/" */
	char *origin; /* "https://host" */
	char *repo;
	char *username; /* NULL: anonymous */
	char *password;
	char *auth; /* the Authorization header line in use, or NULL */
	bool push;
	bool monolithic; /* the registry refused a chunk: whole uploads only */
	const struct reg_opts *o;
	struct reg_stats st;
};

/* ---- references ------------------------------------------------------------------------ */

static bool is_alnum_lower(char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9');
}

/* A path component: [a-z0-9]+ ((\.|_|__|-+)[a-z0-9]+)* */
static bool valid_component(const char *s, size_t n)
{
	if (!n || !is_alnum_lower(s[0]) || !is_alnum_lower(s[n - 1]))
		return false;
	for (size_t i = 0; i < n; i++) {
		char ch = s[i];
		if (is_alnum_lower(ch))
			continue;
		if (ch == '.' || ch == '_' || ch == '-') {
			if (ch == '.' && !is_alnum_lower(s[i + 1]))
				return false;
			if (ch == '_' && s[i + 1] == '_' && s[i + 2] == '_')
				return false;
			continue;
		}
		return false;
	}
	return true;
}

static bool valid_tag(const char *s)
{
	size_t n = strlen(s);
	if (!n || n > 128 || !(isalnum((unsigned char)s[0]) || s[0] == '_'))
		return false;
	for (size_t i = 0; i < n; i++)
		if (!(isalnum((unsigned char)s[i]) || s[i] == '_' || s[i] == '.' || s[i] == '-'))
			return false;
	return true;
}

static bool valid_digest(const char *s)
{
	if (strncmp(s, "sha256:", 7) || strlen(s) != 7 + 64)
		return false;
	for (const char *p = s + 7; *p; p++)
		if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
			return false;
	return true;
}

static bool valid_host(const char *s, size_t n)
{
	if (!n)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!(isalnum((unsigned char)s[i]) || s[i] == '.' || s[i] == '-' || s[i] == ':' ||
		      s[i] == '[' || s[i] == ']'))
			return false;
	return true;
}

int reg_ref_parse(const char *s, struct reg_ref *ret, struct rt_error *err)
{
	memset(ret, 0, sizeof(*ret));
	if (!s || !*s)
		return rt_error_set(err, -EINVAL, "an empty image reference");
	char *buf = xstrdup(s), *name = buf;
	int r = 0;
	char *at = strchr(name, '@');
	if (at) {
		*at = '\0';
		if (!valid_digest(at + 1)) {
			r = rt_error_set(
			    err, -EINVAL,
			    "'%s': the digest after '@' must be sha256: and 64 lowercase "
			    "hex digits",
			    s);
			goto out;
		}
		ret->digest = xstrdup(at + 1);
	}
	char *slash = strrchr(name, '/');
	char *colon = strrchr(slash ? slash : name, ':');
	if (colon) {
		*colon = '\0';
		if (!valid_tag(colon + 1)) {
			r = rt_error_set(
			    err, -EINVAL,
			    "'%s': '%s' is not a valid tag (letters, digits, '_', '.', "
			    "'-'; at most 128)",
			    s, colon + 1);
			goto out;
		}
		ret->tag = xstrdup(colon + 1);
	}
	/* the first component names a registry when it has a '.' or a ':', or is localhost */
	char *first = strchr(name, '/');
	const char *path = name;
	if (first && (memchr(name, '.', (size_t)(first - name)) ||
	              memchr(name, ':', (size_t)(first - name)) ||
	              ((size_t)(first - name) == 9 && !strncmp(name, "localhost", 9)))) {
		if (!valid_host(name, (size_t)(first - name))) {
			r = rt_error_set(err, -EINVAL, "'%s': '%.*s' is not a valid registry host",
			                 s, (int)(first - name), name);
			goto out;
		}
		ret->registry = xstrndup(name, (size_t)(first - name));
		path = first + 1;
	} else {
		ret->registry = xstrdup("docker.io");
	}
	for (const char *p = path;;) {
		const char *e = strchr(p, '/');
		size_t n = e ? (size_t)(e - p) : strlen(p);
		if (!valid_component(p, n)) {
			r = rt_error_set(
			    err, -EINVAL,
			    "'%s': '%.*s' is not a valid repository name component "
			    "(lowercase letters and digits, separated by '.', '_', '__' "
			    "or '-')",
			    s, (int)n, p);
			goto out;
		}
		if (!e)
			break;
		p = e + 1;
	}
	bool hub = !strcmp(ret->registry, "docker.io") || !strcmp(ret->registry, "index.docker.io");
	if (hub) {
		free(ret->registry);
		ret->registry = xstrdup("docker.io");
		ret->host = xstrdup("registry-1.docker.io");
		ret->repo = strchr(path, '/') ? xstrdup(path) : xasprintf("library/%s", path);
	} else {
		ret->host = xstrdup(ret->registry);
		ret->repo = xstrdup(path);
	}
	if (strlen(ret->repo) > 255) {
		r = rt_error_set(err, -EINVAL, "'%s': the repository name is longer than 255", s);
		goto out;
	}
	if (!ret->tag && !ret->digest)
		ret->tag = xstrdup("latest");
out:
	free(buf);
	if (r < 0)
		reg_ref_release(ret);
	return r;
}

void reg_ref_release(struct reg_ref *r)
{
	free(r->registry);
	free(r->host);
	free(r->repo);
	free(r->tag);
	free(r->digest);
	memset(r, 0, sizeof(*r));
}

/* ---- credentials ----------------------------------------------------------------------- */

static char *b64(const void *data, size_t n)
{
	char *out = xmalloc(4 * ((n + 2) / 3) + 1);
	EVP_EncodeBlock((unsigned char *)out, data, (int)n);
	return out;
}

/* "user:password" in an auth file's "auth" field, decoded. */
static bool b64_userpass(const char *in, char **user, char **pass)
{
	size_t n = strlen(in);
	if (!n || n % 4)
		return false;
	unsigned char *out = xmalloc(n);
	int len = EVP_DecodeBlock(out, (const unsigned char *)in, (int)n);
	if (len < 0) {
		free(out);
		return false;
	}
	while (n && in[n - 1] == '=') { /* EVP_DecodeBlock counts the padding */
		n--;
		len--;
	}
	out[len] = '\0';
	char *colon = strchr((char *)out, ':');
	if (!colon) {
		free(out);
		return false;
	}
	*user = xstrndup((char *)out, (size_t)(colon - (char *)out));
	*pass = xstrdup(colon + 1);
	explicit_bzero(out, (size_t)len);
	free(out);
	return true;
}

/* The credentials for registry in the auth file at path: true and *user, *pass. */
static bool auth_file_lookup(const char *path, const char *registry, char **user, char **pass)
{
	json_error_t je;
	json_t *j = json_load_file(path, 0, &je);
	if (!j)
		return false;
	json_t *auths = json_object_get(j, "auths");
	bool hub = !strcmp(registry, "docker.io");
	const char *key;
	json_t *v;
	bool found = false;
	json_object_foreach (auths, key, v) {
		const char *k = key;
		if (!strncmp(k, "https://", 8))
			k += 8;
		else if (!strncmp(k, "http://", 7))
			k += 7;
		size_t kn = strcspn(k, "/");
		bool match = (kn == strlen(registry) && !strncmp(k, registry, kn)) ||
		             (hub && ((kn == 15 && !strncmp(k, "index.docker.io", 15)) ||
		                      (kn == 20 && !strncmp(k, "registry-1.docker.io", 20))));
		if (!match)
			continue;
		const char *a = json_string_value(json_object_get(v, "auth"));
		if (a && b64_userpass(a, user, pass)) {
			found = true;
			break;
		}
		const char *u = json_string_value(json_object_get(v, "username"));
		const char *p = json_string_value(json_object_get(v, "password"));
		if (u && p) {
			*user = xstrdup(u);
			*pass = xstrdup(p);
			found = true;
			break;
		}
	}
	json_decref(j);
	return found;
}

/* The auth files in the order skopeo and podman read them, then docker's. */
static void auth_from_files(struct reg_client *c, const char *registry)
{
	char *paths[4] = {0};
	size_t n = 0;
	const char *e = getenv("REGISTRY_AUTH_FILE");
	if (e && *e)
		paths[n++] = xstrdup(e);
	if ((e = getenv("XDG_RUNTIME_DIR")) && *e)
		paths[n++] = xasprintf("%s/containers/auth.json", e);
	if ((e = getenv("DOCKER_CONFIG")) && *e)
		paths[n++] = xasprintf("%s/config.json", e);
	else if ((e = getenv("HOME")) && *e)
		paths[n++] = xasprintf("%s/.docker/config.json", e);
	for (size_t i = 0; i < n; i++) {
		if (!c->username)
			(void)auth_file_lookup(paths[i], registry, &c->username, &c->password);
		free(paths[i]);
	}
}

/* ---- requests -------------------------------------------------------------------------- */

struct resp {
	long status;
	char *location, *www_auth, *content_type, *docker_digest;
	struct strbuf body;
	size_t max;             /* of body */
	bool too_big;           /* the body went past max */
	int fd;                 /* >= 0: the body goes there instead */
	EVP_MD_CTX *md;         /* with fd: the digest of what is written */
	int64_t written, limit; /* limit >= 0: more than that is refused */
	int werr;               /* a write error on fd (-errno) */
	CURL *curl;             /* the handle, for the status while the body comes */
};

static void resp_reset(struct resp *r)
{
	free(r->location);
	free(r->www_auth);
	free(r->content_type);
	free(r->docker_digest);
	r->location = r->www_auth = r->content_type = r->docker_digest = NULL;
	sb_reset(&r->body);
	r->status = 0;
	r->too_big = false;
	r->written = 0;
	r->werr = 0;
}

static void resp_release(struct resp *r)
{
	resp_reset(r);
	sb_release(&r->body);
}

static char *header_value(const char *line, size_t n, const char *name)
{
	size_t nl = strlen(name);
	if (n <= nl || strncasecmp(line, name, nl) || line[nl] != ':')
		return NULL;
	const char *v = line + nl + 1, *end = line + n;
	while (v < end && (*v == ' ' || *v == '\t'))
		v++;
	while (end > v && (end[-1] == '\r' || end[-1] == '\n' || end[-1] == ' '))
		end--;
	return xstrndup(v, (size_t)(end - v));
}

static size_t on_header(char *buf, size_t size, size_t nitems, void *data)
{
	struct resp *r = data;
	size_t n = size * nitems;
	char *v;
	if (n >= 5 && !strncmp(buf, "HTTP/", 5)) { /* a new response (after a redirect) */
		free(r->location);
		r->location = NULL;
		free(r->www_auth);
		r->www_auth = NULL;
	} else if ((v = header_value(buf, n, "Location"))) {
		free(r->location);
		r->location = v;
	} else if ((v = header_value(buf, n, "WWW-Authenticate"))) {
		free(r->www_auth);
		r->www_auth = v;
	} else if ((v = header_value(buf, n, "Content-Type"))) {
		free(r->content_type);
		r->content_type = v;
	} else if ((v = header_value(buf, n, "Docker-Content-Digest"))) {
		free(r->docker_digest);
		r->docker_digest = v;
	}
	return n;
}

static size_t on_body(char *buf, size_t size, size_t nitems, void *data)
{
	struct resp *r = data;
	size_t n = size * nitems;
	long code = 0;
	curl_easy_getinfo(r->curl, CURLINFO_RESPONSE_CODE, &code);
	if (r->fd >= 0 && code / 100 == 2) {
		if (r->limit >= 0 && r->written + (int64_t)n > r->limit) {
			r->too_big = true;
			return 0;
		}
		for (size_t off = 0; off < n;) {
			ssize_t w = write(r->fd, buf + off, n - off);
			if (w < 0 && errno == EINTR)
				continue;
			if (w < 0) {
				r->werr = -errno;
				return 0;
			}
			off += (size_t)w;
		}
		EVP_DigestUpdate(r->md, buf, n);
		r->written += (int64_t)n;
		return n;
	}
	if (r->body.len + n > r->max) {
		r->too_big = true;
		return 0;
	}
	sb_add(&r->body, buf, n);
	return n;
}

struct body {
	const char *data; /* memory, or */
	int fd;           /* a file (data NULL), from off for len bytes */
	int64_t off, len, pos;
};

static size_t on_read(char *buf, size_t size, size_t nitems, void *data)
{
	struct body *b = data;
	size_t want = size * nitems;
	int64_t left = b->len - b->pos;
	if ((int64_t)want > left)
		want = (size_t)left;
	if (!want)
		return 0;
	if (b->data) {
		memcpy(buf, b->data + b->pos, want);
	} else {
		ssize_t n;
		do
			n = pread(b->fd, buf, want, b->off + b->pos);
		while (n < 0 && errno == EINTR);
		if (n <= 0)
			return CURL_READFUNC_ABORT;
		want = (size_t)n;
	}
	b->pos += (int64_t)want;
	return want;
}

static int on_progress(void *data, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un)
{
	(void)data, (void)dt, (void)dn, (void)ut, (void)un;
	return rt_interrupted ? 1 : 0;
}

static void progress(struct reg_client *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void progress(struct reg_client *c, const char *fmt, ...)
{
	if (!c->o->progress)
		return;
	va_list ap;
	va_start(ap, fmt);
	char *line = xvasprintf(fmt, ap);
	va_end(ap);
	c->o->progress(c->o->progress_data, line);
	free(line);
}

/* The registry's own words from an error body ({"errors":[{"code","message"}]}). */
static char *registry_says(const struct resp *r)
{
	if (!r->body.len)
		return xstrdup("");
	json_error_t je;
	json_t *j = json_loadb(r->body.buf, r->body.len, 0, &je);
	json_t *e0 = json_array_get(json_object_get(j, "errors"), 0);
	const char *code = json_string_value(json_object_get(e0, "code"));
	const char *msg = json_string_value(json_object_get(e0, "message"));
	char *s =
	    code ? xasprintf(" (%s%s%.200s)", code, msg ? ": " : "", msg ? msg : "") : xstrdup("");
	json_decref(j);
	return s;
}

/* A challenge parameter: key="value" in a WWW-Authenticate value. */
static char *challenge_param(const char *h, const char *key)
{
	size_t kn = strlen(key);
	for (const char *p = h; (p = strcasestr(p, key)); p += kn) {
		if (p > h && p[-1] != ' ' && p[-1] != ',')
			continue;
		if (p[kn] != '=')
			continue;
		const char *v = p + kn + 1;
		if (*v == '"') {
			const char *e = strchr(v + 1, '"');
			return e ? xstrndup(v + 1, (size_t)(e - v - 1)) : NULL;
		}
		return xstrndup(v, strcspn(v, ", "));
	}
	return NULL;
}

static int perform(struct reg_client *c, const char *method, const char *url,
                   struct curl_slist *headers, struct body *body, struct resp *r,
                   struct rt_error *err);

/* The bearer-token flow: a token from the challenge's realm for its service and
   scope (and ours), with the credentials when there are some. */
static int fetch_token(struct reg_client *c, const char *challenge, struct rt_error *err)
{
	char *realm = challenge_param(challenge, "realm");
	char *service = challenge_param(challenge, "service");
	char *scope = challenge_param(challenge, "scope");
	int r = 0;
	if (!realm || strncmp(realm, "http", 4)) {
		r = rt_error_set(err, -EPROTO, "%s: a bearer challenge without a usable realm",
		                 c->host);
		goto out;
	}
	struct strbuf url = STRBUF_INIT;
	sb_adds(&url, realm);
	char sep = strchr(realm, '?') ? '&' : '?';
	if (service) {
		char *e = curl_easy_escape(c->curl, service, 0);
		sb_addf(&url, "%cservice=%s", sep, e);
		curl_free(e);
		sep = '&';
	}
	char *own = xasprintf("repository:%s:%s", c->repo, c->push ? "pull,push" : "pull");
	const char *scopes[2] = {own, scope && strcmp(scope, own) ? scope : NULL};
	for (int i = 0; i < 2; i++) {
		if (!scopes[i])
			continue;
		char *e = curl_easy_escape(c->curl, scopes[i], 0);
		sb_addf(&url, "%cscope=%s", sep, e);
		curl_free(e);
		sep = '&';
	}
	free(own);
	struct curl_slist *h = NULL;
	char *basic = NULL;
	if (c->username) {
		char *up = xasprintf("%s:%s", c->username, c->password ? c->password : "");
		char *enc = b64(up, strlen(up));
		explicit_bzero(up, strlen(up));
		free(up);
		basic = xasprintf("Authorization: Basic %s", enc);
		free(enc);
		h = curl_slist_append(h, basic);
	}
	struct resp rs = {.fd = -1, .max = BODY_MAX, .limit = -1};
	free(c->auth);
	c->auth = NULL;
	r = perform(c, "GET", url.buf, h, NULL, &rs, err);
	curl_slist_free_all(h);
	if (basic) {
		explicit_bzero(basic, strlen(basic));
		free(basic);
	}
	sb_release(&url);
	if (r < 0)
		goto out_resp;
	if (rs.status == 401 || rs.status == 403) {
		r = rt_error_set(
		    err, -EACCES, "%s: the token service refused %s (HTTP %ld): %s", c->host,
		    c->username ? "the username and password" : "anonymous access", rs.status,
		    c->username ? "check the username and password"
		                : "give username and password, or log in (auth file)");
		goto out_resp;
	}
	if (rs.status != 200) {
		r = rt_error_set(err, -EPROTO, "%s: the token service answered HTTP %ld", c->host,
		                 rs.status);
		goto out_resp;
	}
	json_error_t je;
	json_t *j = json_loadb(rs.body.buf ? rs.body.buf : "", rs.body.len, 0, &je);
	const char *tok = json_string_value(json_object_get(j, "token"));
	if (!tok)
		tok = json_string_value(json_object_get(j, "access_token"));
	if (!tok || !*tok)
		r = rt_error_set(err, -EPROTO, "%s: the token service's answer has no token",
		                 c->host);
	else
		c->auth = xasprintf("Authorization: Bearer %s", tok);
	json_decref(j);
out_resp:
	resp_release(&rs);
out:
	free(realm);
	free(service);
	free(scope);
	return r;
}

/* Answer a 401's challenge: 0 when there is something new to try, else < 0. */
static int authenticate(struct reg_client *c, const struct resp *r, bool *tried_basic,
                        struct rt_error *err)
{
	const char *ch = r->www_auth ? r->www_auth : "";
	if (!strncasecmp(ch, "Bearer", 6))
		return fetch_token(c, ch, err);
	if (!strncasecmp(ch, "Basic", 5) && c->username && !*tried_basic) {
		*tried_basic = true;
		char *up = xasprintf("%s:%s", c->username, c->password ? c->password : "");
		char *enc = b64(up, strlen(up));
		explicit_bzero(up, strlen(up));
		free(up);
		free(c->auth);
		c->auth = xasprintf("Authorization: Basic %s", enc);
		free(enc);
		return 0;
	}
	if (c->username)
		return rt_error_set(err, -EACCES,
		                    "%s: authentication failed for user '%s' (HTTP 401): check "
		                    "the username and password",
		                    c->host, c->username);
	return rt_error_set(err, -EACCES,
	                    "%s: the registry wants a login (HTTP 401): give username and "
	                    "password, or log in (REGISTRY_AUTH_FILE, ~/.docker/config.json)",
	                    c->host);
}

static bool transient_curl(CURLcode cc)
{
	switch (cc) {
	case CURLE_COULDNT_CONNECT:
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_OPERATION_TIMEDOUT:
	case CURLE_RECV_ERROR:
	case CURLE_SEND_ERROR:
	case CURLE_GOT_NOTHING:
	case CURLE_PARTIAL_FILE:
		return true;
	default:
		return false;
	}
}

/* One HTTP exchange, no retries, no auth. */
static int perform(struct reg_client *c, const char *method, const char *url,
                   struct curl_slist *headers, struct body *body, struct resp *r,
                   struct rt_error *err)
{
	CURL *h = c->curl;
	char ebuf[CURL_ERROR_SIZE] = "";
	resp_reset(r);
	r->curl = h;
	if (r->md)
		EVP_DigestInit_ex(r->md, EVP_sha256(), NULL);
	if (r->fd >= 0 && (ftruncate(r->fd, 0) < 0 || lseek(r->fd, 0, SEEK_SET) < 0))
		return rt_error_errno(err, -errno, "%s: cannot reset the download", c->host);
	curl_easy_reset(h);
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, ebuf);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, 15L);
	curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, 60L);
	curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(h, CURLOPT_HEADERDATA, r);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, r);
	curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, on_progress);
	curl_easy_setopt(h, CURLOPT_USERAGENT, "kiln");
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, c->o->insecure ? "http,https" : "https");
	curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, c->o->insecure ? "http,https" : "https");
	if (c->o->ca_file)
		curl_easy_setopt(h, CURLOPT_CAINFO, c->o->ca_file);
	if (!strcmp(method, "HEAD")) {
		curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
	} else if (!strcmp(method, "GET")) {
		/* blobs are often served by a redirect to storage; never with our token */
		curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 1L);
		curl_easy_setopt(h, CURLOPT_UNRESTRICTED_AUTH, 0L);
	} else {
		curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
		curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
		curl_easy_setopt(h, CURLOPT_READFUNCTION, on_read);
		struct body empty = {.data = "", .len = 0};
		if (!body)
			body = &empty;
		body->pos = 0;
		curl_easy_setopt(h, CURLOPT_READDATA, body);
		curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE, (curl_off_t)body->len);
	}
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
	c->st.requests++;
	CURLcode cc = curl_easy_perform(h);
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &r->status);
	if (rt_interrupted)
		return rt_error_set(err, -EINTR, "%s: interrupted", c->host);
	if (r->werr)
		return rt_error_errno(err, r->werr, "%s: cannot write the download", c->host);
	if (r->too_big)
		return rt_error_set(err, -EFBIG, "%s: %s %s: the answer is larger than expected",
		                    c->host, method, url + strlen(c->origin));
	if (cc != CURLE_OK) {
		int code = transient_curl(cc) ? -EAGAIN : -EIO;
		if (cc == CURLE_PEER_FAILED_VERIFICATION || cc == CURLE_SSL_CACERT_BADFILE ||
		    cc == CURLE_SSL_CONNECT_ERROR)
			return rt_error_set(err, -EPROTO,
			                    "%s: TLS: %s (give the registry's CA with ca_file, or "
			                    "insecure = true for a plain-HTTP registry)",
			                    c->host, *ebuf ? ebuf : curl_easy_strerror(cc));
		if (cc == CURLE_UNSUPPORTED_PROTOCOL)
			return rt_error_set(err, -EPROTO,
			                    "%s: refused to follow a redirect to plain HTTP (%s)",
			                    c->host, *ebuf ? ebuf : curl_easy_strerror(cc));
		return rt_error_set(err, code, "%s: %s", c->host,
		                    *ebuf ? ebuf : curl_easy_strerror(cc));
	}
	return 0;
}

/*
 * A request with auth (a 401 answered once per kind of challenge) and retries of
 * transient failures (no connection, 5xx, 429) with backoff when retry is set.
 */
static int request(struct reg_client *c, const char *method, const char *url,
                   const char *const *extra, struct body *body, bool retry, struct resp *r,
                   struct rt_error *err)
{
	bool tried_basic = false, tried_token = false;
	int delay_ms = 200;
	for (int attempt = 1;; attempt++) {
		struct curl_slist *h = curl_slist_append(NULL, "Expect:");
		for (const char *const *e = extra; e && *e; e++)
			h = curl_slist_append(h, *e);
		if (c->auth)
			h = curl_slist_append(h, c->auth);
		int rc = perform(c, method, url, h, body, r, err);
		curl_slist_free_all(h);
		bool again = false;
		if (rc == -EAGAIN)
			again = true;
		else if (rc < 0)
			return rc;
		else if (r->status == 401) {
			bool bearer = r->www_auth && !strncasecmp(r->www_auth, "Bearer", 6);
			if (bearer && tried_token)
				return rt_error_set(
				    err, -EACCES,
				    "%s: %s %s: the registry refused the token (HTTP 401)%s",
				    c->host, method, url + strlen(c->origin),
				    c->username ? ": check the username and password" : "");
			if (bearer)
				tried_token = true;
			if ((rc = authenticate(c, r, &tried_basic, err)) < 0)
				return rc;
			attempt--;
			continue;
		} else if (r->status >= 500 || r->status == 429) {
			again = true;
			rc = rt_error_set(err, -EAGAIN, "%s: %s %s: HTTP %ld", c->host, method,
			                  url + strlen(c->origin), r->status);
		}
		if (!again)
			return 0;
		if (!retry)
			return -EIO;
		if (attempt >= TRIES) {
			char msg[sizeof(err->msg)];
			snprintf(msg, sizeof(msg), "%s", err->msg);
			return rt_error_set(err, -EIO, "%s (%d attempts)", msg, attempt);
		}
		progress(c, "%s; trying again in %d ms", err->msg, delay_ms);
		struct timespec ts = {delay_ms / 1000, (long)(delay_ms % 1000) * 1000000L};
		while (nanosleep(&ts, &ts) < 0 && errno == EINTR && !rt_interrupted)
			;
		if (rt_interrupted)
			return rt_error_set(err, -EINTR, "%s: interrupted", c->host);
		delay_ms *= 3;
	}
}

static int unexpected(struct reg_client *c, const char *what, const struct resp *r,
                      struct rt_error *err)
{
	char *says = registry_says(r);
	int code = r->status == 403 ? -EACCES : r->status == 404 ? -ENOENT : -EPROTO;
	rt_error_set(err, code, "%s/%s: %s: HTTP %ld%s%s", c->host, c->repo, what, r->status, says,
	             r->status == 403 ? ": access denied (check the credentials' rights)" : "");
	free(says);
	return code;
}

/* ---- the client ------------------------------------------------------------------------ */

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static void curl_init(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
}

int reg_open(const struct reg_ref *ref, const struct reg_opts *o, struct reg_client **ret,
             struct rt_error *err)
{
	pthread_once(&curl_once, curl_init);
	struct reg_client *c = xcalloc(1, sizeof(*c));
	c->curl = curl_easy_init();
	if (!c->curl) {
		free(c);
		return rt_error_set(err, -ENOMEM, "cannot start libcurl");
	}
	c->o = o;
	c->push = o->push;
	c->host = xstrdup(ref->host);
	c->origin = xasprintf("%s://%s", o->insecure ? "http" : "https", ref->host);
	c->base = xasprintf("%s/v2/%s/", c->origin, ref->repo);
	c->repo = xstrdup(ref->repo);
	if (o->username && *o->username) {
		c->username = xstrdup(o->username);
		c->password = xstrdup(o->password ? o->password : "");
	} else {
		auth_from_files(c, ref->registry);
	}
	if (o->ca_file && access(o->ca_file, R_OK) < 0) {
		int r = rt_error_errno(err, -errno, "ca_file '%s'", o->ca_file);
		reg_close(c);
		return r;
	}
	*ret = c;
	return 0;
}

void reg_close(struct reg_client *c)
{
	if (!c)
		return;
	if (c->curl)
		curl_easy_cleanup(c->curl);
	if (c->password) {
		explicit_bzero(c->password, strlen(c->password));
		free(c->password);
	}
	if (c->auth) {
		explicit_bzero(c->auth, strlen(c->auth));
		free(c->auth);
	}
	free(c->username);
	free(c->host);
	free(c->origin);
	free(c->base);
	free(c->repo);
	free(c);
}

const struct reg_stats *reg_stats(const struct reg_client *c)
{
	return &c->st;
}

/* An absolute URL for a Location header (absolute, or a path on the registry). */
static char *absolute(struct reg_client *c, const char *loc)
{
	if (!strncmp(loc, "http://", 7) || !strncmp(loc, "https://", 8))
		return xstrdup(loc);
	return xasprintf("%s%s%s", c->origin, loc[0] == '/' ? "" : "/", loc);
}

int reg_blob_exists(struct reg_client *c, const char *digest, struct rt_error *err)
{
	char *url = xasprintf("%sblobs/%s", c->base, digest);
	struct resp r = {.fd = -1, .max = BODY_MAX, .limit = -1};
	int rc = request(c, "HEAD", url, NULL, NULL, true, &r, err);
	if (rc >= 0) {
		if (r.status == 200)
			rc = 1;
		else if (r.status == 404)
			rc = 0;
		else
			rc = unexpected(c, "HEAD blob", &r, err);
	}
	resp_release(&r);
	free(url);
	return rc;
}

/* Cancel an upload session the registry opened (best effort). */
static void cancel_upload(struct reg_client *c, const char *loc)
{
	struct rt_error e;
	char *u = absolute(c, loc);
	struct resp r = {.fd = -1, .max = BODY_MAX, .limit = -1};
	(void)request(c, "DELETE", u, NULL, NULL, false, &r, &e);
	resp_release(&r);
	free(u);
}

int reg_blob_mount(struct reg_client *c, const char *digest, const char *from_repo,
                   struct rt_error *err)
{
	char *url = xasprintf("%sblobs/uploads/?mount=%s&from=%s", c->base, digest, from_repo);
	struct resp r = {.fd = -1, .max = BODY_MAX, .limit = -1};
	struct body none = {.data = "", .len = 0};
	int rc = request(c, "POST", url, NULL, &none, true, &r, err);
	if (rc >= 0) {
		if (r.status == 201)
			rc = 1;
		else if (r.status == 202) {
			if (r.location)
				cancel_upload(c, r.location);
			rc = 0;
		} else
			rc = unexpected(c, "mount blob", &r, err);
	}
	if (rc == 1)
		c->st.blobs_mounted++;
	resp_release(&r);
	free(url);
	return rc;
}

static int64_t chunk_size(void)
{
	const char *e = getenv("KILN_REGISTRY_CHUNK_SIZE");
	long long v = e && *e ? atoll(e) : 0;
	return v > 0 ? (int64_t)v : 32LL * 1024 * 1024;
}

/* One attempt at uploading: POST, then PUT (monolithic) or PATCHes and a PUT. */
static int upload_once(struct reg_client *c, const char *digest, int fd, int64_t size,
                       struct rt_error *err)
{
	char *url = xasprintf("%sblobs/uploads/", c->base);
	char *loc = NULL;
	struct resp r = {.fd = -1, .max = BODY_MAX, .limit = -1};
	struct body none = {.data = "", .len = 0};
	int rc = request(c, "POST", url, NULL, &none, false, &r, err);
	free(url);
	if (rc < 0)
		goto out;
	if (r.status != 202 || !r.location) {
		rc = unexpected(c, "start an upload", &r, err);
		goto out;
	}
	loc = absolute(c, r.location);
	int64_t chunk = chunk_size();
	int64_t off = 0;
	if (size > chunk && !c->monolithic) {
		while (off < size) {
			int64_t n = size - off < chunk ? size - off : chunk;
			char range[96];
			snprintf(range, sizeof(range), "Content-Range: %lld-%lld", (long long)off,
			         (long long)(off + n - 1));
			const char *hdr[] = {"Content-Type: application/octet-stream", range, NULL};
			struct body b = {.fd = fd, .off = off, .len = n};
			if ((rc = request(c, "PATCH", loc, hdr, &b, false, &r, err)) < 0)
				goto out;
			if (off == 0 && (r.status == 405 || r.status == 501 || r.status == 416)) {
				/* no chunked uploads here: this upload, and the next, in one piece
				 */
				progress(
				    c,
				    "%s: chunked uploads refused (HTTP %ld): uploading whole blobs",
				    c->host, r.status);
				c->monolithic = true;
				rc = -EAGAIN;
				rt_error_set(err, rc, "%s: chunked uploads refused", c->host);
				goto out;
			}
			if (r.status != 202 || !r.location) {
				rc = unexpected(c, "upload a chunk", &r, err);
				goto out;
			}
			free(loc);
			loc = absolute(c, r.location);
			off += n;
			c->st.bytes_up += (uint64_t)n;
		}
	}
	char *put = xasprintf("%s%cdigest=%s", loc, strchr(loc, '?') ? '&' : '?', digest);
	struct body b = {.fd = fd, .off = off, .len = size - off};
	const char *hdr[] = {"Content-Type: application/octet-stream", NULL};
	rc = request(c, "PUT", put, hdr, &b, false, &r, err);
	free(put);
	if (rc >= 0 && r.status != 201)
		rc = unexpected(c, "finish an upload", &r, err);
	if (rc >= 0)
		c->st.bytes_up += (uint64_t)(size - off);
out:
	if (rc < 0 && loc && rc != -EAGAIN)
		cancel_upload(c, loc);
	free(loc);
	resp_release(&r);
	return rc;
}

int reg_blob_upload(struct reg_client *c, const char *digest, const char *path,
                    struct rt_error *err)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return rt_error_errno(err, -errno, "open %s", path);
	struct stat st;
	if (fstat(fd, &st) < 0) {
		int r = rt_error_errno(err, -errno, "stat %s", path);
		close(fd);
		return r;
	}
	int rc = 0, delay_ms = 200;
	for (int attempt = 1;; attempt++) {
		bool was = c->monolithic;
		rc = upload_once(c, digest, fd, (int64_t)st.st_size, err);
		if (rc == -EAGAIN && c->monolithic && !was) {
			attempt--; /* not a failure: the same upload in one piece */
			continue;
		}
		if (rc >= 0 || (rc != -EAGAIN && rc != -EIO) || attempt >= TRIES || rt_interrupted)
			break;
		progress(c, "%s: upload of %.19s failed (%s); trying again", c->host, digest,
		         err->msg);
		struct timespec ts = {delay_ms / 1000, (long)(delay_ms % 1000) * 1000000L};
		nanosleep(&ts, NULL);
		delay_ms *= 3;
	}
	close(fd);
	if (rc >= 0)
		c->st.blobs_uploaded++;
	else if (rc == -EIO || rc == -EAGAIN) {
		char msg[sizeof(err->msg)];
		snprintf(msg, sizeof(msg), "%s", err->msg);
		rt_error_set(err, -EIO, "upload of %.19s...: %s (%d attempts)", digest, msg, TRIES);
	}
	return rc < 0 ? rc : 0;
}

int reg_blob_fetch(struct reg_client *c, const char *digest, int64_t size, const char *dest,
                   struct rt_error *err)
{
	if (!valid_digest(digest))
		return rt_error_set(err, -EINVAL, "%s/%s: unsupported digest '%.80s'", c->host,
		                    c->repo, digest);
	int fd = open(dest, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return rt_error_errno(err, -errno, "create %s", dest);
	char *url = xasprintf("%sblobs/%s", c->base, digest);
	struct resp r = {.fd = fd, .max = BODY_MAX, .limit = size};
	r.md = EVP_MD_CTX_new();
	int rc = request(c, "GET", url, NULL, NULL, true, &r, err);
	if (rc >= 0 && r.status != 200)
		rc = unexpected(c, "GET blob", &r, err);
	if (rc >= 0 && size >= 0 && r.written != size)
		rc = rt_error_set(err, -EBADMSG,
		                  "%s/%s: blob %.19s...: %lld bytes, not the %lld its descriptor "
		                  "says: refused",
		                  c->host, c->repo, digest, (long long)r.written, (long long)size);
	if (rc >= 0) {
		unsigned char sum[32];
		unsigned len = 0;
		char hex[65];
		EVP_DigestFinal_ex(r.md, sum, &len);
		hex_encode(sum, 32, hex);
		if (strcmp(hex, digest + 7))
			rc = rt_error_set(err, -EBADMSG,
			                  "%s/%s: blob %.19s... does not match its digest (got "
			                  "sha256:%.12s...): refused",
			                  c->host, c->repo, digest, hex);
	}
	if (rc == -EFBIG)
		rc =
		    rt_error_set(err, -EBADMSG,
		                 "%s/%s: blob %.19s... is larger than its descriptor says: refused",
		                 c->host, c->repo, digest);
	if (rc >= 0 && fsync(fd) < 0)
		rc = rt_error_errno(err, -errno, "fsync %s", dest);
	if (close(fd) < 0 && rc >= 0)
		rc = rt_error_errno(err, -errno, "close %s", dest);
	if (rc < 0)
		(void)unlink(dest);
	else {
		c->st.blobs_fetched++;
		c->st.bytes_down += (uint64_t)r.written;
	}
	EVP_MD_CTX_free(r.md);
	r.md = NULL;
	resp_release(&r);
	free(url);
	return rc < 0 ? rc : 0;
}

int reg_manifest_put(struct reg_client *c, const char *reference, const char *media_type,
                     const char *data, size_t len, struct rt_error *err)
{
	char *url = xasprintf("%smanifests/%s", c->base, reference);
	char *ct = xasprintf("Content-Type: %s", media_type);
	const char *hdr[] = {ct, NULL};
	struct body b = {.data = data, .len = (int64_t)len};
	struct resp r = {.fd = -1, .max = BODY_MAX, .limit = -1};
	int rc = request(c, "PUT", url, hdr, &b, true, &r, err);
	if (rc >= 0 && r.status != 201)
		rc = unexpected(c, "PUT manifest", &r, err);
	resp_release(&r);
	free(ct);
	free(url);
	return rc < 0 ? rc : 0;
}

int reg_manifest_get(struct reg_client *c, const char *reference, char **ret_data, size_t *ret_len,
                     char **ret_media_type, char ret_digest[72], struct rt_error *err)
{
	char *url = xasprintf("%smanifests/%s", c->base, reference);
	const char *hdr[] = {ACCEPT_MANIFESTS, NULL};
	struct resp r = {.fd = -1, .max = MANIFEST_MAX, .limit = -1};
	int rc = request(c, "GET", url, hdr, NULL, true, &r, err);
	free(url);
	if (rc >= 0 && r.status == 404) {
		rc = rt_error_set(err, -ENOENT, "%s/%s: no manifest '%s' (HTTP 404)", c->host,
		                  c->repo, reference);
	} else if (rc >= 0 && r.status != 200)
		rc = unexpected(c, "GET manifest", &r, err);
	if (rc < 0) {
		resp_release(&r);
		return rc;
	}
	char hex[65];
	sha256_hex(r.body.buf ? r.body.buf : "", r.body.len, hex);
	snprintf(ret_digest, 72, "sha256:%s", hex);
	if (!strncmp(reference, "sha256:", 7) && strcmp(reference, ret_digest)) {
		rc = rt_error_set(err, -EBADMSG,
		                  "%s/%s: the manifest %.19s... does not match its digest: refused",
		                  c->host, c->repo, reference);
	} else if (r.docker_digest && !strncmp(r.docker_digest, "sha256:", 7) &&
	           strcmp(r.docker_digest, ret_digest)) {
		rc = rt_error_set(err, -EBADMSG,
		                  "%s/%s: the manifest of '%s' does not match the digest the "
		                  "registry names (%.19s...): refused",
		                  c->host, c->repo, reference, r.docker_digest);
	}
	if (rc < 0) {
		resp_release(&r);
		return rc;
	}
	*ret_len = r.body.len;
	*ret_data = r.body.buf ? r.body.buf : xstrdup("");
	r.body.buf = NULL;
	r.body.len = r.body.cap = 0;
	char *mt = r.content_type ? xstrndup(r.content_type, strcspn(r.content_type, ";")) : NULL;
	*ret_media_type = mt ? mt : xstrdup("");
	resp_release(&r);
	return 0;
}

/* ---- blobs known to be on a registry ------------------------------------------------- */

static char *known_path(const char *cache_dir, const char *host)
{
	char *h = xstrdup(host);
	for (char *p = h; *p; p++)
		if (!isalnum((unsigned char)*p) && *p != '.' && *p != '-')
			*p = '_';
	char *path = xasprintf("%s/registry/known/%s.json", cache_dir, h);
	free(h);
	return path;
}

char *reg_known_repo(const char *cache_dir, const char *host, const char *digest)
{
	if (!cache_dir)
		return NULL;
	char *path = known_path(cache_dir, host);
	json_error_t je;
	json_t *j = json_load_file(path, 0, &je);
	free(path);
	const char *repo = json_string_value(json_object_get(j, digest));
	char *ret = repo ? xstrdup(repo) : NULL;
	json_decref(j);
	return ret;
}

void reg_known_add(const char *cache_dir, const char *host, const char *repo, json_t *digests)
{
	if (!cache_dir || !json_array_size(digests))
		return;
	char *path = known_path(cache_dir, host);
	char *dir = xasprintf("%s/registry/known", cache_dir);
	char *reg = xasprintf("%s/registry", cache_dir);
	(void)mkdir(cache_dir, 0755);
	(void)mkdir(reg, 0755);
	(void)mkdir(dir, 0755);
	json_error_t je;
	json_t *j = json_load_file(path, 0, &je);
	if (!json_is_object(j)) {
		json_decref(j);
		j = json_object();
	}
	size_t i;
	json_t *d;
	json_array_foreach (digests, i, d)
		if (json_is_string(d))
			json_object_set_new(j, json_string_value(d), json_string(repo));
	char *tmp = xasprintf("%s.%d.tmp", path, (int)getpid());
	if (json_dump_file(j, tmp, JSON_SORT_KEYS | JSON_COMPACT) == 0) {
		if (rename(tmp, path) < 0)
			(void)unlink(tmp);
	} else {
		(void)unlink(tmp);
	}
	free(tmp);
	json_decref(j);
	free(reg);
	free(dir);
	free(path);
}
