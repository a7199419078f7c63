#!/bin/sh
# tests/runtime/t6150-tar-chunks.sh: a compressed tar output is a sequence of chunks
# (zstd frames, gzip members) that a rebuild copies from the cache when none of their
# paths changed. After one file of the last stage changed, the rebuild's .tar.zst and
# .tar.gz reuse chunks (the events say how many) and are byte-identical to those of a
# clean build in other directories with an empty cache; zstd -t, gzip -t and tar -t read
# them and hold the new file. A cached chunk whose bytes were damaged is not copied: the
# tarball is written again and is still the clean build's.
. "$(dirname "$0")/../lib/test-lib.sh"
. "$TOP/tests/runtime/lib-apply.sh"
need tar
need zstd
need gzip

# a base of about 25 MB in 400 files (text: cheap to compress), so the tarball has chunks
mkdir -p base/usr/share/data base/etc base/srv/app src/files
awk 'BEGIN {
	for (f = 0; f < 400; f++) {
		name = sprintf("base/usr/share/data/d%02d/f%03d.txt", f % 40, f)
		if (f % 40 == f) system("mkdir -p base/usr/share/data/" sprintf("d%02d", f))
		for (i = 0; i < 2000; i++)
			printf "%d line %d of file %d, %x\n", i * 7919 % 1000, i, f, i * f >name
		close(name)
	}
}'
echo base >base/etc/base.txt
# hard links: within a directory and across chunks (a later name links to the first)
ln base/usr/share/data/d00/f000.txt base/usr/share/data/d00/link.txt
ln base/usr/share/data/d01/f001.txt base/usr/share/data/d39/link.txt
tar -C base -cf src/base.tar .
echo 'one' >src/files/app.txt
cat >src/c.img <<'EOF'
image c from tarball("base.tar") {
  stage setup {
    file "/etc/motd" { content = "chunks\n" }
  }
  stage app {
    copy "/srv/app/app.txt" { src = "files/app.txt" }
  }
  output oci "dist/c" { tag = "c:1", compression = "zstd" }
  output tar "dist/c.tar.zst" {}
  output tar "dist/c.tar.gz" {}
  output tar "dist/c.tar" {}
}
EOF

cd src
kapply_json c.img
[ "$rc" -eq 0 ] || fail "first build failed: $(cat "$TMP/err")"
grep '"event":"note"' "$TMP/out" | grep -q 'c.tar.zst: 0 of [0-9]* chunks reused' ||
	fail "first build: no chunk note for c.tar.zst: $(grep note "$TMP/out" | head -5)"
n=$(grep '"event":"note"' "$TMP/out" | sed -n 's/.*c.tar.zst: 0 of \([0-9]*\) chunks.*/\1/p')
[ "$n" -ge 5 ] || fail "the tarball has $n chunks, expected several"

echo 'two' >files/app.txt
kapply_json c.img
[ "$rc" -eq 0 ] || fail "rebuild failed: $(cat "$TMP/err")"
for t in zst gz; do
	line=$(grep '"event":"note"' "$TMP/out" | grep "c.tar.$t:") || fail "no chunk note for c.tar.$t"
	reused=$(echo "$line" | sed -n 's/.*: \([0-9]*\) of \([0-9]*\) chunks reused.*/\1/p')
	total=$(echo "$line" | sed -n 's/.*: \([0-9]*\) of \([0-9]*\) chunks reused.*/\2/p')
	[ -n "$reused" ] && [ "$reused" -ge $((total - 3)) ] && [ "$reused" -gt 0 ] ||
		fail "c.tar.$t: $reused of $total chunks reused, expected all but the changed ones"
