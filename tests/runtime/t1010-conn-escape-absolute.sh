#!/bin/sh
# tests/runtime/t1010-conn-escape-absolute.sh: /etc in the image is a symlink to an absolute
# path of the build machine. Every file operation on /etc/... resolves inside the root (or
# fails); the build machine's directory is never read, written, listed or changed.
. "$(dirname "$0")/../lib/test-lib.sh"
. "$TOP/tests/runtime/lib-conn.sh"

H=$TMP/hostdir # a directory of the build machine
mkdir -p "$H/sub"
echo secret >"$H/passwd"
chmod 0600 "$H/passwd"
snap() { find "$H" -printf '%p %m %U %G %T@ %C@ %s\n' | sort; }
snap >host.before
rm -rf "$ROOT/etc"
ln -s "$H" "$ROOT/etc"

# The target does not exist inside the root: everything fails, nothing reaches the host.
ct "$ROOT" write /etc/x pwned :: read /etc/passwd :: mkdir /etc/newdir :: touch /etc/t :: \
	symlink /x /etc/l :: chmod /etc/passwd 0666 :: chown /etc/passwd 1 1 :: \
	remove /etc/passwd :: remove /etc/sub -r :: readlink /etc/passwd :: stat /etc/passwd
expect_rc 2
[ "$(grep -c '^error ENOENT ' out)" -eq 8 ] || fail "expected 8 ENOENT errors: $(cat out)"
[ "$(grep -c '^ok$' out)" -eq 2 ] || fail "removing what is missing is not an error"
expect_out '^exists 0$'
expect_no_match out 'secret'
snap >host.after
cmp -s host.before host.after || fail "the build machine's directory changed: $(diff host.before host.after)"
[ "$(cat "$H/passwd")" = secret ] || fail "the host file changed"

# The same path inside the root exists: operations act there, and only there.
mkdir -p "$ROOT$H/sub"
echo inside >"$ROOT$H/passwd"
ct "$ROOT" write /etc/x written :: read /etc/passwd :: mkdir /etc/newdir :: remove /etc/sub -r
expect_rc 0
expect_out '^inside$'
[ "$(cat "$ROOT$H/x")" = written ] || fail "write did not land inside the root"
[ -d "$ROOT$H/newdir" ] && [ ! -e "$ROOT$H/sub" ] || fail "mkdir/remove did not act inside the root"
snap >host.after
cmp -s host.before host.after || fail "the build machine's directory changed: $(diff host.before host.after)"

# A command sees the same: its / is the rootfs.
ct "$ROOT" exec --out o -- cat /etc/passwd
expect_match o '^inside$'
