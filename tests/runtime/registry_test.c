/*
 * registry_test: image references as the distribution grammar reads them
 * (runtime/registry_client.c): Docker Hub's defaults, registries with ports,
 * tags and digests, and the names refused with a message.
 */
#include "check.h"
#include "registry_client.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static void ok(const char *s, const char *registry, const char *host, const char *repo,
               const char *tag, const char *digest)
{
	struct reg_ref r;
	struct rt_error err = {0};
	int rc = reg_ref_parse(s, &r, &err);
	if (rc < 0)
		fprintf(stderr, "%s: %s\n", s, err.msg);
	CHECK(rc == 0);
	if (rc < 0)
		return;
	CHECK(!strcmp(r.registry, registry));
	CHECK(!strcmp(r.host, host));
	CHECK(!strcmp(r.repo, repo));
	CHECK(tag ? r.tag && !strcmp(r.tag, tag) : !r.tag);
	CHECK(digest ? r.digest && !strcmp(r.digest, digest) : !r.digest);
	reg_ref_release(&r);
}

static void bad(const char *s, const char *words)
{
	struct reg_ref r;
	struct rt_error err = {0};
	CHECK(reg_ref_parse(s, &r, &err) == -EINVAL);
	if (!strstr(err.msg, words))
		fprintf(stderr, "%s: '%s' lacks '%s'\n", s, err.msg, words);
	CHECK(strstr(err.msg, words) != NULL);
}

#define D "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

int main(void)
{
	ok("debian", "docker.io", "registry-1.docker.io", "library/debian", "latest", NULL);
	ok("debian:bookworm", "docker.io", "registry-1.docker.io", "library/debian", "bookworm",
	   NULL);
	ok("docker.io/library/debian:12", "docker.io", "registry-1.docker.io", "library/debian",
	   "12", NULL);
	ok("index.docker.io/me/app", "docker.io", "registry-1.docker.io", "me/app", "latest", NULL);
	ok("me/app:v1.2_x-y", "docker.io", "registry-1.docker.io", "me/app", "v1.2_x-y", NULL);
	ok("ghcr.io/org/team/app:1", "ghcr.io", "ghcr.io", "org/team/app", "1", NULL);
	ok("127.0.0.1:5000/kiln/hello", "127.0.0.1:5000", "127.0.0.1:5000", "kiln/hello", "latest",
	   NULL);
	ok("localhost/a", "localhost", "localhost", "a", "latest", NULL);
	ok("reg:5000/a@" D, "reg:5000", "reg:5000", "a", NULL, D);
	ok("reg:5000/a:1@" D, "reg:5000", "reg:5000", "a", "1", D);
	ok("a__b/c.d-e", "docker.io", "registry-1.docker.io", "a__b/c.d-e", "latest", NULL);

	bad("", "empty");
	bad("Debian", "not a valid repository name component");
	bad("reg:5000/a//b", "not a valid repository name component");
	bad("a/b:", "not a valid tag");
	bad("a/b:-x", "not a valid tag");
	bad("a/b@sha256:abc", "64 lowercase hex");
	bad("a/b@md5:0123", "sha256");
	bad("a/.b", "not a valid repository name component");
	bad("a/b-", "not a valid repository name component");
	bad("re g:5000/a", "not a valid registry host");
	return CHECK_DONE();
}
