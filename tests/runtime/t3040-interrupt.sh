#!/bin/sh
# tests/runtime/t3040-interrupt.sh: a write stopped by SIGINT or SIGTERM, or failing,
# leaves nothing under the final name and no temporary file, and a previous artifact
# under that name stays as it was: a gzip tarball, a layer tar, an OCI layout. A tree
# with a sparse file (many GiB of zeros, no disk used) or random bytes keeps the writers
# busy for long enough to interrupt them.
. "$(dirname "$0")/../lib/test-lib.sh"
. "$TOP/tests/runtime/lib-output.sh"

make_tree "$TMP/rootfs"
truncate -s 16G "$TMP/rootfs/var/sparse"
mkdir work dist
pid=
trap 'if [ -n "$pid" ]; then kill -KILL "$pid" 2>/dev/null || true; fi; cd /; rm -rf "$TMP"' EXIT

# temps DIR: the temporary files and directories of the outputs in DIR
temps()
{
	find "$1" -mindepth 1 -maxdepth 1 -name '.*.kiln-tmp.*'
}

# interrupt JOB SIGNAL DIR NAME: start output_test JOB, wait for a temporary file for NAME
# in DIR, send SIGNAL, and expect a prompt failure that says it was interrupted.
interrupt()
{
	$OUTPUT_TEST "$1" >"$TMP/out" 2>"$TMP/err" &
	pid=$!
	n=0
	while [ -z "$(find "$3" -mindepth 1 -maxdepth 1 -name ".$4.kiln-tmp.*")" ]; do
		n=$((n + 1))
		if [ $n -gt 600 ] || ! kill -0 $pid 2>/dev/null; then
			kill $pid 2>/dev/null || true
			fail "no temporary file for $4 appeared in $3: $(ls -A "$3")"
		fi
		sleep 0.05
	done
	sleep 0.2
	kill -s "$2" $pid
	n=0
	while kill -0 $pid 2>/dev/null; do
		n=$((n + 1))
		[ $n -le 200 ] || fail "output_test did not stop within 10 s of SIG$2"
		sleep 0.05
	done
	rc=0
	wait $pid || rc=$?
	pid=
	check_not_crashed "$1"
	[ "$rc" -eq 1 ] || fail "interrupted output_test exited with status $rc, not 1"
	expect_match "$TMP/err" 'interrupted' "the error does not say it was interrupted: $(cat "$TMP/err")"
	[ -z "$(temps "$3")" ] || fail "a temporary file stayed: $(temps "$3")"
}

# a gzip tarball, stopped by SIGINT: nothing under the final name
cat >tar.json <<EOF
{"rootfs": "$TMP/rootfs", "work": "$TMP/work", "local_root": "$TMP", "layers": false,
 "image": {"name": "t"}, "outputs": [{"type": "tar", "path": "dist/root.tar.gz", "args": {}}]}
EOF
interrupt tar.json INT dist root.tar.gz
[ ! -e dist/root.tar.gz ] || fail "an interrupted tarball is under the final name"

# the same with an earlier tarball there, stopped by SIGTERM: the earlier one stays
echo 'the previous build' >dist/root.tar.gz
interrupt tar.json TERM dist root.tar.gz
[ "$(cat dist/root.tar.gz)" = 'the previous build' ] || fail "the previous artifact was touched"

# a layer tar, stopped while the whole tree is written
cat >layer.json <<EOF
{"rootfs": "$TMP/rootfs", "work": "$TMP/work", "local_root": "$TMP",
 "image": {"name": "t"}, "outputs": []}
EOF
interrupt layer.json INT work layer-0.tar
[ ! -e work/layer-0.tar ] || fail "an interrupted layer is under its final name"

# an OCI layout, stopped while a layer (random bytes: slow to compress) is compressed; the
# earlier layout stays
rm -f "$TMP/rootfs/var/sparse"
head -c 64000000 /dev/urandom >"$TMP/rootfs/var/random"
mkdir -p dist/img
echo '{"imageLayoutVersion": "1.0.0"}' >dist/img/oci-layout
echo 'the previous layout' >dist/img/index.json
cat >oci.json <<EOF
{"rootfs": "$TMP/rootfs", "work": "$TMP/work", "local_root": "$TMP",
 "image": {"name": "t"}, "outputs": [{"type": "oci", "path": "dist/img", "args": {}}]}
EOF
interrupt oci.json TERM dist img
[ "$(cat dist/img/index.json)" = 'the previous layout' ] || fail "the previous layout was touched"
[ ! -e work/layer-0.tar ] || rm -f work/layer-0.tar

# a failure, not a signal: a name that only a whiteout may have
rm -f "$TMP/rootfs/var/random"
: >"$TMP/rootfs/etc/.wh.reserved"
run_job tar.json
[ "$rc" -eq 1 ] || fail "a tree with a whiteout name was written (status $rc)"
expect_match err 'reserved for layer whiteouts'
[ "$(cat dist/root.tar.gz)" = 'the previous build' ] || fail "a failed write touched the artifact"
[ -z "$(temps dist)" ] || fail "a failed write left $(temps dist)"
rm -f dist/root.tar.gz
run_job tar.json
[ ! -e dist/root.tar.gz ] || fail "a failed write left a file under the final name"

# a directory where a tarball goes, or a directory that is no OCI layout where a layout
# goes, is refused before anything is written, and stays as it was
rm "$TMP/rootfs/etc/.wh.reserved"
mkdir -p "dist/root.tar.gz" dist/notlayout
echo keep >dist/root.tar.gz/file
echo keep >dist/notlayout/file
jq '.outputs += [{"type": "oci", "path": "dist/notlayout", "args": {}}]' tar.json >both.json
run_job both.json
[ "$rc" -eq 1 ] || fail "a tarball replaced a directory (status $rc)"
expect_match err 'root.tar.gz is a directory: not replaced'
jq '.outputs = [{"type": "oci", "path": "dist/notlayout", "args": {}}] | .layers = true' \
	tar.json >notlayout.json
run_job notlayout.json
[ "$rc" -eq 1 ] || fail "an OCI layout replaced another directory (status $rc)"
expect_match err 'notlayout is a directory without oci-layout: not replaced'
[ "$(cat dist/root.tar.gz/file dist/notlayout/file)" = "keep
keep" ] || fail "a refused directory was touched"
[ -z "$(temps dist)" ] || fail "a refused write left $(temps dist)"
say "ok: interrupted and failed writes leave no file and no temporary"
