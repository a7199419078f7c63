#!/bin/sh
# tests/runtime/t1208-ssh-connect-timeout.sh: a host that accepts TCP connections but never
# speaks SSH (a listening socket nobody answers on) is unreachable after the connect
# timeout of each of the bounded attempts, not a hang: with a 1 s timeout and 3 attempts,
# a few seconds.
. "$(dirname "$0")/../lib/test-lib.sh"
. "$TOP/tests/runtime/lib-conn.sh"
need python3

python3 -c '
import socket, sys, time
s = socket.socket()
s.bind(("127.0.0.1", 0))
s.listen(16)
print(s.getsockname()[1], flush=True)
time.sleep(120)' >port &
silent=$!
trap 'kill "$silent" 2>/dev/null; cd /; rm -rf "$TMP"' EXIT
i=0
until [ -s port ]; do
	i=$((i + 1))
	[ $i -le 50 ] || fail "the silent listener did not start"
	sleep 0.1
done
: >kh
start=$(date +%s)
ct -s -t 1 -k kh "root@127.0.0.1:$(cat port)" stat /
end=$(date +%s)
expect_rc 1
expect_out "^error EHOSTUNREACH root@127.0.0.1:$(cat port) is unreachable \(3 attempts\): cannot connect to root@127.0.0.1:$(cat port): "
[ $((end - start)) -ge 2 ] && [ $((end - start)) -le 8 ] ||
	fail "three 1 s connect timeouts took $((end - start)) s"
