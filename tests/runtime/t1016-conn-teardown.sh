#!/bin/sh
# tests/runtime/t1016-conn-teardown.sh: nothing is ever mounted in the build machine's mount
# namespace (before, during and after a connection, though the holder's namespace has /proc,
# /sys, /dev ...); a command that leaves a process behind returns at once, even when that
# process keeps its stdout open; closing the connection ends every such process.
. "$(dirname "$0")/../lib/test-lib.sh"
. "$TOP/tests/runtime/lib-conn.sh"

grep -F "$ROOT" /proc/self/mountinfo >mounts.before || true
[ ! -s mounts.before ] || fail "mounts under the rootfs before the test"
start=$(date +%s)
"$CONN_TEST" "$ROOT" exec -- sh -c 'sleep 987651 >/dev/null 2>&1 &' :: \
	exec -- sh -c 'sleep 987652 & echo started' :: sleep 3 >out 2>err &
pid=$!
i=0
until grep -qs '^ready' out; do
	i=$((i + 1))
	[ $i -le 100 ] || { kill -9 $pid; fail "conn_test did not get to its sleep"; }
	sleep 0.1
done
[ $(($(date +%s) - start)) -le 2 ] || fail "exec waited for the process it left behind"
[ "$(grep -c '^status 0 ' out)" -eq 2 ] || fail "the commands did not end with status 0: $(cat out)"
# during: the processes are there, the holder's namespace has its mounts, the host has none
[ "$(procs_running sleep 987651)" -eq 1 ] && [ "$(procs_running sleep 987652)" -eq 1 ] ||
	fail "the processes left behind are not running"
holder=$(tr -d ' ' </proc/$pid/task/$pid/children)
[ -n "$holder" ] || fail "no holder process under conn_test"
grep -Eq ' /proc [^ ]+ (.* )?- proc ' /proc/$holder/mountinfo &&
	grep -Eq ' /dev [^ ]+ (.* )?- tmpfs ' /proc/$holder/mountinfo ||
	fail "the holder's namespace has no /proc or /dev: $(cat /proc/$holder/mountinfo)"
grep -F "$ROOT" /proc/self/mountinfo >mounts.during || true
[ ! -s mounts.during ] || fail "mounted in the build machine's namespace: $(cat mounts.during)"
[ -z "$(host_mounts_under "$ROOT")" ] || fail "mount points under the rootfs"
rc=0
wait $pid || rc=$?
[ $rc -eq 0 ] || fail "conn_test exited with status $rc"
# after: close waited until the namespace was gone
[ "$(procs_running sleep 987651)" -eq 0 ] && [ "$(procs_running sleep 987652)" -eq 0 ] ||
	fail "processes left behind survive the connection"
[ ! -e /proc/$holder ] || fail "the holder $holder survives the connection"
grep -F "$ROOT" /proc/self/mountinfo >mounts.after || true
[ ! -s mounts.after ] || fail "mounts left: $(cat mounts.after)"
