#!/bin/sh
# tests/runtime/t6148-kill-disk-tool.sh: the tools output disk runs on the build machine
# (here mkfs.ext4, made slow by a mkfs.ext4 in front of PATH that becomes 'sleep 6148') die
# with a SIGKILLed kiln apply: nothing of the build is left running, and the next apply
# writes the disk.
. "$(dirname "$0")/../lib/test-lib.sh"
. "$TOP/tests/runtime/lib-apply.sh"
. "$TOP/tests/runtime/lib-kill.sh"
need mkfs.fat
need mkfs.ext4

mkdir build shim
cat >shim/mkfs.ext4 <<'EOF2'
#!/bin/sh
exec sleep 6148
EOF2
chmod +x shim/mkfs.ext4
cat >build/vm.img <<'EOF2'
image vm from busybox() {
  stage files {
    file "/hello.txt" { content = "hello\n" }
  }
  output disk "out/vm.raw" { size = "128M", esp_size = "40M" }
}
EOF2

PATH=$TMP/shim:$PATH start_apply build/vm.img
wait_task_running 6148
kill_apply
expect_nothing_left "killed while making the disk's file system"

kapply build/vm.img
expect_rc 0
[ -f build/out/vm.raw ] || fail "the next apply wrote no disk"
[ -z "$(ls -A "$WORK")" ] || fail "the work directory holds $(ls -A "$WORK")"
say "ok: a disk output's tool dies with a SIGKILLed kiln"
