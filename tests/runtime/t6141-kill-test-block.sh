#!/bin/sh
# tests/runtime/t6141-kill-test-block.sh: kiln apply SIGKILLed while an image's test block
# runs on the test tree (an overlay over the image's tree, itself an overlay over its
# parent's tree kept in the cache) leaves nothing: no mount names a path under the test's
# directory, no process of the build (the test's 'sleep 6141', the namespace holder) runs,
# the output holds the last complete artifact. The next apply cleans up what the dead run
# left, mounts the kept tree again and writes the image a clean build writes.
. "$(dirname "$0")/../lib/test-lib.sh"
. "$TOP/tests/runtime/lib-apply.sh"
. "$TOP/tests/runtime/lib-kill.sh"

mkdir build clean
cat >build/tested.img <<'EOF2'
param nap: int = 0
image parent from busybox() {
  stage p {
    file "/etc/parent" { content = "p\n" }
  }
}
image child from parent {
  stage c {
    file "/etc/nap" { content = "${nap}\n" }
  }
  test "naps" { shell "sleep ${nap}; echo slept >/tmp/slept" {} }
  output oci "out/child" { tag = "child:1" }
}
EOF2

WORK=$TMP/clean/work CACHE=$TMP/clean/cache kapply -var nap=1 build/tested.img
expect_rc 0
clean=$(oci_digest build/out/child)
rm -rf build/out

kapply build/tested.img
expect_rc 0
before=$(oci_digest build/out/child)

start_apply -var nap=6141 build/tested.img
wait_task_running 6141
grep -q '"msg":"image parent mounted from the cache' live ||
	fail "the child was not built on the kept tree: $(cat live)"
grep -q '"stage":"test naps"' live || fail "the sleep is not the test's: $(cat live)"
kill_apply
expect_nothing_left "killed in a test"
[ "$(oci_digest build/out/child)" = "$before" ] || fail "the output changed"
[ -z "$(temp_files build)" ] || fail "temporary files left: $(temp_files build)"

kapply_json -var nap=1 build/tested.img
expect_rc 0
expect_match out '"msg":"image parent mounted from the cache'
[ "$(oci_digest build/out/child)" = "$clean" ] ||
	fail "the rebuilt image differs from a clean build's"
[ -z "$(ls -A "$WORK")" ] || fail "the work directory holds $(ls -A "$WORK")"
expect_nothing_left "after the next apply"
say "ok: a SIGKILL in a test block leaves no mount or process; the next apply builds right"
