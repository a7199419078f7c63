#!/bin/sh
# tests/runtime/t7040-registry-cache.sh: the stage cache shared through a registry. An
# apply with --cache-to pushes each stage's entry (an artifact tagged with its key); a
# second machine (a second, empty cache directory) with --cache-from rebuilds the image
# without running a task, to the same digest; a stage that reads a secret is not pushed,
# and the secret's value never reaches the registry. A fetched entry whose layer does not
# match its digest is refused and the stage runs. A registry that cannot be reached is
# noted once and the build goes on.
. "$(dirname "$0")/../lib/test-lib.sh"
. "$TOP/tests/runtime/lib-apply.sh"
. "$TOP/tests/runtime/lib-registry.sh"
need skopeo
SOURCE_DATE_EPOCH=1700000000
export SOURCE_DATE_EPOCH

registry_start plain
cat >app.img <<'IMG'
param token: secret = env("TEST_TOKEN")
image app from busybox() {
  stage one {
    file "/etc/one" { content = "one\n" }
    shell "echo built >/etc/built" { creates = "/etc/built" }
  }
  stage two { file "/etc/two" { content = "two\n" } }
  output oci "dist/app" { tag = "app:1" }
}
image secretive from busybox() {
  stage s { file "/etc/token" { content = "t=${token}\n" } }
}
IMG
TEST_TOKEN=tok-$$-secret-value
export TEST_TOKEN
kapply_json --cache-to=$REG/kiln/cache --cache-insecure app.img
expect_rc 0
first=$(oci_digest dist/app)
[ -n "$(ran_tasks)" ] || fail "the first apply ran no task"
tags=$(skopeo list-tags --tls-verify=false "docker://$REG/kiln/cache" | jq -r '.Tags | length')
[ "$tags" -eq 2 ] || fail "expected 2 stage entries in the registry, got $tags"
expect_match out "not pushed to the shared cache: the stage reads a secret" \
	"the secret stage was not held back"
grep -rq "tok-$$-secret" "$REG_DIR/storage" && fail "the secret reached the registry"

# a second machine: an empty cache directory, --cache-from
rm -rf dist
CACHE=$TMP/cache-b
kapply_json --cache-from=$REG/kiln/cache --cache-insecure app.img
expect_rc 0
ran=$(ran_tasks | grep '^app\.' || true)
[ -z "$ran" ] || fail "tasks ran on the second machine: $ran"
expect_match out "fetched from the shared cache" "nothing was fetched"
[ "$(oci_digest dist/app)" = "$first" ] || fail "the rebuilt image has another digest"

# a tampered entry: refused, the stage runs
for d in $(find "$REG_DIR/storage/docker/registry/v2/blobs" -name data -size +1k); do
	printf 'X' | dd of="$d" bs=1 seek=600 conv=notrunc 2>/dev/null
done
CACHE=$TMP/cache-c
kapply_json --cache-from=$REG/kiln/cache --cache-insecure app.img
expect_rc 0
expect_match out "shared cache is not read: .*does not match its digest" \
	"a tampered entry was not refused"
[ -n "$(ran_tasks | grep '^app\.')" ] || fail "no stage ran after a refused entry"

# the registry gone: noted once, the build goes on
registry_stop
CACHE=$TMP/cache-d
kapply_json --cache-from=$REG/kiln/cache --cache-to=$REG/kiln/cache --cache-insecure app.img
expect_rc 0
expect_match out "shared cache is not read" "no note of the unreachable registry"
[ "$(grep -c 'shared cache is not read' out)" -eq 1 ] || fail "the dead registry was asked again"
