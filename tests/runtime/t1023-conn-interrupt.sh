#!/bin/sh
# tests/runtime/t1023-conn-interrupt.sh: when kiln is interrupted (SIGINT sets rt_interrupted)
# a running command is killed at once, exec fails with EINTR, and later ones do not start;
# in a rootfs and on the build machine.
. "$(dirname "$0")/../lib/test-lib.sh"
. "$TOP/tests/runtime/lib-conn.sh"

for mode in rootfs local; do
	case $mode in
	rootfs) set -- "$ROOT" ;;
	local) set -- -l "$TMP" ;;
	esac
	n=98769$((${#mode} % 10))
	"$CONN_TEST" "$@" exec -- sleep $n :: exec -- echo after >out 2>err &
	pid=$!
	i=0
	until [ "$(procs_running sleep $n)" -eq 1 ]; do
		i=$((i + 1))
		[ $i -le 100 ] || { kill -9 $pid; fail "$mode: the command did not start"; }
		sleep 0.1
	done
	kill -INT $pid
	i=0
	while kill -0 $pid 2>/dev/null && ! grep -q '^error EINTR interrupted$' out; do
		i=$((i + 1))
		[ $i -le 50 ] || { kill -9 $pid; fail "$mode: the interruption did not end exec"; }
		sleep 0.1
	done
	rc=0
	wait $pid || rc=$?
	[ $rc -eq 2 ] || fail "$mode: conn_test exited with $rc"
	[ "$(sed -n 1p out)" = "error EINTR interrupted: command 'sleep' was killed" ] ||
		fail "$mode: $(sed -n 1p out)"
	[ "$(sed -n 2p out)" = "error EINTR interrupted" ] || fail "$mode: $(sed -n 2p out)"
	wait_procs_gone sleep $n || fail "$mode: the interrupted command survives"
done
