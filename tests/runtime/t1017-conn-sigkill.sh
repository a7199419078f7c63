#!/bin/sh
# tests/runtime/t1017-conn-sigkill.sh: SIGKILL of the process that opened a rootfs
# connection, while a command runs and another was left behind, leaves no process and no
# mount; the policy-rc.d it left is recognised and taken away by the next connection.
. "$(dirname "$0")/../lib/test-lib.sh"
. "$TOP/tests/runtime/lib-conn.sh"

"$CONN_TEST" "$ROOT" exec -- sh -c 'sleep 987661 >/dev/null 2>&1 &' :: sleep 1 :: \
	exec -- sleep 987662 >out 2>err &
pid=$!
i=0
until [ "$(procs_running sleep 987662)" -eq 1 ]; do
	i=$((i + 1))
	[ $i -le 100 ] || { kill -9 $pid; fail "the command did not start: $(cat out err)"; }
	sleep 0.1
done
holder=$(tr -d ' ' </proc/$pid/task/$pid/children)
[ -n "$holder" ] || fail "no holder process under conn_test"
[ "$(procs_running sleep 987661)" -eq 1 ] || fail "the process left behind is not running"
kill -9 $pid
wait $pid 2>/dev/null || true
wait_procs_gone sleep 987661 || fail "a process left behind survives kiln's SIGKILL"
wait_procs_gone sleep 987662 || fail "the running command survives kiln's SIGKILL"
i=0
while [ -e /proc/$holder ]; do
	i=$((i + 1))
	[ $i -le 100 ] || fail "the holder $holder survives kiln's SIGKILL"
	sleep 0.1
done
grep -F "$ROOT" /proc/self/mountinfo >mounts.after || true
[ ! -s mounts.after ] || fail "mounts left: $(cat mounts.after)"
# what kiln put in the image stays after a SIGKILL; the next connection takes it back
[ -f "$ROOT/usr/sbin/policy-rc.d" ] || fail "policy-rc.d was not there (test premise)"
ct "$ROOT" stat /usr/sbin/policy-rc.d
expect_out '^exists 1 type reg mode 0755 '
[ ! -e "$ROOT/usr/sbin/policy-rc.d" ] || fail "the next connection left kiln's policy-rc.d"
