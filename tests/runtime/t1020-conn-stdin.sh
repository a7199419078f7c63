#!/bin/sh
# tests/runtime/t1020-conn-stdin.sh: input reaches a command's stdin, then EOF; 5 MB of input
# while 5 MB come back does not deadlock; a command that does not read its input does not
# kill kiln (SIGPIPE); without input, stdin is /dev/null.
. "$(dirname "$0")/../lib/test-lib.sh"
. "$TOP/tests/runtime/lib-conn.sh"

head -c 5000000 /dev/urandom | od -An -x | head -c 5000000 >in
CT_TIMEOUT=30
ct "$ROOT" exec --input 'hello
world' --out o1 -- cat :: exec --input-file in --out o2 -- wc -c :: \
	exec --input-file in --out o3 -- cat :: exec --input-file in -- true :: \
	exec --input-file in -- sh -c 'head -c 10 >/dev/null; exit 4' :: \
	exec --out o6 -- sh -c 'cat; readlink /proc/self/fd/0'
expect_rc 0
[ "$(cat o1)" = "hello
world" ] || fail "input not passed: $(cat o1)"
[ "$(cat o2)" = 5000000 ] || fail "wc -c counted $(cat o2)"
head -c 100000 o3 | cmp -s - in -n 100000 || fail "cat's output does not start as its input"
[ "$(tail -c 100000 o3 | od -An -x)" = "$(tail -c 100000 in | od -An -x)" ] ||
	fail "cat's output does not end as its input"
sed -n 4p out | grep -q '^status 0 ' || fail "true with unread input: $(sed -n 4p out)"
sed -n 5p out | grep -q '^status 4 ' || fail "a command reading part of its input: $(sed -n 5p out)"
[ "$(cat o6)" = /dev/null ] || fail "without input, stdin is $(cat o6)"
