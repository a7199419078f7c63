#!/bin/sh
# tests/runtime/t1203-ssh-login.sh: logging in over SSH (conn_ssh.c against a real
# sshd): the right password logs in; a wrong one is refused with a clear error that names
# what was tried and never the password, on stdout, stderr or in sshd's log; no way to log
# in at all says what to give; an unreadable key file is named; the ssh-agent logs in.
. "$(dirname "$0")/../lib/test-lib.sh"
. "$TOP/tests/runtime/lib-conn.sh"
. "$TOP/tests/runtime/lib-sshd.sh"
sshd_start

printf '%s\n' "$SSHD_PASSWORD" >pw-good
ct -s -k "$SSH_KH" -p pw-good "$SSH_TARGET" stat / :: exec --out o -- echo in
expect_rc 0
expect_out '^status 0 out 3 err 0$'

wrong=Wr0ng-kiln-pw-$$
printf '%s\n' "$wrong" >pw-bad
start=$(date +%s)
ct -s -k "$SSH_KH" -p pw-bad "$SSH_TARGET" stat /
expect_rc 1
expect_out "^error EACCES root@127.0.0.1:$SSHD_PORT refused to log in \(tried a password\)$"
for f in out err "$SSHD_DIR/log"; do
	! grep -qF "$wrong" "$f" || fail "the password appears in $f"
done
[ $(($(date +%s) - start)) -le 10 ] || fail "a refused login took $(($(date +%s) - start)) s"

# A wrong key, then the wrong password: both named, in order.
ssh-keygen -q -t ed25519 -N '' -f "$TMP/stranger" || fail "ssh-keygen failed"
ct -s -k "$SSH_KH" -i "$TMP/stranger" -p pw-bad "$SSH_TARGET" stat /
expect_rc 1
expect_out "refused to log in \(tried the key '$TMP/stranger', a password\)$"
! grep -qF "$wrong" out err || fail "the password appears in the output"

# Nothing to log in with; a key file that is not there.
ct -s -k "$SSH_KH" "$SSH_TARGET" stat /
expect_rc 1
expect_out "^error EACCES no way to log in to root@127.0.0.1:$SSHD_PORT: give a key file, a password, or run an ssh-agent$"
ct -s -k "$SSH_KH" -i "$TMP/no-such-key" "$SSH_TARGET" stat /
expect_rc 1
expect_out "^error EINVAL cannot read the private key '$TMP/no-such-key'"

# The ssh-agent: a real one on a socket in $TMP, holding the client key.
command -v ssh-agent >/dev/null 2>&1 || exit 0
ssh-agent -a "$TMP/agent.sock" >agent.env || fail "ssh-agent did not start"
agent_pid=$(sed -n 's/^SSH_AGENT_PID=\([0-9]*\);.*/\1/p' agent.env)
trap 'kill "$agent_pid" 2>/dev/null; sshd_stop; cd /; rm -rf "$TMP"' EXIT
SSH_AUTH_SOCK=$TMP/agent.sock ssh-add -q "$SSH_KEY" 2>/dev/null || fail "ssh-add failed"
SSH_AUTH_SOCK=$TMP/agent.sock ct -s -g -k "$SSH_KH" "$SSH_TARGET" stat /
expect_rc 0
expect_out '^exists 1 type dir '
SSH_AUTH_SOCK=$TMP/agent.sock ct -s -k "$SSH_KH" "$SSH_TARGET" stat /
expect_rc 1
expect_out "no way to log in" "the agent was used without being asked for"
