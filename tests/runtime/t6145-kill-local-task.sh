#!/bin/sh
# tests/runtime/t6145-kill-local-task.sh: a 'local' task runs on the build machine itself
# (no namespace that would end with kiln): when kiln apply is SIGKILLed while it runs
# ('sleep 6145' in a shell), the command dies with kiln all the same, in its own session
# or not, and nothing else of the build is left. The next apply works.
. "$(dirname "$0")/../lib/test-lib.sh"
. "$TOP/tests/runtime/lib-apply.sh"
. "$TOP/tests/runtime/lib-kill.sh"

mkdir build
cat >build/local.img <<'EOF2'
param nap: int = 0
image l from busybox() {
  stage s {
    file "/etc/l" { content = "l\n" }
    local "sleep ${nap}; echo slept >slept.txt" {}
  }
  output tar "out/l.tar" {}
}
EOF2

start_apply -var nap=6145 "$TMP/build/local.img"
wait_task_running 6145
kill_apply
expect_nothing_left "killed in a local task"
[ ! -e build/out ] || fail "the output directory holds $(ls -A build/out | tr '\n' ' ')"
[ ! -e build/slept.txt ] || fail "the local command ran on"

kapply "$TMP/build/local.img"
expect_rc 0
[ -f build/out/l.tar ] || fail "the next apply wrote no tarball"
[ -z "$(ls -A "$WORK")" ] || fail "the work directory holds $(ls -A "$WORK")"
say "ok: a local task dies with a SIGKILLed kiln"
