#!/bin/sh
# tests/runtime/t6144-kept-tree-unmountable.sh: a parent's tree kept in the cache that
# cannot be overlay-mounted under the work directory (here the work directory is itself on
# overlayfs, which overlayfs refuses as an upper directory) is not silently passed over:
# a note says why, and the child is built from the parent's cached layers instead, the
# image a clean build writes.
. "$(dirname "$0")/../lib/test-lib.sh"
. "$TOP/tests/runtime/lib-apply.sh"
need mount

mkdir -p build clean wl wu ww "$WORK"
cat >build/kept.img <<'EOF2'
param v: int = 1
image parent from busybox() {
  stage p {
    file "/etc/parent" { content = "p\n" }
  }
}
image child from parent {
  stage c {
    file "/etc/v" { content = "${v}\n" }
  }
  output oci "out/child" { tag = "child:1" }
}
EOF2

WORK=$TMP/clean/work CACHE=$TMP/clean/cache kapply -var v=2 build/kept.img
expect_rc 0
clean=$(oci_digest build/out/child)

# the trees are kept (renamed into the cache: the same file system), then the work
# directory moves onto overlayfs
kapply build/kept.img
expect_rc 0
[ -n "$(ls -A "$CACHE/trees")" ] || fail "no tree kept in the cache"
mount -t overlay overlay -o "lowerdir=$TMP/wl,upperdir=$TMP/wu,workdir=$TMP/ww" "$WORK" ||
	skip "cannot mount overlayfs"

kapply_json -var v=2 build/kept.img
expect_rc 0
expect_match out '"msg":"image parent.s tree kept in the cache cannot be mounted \('
expect_match out '"msg":"image parent unpacked from the cache'
[ "$(oci_digest build/out/child)" = "$clean" ] || fail "the image differs from a clean build's"
[ -z "$(ls -A "$WORK")" ] || fail "the work directory holds $(ls -A "$WORK")"
say "ok: a kept tree that cannot be mounted is said so, and the child is built all the same"
