#!/bin/sh
# tests/runtime/t1100-mod-command.sh: command and shell on a busybox rootfs: words split as
# sh would, creates/removes, chdir, env, stdin, check mode runs nothing, and a failure
# reports the exit status and the last 20 lines of stderr.
. "$(dirname "$0")/../lib/test-lib.sh"
. "$TOP/tests/runtime/lib-mod.sh"
make_rootfs "$ROOT"

# quoting: each word reaches the program whole; no expansion, no globbing
mod command '{"cmd":"sh -c \"printf %s/ \\\"$@\\\" > /tmp/words\" sh a\\ b '"'"'$HOME *'"'"' \"q\\\"x\" \"\""}'
expect_status changed
[ "$(cat "$ROOT/tmp/words")" = 'a b/$HOME */q"x//' ] || fail "words: $(cat "$ROOT/tmp/words")"
[ "$(res_field exit_status)" = 0 ] || fail "exit_status not 0"

mod command '{"cmd":"echo \"unterminated"}'
expect_status failed
expect_match res 'unterminated'
mod command '{"cmd":"   "}'
expect_status failed

# failure: status and the last 20 lines of stderr
mod shell '{"cmd":"i=1; while [ $i -le 30 ]; do echo err$i >&2; i=$((i+1)); done; echo out; exit 3"}'
expect_status failed
[ "$(res_field exit_status)" = 3 ] || fail "exit_status: $(res_field exit_status)"
res_field stderr_tail >tail
[ "$(wc -l <tail)" -eq 20 ] || fail "stderr_tail has $(wc -l <tail) lines, not 20"
[ "$(head -n1 tail)" = err11 ] && [ "$(tail -n1 tail)" = err30 ] || fail "stderr_tail: $(cat tail)"
expect_match res '"msg": "exited with status 3: err30"'
expect_match res '"cmd": "/bin/sh -c '

mod command '{"cmd":"no-such-program"}'
expect_status failed
[ "$(res_field exit_status)" = 127 ] || fail "missing program: status $(res_field exit_status)"

# check mode runs nothing; creates makes a second run ok
before=$(tree_sum "$ROOT")
mod --check --diff shell '{"cmd":"echo made > /tmp/made","creates":"/tmp/made"}'
expect_status changed
expect_match res '"diff": "would run: '
[ "$(tree_sum "$ROOT")" = "$before" ] || fail "check mode ran the command"
mod shell '{"cmd":"echo made > /tmp/made","creates":"/tmp/made"}'
expect_status changed
[ "$(cat "$ROOT/tmp/made")" = made ] || fail "shell did not run"
mod shell '{"cmd":"echo again > /tmp/made","creates":"/tmp/made"}'
expect_status ok
[ "$(cat "$ROOT/tmp/made")" = made ] || fail "creates did not skip"

# removes: runs only while the path exists
mod command '{"cmd":"rm /tmp/made","removes":"/tmp/made"}'
expect_status changed
[ ! -e "$ROOT/tmp/made" ] || fail "rm did not run"
mod command '{"cmd":"rm /tmp/made","removes":"/tmp/made"}'
expect_status ok

# chdir, env, stdin, executable
mod shell '{"cmd":"pwd > /tmp/pwd; echo \"$A-$B\" > /tmp/env; cat > /tmp/in","chdir":"/etc","env":{"A":"x y","B":"2"},"stdin":"fed\n"}'
expect_status changed
[ "$(cat "$ROOT/tmp/pwd")" = /etc ] || fail "chdir: $(cat "$ROOT/tmp/pwd")"
[ "$(cat "$ROOT/tmp/env")" = "x y-2" ] || fail "env: $(cat "$ROOT/tmp/env")"
[ "$(cat "$ROOT/tmp/in")" = fed ] || fail "stdin: $(cat "$ROOT/tmp/in")"
mod shell '{"cmd":"echo $0 > /tmp/shell","executable":"/bin/ash"}'
expect_status changed
[ "$(cat "$ROOT/tmp/shell")" = /bin/ash ] || fail "executable: $(cat "$ROOT/tmp/shell")"

# a command sees the target, not the build machine
mod command '{"cmd":"cat /etc/passwd"}'
mod shell '{"cmd":"test \"$(head -n1 /etc/passwd)\" = root:x:0:0:root:/root:/bin/sh && test ! -e /usr/lib/os-release -o -e /bin/busybox"}'
expect_status changed
exit 0
