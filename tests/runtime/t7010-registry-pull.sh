#!/bin/sh
# tests/runtime/t7010-registry-pull.sh: the registry() base against a real registry (plain
# HTTP). A base that skopeo copy put there (an OCI layout kiln baked, with a whiteout in its
# second layer) is pulled by tag, by digest pin and through an OCI index naming it for
# linux/amd64 and linux/arm64; stages build on it, its config (cmd, env, labels) under the
# app's own; its blobs are cached by digest; when the tag moves, the stage cache does not
# replay stages built on the old image. With the
# registry gone, a build that needs the base again still works from the cache (tag: the
# digest it last resolved to). A layer whose bytes the registry serves tampered is refused
# and nothing of it is cached; so is a manifest whose bytes do not match its digest pin.
. "$(dirname "$0")/../lib/test-lib.sh"
. "$TOP/tests/runtime/lib-apply.sh"
. "$TOP/tests/runtime/lib-registry.sh"
need skopeo
need curl
need umoci
SOURCE_DATE_EPOCH=1700000000
export SOURCE_DATE_EPOCH

registry_start plain

# the base: two stages, the second removes a file of the first (a whiteout)
cat >base.img <<'IMG'
image base from busybox() {
  stage one {
    file "/etc/base-release" { content = "base 1\n" }
    file "/etc/gone" { content = "removed by stage two\n" }
  }
  stage two { file "/etc/gone" { state = absent } }
  config {
    cmd = ["cat", "/etc/base-release"]
    env = { BASE = "1", SHARED = "base" }
    labels = { "org.example.base" = "yes" }
  }
  output oci "dist/base" { tag = "base:1" }
}
IMG
kapply base.img
expect_rc 0
skopeo copy -q --dest-tls-verify=false oci:dist/base:base:1 "docker://$REG/base/bb:1" ||
	fail "skopeo copy to the registry failed"
digest=$(skopeo inspect --tls-verify=false "docker://$REG/base/bb:1" | jq -r .Digest)

app()
{
	cat >app.img <<IMG
param registry: string = "127.0.0.1:5000"
image app from registry("\${registry}/$1", insecure = true) {
  stage app {
    shell "test -f /etc/base-release && test ! -e /etc/gone" {}
    file "/app.txt" { content = "$2\n" }
  }
  config { env = { APP = "1", SHARED = "app" } }
  output oci "dist/app" { tag = "app:1" }
}
IMG
}

app "base/bb:1" one
kapply -var registry=$REG app.img
expect_rc 0
expect_match err "resolves to $digest" "the tag's digest is not shown"
mkdir u1 && unpack dist/app app:1 u1
[ "$(cat u1/rootfs/etc/base-release)" = "base 1" ] || fail "the base's file is missing"
[ ! -e u1/rootfs/etc/gone ] || fail "the whiteout was not applied"
[ -f u1/rootfs/app.txt ] || fail "the stage's file is missing"
# the base image's config, under the app's own
skopeo inspect --config oci:dist/app:app:1 >config.json || fail "skopeo inspect --config failed"
[ "$(jq -c .config.Cmd config.json)" = '["cat","/etc/base-release"]' ] ||
	fail "Cmd not inherited: $(jq -c .config config.json)"
[ "$(jq -c .config.Env config.json)" = '["APP=1","BASE=1","SHARED=app"]' ] ||
	fail "Env not merged: $(jq -c .config.Env config.json)"
[ "$(jq -r '.config.Labels["org.example.base"]' config.json)" = yes ] ||
	fail "Labels not inherited: $(jq -c .config config.json)"
for l in $(skopeo inspect --tls-verify=false "docker://$REG/base/bb:1" | jq -r '.Layers[]'); do
	[ -f "$CACHE/registry/blobs/sha256/${l#sha256:}" ] || fail "layer $l is not cached"
done

# the same again: the stage is replayed from the stage cache
kapply -var registry=$REG app.img
expect_rc 0
expect_match err "cached \\(" "an unchanged base did not replay the stage"

