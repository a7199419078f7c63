#!/bin/sh
# tests/runtime/t1011-conn-escape-dotdot.sh: relative symlinks with many ".." and paths with
# ".." stop at the root: they never reach the build machine.
. "$(dirname "$0")/../lib/test-lib.sh"
. "$TOP/tests/runtime/lib-conn.sh"

H=$TMP/hostdir
mkdir -p "$H"
echo secret >"$H/file"
snap() { find "$H" -printf '%p %m %U %G %T@ %C@ %s\n' | sort; }
snap >host.before
ups=../../../../../../../../../../../../../../../../../../../..
# /etc/app -> ../../..../$H: from the host's point of view that is $H
ln -s "$ups$H" "$ROOT/etc/app"
ln -s "$ups/etc/shadow" "$ROOT/shadow-link"

ct "$ROOT" write /etc/app/x pwned :: read /etc/app/file :: read /shadow-link :: \
	write "/../../../../..$H/y" pwned :: read "/tmp/$ups$H/file" :: \
	symlink x "/etc/app/z" :: touch /etc/app/t
expect_rc 2
expect_no_match out 'secret'
# /shadow-link resolves to the image's /etc/shadow (root:* ...), not the build machine's
expect_out '^root:\*:'
snap >host.before2
cmp -s host.before host.before2 || fail "the build machine's directory changed"
[ "$(cat "$H/file")" = secret ] || fail "the host file changed"

# "/../../..$H/y" is "$H/y" inside the root
mkdir -p "$ROOT$H"
ct "$ROOT" write "/../../../../..$H/y" inside :: write /etc/app/x inside
expect_rc 0
[ "$(cat "$ROOT$H/y")" = inside ] && [ "$(cat "$ROOT$H/x")" = inside ] ||
	fail "writes through .. did not land inside the root"
[ ! -e "$H/y" ] && [ ! -e "$H/x" ] || fail "a write reached the build machine"
