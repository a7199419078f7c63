#!/bin/sh
# compile -o writes safely whatever is at the name: a character device or a FIFO is
# written through (never replaced by a file), a directory or a socket is refused with
# an error, "-" is stdout, a symlink is replaced (never followed), and the temporary has
# a random name (a planted plan.json.tmp.PID symlink is not followed). The plan is written
# as it is lowered: a source with an error found while lowering (after the first images
# are written) leaves an earlier plan.json as it was and prints nothing on stdout.
. "$(dirname "$0")/../lib/test-lib.sh"

cat >ok.img <<'IMG'
image i from scratch() { stage s { command "echo hi" {} } }
IMG

# "-": the plan on stdout, no file
run_kiln compile ok.img -o -
expect_rc 0
expect_match out '"format_version"' "-o - did not print the plan"
[ ! -e ./- ] || fail "-o - made a file named '-'"

# a character device (our own null, in this directory): written through, stays a device
if mknod null c 1 3 2>/dev/null; then
	run_kiln compile ok.img -o null
	expect_rc 0
	[ -c null ] || fail "-o to a character device replaced it"
	[ -z "$(find . -name '*kiln-tmp*')" ] || fail "a temporary was left beside the device"
else
	say "mknod not permitted: character device case skipped"
fi

# a FIFO: the plan streams through it to a reader
mkfifo fifo
cat fifo >fifo.out &
reader=$!
run_kiln compile ok.img -o fifo
wait $reader
expect_rc 0
[ -p fifo ] || fail "-o to a FIFO replaced it"
grep -q '"format_version"' fifo.out || fail "the plan did not come through the FIFO"

# a directory: refused, untouched
mkdir dir
run_kiln compile ok.img -o dir
expect_rc 1
expect_match err 'dir.*directory' "no clear error for -o to a directory"
[ -d dir ] && [ -z "$(ls -A dir)" ] || fail "the directory was changed"

# a socket: refused
if command -v python3 >/dev/null 2>&1; then
	python3 -c 'import socket; s = socket.socket(socket.AF_UNIX); s.bind("sock")'
	run_kiln compile ok.img -o sock
	expect_rc 1
	expect_match err 'sock.*socket' "no clear error for -o to a socket"
	[ -S sock ] || fail "the socket was replaced"
fi

# a symlink at the final name: the link is replaced, its target not written
echo precious >target
ln -s target link.json
run_kiln compile ok.img -o link.json
expect_rc 0
[ ! -L link.json ] && [ -f link.json ] || fail "the symlink was not replaced by the plan"
[ "$(cat target)" = precious ] || fail "the plan was written through the symlink"

# planted symlinks at every PID-based temporary name: none is followed
echo precious >victim
i=1
while [ $i -le 400 ]; do
	ln -s victim "plan.json.tmp.$(($$ + i))"
	i=$((i + 1))
done
run_kiln compile ok.img -o plan.json
expect_rc 0
[ "$(cat victim)" = precious ] || fail "a planted temporary symlink was followed"
grep -q '"format_version"' plan.json || fail "plan.json not written"
[ -z "$(find . -name '*kiln-tmp*')" ] || fail "a temporary was left"
# an error found late in lowering (the second image's missing copy source): nothing written
cat >late.img <<'IMG'
image a from scratch() { stage s { command "echo hi" {} } }
image b from scratch() { stage s { copy "/x" { src = "missing-file" } } }
IMG
cp plan.json plan.before
run_kiln compile late.img -o plan.json
expect_rc 1
expect_match err 'missing-file'
cmp -s plan.json plan.before || fail "a failed compile changed plan.json"
run_kiln compile late.img -o -
expect_rc 1
expect_empty out
[ -z "$(find . -name '*kiln-tmp*')" ] || fail "a failed compile left a temporary"
exit 0
