#!/bin/sh
# tests/runtime/t1105-mod-unarchive.sh: unarchive unpacks a tar (gzip too) of the build
# machine into a directory of the target, only what differs, and refuses a hostile archive
# (../x, an absolute name, a symlink leaving dest, a file written through an archive's own
# symlink) before writing anything.
. "$(dirname "$0")/../lib/test-lib.sh"
. "$TOP/tests/runtime/lib-mod.sh"
need tar
make_rootfs "$ROOT"
mkdir -p "$ROOT/srv" "$ROOT/opt" src

mkdir -p a/app/sub
echo A >a/app/a
echo B >a/app/sub/b
chmod 0750 a/app/sub
ln -s a a/app/la
ln a/app/a a/app/hard
tar -C a -czf src/app.tgz app
L="--local-root $TMP/src"

idempotent $L unarchive '{"src":"app.tgz","dest":"/srv","owner":"daemon","group":"adm"}'
[ "$(cat "$ROOT/srv/app/sub/b")" = B ] || fail "sub/b"
[ "$(readlink "$ROOT/srv/app/la")" = a ] || fail "symlink"
[ "$(cat "$ROOT/srv/app/hard")" = A ] || fail "hard link"
[ "$(stat -c '%a %u %g' "$ROOT/srv/app/sub")" = "750 1 4" ] || fail "sub: $(stat -c '%a %u %g' "$ROOT/srv/app/sub")"
[ "$(stat -c '%a %u %g' "$ROOT/srv/app/a")" = "644 1 4" ] || fail "a attrs"

# a file changed on the target: only it is written again
ino=$(stat -c %i "$ROOT/srv/app/sub/b")
echo tampered >"$ROOT/srv/app/a"
mod $L unarchive '{"src":"app.tgz","dest":"/srv","owner":"daemon","group":"adm"}'
expect_status changed
expect_match res 'unpacked 1 entry'
[ "$(cat "$ROOT/srv/app/a")" = A ] || fail "not restored"
[ "$(stat -c %i "$ROOT/srv/app/sub/b")" = "$ino" ] || fail "an unchanged file was rewritten"

# mode for files; a plain tar with ./ names
tar -C a -cf src/app.tar ./app
idempotent $L unarchive '{"src":"app.tar","dest":"/opt","mode":"0600"}'
[ "$(stat -c %a "$ROOT/opt/app/a")" = 600 ] || fail "mode"
[ "$(stat -c %a "$ROOT/opt/app/sub")" = 750 ] || fail "mode applied to a directory"

mod $L unarchive '{"src":"app.tar","dest":"/nodir"}'
expect_status failed
expect_match res 'must be an existing directory'
mod $L unarchive '{"src":"missing.tar","dest":"/opt"}'
expect_status failed

# hostile archives
mkdir -p h/in && echo evil >h/evil
(cd h/in && tar -cPf "$TMP/src/dotdot.tar" ../evil) 2>/dev/null
tar -cPf src/abs.tar "$TMP/h/evil" 2>/dev/null
mkdir -p s1 s2/l s3
ln -s /etc s1/l
echo 'evil:x:0:0::/:/bin/sh' >s2/l/passwd
tar -C s1 -cf src/symesc.tar l
tar -C s2 -rf src/symesc.tar l/passwd
ln -s ../../../.. s3/up
tar -C s3 -cf src/up.tar up
ln -s /etc/passwd s3/abs
tar -C s3 -cf src/abslink.tar abs

before=$(tree_sum "$ROOT")
for t in dotdot abs symesc up abslink; do
	tar -tvf "src/$t.tar" >/dev/null 2>&1 || fail "could not make $t.tar"
	mod $L unarchive "{\"src\":\"$t.tar\",\"dest\":\"/opt\"}"
	expect_status failed
	expect_match res 'refusing archive entry'
	[ "$(tree_sum "$ROOT")" = "$before" ] || fail "$t.tar changed the tree before being refused"
done
[ ! -e "$ROOT/evil" ] && [ ! -e "$ROOT/opt/evil" ] || fail "an entry landed"
expect_no_match "$ROOT/etc/passwd" '^evil:'
exit 0
