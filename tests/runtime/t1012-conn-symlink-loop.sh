#!/bin/sh
# tests/runtime/t1012-conn-symlink-loop.sh: a symlink loop in the image gives a clear error
# (ELOOP, "Too many levels of symbolic links") at once, never a hang.
. "$(dirname "$0")/../lib/test-lib.sh"
. "$TOP/tests/runtime/lib-conn.sh"

ln -s b "$ROOT/a"
ln -s a "$ROOT/b"
ln -s self "$ROOT/self"
CT_TIMEOUT=20
ct "$ROOT" write /a/x hi :: read /a :: stat /a :: mkdir /a/d :: chmod /self 0600 :: \
	touch /self :: read /self/x :: write /self hi :: stat /self nofollow :: remove /self
expect_rc 2
[ "$(grep -c '^error ELOOP .*Too many levels of symbolic links' out)" -eq 7 ] ||
	fail "expected 7 ELOOP errors: $(cat out)"
# a loop as the final component is a link like any other for write, lstat and remove
[ "$(sed -n 8p out)" = ok ] || fail "write /self: $(sed -n 8p out)"
sed -n 9p out | grep -q '^exists 1 type reg ' || fail "write did not replace the looping link /self"
[ "$(sed -n 10p out)" = ok ] && [ ! -e "$ROOT/self" ] || fail "remove /self: $(sed -n 10p out)"
