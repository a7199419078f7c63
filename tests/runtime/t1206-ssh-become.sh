#!/bin/sh
# tests/runtime/t1206-ssh-become.sh: become (sudo) over SSH (conn_ssh.c against a real sshd).
# The busybox target has no sudo, so /usr/bin/sudo in it is a stand-in script that accepts
# exactly what kiln must send — sudo -S -k -p '' -u USER -- /bin/sh -c SCRIPT — and reads
# the password as stdin's first line, as sudo -S does. The test checks that the password
# arrives on stdin and never on a command line, that the command's own stdin follows it
# intact, and that a wrong password fails the command with sudo's message.
. "$(dirname "$0")/../lib/test-lib.sh"
. "$TOP/tests/runtime/lib-conn.sh"
. "$TOP/tests/runtime/lib-sshd.sh"
sshd_start

pw=become-secret-$$
printf '%s\n' "$pw" >"$ROOT/etc/sudo-password"
cat >"$ROOT/usr/bin/sudo" <<'X'
#!/bin/sh
# test stand-in for sudo: the options kiln sends, the password on stdin's first line
for a in "$@"; do printf '[%s]' "$a"; done >>/tmp/sudo-args
echo >>/tmp/sudo-args
[ "$1|$2|$3|$4|$5|$7|$8|$9" = "-S|-k|-p||-u|--|/bin/sh|-c" ] || { echo "sudo: bad usage: $*" >&2; exit 1; }
IFS= read -r given
[ "$given" = "$(cat /etc/sudo-password)" ] || { echo "Sorry, try again." >&2; exit 1; }
echo "$6" >>/tmp/sudo-users
shift 7
exec "$@"
X
chmod 755 "$ROOT/usr/bin/sudo"
printf '%s\n' "$pw" >pw-good
printf 'line one\nline two\n' >in
printf 'wrong-%s\n' "$pw" >pw-bad

ct -s -b -B pw-good -i "$SSH_KEY" -k "$SSH_KH" "$SSH_TARGET" exec --input-file in --out o1 -- sh -c 'cat; echo "$HOME"' :: exec --out o2 -- echo plain
expect_rc 0
[ "$(cat o1)" = "line one
line two
/root" ] || fail "stdin after the password arrived as: $(cat o1)"
[ "$(grep -c . "$ROOT/tmp/sudo-users")" -eq 2 ] && ! grep -qv '^root$' "$ROOT/tmp/sudo-users" ||
	fail "sudo was not used for every command as root: $(cat "$ROOT/tmp/sudo-users")"
! grep -qF "$pw" "$ROOT/tmp/sudo-args" || fail "the password was on sudo's command line"
! grep -qF "$pw" out err || fail "the password was printed"

ct -s -b -B pw-bad -i "$SSH_KEY" -k "$SSH_KH" "$SSH_TARGET" exec --err e -- true
expect_rc 0
expect_out '^status 1 '
expect_match e 'Sorry, try again'
! grep -qF "wrong-$pw" out err e || fail "the wrong password was printed"
