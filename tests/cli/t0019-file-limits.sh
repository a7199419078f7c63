#!/bin/sh
# Files kiln refuses before reading them: too large (over 1 GiB), not a regular file.
. "$(dirname "$0")/../lib/test-lib.sh"

# A sparse file just over the limit: refused at once, without reading a GiB.
truncate -s 1025M big.img 2>/dev/null || skip "cannot make a sparse file here"
KILN_TEST_TIMEOUT=30
run_kiln lint big.img
expect_rc 1
expect_match err '^big\.img(:[0-9]+:[0-9]+)?: error\[E0003\]: ' "no E0003 for a file over 1 GiB"
expect_count err 'error\[' 1 "a too large file should give exactly one error"
rm -f big.img

# Just under a realistic size it is read normally: 1 MiB of comments and one item.
awk 'BEGIN { for (i = 0; i < 16384; i++) printf "# %060d\n", i; print "image a from scratch() {}" }' >mid.img
run_kiln lint mid.img
expect_rc 0
expect_empty err

# Devices and FIFOs are not regular files: an error, never a hang or an endless read.
# (/dev/null may count as an empty file: a warning then.)
run_kiln lint /dev/null
case $rc in
0) expect_match err '^/dev/null(:[0-9]+:[0-9]+)?: warning\[W0001\]' "/dev/null: no empty-file warning" ;;
1) expect_match err '^/dev/null(:[0-9]+:[0-9]+)?: error\[E0' "/dev/null: no E0xxx error" ;;
*) fail "/dev/null: exit status $rc" ;;
esac
KILN_TEST_TIMEOUT=10
run_kiln lint /dev/zero
expect_rc 1
expect_match err '^/dev/zero(:[0-9]+:[0-9]+)?: error\[E0' "no error for /dev/zero"
mkfifo pipe.img 2>/dev/null || skip "cannot make a FIFO here"
KILN_TEST_TIMEOUT=10    # nobody ever writes to the FIFO: waiting for a writer is a hang
run_kiln lint pipe.img
expect_rc 1
expect_match err '^pipe\.img(:[0-9]+:[0-9]+)?: error\[E0' "no error for a FIFO"

# A file without read permission (unless running as root, who can read anything).
echo 'image a from scratch() {}' >secret.img
chmod 000 secret.img
if [ ! -r secret.img ]; then
	run_kiln lint secret.img
	expect_rc 1
	expect_match err '^secret\.img(:[0-9]+:[0-9]+)?: error\[E0001\]: ' "no E0001 for an unreadable file"
fi
chmod 600 secret.img
