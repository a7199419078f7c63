#!/bin/sh
# tests/runtime/t1018-conn-missing-command.sh: a command that cannot start is a status, not
# an error of kiln: 127 and "command not found" (or the missing path, or interpreter), 126
# for what cannot be executed, with a clear line on stderr.
. "$(dirname "$0")/../lib/test-lib.sh"
. "$TOP/tests/runtime/lib-conn.sh"

printf '#!/nonexistent/interp\necho hi\n' >"$ROOT/bin/badinterp"
chmod 755 "$ROOT/bin/badinterp"
printf 'echo hi\n' >"$ROOT/bin/noexec"
chmod 644 "$ROOT/bin/noexec"
ct "$ROOT" exec --err e1 -- nosuchcmd arg :: exec --err e2 -- /no/such/file :: \
	exec --err e3 -- badinterp :: exec --err e4 -- noexec :: exec --err e5 -- /etc :: \
	exec --err e6 --env PATH=/nowhere -- ls
expect_rc 0
[ "$(sed -n 1p out)" = "status 127 out 0 err 35" ] || fail "nosuchcmd: $(sed -n 1p out)"
expect_match e1 '^kiln: nosuchcmd: command not found$'
sed -n 2p out | grep -q '^status 127 ' || fail "/no/such/file: $(sed -n 2p out)"
expect_match e2 '^kiln: /no/such/file: No such file or directory$'
sed -n 3p out | grep -q '^status 127 ' || fail "missing interpreter: $(sed -n 3p out)"
expect_match e3 'badinterp: No such file or directory \(a missing interpreter'
sed -n 4p out | grep -q '^status 126 ' || fail "not executable: $(sed -n 4p out)"
expect_match e4 '^kiln: noexec: Permission denied$'
sed -n 5p out | grep -q '^status 126 ' || fail "a directory: $(sed -n 5p out)"
expect_match e5 '^kiln: /etc: Is a directory$'
sed -n 6p out | grep -q '^status 127 ' || fail "PATH from the request: $(sed -n 6p out)"