done
zstd -q -t dist/c.tar.zst || fail "zstd -t fails on the rebuilt tarball"
gzip -t dist/c.tar.gz || fail "gzip -t fails on the rebuilt tarball"
[ "$(tar -I zstd -xOf dist/c.tar.zst srv/app/app.txt)" = two ] || fail "the .tar.zst lacks the change"
[ "$(tar -xzOf dist/c.tar.gz srv/app/app.txt)" = two ] || fail "the .tar.gz lacks the change"
tar -tf dist/c.tar >plain.list
tar -I zstd -tf dist/c.tar.zst >zst.list
tar -tzf dist/c.tar.gz >gz.list
grep -q 'usr/share/data/d39/link.txt' plain.list || fail "no hard link in the tarball"
[ "$(tar -tvf dist/c.tar usr/share/data/d39/link.txt | cut -c1)" = h ] ||
	fail "d39/link.txt is not a hard link in the plain tar"
cmp -s plain.list zst.list || fail "the .tar.zst lists other entries than the plain tar"
cmp -s plain.list gz.list || fail "the .tar.gz lists other entries than the plain tar"
# libarchive (bsdtar, and kiln's own tarball() base) and Python read the frames and members too
if command -v bsdtar >/dev/null; then
	bsdtar -tf dist/c.tar.gz >bsd-gz.list && bsdtar -tf dist/c.tar.zst >bsd-zst.list ||
		fail "bsdtar cannot read the tarballs"
	[ "$(wc -l <bsd-gz.list)" -eq "$(wc -l <plain.list)" ] || fail "bsdtar lists other entries (.tar.gz)"
	[ "$(wc -l <bsd-zst.list)" -eq "$(wc -l <plain.list)" ] || fail "bsdtar lists other entries (.tar.zst)"
fi
if command -v python3 >/dev/null; then
	[ "$(python3 -c 'import sys, tarfile; print(len(tarfile.open(sys.argv[1]).getnames()))' dist/c.tar.gz)" \
		-eq "$(wc -l <plain.list)" ] || fail "Python's tarfile lists other entries (.tar.gz)"
fi
zstd -q -d -c dist/c.tar.zst | cmp -s - dist/c.tar || fail "the .tar.zst holds other bytes than the tar"
gzip -d -c dist/c.tar.gz | cmp -s - dist/c.tar || fail "the .tar.gz holds other bytes than the tar"

# a clean build elsewhere, with an empty cache: the same bytes
mkdir -p "$TMP/clean"
cp -R "$TMP/src/c.img" "$TMP/src/base.tar" "$TMP/src/files" "$TMP/clean/"
(cd "$TMP/clean" && $KILN apply --work-dir="$TMP/clean-work" --cache-dir="$TMP/clean-cache" \
	--progress=plain c.img >"$TMP/clean.out" 2>&1) || fail "clean build failed: $(tail -5 "$TMP/clean.out")"
for f in c.tar.zst c.tar.gz c.tar; do
	cmp -s dist/$f "$TMP/clean/dist/$f" || fail "$f: the rebuild differs from a clean build"
done

# damaged cached chunks (same sizes, other bytes) are not copied into the tarball
for b in $(jq -r 'select(.what == "tar chunk") | .digest' "$CACHE"/blobs/*.json | sed 's/sha256://'); do
	f=$CACHE/blobs/sha256/$b
	[ -f "$f" ] || continue
	printf 'XXXXXXXX' | dd of="$f" bs=1 seek=20 conv=notrunc 2>/dev/null
done
echo 'three' >files/app.txt
echo 'three' >"$TMP/clean/files/app.txt"
kapply_json c.img
[ "$rc" -eq 0 ] || fail "rebuild over a damaged cache failed: $(cat "$TMP/err")"
(cd "$TMP/clean" && $KILN apply --work-dir="$TMP/clean-work" --cache-dir="$TMP/clean-cache2" \
	--progress=plain c.img >"$TMP/clean.out" 2>&1) || fail "clean build failed: $(tail -5 "$TMP/clean.out")"
for f in c.tar.zst c.tar.gz; do
	cmp -s dist/$f "$TMP/clean/dist/$f" || fail "$f: a rebuild over damaged chunks differs from a clean build"
done
grep -q "written again without the cache" "$TMP/out" || fail "no note of the damaged chunks"
zstd -q -t dist/c.tar.zst || fail "zstd -t fails after a damaged cache"
say "ok: chunked tarballs are reused and byte-identical to clean builds"
