#!/bin/sh
# A kiln command stopped by SIGINT exits 130, by SIGTERM 143 (as shells and CI expect), and
# leaves no temporary file: caught while compile waits to write its plan into a FIFO that
# nobody reads, and the FIFO stays one.
. "$(dirname "$0")/../lib/test-lib.sh"

cat >ok.img <<'IMG'
image i from scratch() { stage s { command "echo hi" {} } }
IMG
mkfifo out.json

# stop SIGNAL STATUS ARGS...: start kiln ARGS, let it block, send SIGNAL, expect STATUS
stop()
{
	_sig=$1
	_want=$2
	shift 2
	$KILN "$@" >out 2>err &
	_pid=$!
	sleep 0.5
	kill -0 $_pid 2>/dev/null || fail "kiln $* ended before the signal"
	kill -s "$_sig" $_pid
	rc=0
	wait $_pid || rc=$?
	[ "$rc" -eq "$_want" ] || fail "kiln $* exited $rc after SIG$_sig, not $_want"
	_left=$(find . -name '*kiln-tmp*')
	[ -z "$_left" ] || fail "kiln $* left a temporary: $_left"
}

stop INT 130 compile ok.img -o out.json
stop TERM 143 compile ok.img -o out.json
[ -p out.json ] || fail "the FIFO was replaced"
exit 0
