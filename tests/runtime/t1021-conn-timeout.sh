#!/bin/sh
# tests/runtime/t1021-conn-timeout.sh: a command past its timeout is killed with its process
# group (status 128 + SIGKILL) and exec returns; the connection goes on working.
. "$(dirname "$0")/../lib/test-lib.sh"
. "$TOP/tests/runtime/lib-conn.sh"

start=$(date +%s)
ct "$ROOT" exec --timeout 1 --out o1 -- sh -c 'echo before; sleep 987671; echo after' :: \
	exec --out ps -- ps -o pid,args :: exec --timeout 5 --out o3 -- echo fine
end=$(date +%s)
expect_rc 0
[ "$(sed -n 1p out)" = "status 137 out 7 err 0" ] || fail "timeout: $(sed -n 1p out)"
[ "$(cat o1)" = before ] || fail "the output before the timeout was lost: $(cat o1)"
expect_match ps '^ *[0-9]+ ps -o pid,args$' "ps -o pid,args does not list itself"
expect_no_match ps '^ *[0-9]+ sleep 987671' "the command's child survived the timeout"
[ "$(cat o3)" = fine ] || fail "the connection does not work after a timeout"
# generous: a loaded machine (or a sanitizer build) is slow, but a missed timeout never ends
[ $((end - start)) -le 15 ] || fail "a 1 s timeout took $((end - start)) s"
