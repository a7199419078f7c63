#!/bin/sh
# tests/runtime/t6030-apply-check.sh: kiln apply --check on a fresh build reports what would
# change (every task "changed", with "would"), exits 0, and writes nothing: no artifact (the
# output paths do not exist), no stage in the cache, nothing left in the work directory.
# After a real apply, --check leaves the artifacts and the cache exactly as they were.
. "$(dirname "$0")/../lib/test-lib.sh"
. "$TOP/tests/runtime/lib-apply.sh"

mkdir build
echo 'from the build machine' >build/src.txt
cat >build/check.img <<'EOF'
image checked from busybox() {
  stage one {
    file "/hello.txt" { content = "hello\n", mode = 0644 }
    file "/srv" { state = directory }
    copy "a file" { src = "src.txt", dest = "/etc/src.txt" }
    lineinfile "a line" { path = "/etc/app.conf", line = "a=1", create = true }
  }
  stage two {
    shell "echo ran > /ran" {}
    command "touch /touched" { creates = "/touched" }
    user "alice" { uid = 2001 }
  }
  output oci "out/checked" { tag = "checked:1" }
  output tar "out/checked.tar" {}
  output checksum "out/checked.sha256" {}
}
EOF

# 1. a fresh build in check mode
kapply_json --check build/check.img
expect_rc 0
expect_recap checked 0 7 0 0 false
for id in checked.one.0 checked.one.1 checked.one.2 checked.one.3 checked.two.0 checked.two.1 \
	checked.two.2; do
	expect_status $id changed
done
jq -r 'select(.event == "task_end") | .msg' out >msgs
expect_no_match msgs '^([^w]|w[^o]|wo[^u]|$)' "a task's message does not start with 'would'"
[ "$(jq -r 'select(.event == "artifact")' out)" = "" ] || fail "check mode reported an artifact"
[ ! -e build/out ] || fail "check mode wrote into build/out: $(ls -A build/out)"
[ -z "$(ls -A "$CACHE/stages" 2>/dev/null)" ] || fail "check mode stored stages: $(ls -A "$CACHE/stages")"
[ -z "$(ls -A "$WORK")" ] || fail "the work directory still holds $(ls -A "$WORK")"
# the plain report says the same
kapply --check build/check.img
expect_rc 0
expect_match err '^checked +: ok=0 +changed=7 +failed=0 +skipped=0 '
expect_match err 'would change: created /hello.txt'
expect_match err 'would run: /bin/sh -c'
expect_no_match err '^ +wrote '
[ ! -e build/out ] || fail "check mode wrote into build/out"

# 2. a real apply, then --check: the artifacts and the cache stay as they were
kapply build/check.img
expect_rc 0
[ -f build/out/checked.tar ] && [ -f build/out/checked/index.json ] || fail "apply wrote no artifacts"
ls -la --time-style=full-iso build/out build/out/checked >before.list
(cd "$CACHE" && find . -type f | sort | xargs sha256sum) >cache-before.list
digest=$(oci_digest build/out/checked)
sleep 1
kapply_json --check build/check.img
expect_rc 0
[ "$(jq -r 'select(.event == "artifact")' out)" = "" ] || fail "check mode reported an artifact"
ls -la --time-style=full-iso build/out build/out/checked >after.list
cmp -s before.list after.list ||
	fail "check mode touched the outputs: $(diff before.list after.list | head -n 5)"
[ "$(oci_digest build/out/checked)" = "$digest" ] || fail "check mode changed the OCI layout"
(cd "$CACHE" && find . -type f | sort | xargs sha256sum) >cache-after.list
cmp -s cache-before.list cache-after.list || fail "check mode changed the cache"
[ -z "$(ls -A "$WORK")" ] || fail "the work directory still holds $(ls -A "$WORK")"
[ -z "$(temp_files build/out)" ] || fail "temporary files left: $(temp_files build/out)"
say "ok: --check reports the changes and writes no artifact, no cache entry, no work file"
