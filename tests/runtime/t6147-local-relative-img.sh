#!/bin/sh
# tests/runtime/t6147-local-relative-img.sh: a 'local' task runs in the .img file's
# directory, and its relative chdir, creates and removes resolve against it, whichever way
# the .img is named: a relative path (build/l.img, from the directory above), one with '..'
# (../build/l.img from a sibling, build/../build/l.img), or an absolute one.
. "$(dirname "$0")/../lib/test-lib.sh"
. "$TOP/tests/runtime/lib-apply.sh"

mkdir -p build/sub elsewhere
cat >build/l.img <<'EOF2'
image l from busybox() {
  stage s {
    local "pwd -P > pwd.txt" {}
    local "echo never > never.txt" { creates = "pwd.txt" }
    local "pwd -P > sub-pwd.txt" { chdir = "sub" }
    local "echo ran > removes.txt" { removes = "sub/sub-pwd.txt" }
  }
  output tar "out/l.tar" {}
}
EOF2
B=$(cd build && pwd -P)

# $1: the directory to run in, $2: the .img path from there
check_local()
{
	rm -rf "$CACHE" build/out build/*.txt build/sub/*.txt
	run_kiln_in "$1" apply --work-dir="$WORK" --cache-dir="$CACHE" "$2"
	expect_rc 0
	[ "$(cat build/pwd.txt 2>/dev/null)" = "$B" ] ||
		fail "$2 from $1: local ran in '$(cat build/pwd.txt 2>/dev/null)', not in $B"
	[ ! -e build/never.txt ] || fail "$2 from $1: local ran despite creates"
	[ "$(cat build/sub/sub-pwd.txt 2>/dev/null)" = "$B/sub" ] ||
		fail "$2 from $1: chdir = \"sub\" ran in '$(cat build/sub/sub-pwd.txt 2>/dev/null)'"
	[ "$(cat build/removes.txt 2>/dev/null)" = ran ] ||
		fail "$2 from $1: removes = \"sub/sub-pwd.txt\" did not run the task"
	[ -f build/out/l.tar ] || fail "$2 from $1: no tarball"
	for f in pwd.txt never.txt sub-pwd.txt removes.txt; do
		[ ! -e "$1/$f" ] || [ "$1" = build ] || fail "$2 from $1: $1/$f written"
	done
}

check_local . build/l.img
check_local . ./build/l.img
check_local . build/../build/l.img
check_local elsewhere ../build/l.img
check_local build l.img
check_local elsewhere "$TMP/build/l.img"
check_local / "$TMP/build/../build/l.img"
say "ok: a local task works from a relative, '..' or absolute .img path"
