#!/bin/sh
# tests/runtime/t3041-leftovers.sh: the temporaries a SIGKILLed write leaves beside an
# output (.NAME.kiln-tmp.XXXXXXXX) are removed by the next write of that output, and
# nothing else is: not a similarly named file of the user's, not a symlink, not another
# output's temporary, not a temporary that a running kiln holds (its flock).
. "$(dirname "$0")/../lib/test-lib.sh"
. "$TOP/tests/runtime/lib-output.sh"
need flock

make_tree "$TMP/rootfs"
truncate -s 16G "$TMP/rootfs/var/sparse"
mkdir work dist
pid=
holder=
trap 'for p in $pid $holder; do kill -KILL "$p" 2>/dev/null || true; done; cd /; rm -rf "$TMP"' EXIT

temps()
{
	find "$1" -mindepth 1 -maxdepth 1 -name ".$2.kiln-tmp.*" | sort
}

cat >tar.json <<EOF
{"rootfs": "$TMP/rootfs", "work": "$TMP/work", "local_root": "$TMP", "layers": false,
 "image": {"name": "t"}, "outputs": [{"type": "tar", "path": "dist/root.tar.gz", "args": {}}]}
EOF

# kill -KILL three writes in the middle: each leaves its temporary, and each write
# removes what the one before left
for i in 1 2 3; do
	before=$(temps dist root.tar.gz)
	$OUTPUT_TEST tar.json >out 2>err &
	pid=$!
	n=0
	while now=$(temps dist root.tar.gz) && { [ -z "$now" ] || [ "$now" = "$before" ]; }; do
		n=$((n + 1))
		if [ $n -gt 600 ] || ! kill -0 $pid 2>/dev/null; then
			fail "no temporary appeared (kill $i)"
		fi
		sleep 0.05
	done
	sleep 0.2
	kill -KILL $pid
	wait $pid 2>/dev/null || true
	pid=
done
[ "$(temps dist root.tar.gz | wc -l)" -eq 1 ] ||
	fail "expected only the last kill's leftover: $(temps dist root.tar.gz)"

# what must survive
keep=".root.tar.gz.kiln-tmp.short .root.tar.gz.kiln-tmp.ABCDEFGH root.tar.gz.kiln-tmp.abcdefgh
.root.tar.gz.kiln-tmp.abcdefgh.keep .other.tar.kiln-tmp.abcdefgh .root.tar.kiln-tmp.abcdefgh"
for f in $keep; do
	echo "user $f" >"dist/$f"
done
echo precious >victim
ln -s ../victim dist/.root.tar.gz.kiln-tmp.symlink1
echo 'being written' >dist/.root.tar.gz.kiln-tmp.held1234
(exec 9<dist/.root.tar.gz.kiln-tmp.held1234 && flock 9 && exec sleep 300) >/dev/null 2>&1 &
holder=$!
sleep 0.3

# a stale temporary directory beside an OCI layout
mkdir -p dist/.img.kiln-tmp.dead0000/blobs/sha256
echo x >dist/.img.kiln-tmp.dead0000/blobs/sha256/x

# the next write: a smaller tree, so it ends quickly
rm -f "$TMP/rootfs/var/sparse"
jq '.outputs += [{"type": "oci", "path": "dist/img", "args": {}}] | .layers = true' \
	tar.json >both.json
run_job_ok both.json
[ -f dist/root.tar.gz ] || fail "the tarball was not written"
[ -f dist/img/oci-layout ] || fail "the layout was not written"
left=$(temps dist root.tar.gz | tr '\n' ' ')
[ "$left" = "dist/.root.tar.gz.kiln-tmp.ABCDEFGH dist/.root.tar.gz.kiln-tmp.abcdefgh.keep \
dist/.root.tar.gz.kiln-tmp.held1234 dist/.root.tar.gz.kiln-tmp.short \
dist/.root.tar.gz.kiln-tmp.symlink1 " ] ||
	fail "leftovers not removed, or too much removed: $left"
[ ! -e dist/.img.kiln-tmp.dead0000 ] || fail "the stale temporary directory stayed"
for f in $keep; do
	[ "$(cat "dist/$f")" = "user $f" ] || fail "a user's file was touched: $f"
done
[ "$(cat dist/.root.tar.gz.kiln-tmp.held1234)" = 'being written' ] ||
	fail "a held temporary was touched"
[ "$(cat victim)" = precious ] || fail "the symlink's target was touched"
kill $holder 2>/dev/null || true
wait $holder 2>/dev/null || true
holder=
say "ok: leftovers of killed writes are removed, nothing else"
