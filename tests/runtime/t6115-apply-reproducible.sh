#!/bin/sh
# tests/runtime/t6115-apply-reproducible.sh: reproducible by default. Two clean builds of
# examples/hello.img (plus a stage that adds a user, and tar, docker-archive, checksum and
# manifest outputs) in other directories, with other cache and work directories, time
# zones, umasks and locales, and no SOURCE_DATE_EPOCH, write byte-identical artifacts: the
# same OCI manifest digest, the same tar sha256. Every time in them is the image time, 0.
# A layer replayed from the stage cache is the one a fresh build writes, whatever the cache
# held: a cache filled with SOURCE_DATE_EPOCH set is not replayed into a build without it.
. "$(dirname "$0")/../lib/test-lib.sh"
. "$TOP/tests/runtime/lib-apply.sh"

# build DIR TZ UMASK LOCALE: a clean build of the image in DIR (its own work and cache)
build()
{
	mkdir -p "$TMP/$1"
	sed -e '/output oci/i\
  output tar "out/hello.tar" {}\
  output docker-archive "out/hello.docker.tar" { tag = "hello:latest" }\
  output checksum "out/SHA256SUMS" {}\
  output manifest "out/manifest.json" {}' \
		-e '/^  config/i\
  stage people {\
    group "staff2" { gid = 2100 }\
    user "app" { uid = 2100, group = "staff2", home = "/home/app" }\
    file "/etc/motd" { content = "built by kiln\\n" }\
  }\
' "$TOP/examples/hello.img" >"$TMP/$1/hello.img"
	(
		cd "$TMP/$1" && umask "$3" && TZ=$2 LC_ALL=$4 LANG=$4 &&
			export TZ LC_ALL LANG &&
			$KILN apply --work-dir="$TMP/$1/work" --cache-dir="${5:-$TMP/$1/cache}" \
				--progress=plain hello.img >"$TMP/out" 2>"$TMP/err"
	) || fail "apply in $1 failed"
}

build first UTC 022 C
sleep 1.1
build second/deeper/path America/New_York 077 C.UTF-8

a=$TMP/first/out b=$TMP/second/deeper/path/out
[ "$(oci_digest "$a/hello")" = "$(oci_digest "$b/hello")" ] ||
	fail "OCI manifest digests differ: $(oci_digest "$a/hello") vs $(oci_digest "$b/hello")"
[ "$(sha256sum <"$a/hello.tar")" = "$(sha256sum <"$b/hello.tar")" ] || fail "tar sha256 differs"
diff -r "$a" "$b" >dist.diff || fail "the artifacts differ: $(head -n 5 dist.diff)"

# every time is the image time: mtimes in the tar, the config's created
tar -tvf "$a/hello.tar" --full-time --utc | awk '{ print $4, $5 }' | sort -u >dates
[ "$(cat dates)" = '1970-01-01 00:00:00' ] || fail "mtimes not the image time: $(head -n 3 dates)"
cfg=$(jq -r '.manifests[0].digest' "$a/hello/index.json" | sed 's/sha256://')
m=$(jq -r '.config.digest' "$a/hello/blobs/sha256/$cfg" | sed 's/sha256://')
[ "$(jq -r '[.created, .history[].created] | unique | join(" ")' "$a/hello/blobs/sha256/$m")" = \
	'1970-01-01T00:00:00Z' ] || fail "config times: $(jq -c '.created' "$a/hello/blobs/sha256/$m")"
[ "$(jq -r '.build_time' "$a/manifest.json")" = 0 ] || fail "manifest build_time not 0"
# the layer of stage greet holds its file and nothing kiln added for the step (policy-rc.d
# in usr/sbin, resolv.conf in etc) or the directories those touched
l1=$(jq -r '.layers[1].digest' "$a/hello/blobs/sha256/$cfg" | sed 's/sha256://')
tar -tzf "$a/hello/blobs/sha256/$l1" >greet.list
[ "$(cat greet.list)" = hello.txt ] || fail "layer of stage greet: $(tr '\n' ' ' <greet.list)"
# the build's date is not in /etc/shadow (password aging is left off)
tar -xOf "$a/hello.tar" etc/shadow | grep '^app:' >shadow.line || fail "no user app in the tar"
expect_match shadow.line '^app:!::0:99999:7:::$' "shadow line: $(cat shadow.line)"

# a cache filled with SOURCE_DATE_EPOCH set: a build without it does not replay those layers
mkdir "$TMP/shared-cache"
SOURCE_DATE_EPOCH=1700000000 build third UTC 022 C "$TMP/shared-cache"
build fourth UTC 022 C "$TMP/shared-cache"
[ "$(oci_digest "$TMP/fourth/out/hello")" = "$(oci_digest "$a/hello")" ] ||
	fail "a build replaying another time's cache differs from a clean one"
# and a build replaying its own time's cache gives the same bytes again
build fourth UTC 022 C "$TMP/shared-cache"
grep -q 'cached' "$TMP/err" || fail "the second build in fourth replayed no stage"
diff -r "$a" "$TMP/fourth/out" >dist.diff || fail "a replayed build differs: $(head -n 5 dist.diff)"
say "ok: two clean builds give byte-identical artifacts"
