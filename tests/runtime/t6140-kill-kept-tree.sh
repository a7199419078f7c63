#!/bin/sh
# tests/runtime/t6140-kill-kept-tree.sh: kiln apply SIGKILLed while a child image builds on
# its parent's tree kept in the cache (an overlay mount) leaves nothing: no mount names a
# path under the test's directory, no process of the build (its task 'sleep 6140', the
# namespace holder) runs, the output holds the last complete artifact. The next apply
# cleans up what the dead run left in the work directory, mounts the kept tree again and
# writes the image a clean build writes (the same OCI manifest digest).
. "$(dirname "$0")/../lib/test-lib.sh"
. "$TOP/tests/runtime/lib-apply.sh"
. "$TOP/tests/runtime/lib-kill.sh"

mkdir build
cat >build/kept.img <<'EOF2'
param nap: int = 0
image parent from busybox() {
  stage p {
    file "/etc/parent" { content = "p\n" }
  }
}
image child from parent {
  stage c {
    file "/etc/child" { content = "c\n" }
    shell "sleep ${nap}; echo done >/etc/slept" {}
  }
  output oci "out/child" { tag = "child:1" }
}
EOF2

# a clean build, elsewhere: the digest every later build must give
mkdir clean
WORK=$TMP/clean/work CACHE=$TMP/clean/cache kapply -var nap=1 build/kept.img
expect_rc 0
clean=$(oci_digest build/out/child)
rm -rf build/out

# the build whose parent tree is kept in the cache (a child built before, with nap=0)
kapply build/kept.img
expect_rc 0
[ -n "$(ls -A "$CACHE/trees")" ] || fail "no tree kept in the cache"
before=$(oci_digest build/out/child)

# the child again (nap changed), on the kept tree: killed while its task sleeps
start_apply -var nap=6140 build/kept.img
wait_task_running 6140
grep -q '"msg":"image parent mounted from the cache' live ||
	fail "the child was not built on the kept tree: $(cat live)"
kill_apply
expect_nothing_left "killed on the kept tree"
[ "$(oci_digest build/out/child)" = "$before" ] || fail "the output changed"
[ -z "$(temp_files build)" ] || fail "temporary files left: $(temp_files build)"
[ -n "$(ls -A "$WORK")" ] || fail "the killed run left no directory (was it killed?)"

# the next apply: cleans up, uses the kept tree, writes what a clean build writes
kapply_json -var nap=1 build/kept.img
expect_rc 0
expect_match out '"msg":"image parent mounted from the cache'
[ "$(oci_digest build/out/child)" = "$clean" ] ||
	fail "the rebuilt image differs from a clean build's"
[ -z "$(ls -A "$WORK")" ] || fail "the work directory holds $(ls -A "$WORK")"
expect_nothing_left "after the next apply"
say "ok: a SIGKILL on the kept tree leaves no mount or process; the next apply builds right"
