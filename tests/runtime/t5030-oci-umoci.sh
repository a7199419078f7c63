#!/bin/sh
# tests/runtime/t5030-oci-umoci.sh: oci(path, tag) on a layout umoci wrote: two layers, the
# second removing a file and a directory (whiteouts) and turning a file into a directory;
# the tree equals what `umoci unpack` makes of it. Tags pick the image; a corrupted or
# truncated blob is refused before anything is written.
. "$(dirname "$0")/../lib/test-lib.sh"
. "$TOP/tests/runtime/lib-base.sh"
. "$TOP/tests/runtime/lib-containers.sh"
need umoci
need jq
[ "$(id -u)" -eq 0 ] || skip "umoci unpack keeps owners only as root"

L=$TMP/layout
umoci init --layout "$L"
umoci new --image "$L:v1"
umoci unpack --image "$L:v1" "$TMP/b" >/dev/null
R=$TMP/b/rootfs
mkdir -p "$R/etc" "$R/data/dir2/sub" "$R/bin"
echo one >"$R/etc/one"
echo gone >"$R/data/gone"
echo keep >"$R/data/keep"
echo deep >"$R/data/dir2/sub/file"
echo was-a-file >"$R/data/turn"
printf '#!/bin/sh\n' >"$R/bin/suid" && chmod 4755 "$R/bin/suid"
ln -s ../etc/one "$R/bin/link"
chown 1000:1000 "$R/data/keep"
umoci repack --image "$L:v1" "$TMP/b" >/dev/null
rm -rf "$TMP/b"
umoci unpack --image "$L:v1" "$TMP/b" >/dev/null
rm "$R/data/gone"
rm -r "$R/data/dir2"
rm "$R/data/turn" && mkdir "$R/data/turn" && echo inside >"$R/data/turn/file"
echo two >"$R/etc/two"
umoci repack --image "$L:v1" "$TMP/b" >/dev/null
umoci new --image "$L:other"
rm -rf "$TMP/b"
umoci unpack --image "$L:v1" "$TMP/b" >/dev/null

D=$TMP/dest
create "{\"base\": \"oci\", \"args\": {\"path\": \"$L\", \"tag\": \"v1\"}}" "$D"
expect_rc 0
expect_match err "layer 2/2: .* [1-9][0-9]* whiteouts"
[ ! -e "$D/data/gone" ] || fail "the whiteout of data/gone was not applied"
[ ! -e "$D/data/dir2" ] || fail "the whiteout of data/dir2 was not applied"
[ "$(cat "$D/data/turn/file")" = inside ] || fail "data/turn did not become a directory"
[ "$(cat "$D/etc/one")" = one ] && [ "$(cat "$D/etc/two")" = two ] || fail "files of the layers missing"
[ "$(stat -c %a "$D/bin/suid")" = 4755 ] || fail "the setuid bit was lost"
[ "$(stat -c %u:%g "$D/data/keep")" = 1000:1000 ] || fail "the owner was lost"
# The same tree as umoci's own unpack (the root's line aside: umoci sets it itself).
tree_list "$R" | grep -v '^\. ' >want
tree_list "$D" | grep -v '^\. ' >got
diff -u want got >diff || fail "the tree differs from umoci unpack's:
$(head -20 diff)"

# Tags: "img:v1" finds "v1" by its tag part; an unknown tag lists the tags; no tag with
# two images asks for one.
create "{\"base\": \"oci\", \"args\": {\"path\": \"$L\", \"tag\": \"img:v1\"}}" "$D"
expect_rc 0
[ -f "$D/etc/two" ] || fail "tag img:v1 did not pick v1"
create "{\"base\": \"oci\", \"args\": {\"path\": \"$L\", \"tag\": \"nope\"}}" "$D"
expect_refused "no image tagged 'nope' in '$L' \\(tags: 'v1', 'other'\\)"
create "{\"base\": \"oci\", \"args\": {\"path\": \"$L\"}}" "$D"
expect_refused "holds 2 images; give tag"
create "{\"base\": \"oci\", \"args\": {\"path\": \"$TMP\"}}" "$D"
expect_refused "is not an OCI image layout \\(no oci-layout\\)"

# A corrupted layer blob (one byte changed, same size): refused, nothing written.
manifest=$(jq -r '.manifests[] | select(.annotations["org.opencontainers.image.ref.name"] == "v1") | .digest' \
	"$L/index.json" | sed 's,:,/,')
layer2=$(jq -r '.layers[1].digest' "$L/blobs/$manifest" | sed 's,:,/,')
cp -a "$L" "$TMP/bad"
blob=$TMP/bad/blobs/$layer2
size=$(stat -c %s "$blob")
byte=$(od -An -tu1 -j $((size / 2)) -N1 "$blob" | tr -d ' ')
printf "\\$(printf %o $(((byte + 1) % 256)))" |
	dd of="$blob" bs=1 seek=$((size / 2)) conv=notrunc 2>/dev/null
[ "$(stat -c %s "$blob")" = "$size" ] || fail "the corruption changed the size"
create "{\"base\": \"oci\", \"args\": {\"path\": \"$TMP/bad\", \"tag\": \"v1\"}}" "$D"
expect_refused "the layer 2 \\(sha256:[0-9a-f]{12}\\.\\.\\.\\) does not match its digest: refused, nothing written"
[ -z "$(ls -A "$D")" ] || fail "a corrupted blob left files"
# A truncated one.
head -c $((size - 1)) "$L/blobs/$layer2" >"$blob"
create "{\"base\": \"oci\", \"args\": {\"path\": \"$TMP/bad\", \"tag\": \"v1\"}}" "$D"
expect_refused "the layer 2 .* is smaller than its descriptor says"
[ -z "$(ls -A "$D")" ] || fail "a truncated blob left files"
