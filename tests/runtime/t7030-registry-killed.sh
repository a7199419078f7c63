#!/bin/sh
# tests/runtime/t7030-registry-killed.sh: the registry dies in the middle of a chunked
# push (a proxy in front of it kills it at the 20th chunk: the fourth of the second layer): kiln
# retries, then fails with a clear error that says no tag was written; the registry,
# started again on its storage, has no tag. A rerun completes the push, skipping the blob
# that was already in, and skopeo inspect shows the layout's digest. A registry that
# refuses chunked uploads (405 to PATCH) gets whole blobs.
. "$(dirname "$0")/../lib/test-lib.sh"
. "$TOP/tests/runtime/lib-apply.sh"
. "$TOP/tests/runtime/lib-registry.sh"
need skopeo
SOURCE_DATE_EPOCH=1700000000
export SOURCE_DATE_EPOCH
KILN_REGISTRY_CHUNK_SIZE=65536
export KILN_REGISTRY_CHUNK_SIZE

registry_start plain
cat >push.img <<'IMG'
param registry: string = "127.0.0.1:5000"
image big from busybox() {
  stage data { shell "head -c 1048576 /dev/urandom >/data.bin" { creates = "/data.bin" } }
  output oci "dist/big" { tag = "big:1" }
  output registry "${registry}/kiln/big" { tags = ["1", "latest"], insecure = true }
  output manifest "dist/m.json" {}
}
IMG
pport=$(free_port)
python3 "$TOP/tests/runtime/registry-proxy.py" "$pport" "$REG_PORT" "$REG_PID" 20 >proxy.out 2>&1 &
_REG_ALL_PIDS="$_REG_ALL_PIDS $!"
_reg_watch $!
_reg_wait_port "$pport"
kapply -var registry=127.0.0.1:$pport push.img
expect_rc 1
grep -q killed proxy.out || fail "the proxy did not kill the registry"
expect_match err "E5003.*push failed: .*no tag was written" "no clear error for the dead registry"
expect_match err "1 blobs uploaded" "the error does not say what was uploaded"
REG_PID=
registry_restart
if skopeo inspect --tls-verify=false "docker://$REG/kiln/big:latest" >/dev/null 2>&1 ||
	skopeo inspect --tls-verify=false "docker://$REG/kiln/big:1" >/dev/null 2>&1; then
	fail "a tag points at the half-pushed image"
fi

kapply -var registry=$REG push.img
expect_rc 0
[ "$(jq -r '.artifacts[1].skipped' dist/m.json)" -ge 1 ] || fail "the rerun skipped nothing"
d=$(skopeo inspect --tls-verify=false "docker://$REG/kiln/big:1" | jq -r .Digest)
[ "$d" = "$(oci_digest dist/big)" ] || fail "the registry has $d"

# a registry that refuses chunks (405 to PATCH): the blobs go up whole
pport=$(free_port)
python3 "$TOP/tests/runtime/registry-proxy.py" "$pport" "$REG_PORT" 0 0 nopatch >nopatch.out 2>&1 &
_REG_ALL_PIDS="$_REG_ALL_PIDS $!"
_reg_watch $!
_reg_wait_port "$pport"
sed 's#kiln/big#kiln/whole#' push.img >whole.img
kapply -var registry=127.0.0.1:$pport whole.img
expect_rc 0
grep -q refused nopatch.out || fail "the proxy refused no chunk"
d=$(skopeo inspect --tls-verify=false "docker://$REG/kiln/whole:1" | jq -r .Digest)
[ "$d" = "$(oci_digest dist/big)" ] || fail "kiln/whole has $d"
