#!/bin/sh
# tests/runtime/t6181-lint-as-apply.sh: a verdict does not change between lint and apply.
# The smallest disks lint takes (99M with esp_size auto, 68M with esp_size 33M, on an
# empty scratch() tree) apply writes; one megabyte less lint refuses (E3014), so apply
# never gets to refuse it. A disk that must boot: lint refuses it on a busybox() base whose
# stages only write files (E4007); when a task may install a kernel (a shell command) lint
# says nothing, and apply, which looks at the tree, refuses it (E5003) with the same advice.
. "$(dirname "$0")/../lib/test-lib.sh"
. "$TOP/tests/runtime/lib-apply.sh"
need mkfs.fat
need mcopy

mkdir build
img()
{
	cat >build/edge.img <<EOF2
image edge from scratch() {
  output disk "out/auto.raw" { size = "$1" }
  output disk "out/small.raw" { size = "$2", esp_size = "33M" }
}
EOF2
}
img 99M 68M
run_kiln lint build/edge.img
expect_rc 0
kapply build/edge.img
expect_rc 0
[ -s build/out/auto.raw ] && [ -s build/out/small.raw ] || fail "apply did not write the smallest disks"
[ "$(stat -c %s build/out/auto.raw)" = $((99 * 1048576)) ] || fail "auto.raw is not 99M"

img 98M 67M
run_kiln lint build/edge.img
expect_rc 1
[ "$(grep -c 'error\[E3014\]' err)" = 2 ] || fail "lint should refuse both disks one megabyte smaller"
grep -q 'edge.img:2:[0-9]*: error\[E3014\]: output disk: size 98M: too small: the disk needs at least 99M' err ||
	fail "lint's message for 98M"
kapply build/edge.img
expect_rc 1
grep -q 'E3014' err || fail "apply should refuse it as lint does, before building"

cat >build/boot.img <<'EOF2'
image files from busybox() {
  stage s { file "/etc/motd" { content = "hi\n" } }
  output disk "out/files.raw" { bootable = "true" }
}
EOF2
run_kiln lint build/boot.img
expect_rc 1
grep -q 'boot.img:3:[0-9]*: error\[E4007\]' err || fail "lint did not refuse a disk that cannot boot"
cat >build/boot.img <<'EOF2'
image cmd from busybox() {
  stage s { shell "echo no kernel here" {} }
  output disk "out/cmd.raw" { bootable = "true" }
}
EOF2
run_kiln lint build/boot.img
expect_rc 0
kapply build/boot.img
expect_rc 1
grep -q 'E5003.*bootable = true, and the image has no kernel' err ||
	fail "apply did not refuse a disk whose tree has no kernel"
[ ! -e build/out/cmd.raw ] || fail "apply left a disk that cannot boot"
say "ok: lint refuses what apply would, and says nothing where only the tree can tell"
