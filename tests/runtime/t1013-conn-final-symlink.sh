#!/bin/sh
# tests/runtime/t1013-conn-final-symlink.sh: the final component is a symlink to a file of
# the build machine (absolute and relative). write replaces the link inside the root; chmod,
# touch and read follow it only inside the root; chown changes the link. The host file keeps
# its content, mode, owner and times.
. "$(dirname "$0")/../lib/test-lib.sh"
. "$TOP/tests/runtime/lib-conn.sh"

H=$TMP/hostfile
echo secret >"$H"
chmod 0600 "$H"
touch -d '2001-01-01' "$H"
stat -c '%a %u %g %Y %s' "$H" >host.before
ln -s "$H" "$ROOT/etc/motd"
ln -s "../../../../../../../../..$H" "$ROOT/etc/issue"

ct "$ROOT" read /etc/motd :: chmod /etc/motd 0666 :: touch /etc/issue :: chown /etc/motd 5 5 :: \
	stat /etc/motd nofollow
expect_no_match out secret
[ "$(grep -c '^error ENOENT ' out)" -eq 3 ] || fail "read/chmod/touch through the link: $(cat out)"
expect_out '^exists 1 type lnk .* uid 5 gid 5 '
# touch of a dangling link creates its target inside the root, if its directory is there
mkdir -p "$ROOT$TMP"
ct "$ROOT" touch /etc/issue
expect_rc 0
[ -f "$ROOT$H" ] || fail "touch through the link did not create the file inside the root"
rm -f "$ROOT$H"

ct "$ROOT" write /etc/motd written :: write /etc/issue written2 0640
expect_rc 0
[ -f "$ROOT/etc/motd" ] && [ ! -L "$ROOT/etc/motd" ] || fail "/etc/motd is still a link"
[ "$(cat "$ROOT/etc/motd")" = written ] || fail "/etc/motd does not hold the new content"
[ "$(cat "$ROOT/etc/issue")" = written2 ] && [ ! -L "$ROOT/etc/issue" ] || fail "/etc/issue"
[ "$(stat -c %a "$ROOT/etc/motd")" = 644 ] || fail "a replaced link passed on its mode"
stat -c '%a %u %g %Y %s' "$H" >host.after
cmp -s host.before host.after || fail "the host file changed: $(cat host.before) -> $(cat host.after)"
[ "$(cat "$H")" = secret ] || fail "the host file's content changed"
