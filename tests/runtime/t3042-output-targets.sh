#!/bin/sh
# tests/runtime/t3042-output-targets.sh: what is at an output's path decides how it is
# written, and nothing there is ever replaced by a file: a character device (our own null,
# in this directory) or a FIFO is written through; a directory, a socket, or a device where
# an OCI layout goes is refused with an error naming it; a symlink is replaced, its target
# untouched.
. "$(dirname "$0")/../lib/test-lib.sh"
. "$TOP/tests/runtime/lib-output.sh"

make_tree "$TMP/rootfs"
mkdir work dist
job()
{
	cat >"$1.json" <<EOF
{"rootfs": "$TMP/rootfs", "work": "$TMP/work", "local_root": "$TMP", "layers": true,
 "image": {"name": "t"}, "outputs": $2}
EOF
}

# a character device: the tarball, the checksum and the manifest go through it
mknod dist/null c 1 3 || skip "mknod not permitted"
job dev '[{"type": "tar", "path": "dist/null", "args": {}},
          {"type": "checksum", "path": "dist/null", "args": {}},
          {"type": "manifest", "path": "dist/null", "args": {}}]'
run_job_ok dev.json
[ -c dist/null ] || fail "an output replaced a character device"

# a FIFO: the tarball streams through it to a reader
mkfifo dist/fifo
cat dist/fifo >fifo.out &
reader=$!
job fifo '[{"type": "tar", "path": "dist/fifo", "args": {}}]'
run_job_ok fifo.json
wait $reader
[ -p dist/fifo ] || fail "an output replaced a FIFO"
[ "$(tar -tf fifo.out | grep -c .)" -gt 5 ] || fail "the tarball did not come through the FIFO"

# an OCI layout at a device: refused
job ocidev '[{"type": "oci", "path": "dist/null", "args": {}}]'
run_job ocidev.json
[ "$rc" -eq 1 ] || fail "an OCI layout at a device: status $rc"
expect_match err 'dist/null.*character device' "no clear error for a layout at a device"
[ -c dist/null ] || fail "the device was replaced"

# a socket: refused
if command -v python3 >/dev/null 2>&1; then
	python3 -c 'import socket; s = socket.socket(socket.AF_UNIX); s.bind("dist/sock")'
	job sock '[{"type": "checksum", "path": "dist/sock", "args": {}}]'
	run_job sock.json
	[ "$rc" -eq 1 ] || fail "a checksum at a socket: status $rc"
	expect_match err 'dist/sock.*socket' "no clear error for a socket"
	[ -S dist/sock ] || fail "the socket was replaced"
fi

# a symlink: replaced, not followed
echo precious >victim
ln -s ../victim dist/link.tar
job link '[{"type": "tar", "path": "dist/link.tar", "args": {}}]'
run_job_ok link.json
[ -f dist/link.tar ] && [ ! -L dist/link.tar ] || fail "the symlink was not replaced"
[ "$(cat victim)" = precious ] || fail "the tarball was written through the symlink"
[ -z "$(find dist -name '.*kiln-tmp*')" ] || fail "temporaries left: $(find dist -name '.*kiln-tmp*')"
say "ok: devices and FIFOs written through, directories and sockets refused, symlinks replaced"
