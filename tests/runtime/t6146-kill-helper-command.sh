#!/bin/sh
# tests/runtime/t6146-kill-helper-command.sh: the programs kiln runs itself on the build
# machine (here the 'cp -a' that copies a parent image's tree for its child, made slow by a
# cp in front of PATH that becomes 'sleep 6146') die with a SIGKILLed kiln apply; nothing
# of the build is left, no output is written, and the next apply works.
. "$(dirname "$0")/../lib/test-lib.sh"
. "$TOP/tests/runtime/lib-apply.sh"
. "$TOP/tests/runtime/lib-kill.sh"

mkdir build shim
cat >shim/cp <<'EOF2'
#!/bin/sh
[ "$1" = -a ] && exec sleep 6146
exec /bin/cp "$@"
EOF2
chmod +x shim/cp
cat >build/copied.img <<'EOF2'
image parent from busybox() {
  stage p {
    file "/etc/parent" { content = "p\n" }
  }
}
image child from parent {
  stage c {
    file "/etc/child" { content = "c\n" }
  }
  output tar "out/child.tar" {}
}
EOF2

PATH=$TMP/shim:$PATH start_apply build/copied.img
wait_task_running 6146
kill_apply
expect_nothing_left "killed while copying a tree"
[ ! -e build/out ] || fail "the output directory holds $(ls -A build/out | tr '\n' ' ')"

kapply build/copied.img
expect_rc 0
[ -f build/out/child.tar ] || fail "the next apply wrote no tarball"
[ -z "$(ls -A "$WORK")" ] || fail "the work directory holds $(ls -A "$WORK")"
say "ok: a program kiln runs dies with a SIGKILLed kiln"
