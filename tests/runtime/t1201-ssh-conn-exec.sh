#!/bin/sh
# tests/runtime/t1201-ssh-conn-exec.sh: commands over SSH (conn_ssh.c against a real sshd,
# lib-sshd.sh): exit status (and 128 + a signal), stdout and stderr apart, the clean
# environment and what a request adds, the working directory (125 when it cannot be
# entered), a missing command (127), stdin (text and 3 MB), big output cut to the same
# limit as a rootfs's, and a timeout that kills the command's process group (137) and
# leaves the connection working.
. "$(dirname "$0")/../lib/test-lib.sh"
. "$TOP/tests/runtime/lib-conn.sh"
. "$TOP/tests/runtime/lib-sshd.sh"
sshd_start

cts exec --out o1 --err e1 -- sh -c 'echo out; echo err >&2; exit 3' :: \
	exec -- sh -c 'kill -9 $$' :: exec --out o2 -- env :: \
	exec --out o3 --env FOO=bar --env LANG=C --env 'X=a b' -- env :: \
	exec --cwd /tmp --out o4 -- pwd :: exec --cwd /nowhere --err e5 -- pwd :: \
	exec --err e6 -- no-such-command-kiln :: \
	exec --out o7 -- sh -c 'printf "%s|" "$@"' sh "it's" 'a "b"' '$HOME' '*' ''
expect_rc 0
expect_out '^status 3 out 4 err 4$'
[ "$(cat o1)" = out ] && [ "$(cat e1)" = err ] || fail "stdout and stderr mixed up: $(cat o1) / $(cat e1)"
expect_out '^status 137 ' "a command killed by SIGKILL is not 128+9"
for v in 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' HOME=/root \
	LANG=C.UTF-8 DEBIAN_FRONTEND=noninteractive; do
	grep -qxF "$v" o2 || fail "the environment lacks $v"
done
[ "$(grep -cv '^PWD=\|^SHLVL=' o2)" -eq 4 ] || fail "the environment has more than the defaults: $(cat o2)"
grep -qx FOO=bar o3 && grep -qx 'X=a b' o3 || fail "env entries not passed"
[ "$(grep -c '^LANG=' o3)" -eq 1 ] && grep -qx LANG=C o3 || fail "LANG=C did not replace the default"
[ "$(cat o4)" = /tmp ] || fail "cwd /tmp: pwd printed $(cat o4)"
expect_out '^status 125 '
expect_match e5 "kiln: cannot enter directory '/nowhere'"
expect_out '^status 127 '
[ "$(cat o7)" = "it's|a \"b\"|\$HOME|*||" ] || fail "arguments were changed on the way: $(cat o7)"

# stdin: text, then 3 MB; no input is an empty stdin, not a hang.
head -c 3000000 /dev/urandom >in
cts exec --input 'line one
line two' --out o1 -- cat :: exec --input-file in --out o2 -- md5sum :: exec --out o3 -- cat
expect_rc 0
[ "$(cat o1)" = "line one
line two" ] || fail "stdin came through as: $(cat o1)"
[ "$(cut -d' ' -f1 o2)" = "$(md5sum <in | cut -d' ' -f1)" ] || fail "3 MB through stdin arrived different"
[ ! -s o3 ] || fail "no input was not an empty stdin"

# Big output: head and tail kept, the middle dropped, within EXEC_OUTPUT_MAX (1 MiB).
cts exec --out o --err e -- sh -c 'echo first; yes 0123456789 | head -c 5000000; echo; echo last; yes e | head -c 3000000 >&2'
expect_rc 0
[ "$(wc -c <o)" -le 1048576 ] && [ "$(wc -c <e)" -le 1048576 ] || fail "output beyond the limit: $(wc -c <o) $(wc -c <e)"
[ "$(head -n 1 o)" = first ] && [ "$(tail -n 1 o)" = last ] || fail "head or tail lost"
grep -q '^\[kiln: [0-9]* bytes of output dropped\]$' o || fail "no marker for the dropped middle"

# A timeout kills the command and its children; the connection goes on.
start=$(date +%s)
cts exec --timeout 1 --out o1 -- sh -c 'echo before; sleep 987671; echo after' :: \
	exec --timeout 5 --out o3 -- echo fine
end=$(date +%s)
expect_rc 0
[ "$(sed -n 1p out)" = "status 137 out 7 err 0" ] || fail "timeout: $(sed -n 1p out)"
[ "$(cat o1)" = before ] || fail "the output before the timeout was lost: $(cat o1)"
[ "$(cat o3)" = fine ] || fail "the connection does not work after a timeout"
[ $((end - start)) -le 5 ] || fail "a 1 s timeout took $((end - start)) s"
wait_procs_gone sleep 987671 || fail "the command's child survived the timeout"

# SIGINT (kiln interrupted) kills the running command at once: EINTR, nothing left behind.
"$CONN_TEST" -s -i "$SSH_KEY" -k "$SSH_KH" "$SSH_TARGET" exec -- sh -c 'echo up >/tmp/up; sleep 987672' \
	>out 2>err &
p=$!
i=0
until [ -e "$ROOT/tmp/up" ]; do
	i=$((i + 1))
	[ $i -le 100 ] || fail "the command did not start"
	sleep 0.1
done
kill -INT $p
rc=0
wait $p || rc=$?
[ "$rc" -eq 2 ] || fail "conn_test exited $rc after SIGINT"
expect_out "^error EINTR interrupted: command 'sh' was killed$"
wait_procs_gone sleep 987672 || fail "the interrupted command is still running"

# A command that stops reading its stdin early does not stall the connection.
head -c 5000000 /dev/zero >zeros
cts exec --input-file zeros --out o -- sh -c 'head -c 10 >/tmp/ten; echo done'
expect_rc 0
[ "$(cat o)" = done ] || fail "a command that closed its stdin: $(cat out)"
