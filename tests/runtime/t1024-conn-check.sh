#!/bin/sh
# tests/runtime/t1024-conn-check.sh: the connection a module gets in --check
# (conn_check_open) refuses every change with EROFS — write, mkdir, chmod, chown,
# symlink, remove, touch, and a command that is not a read-only probe — while reads,
# stats, readlink and the probes (id, find without actions, stat, date +%s) still work;
# the tree is exactly as before.
. "$(dirname "$0")/../lib/test-lib.sh"
. "$TOP/tests/runtime/lib-conn.sh"

mkdir -p "$ROOT/srv/d"
echo keep >"$ROOT/srv/f"
ln -s f "$ROOT/srv/l"
sum()
{
	(cd "$ROOT" && find . -printf '%p %y %m %U %G %s %T@ %l\n' | LC_ALL=C sort &&
		find . -type f -print0 | LC_ALL=C sort -z | xargs -0r sha256sum) | sha256sum
}
before=$(sum)

ct -c "$ROOT" write /srv/f new :: write /srv/new x :: mkdir /srv/m :: chmod /srv/f 777 \
	:: chown /srv/f 1 1 :: symlink f /srv/s :: remove /srv/f :: remove /srv/d -r \
	:: touch /srv/t :: touch /srv/f :: exec -- touch /srv/x :: exec -- /bin/sh -c 'echo > /srv/y' \
	:: exec -- find /srv -delete :: exec -- rm -rf /srv
[ "$rc" -eq 2 ] || fail "conn_test -c: status $rc, expected some operations to fail"
[ "$(grep -c '^error EROFS ' out)" -eq 14 ] ||
	fail "not every change was refused with EROFS: $(grep -v '^error EROFS' out | tr '\n' '|')"
expect_out 'check mode' "the error does not say it is check mode"
[ "$(sum)" = "$before" ] || fail "the tree changed through the check-mode connection"

ct -c "$ROOT" read /srv/f :: stat /srv/f :: readlink /srv/l :: exec -- id -u \
	:: exec -- find /srv -mindepth 1 -print0 :: exec -- stat -c %Y /srv/f :: exec -- date +%s
[ "$rc" -eq 0 ] || fail "a read or a probe failed in check mode: $(cat out)"
expect_out '^keep$'
expect_out '^exists 1 type reg'
expect_out '^f$'
[ "$(grep -c '^status 0 ' out)" -eq 4 ] || fail "a probe did not run: $(cat out)"
[ "$(sum)" = "$before" ] || fail "the tree changed"

# the same operations without -c do change it (the test above can fail)
ct "$ROOT" write /srv/new x
[ "$rc" -eq 0 ] && [ "$(sum)" != "$before" ] || fail "an ordinary write did not change the tree"
say "ok: check mode refuses every change with EROFS; reads and probes work"
