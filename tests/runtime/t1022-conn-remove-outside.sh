#!/bin/sh
# tests/runtime/t1022-conn-remove-outside.sh: a recursive remove never follows a symlink
# (absolute, relative, or the directory named itself being a link) and never crosses into a
# mount: what lies outside stays whole.
. "$(dirname "$0")/../lib/test-lib.sh"
. "$TOP/tests/runtime/lib-conn.sh"

O=$TMP/outside
mkdir -p "$O/sub" "$ROOT/inside"
echo keep >"$O/file"
echo keep >"$O/sub/file"
echo keep >"$ROOT/inside/file"
mkdir -p "$ROOT/d/e"
ln -s "$O" "$ROOT/d/abs"
ln -s ../../../../../../../../..$O "$ROOT/d/e/rel"
ln -s /inside "$ROOT/d/in"
ln -s "$O" "$ROOT/dlink"
ct "$ROOT" remove /d -r :: remove /dlink -r
expect_rc 0
[ ! -e "$ROOT/d" ] && [ ! -L "$ROOT/dlink" ] || fail "remove -r left something"
[ -f "$O/file" ] && [ -f "$O/sub/file" ] || fail "remove -r followed a link out of the root"
[ -f "$ROOT/inside/file" ] || fail "remove -r followed a link inside the root"

# A mount below the directory (a leftover bind, say): refused, nothing under it removed.
need mount
mkdir -p "$ROOT/m/mnt"
mount -t tmpfs kiln-test "$ROOT/m/mnt" || skip "cannot mount a tmpfs"
trap 'umount "$ROOT/m/mnt" 2>/dev/null || true; cd /; rm -rf "$TMP"' EXIT
echo keep >"$ROOT/m/mnt/file"
ct "$ROOT" remove /m -r
umount "$ROOT/m/mnt"
expect_rc 2
expect_out '^error EXDEV .*mount point'