# the tag moves to another image: the stage runs again on it
sed 's/base 1/base 2/' base.img >base2.img
kapply base2.img
expect_rc 0
skopeo copy -q --dest-tls-verify=false oci:dist/base:base:1 "docker://$REG/base/bb:1" ||
	fail "skopeo copy of the second base failed"
kapply -var registry=$REG app.img
expect_rc 0
expect_no_match err "cached \\(" "the stage was replayed on the old base"
rm -rf u1 && mkdir u1 && unpack dist/app app:1 u1
[ "$(cat u1/rootfs/etc/base-release)" = "base 2" ] || fail "the moved tag was not followed"
kapply base.img
expect_rc 0
skopeo copy -q --dest-tls-verify=false oci:dist/base:base:1 "docker://$REG/base/bb:1" ||
	fail "skopeo copy of the first base again failed"
[ "$(skopeo inspect --tls-verify=false "docker://$REG/base/bb:1" | jq -r .Digest)" = "$digest" ] ||
	fail "the first base came back with another digest"

# a digest pin
app "base/bb@$digest" two
kapply -var registry=$REG app.img
expect_rc 0

# an OCI index naming the image for two platforms
mdigest=${digest#sha256:}
msize=$(curl -sf -H 'Accept: application/vnd.oci.image.manifest.v1+json' \
	"http://$REG/v2/base/bb/manifests/$digest" | wc -c)
cat >index.json <<JSON
{"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json", "manifests": [
 {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": "$digest", "size": $msize,
  "platform": {"os": "linux", "architecture": "arm64"}},
 {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": "$digest", "size": $msize,
  "platform": {"os": "linux", "architecture": "amd64"}}]}
JSON
curl -sf -X PUT -H 'Content-Type: application/vnd.oci.image.index.v1+json' \
	--data-binary @index.json "http://$REG/v2/base/bb/manifests/multi" >/dev/null ||
	fail "cannot put the index"
app "base/bb:multi" three
kapply -var registry=$REG app.img
expect_rc 0
expect_match err "$mdigest, 3 layers" "the index was not resolved to the manifest"

# offline: the registry is gone; the base comes from the cache
registry_stop
app "base/bb:1" four
kapply -var registry=$REG app.img
expect_rc 0
expect_match err "unreachable" "no word that the cached digest was used"
app "base/bb@$digest" five
kapply -var registry=$REG app.img
expect_rc 0
app "base/bb:never-pulled" six
kapply -var registry=$REG app.img
expect_rc 1
expect_match err "registry\(\): 127.0.0.1:[0-9]+/base/bb:never-pulled: .*connect" "the error does not say what failed"

# a tampered layer: refused, nothing of it cached
registry_restart
layer=$(skopeo inspect --tls-verify=false "docker://$REG/base/bb:1" | jq -r '.Layers[0]')
data=$(registry_blob_path "$layer")
[ -f "$data" ] || fail "no blob file at $data"
printf 'X' | dd of="$data" bs=1 seek=100 conv=notrunc 2>/dev/null
CACHE=$TMP/cache2
app "base/bb:1" seven
kapply -var registry=$REG app.img
expect_rc 1
expect_match err "does not match its digest" "a tampered layer was not refused"
[ ! -e "$CACHE/registry/blobs/sha256/${layer#sha256:}" ] || fail "the tampered layer was cached"
[ -z "$(find "$CACHE/registry/blobs" -name '*.tmp')" ] || fail "a temporary file was left"

# a tampered manifest, pinned by digest: refused, not cached
mdata=$(registry_blob_path "$digest")
[ -f "$mdata" ] || fail "no manifest file at $mdata"
sed -i 's/"schemaVersion"/"schemaVersion" /' "$mdata"
CACHE=$TMP/cache3
app "base/bb@$digest" eight
kapply -var registry=$REG app.img
expect_rc 1
expect_match err "manifest .* does not match its digest" "a tampered manifest was not refused"
[ ! -e "$CACHE/registry/blobs/sha256/$mdigest" ] || fail "the tampered manifest was cached"
