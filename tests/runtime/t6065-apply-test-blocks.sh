#!/bin/sh
# tests/runtime/t6065-apply-test-blocks.sh: an image's test blocks run after its stages, on
# the finished image: a failing test stops the image (status 1, no artifact, the failure
# named like any task's), a passing one lets the outputs be written. A test checks the
# image and does not change it: what a test's command leaves behind is in no output (the
# tar and the OCI layout hold the same files), and a test's task is not a change (a cached
# second apply reports changed=0).
. "$(dirname "$0")/../lib/test-lib.sh"
. "$TOP/tests/runtime/lib-apply.sh"
need umoci

mkdir build
cat >build/tested.img <<'EOF'
param want: string = "a"
image t from busybox() {
  stage s { file "/a" { content = "a\n" } }
  test "the file is there" { command "grep -q ${want} /a" {} }
  test "leaves a file behind" { shell "echo from-test > /test-leftover" {} }
  output oci "out/t" { tag = "t:1" }
  output tar "out/t.tar" {}
}
EOF

# a failing test: the image is not written
kapply_json -var want=nope build/tested.img
expect_rc 1
[ "$(jq -r 'select(.event == "task_end" and .status == "failed") | .source' out)" = "tested.img:4:30" ] ||
	fail "the failed test task: $(jq -c 'select(.event == "task_end" and .status == "failed")' out)"
jq -r 'select(.event == "recap" and .name == "t") | .aborted' out | grep -qx true ||
	fail "the image was not stopped"
[ ! -e build/out ] || fail "a failed test let outputs be written: $(ls -A build/out | tr '\n' ' ')"

# a passing test: the outputs are written
kapply_json build/tested.img
expect_rc 0
[ -f build/out/t.tar ] && [ -f build/out/t/index.json ] || fail "the outputs were not written"
jq -r 'select(.event == "task_end") | .stage' out | grep -qx 'test the file is there' ||
	fail "the test's task is not reported under 'test NAME'"

tar -tf build/out/t.tar >tar.list
expect_match tar.list '^(\./)?a$'
expect_no_match tar.list 'test-leftover' "what a test left behind is in the tar output"
unpack build/out/t t:1 bundle
[ ! -e bundle/rootfs/test-leftover ] || fail "what a test left behind is in the OCI image"
kapply_json build/tested.img
expect_rc 0
[ "$(jq -r 'select(.event == "recap" and .name == "t") | "\(.changed) \(.failed)"' out)" = "0 0" ] ||
	fail "a cached apply with tests: $(jq -c 'select(.event == "recap")' out)"
say "ok: tests gate the outputs and change nothing"
