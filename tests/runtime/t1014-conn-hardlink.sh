#!/bin/sh
# tests/runtime/t1014-conn-hardlink.sh: a write replaces the name (rename), never writes
# into the inode: another hard link to the old file keeps the old content, mode and inode.
. "$(dirname "$0")/../lib/test-lib.sh"
. "$TOP/tests/runtime/lib-conn.sh"

ct "$ROOT" write /etc/a old 0600
ln "$ROOT/etc/a" "$ROOT/root/b"
ino=$(stat -c %i "$ROOT/root/b")
ct "$ROOT" write /etc/a new 0644 :: read /root/b
expect_rc 0
expect_out '^old$'
[ "$(cat "$ROOT/etc/a")" = new ] || fail "/etc/a does not hold the new content"
[ "$(cat "$ROOT/root/b")" = old ] || fail "the other hard link was written through"
[ "$(stat -c '%i %a %h' "$ROOT/root/b")" = "$ino 600 1" ] ||
	fail "the other link changed: $(stat -c '%i %a %h' "$ROOT/root/b")"
