#!/bin/sh
# tests/runtime/t1204-ssh-unreachable.sh: a dropped SSH session (conn_ssh.c against a real
# sshd). When sshd's session processes die but the server still listens, the next
# operation reconnects and works. When sshd is killed for good, mid-session or while a
# command runs, operations fail with EHOSTUNREACH ("unreachable", after a bounded number
# of attempts) within a few seconds, and nothing hangs. A port nobody listens on is
# unreachable from the start.
. "$(dirname "$0")/../lib/test-lib.sh"
. "$TOP/tests/runtime/lib-conn.sh"
. "$TOP/tests/runtime/lib-sshd.sh"
sshd_start

# Start conn_test in the background; wait for its "ready" line (the sleep operation).
ct_bg()
{
	rm -f "$TMP/out"
	"$CONN_TEST" -s -i "$SSH_KEY" -k "$SSH_KH" "$SSH_TARGET" "$@" >"$TMP/out" 2>"$TMP/err" &
	ct_pid=$!
	_i=0
	until grep -q '^ready ' "$TMP/out" 2>/dev/null; do
		_i=$((_i + 1))
		[ $_i -le 100 ] || fail "conn_test did not get ready: $(cat "$TMP/out" "$TMP/err")"
		sleep 0.1
	done
}

ct_wait()
{
	rc=0
	wait "$ct_pid" || rc=$?
	[ "$rc" -lt 128 ] || fail "conn_test crashed (status $rc)"
}

# 1. The sessions die, the server stays: a transparent reconnect.
ct_bg stat / :: sleep 2 :: write /etc/after-drop x :: exec --out o -- echo again
kill -9 $(sshd_sessions)
ct_wait
[ "$rc" -eq 0 ] || fail "no reconnect after the session dropped (status $rc): $(cat out)"
[ "$(cat "$ROOT/etc/after-drop")" = x ] && [ "$(cat o)" = again ] || fail "the operations after a reconnect did not run"

# ... also when the first operation after the drop is a command.
ct_bg stat / :: sleep 2 :: exec --out o -- echo again
kill -9 $(sshd_sessions)
ct_wait
[ "$rc" -eq 0 ] && [ "$(cat o)" = again ] || fail "no reconnect for a command (status $rc): $(cat out)"

# 2. sshd killed mid-session: unreachable, bounded.
ct_bg stat / :: sleep 2 :: write /etc/after-kill x :: exec -- true :: stat /
sshd_stop
start=$(date +%s)
ct_wait
end=$(date +%s)
[ "$rc" -eq 2 ] || fail "status $rc after sshd was killed: $(cat out)"
[ "$(grep -c "^error EHOSTUNREACH root@127.0.0.1:$SSHD_PORT is unreachable (3 attempts): cannot connect to root@127.0.0.1:$SSHD_PORT: " out)" -eq 3 ] ||
	fail "not three unreachable errors: $(cat out)"
[ ! -e "$ROOT/etc/after-kill" ] || fail "a write went through to a killed server"
[ $((end - start)) -le 12 ] || fail "three operations on a dead host took $((end - start)) s"

# 3. sshd killed while a command runs.
sshd_start
ct_bg sleep 1 :: exec -- sleep 30
sleep 1.5
sshd_stop
start=$(date +%s)
ct_wait
end=$(date +%s)
[ "$rc" -eq 2 ] || fail "status $rc after sshd was killed under a command: $(cat out)"
expect_out "^error EHOSTUNREACH the connection to root@127.0.0.1:$SSHD_PORT dropped while 'sleep' ran: root@127.0.0.1:$SSHD_PORT is unreachable \(3 attempts\)"
[ $((end - start)) -le 10 ] || fail "a command on a killed server returned after $((end - start)) s"

# 4. Nothing listens: unreachable when opening.
ct -s -i "$SSH_KEY" -k "$SSH_KH" "$SSH_TARGET" stat /
expect_rc 1
expect_out "^error EHOSTUNREACH root@127.0.0.1:$SSHD_PORT is unreachable \(3 attempts\): cannot connect"
