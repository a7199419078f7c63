#!/bin/sh
# tests/runtime/t1015-conn-fd-leak.sh: a command gets fds 0, 1 and 2 and nothing else of
# kiln's (conn_test -f keeps an fd open without close-on-exec, as a bait), with or without
# input; the holder keeps none of kiln's files either.
. "$(dirname "$0")/../lib/test-lib.sh"
. "$TOP/tests/runtime/lib-conn.sh"

exec 7<"$ROOT/etc/passwd" # the shell's own fd, inherited by conn_test
ct -f "$ROOT" exec --out o1 -- ls /proc/self/fd :: exec --input x --out o2 -- ls /proc/self/fd :: \
	exec --out o3 -- sh -c 'sleep 0.5; ls -l /proc/1/fd'
expect_rc 0
for o in o1 o2; do
	# ls itself opens the directory it lists: 3
	[ "$(sort -n $o | tr '\n' ' ')" = "0 1 2 3 " ] || fail "fds in a command ($o): $(tr '\n' ' ' <$o)"
done
# the holder (once it has let go of the command's pipes): 0-2 and stdin for commands
# (/dev/null), the socket to kiln, the pidfd of the command it waits for
expect_no_match o3 'passwd' "the holder keeps kiln's files open"
[ "$(grep -c -- '->' o3)" -eq 6 ] || fail "the holder has other fds than it needs: $(cat o3)"
