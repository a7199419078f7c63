#!/bin/sh
# tests/runtime/t7000-registry-push.sh: output registry against a real registry (plain
# HTTP). An image with an oci output and a registry output: skopeo inspect of the pushed
# tags shows the digest of the local OCI layout; the manifest output records the push; a
# second apply uploads no blob (every one skipped); a second repository of the same
# registry gets the blobs mounted, not uploaded; an image without an oci output is pushed
# from a layout of its own; a pull with skopeo copy gives back the same layers. A plain-HTTP
# registry is refused unless insecure = true. examples/push.img pushes as its comment says.
. "$(dirname "$0")/../lib/test-lib.sh"
. "$TOP/tests/runtime/lib-apply.sh"
. "$TOP/tests/runtime/lib-registry.sh"
need skopeo
# a reproducible build: the second apply makes the same blobs
SOURCE_DATE_EPOCH=1700000000
export SOURCE_DATE_EPOCH

registry_start plain
cat >hello.img <<'IMG'
param registry: string = "127.0.0.1:5000"
param repo: string = "kiln/hello"
image hello from busybox() {
  stage greet { file "/hello.txt" { content = "hello from kiln\n", mode = 0644 } }
  config { cmd = ["cat", "/hello.txt"] }
  output oci "dist/hello" { tag = "hello:latest" }
  output registry "${registry}/${repo}" { tags = ["1.0", "latest"], insecure = true }
  output manifest "dist/hello.manifest.json" {}
}
IMG
kapply -var registry=$REG hello.img
expect_rc 0
local_digest=$(oci_digest dist/hello)
for tag in 1.0 latest; do
	d=$(skopeo inspect --tls-verify=false "docker://$REG/kiln/hello:$tag" | jq -r .Digest) ||
		fail "skopeo inspect of kiln/hello:$tag failed"
	[ "$d" = "$local_digest" ] || fail "$tag: registry has $d, the layout $local_digest"
done
expect_match err "$local_digest" "the pushed digest is not printed"
art() { jq -r "[.artifacts[] | select(.type == \"registry\")][0].$1" dist/hello.manifest.json; }
[ "$(art digest)" = "$local_digest" ] || fail "manifest output: $(cat dist/hello.manifest.json)"
[ "$(art ref)" = "$REG/kiln/hello@$local_digest" ] || fail "manifest ref: $(art ref)"
[ "$(art uploaded)" -ge 2 ] || fail "first push uploaded $(art uploaded) blobs"

# the second push: everything is there
kapply -var registry=$REG hello.img
expect_rc 0
[ "$(art uploaded)" -eq 0 ] || fail "second push uploaded $(art uploaded) blobs"
[ "$(art skipped)" -ge 2 ] || fail "second push skipped $(art skipped) blobs"

# another repository of the same registry: mounted from the first
kapply -var registry=$REG -var repo=kiln/other hello.img
expect_rc 0
[ "$(art uploaded)" -eq 0 ] || fail "push to kiln/other uploaded $(art uploaded) blobs"
[ "$(art mounted)" -ge 2 ] || fail "push to kiln/other mounted $(art mounted) blobs"
d=$(skopeo inspect --tls-verify=false "docker://$REG/kiln/other:latest" | jq -r .Digest)
[ "$d" = "$local_digest" ] || fail "kiln/other has $d"

# without an oci output: a layout of its own, the same digest (same layers, same config)
cat >solo.img <<'IMG'
param registry: string = "127.0.0.1:5000"
image hello from busybox() {
  stage greet { file "/hello.txt" { content = "hello from kiln\n", mode = 0644 } }
  config { cmd = ["cat", "/hello.txt"] }
  output registry "${registry}/kiln/solo:v1" { insecure = true }
}
IMG
kapply -var registry=$REG solo.img
expect_rc 0
skopeo inspect --tls-verify=false "docker://$REG/kiln/solo:v1" >/dev/null ||
	fail "kiln/solo:v1 is not there"
skopeo copy -q --src-tls-verify=false "docker://$REG/kiln/solo:v1" oci:pulled:v1 ||
	fail "skopeo copy of kiln/solo:v1 failed"
mkdir unpacked
for l in $(jq -r '.layers[].digest' "pulled/blobs/sha256/$(jq -r '.manifests[0].digest' pulled/index.json | cut -d: -f2)"); do
	tar -xzf "pulled/blobs/sha256/${l#sha256:}" -C unpacked
done
[ "$(cat unpacked/hello.txt)" = "hello from kiln" ] || fail "the pulled image lacks hello.txt"

# plain HTTP only when asked for
sed 's/, insecure = true//; s/{ insecure = true }/{}/' solo.img >strict.img
kapply -var registry=$REG strict.img
expect_rc 1
expect_match err "E5003" "no error for an HTTPS push to a plain-HTTP registry"
expect_match err "TLS|SSL|https|HTTP" "the error does not say what is wrong"

# examples/push.img, as its comment says to run it
mkdir ex && cp "$TOP/examples/push.img" ex/
run_kiln apply --work-dir="$WORK" --cache-dir="$CACHE" --progress=plain -var registry=$REG \
	-var insecure=true ex/push.img
expect_rc 0
d=$(skopeo inspect --tls-verify=false "docker://$REG/kiln/hello:latest" | jq -r .Digest)
[ "$d" = "$(oci_digest ex/out/hello)" ] || fail "examples/push.img: the registry has $d"
