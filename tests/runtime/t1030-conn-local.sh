#!/bin/sh
# tests/runtime/t1030-conn-local.sh: the build machine as a target (the 'local' module):
# commands run in the connection's directory (or a cwd relative to it) with the same clean
# environment and results as in a rootfs; file operations take host paths, relative ones
# against that directory.
. "$(dirname "$0")/../lib/test-lib.sh"
. "$TOP/tests/runtime/lib-conn.sh"

D=$TMP/work
mkdir -p "$D/sub"
exec 7<"$D" # a bait: not inherited by commands
ct -l "$D" write rel.txt hello 0600 :: stat rel.txt :: mkdir newdir :: write "$TMP/abs.txt" abs :: \
	symlink rel.txt "$D/lnk" :: readlink lnk :: exec --out o1 -- pwd :: \
	exec --cwd sub --out o2 -- pwd :: exec --cwd /tmp --out o3 -- pwd :: \
	exec --out o4 --env FOO=bar -- env :: exec --err e5 -- nosuchcmd :: \
	exec --input abc --out o6 -- cat :: exec --out o7 -- ls /proc/self/fd :: \
	exec --cwd nowhere -- true :: remove newdir :: exec -- sh -c 'exit 9'
expect_rc 0
[ "$(cat "$D/rel.txt")" = hello ] || fail "a relative write did not land in the directory"
expect_out '^exists 1 type reg mode 0600 uid 0 gid 0 size 5$'
[ "$(cat "$TMP/abs.txt")" = abs ] || fail "an absolute path is not the host path"
[ "$(readlink "$D/lnk")" = rel.txt ] || fail "symlink"
expect_out '^rel.txt$'
[ "$(cat o1)" = "$D" ] && [ "$(cat o2)" = "$D/sub" ] && [ "$(cat o3)" = /tmp ] ||
	fail "working directories: $(cat o1) $(cat o2) $(cat o3)"
grep -qx FOO=bar o4 && grep -qx HOME=/root o4 && grep -qx DEBIAN_FRONTEND=noninteractive o4 ||
	fail "environment: $(cat o4)"
[ "$(grep -cv '^PWD=\|^SHLVL=\|^_=' o4)" -eq 5 ] || fail "more than the clean environment: $(cat o4)"
expect_out '^status 127 '
expect_match e5 '^kiln: nosuchcmd: command not found$'
[ "$(cat o6)" = abc ] || fail "stdin"
[ "$(sort -n o7 | tr '\n' ' ')" = "0 1 2 3 " ] || fail "fds in a command: $(tr '\n' ' ' <o7)"
expect_out '^status 125 '
expect_out '^status 9 '
[ ! -e "$D/newdir" ] || fail "remove"

# A timeout kills the command's group; a process left holding stdout does not hold exec.
start=$(date +%s)
ct -l "$D" exec --timeout 1 -- sh -c 'sleep 987701; echo after' :: \
	exec --out o8 -- sh -c 'sleep 987702 & echo $!'
left=$(cat o8)
kill "$left" 2>/dev/null || true
[ "$(sed -n 1p out)" = "status 137 out 0 err 0" ] || fail "timeout: $(sed -n 1p out)"
[ $(($(date +%s) - start)) -le 4 ] || fail "exec waited for what the command left behind"
wait_procs_gone sleep 987701 || fail "the timed-out command's child survives"
