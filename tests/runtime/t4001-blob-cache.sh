#!/bin/sh
# tests/runtime/t4001-blob-cache.sh: compressed OCI layers are cached by content (the
# uncompressed layer's digest and the compression settings) and shared: a parent's base
# and stage layers are compressed once for the parent's layout and the child's (the
# child's blobs of those layers are the cache's files, hard links), an output written
# again takes its blobs from the cache, and the image is the same as one written with
# an empty cache.
. "$(dirname "$0")/../lib/test-lib.sh"
. "$TOP/tests/runtime/lib-apply.sh"
# one time for every image written here, so that digests compare
export SOURCE_DATE_EPOCH=1700000000

mkdir -p build
cat >build/b.img <<'EOF'
image parent from busybox() {
  stage one {
    file "/one" { content = "1\n" }
  }
  output oci "out/parent" { tag = "parent:1" }
}
image child from parent {
  stage two {
    file "/two" { content = "2\n" }
  }
  output oci "out/child" { tag = "child:1" }
}
EOF

kapply_json build/b.img
expect_rc 0
# the parent has 2 layers (base, one), the child 3 (base, one, two): 3 blobs compressed
[ "$(ls "$CACHE"/blobs/*.json | wc -l)" -eq 3 ] ||
	fail "expected 3 cached blobs, found: $(ls "$CACHE"/blobs)"
inode() { stat -c %i "$1"; }
for f in build/out/parent/blobs/sha256/*; do
	h=$(basename "$f")
	[ -e "$CACHE/blobs/sha256/$h" ] || continue
	[ "$(inode "$f")" = "$(inode build/out/child/blobs/sha256/$h)" ] ||
		fail "the parent's layer $h was compressed again for the child"
done
[ "$(ls "$CACHE"/blobs/sha256 | wc -l)" -eq 3 ] || fail "blobs: $(ls "$CACHE"/blobs/sha256)"
d1=$(oci_digest build/out/child)

# the child's layout removed: written again from cached blobs (same files, same image),
# on a tree unpacked from the cached layers (the parent's tree is not made)
rm -rf build/out/child
kapply_json build/b.img
expect_rc 0
[ "$(oci_digest build/out/child)" = "$d1" ] || fail "the image changed"
expect_match out '"event":"output_current","image":"parent"'
# the parent had nothing to do: the child's tree is the parent's tree kept in the cache,
# overlay-mounted (nothing unpacked, nothing copied)
expect_match out '"msg":"image parent mounted from the cache'
expect_no_match out 'base ready'
[ -d "$CACHE/trees" ] && [ "$(ls "$CACHE/trees" | grep -c json)" -eq 2 ] ||
	fail "expected the trees of both images kept: $(ls "$CACHE/trees")"

# without the kept trees: the parent's cached layers are unpacked, the same image again
rm -rf build/out/child "$CACHE/trees"
kapply_json build/b.img
expect_rc 0
[ "$(oci_digest build/out/child)" = "$d1" ] || fail "the image changed"
expect_match out '"msg":"image parent unpacked from the cache'
expect_no_match out 'base ready'
expect_no_match out '"event":"artifact","image":"parent"'
for f in build/out/child/blobs/sha256/*; do
	h=$(basename "$f")
	[ ! -e "$CACHE/blobs/sha256/$h" ] || [ "$(inode "$f")" = "$(inode "$CACHE/blobs/sha256/$h")" ] ||
		fail "blob $h was not taken from the cache"
done

# another cache: the same image, compressed afresh
rm -rf build/out
CACHE=$TMP/cache2
kapply_json build/b.img
expect_rc 0
[ "$(oci_digest build/out/child)" = "$d1" ] || fail "a fresh cache gave another image"
