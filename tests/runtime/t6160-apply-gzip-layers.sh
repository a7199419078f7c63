#!/bin/sh
# tests/runtime/t6160-apply-gzip-layers.sh: gzip layers as kiln apply writes them (libdeflate
# in 1 MiB blocks joined into one deflate stream). With 1 thread and with 4 (KILN_JOBS), each
# with an empty cache, the layout is the same; every layer blob passes gzip -t, is one gzip
# member (what a reader that stops after the first member, as Rust's flate2 GzDecoder, needs)
# and decompresses to its diff_id; skopeo copies the image and umoci unpacks it. The blob cache's key names the
# compressor: entries a kiln that compressed with zlib left under its key ("gzip level=0")
# are not used (the layout stays the one written with an empty cache).
. "$(dirname "$0")/../lib/test-lib.sh"
. "$TOP/tests/runtime/lib-apply.sh"
need gzip
need skopeo
need umoci
need sha256sum
need python3
export SOURCE_DATE_EPOCH=1700000000

mkdir -p build/files
# a stage layer of several MiB (more gzip blocks than threads): text, binary, random bytes
seq 1 400000 >build/files/text
cat /bin/busybox /bin/busybox >build/files/bin
head -c 1200000 /dev/urandom >build/files/random
cat >build/g.img <<'EOF'
image g from busybox() {
  stage data {
    file "/data" { state = directory, mode = 0755 }
    copy "/data/text" { src = "files/text" }
    copy "/data/bin" { src = "files/bin" }
    copy "/data/random" { src = "files/random" }
  }
  output oci "out/g" { tag = "g:1" }
}
EOF

# apply JOBS CACHE: kiln apply with KILN_JOBS=JOBS and the cache directory CACHE
apply()
{
	CACHE=$2
	KILN_JOBS=$1 kapply_json build/g.img
	expect_rc 0
}

manifest()
{
	echo "build/out/g/blobs/sha256/$(oci_digest build/out/g | cut -d: -f2)"
}

apply 1 "$TMP/cache1"
d1=$(oci_digest build/out/g)
cp -a build/out/g one-thread
rm -rf build/out "$WORK"
apply 4 "$TMP/cache4"
[ "$(oci_digest build/out/g)" = "$d1" ] || fail "the layout differs between 1 and 4 threads"
diff -r one-thread build/out/g >/dev/null || fail "the layout's files differ between 1 and 4 threads"

# every layer: gzip, a valid file, the layer itself once decompressed
config="build/out/g/blobs/sha256/$(jq -r '.config.digest' "$(manifest)" | cut -d: -f2)"
n=$(jq '.layers | length' "$(manifest)")
[ "$n" -ge 2 ] || fail "expected a base layer and a stage layer, got $n"
big=0
i=0
while [ $i -lt "$n" ]; do
	mt=$(jq -r ".layers[$i].mediaType" "$(manifest)")
	[ "$mt" = application/vnd.oci.image.layer.v1.tar+gzip ] || fail "layer $i: media type $mt"
	blob="build/out/g/blobs/sha256/$(jq -r ".layers[$i].digest" "$(manifest)" | cut -d: -f2)"
	gzip -t "$blob" || fail "gzip -t rejects layer $i"
	python3 -c 'import sys, zlib
d = zlib.decompressobj(31)
d.decompress(open(sys.argv[1], "rb").read())
sys.exit(0 if d.eof and not d.unused_data else 1)' "$blob" || fail "layer $i is not one gzip member"
	want=$(jq -r ".rootfs.diff_ids[$i]" "$config" | cut -d: -f2)
	[ "$(gzip -dc "$blob" | sha256sum | cut -d' ' -f1)" = "$want" ] ||
		fail "layer $i does not decompress to its diff_id"
	[ "$(stat -c %s "$blob")" -gt 3000000 ] && big=1
	i=$((i + 1))
done
[ "$big" -eq 1 ] || fail "no layer spans several gzip blocks: the test says nothing"

skopeo copy oci:build/out/g:g:1 dir:copied >skopeo.out 2>&1 || fail "skopeo copy: $(tail -n 5 skopeo.out)"
unpack build/out/g g:1 bundle
cmp build/files/random bundle/rootfs/data/random || fail "umoci unpacked another /data/random"

# a cache filled by a kiln that compressed with zlib: its records are under the key of
# "gzip level=0". Plant one per layer, holding another valid gzip of the layer (as zlib
# made), and drop the records of the current key: they must not be used.
CACHE=$TMP/cache1
rm -f "$CACHE"/blobs/*.json
i=0
while [ $i -lt "$n" ]; do
	blob="build/out/g/blobs/sha256/$(jq -r ".layers[$i].digest" "$(manifest)" | cut -d: -f2)"
	diff_id=$(jq -r ".rootfs.diff_ids[$i]" "$config")
	gzip -dc "$blob" | gzip -n -1 >old.gz
	h=$(sha256sum old.gz | cut -d' ' -f1)
	cp old.gz "$CACHE/blobs/sha256/$h"
	key=$(printf '%s\n%s' "$diff_id" 'gzip level=0' | sha256sum | cut -d' ' -f1)
	jq -n --arg d "sha256:$h" --argjson s "$(stat -c %s old.gz)" \
		'{mediaType: "application/vnd.oci.image.layer.v1.tar+gzip", digest: $d, size: $s}' \
		>"$CACHE/blobs/$key.json"
	i=$((i + 1))
done
rm -rf build/out
apply 2 "$TMP/cache1"
[ "$(oci_digest build/out/g)" = "$d1" ] || fail "a blob cached under zlib's key was used"
[ "$(ls "$CACHE"/blobs/*.json | wc -l)" -eq $((2 * n)) ] ||
	fail "expected the old records and new ones: $(ls "$CACHE"/blobs)"

# replayed from the cache (the current key): the same layout again
rm -rf build/out
apply 2 "$TMP/cache1"
[ "$(oci_digest build/out/g)" = "$d1" ] || fail "the layout replayed from the cache differs"
say "ok: gzip layers the same with 1 and 4 threads, valid, read by skopeo and umoci; zlib's cache key not used"
