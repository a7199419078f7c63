#!/bin/sh
# tests/runtime/t1101-mod-file.sh: the file module: content, mode and owner; directories
# with parents and recurse; links; absent; touch. Each: check mode changes nothing, the
# first run changes, the second is ok. A symlinked /etc pointing outside the root stays in it.
. "$(dirname "$0")/../lib/test-lib.sh"
. "$TOP/tests/runtime/lib-mod.sh"
make_rootfs "$ROOT"

idempotent file '{"path":"/etc/motd","content":"hello\nworld\n","mode":"0600","owner":"daemon","group":"adm"}'
[ "$(cat "$ROOT/etc/motd")" = "$(printf 'hello\nworld')" ] || fail "content"
[ "$(stat -c '%a %u %g' "$ROOT/etc/motd")" = "600 1 4" ] || fail "attrs: $(stat -c '%a %u %g' "$ROOT/etc/motd")"

# a changed content: a unified diff; the owner stays
mod --diff file '{"path":"/etc/motd","content":"hello\nthere\nworld\n"}'
expect_status changed
res_text diff >d
cat >d.want <<'X'
--- /etc/motd (before)
+++ /etc/motd (after)
@@ -1,2 +1,3 @@
 hello
+there
 world
X
cmp -s d d.want || fail "diff: $(cat d)"
[ "$(stat -c '%a %u' "$ROOT/etc/motd")" = "600 1" ] || fail "attrs lost on rewrite"

# mode alone; an unknown owner fails; without content the file must exist
mod --diff file '{"path":"/etc/motd","mode":"0644"}'
expect_status changed
expect_match res '0600 -> 0644'
mod file '{"path":"/etc/motd","owner":"nosuchuser"}'
expect_status failed
expect_match res "no user 'nosuchuser'"
mod file '{"path":"/etc/none"}'
expect_status failed
mod file '{"path":"/nodir/x","content":"x"}'
expect_status failed
expect_match res 'directory /nodir does not exist'
mod file '{"path":"relative","content":"x"}'
expect_status failed

# directories: parents too, as Ansible makes them; recurse applies below
idempotent file '{"path":"/srv/a/b/c","state":"directory","mode":"0750","owner":"daemon"}'
for d in srv srv/a srv/a/b srv/a/b/c; do
	[ "$(stat -c '%a %u' "$ROOT/$d")" = "750 1" ] || fail "$d: $(stat -c '%a %u' "$ROOT/$d")"
done
echo x >"$ROOT/srv/a/f"
ln -s /etc/passwd "$ROOT/srv/a/l"
idempotent file '{"path":"/srv/a","state":"directory","owner":"nobody","recurse":true}'
for p in srv/a srv/a/b srv/a/b/c srv/a/f srv/a/l; do
	[ "$(stat -c '%u' "$ROOT/$p")" = 65534 ] || fail "recurse missed $p"
done
[ "$(stat -c '%u' "$ROOT/etc/passwd")" = 0 ] || fail "recurse followed a symlink"
mod file '{"path":"/etc/motd","state":"directory"}'
expect_status failed

# links: made, replaced atomically when the target differs; a file is not replaced
idempotent file '{"path":"/srv/link","state":"link","src":"a/b"}'
[ "$(readlink "$ROOT/srv/link")" = a/b ] || fail "link"
mod --diff file '{"path":"/srv/link","state":"link","src":"/etc"}'
expect_status changed
[ "$(readlink "$ROOT/srv/link")" = /etc ] || fail "link not replaced"
mod file '{"path":"/etc/motd","state":"link","src":"/x"}'
expect_status failed
mod file '{"path":"/srv/nolink","state":"link"}'
expect_status failed

# touch: created, then its times change each run (Ansible's touch)
mod file '{"path":"/srv/t","state":"touch","mode":"0640"}'
expect_status changed
[ "$(stat -c '%a %s' "$ROOT/srv/t")" = "640 0" ] || fail "touch"
touch -d '2001-01-01' "$ROOT/srv/t"
mod file '{"path":"/srv/t","state":"touch"}'
expect_status changed
[ "$(stat -c %Y "$ROOT/srv/t")" -gt 978307200 ] || fail "touch did not update the time"

# absent: recursive
idempotent file '{"path":"/srv","state":"absent"}'
[ ! -e "$ROOT/srv" ] || fail "/srv still there"
mod file '{"path":"/","state":"absent"}'
expect_status failed

# a final symlink is followed for content, and stays inside the root
mkdir -p outside
echo host >outside/hosts
rm -f "$ROOT/etc/hosts"
ln -s /etc/hosts-real "$ROOT/etc/hosts"
mod file '{"path":"/etc/hosts","content":"127.0.0.1 localhost\n"}'
expect_status changed
[ -L "$ROOT/etc/hosts" ] || fail "the link was replaced"
[ "$(cat "$ROOT/etc/hosts-real")" = "127.0.0.1 localhost" ] || fail "not written through the link"

# /etc a symlink to an absolute path outside: the write lands in ROOT/outside, not the host's
mv "$ROOT/etc" "$ROOT/etc.real"
ln -s "$TMP/outside" "$ROOT/etc"
mod file '{"path":"/etc/hosts","content":"inside\n"}'
expect_status failed # ROOT$TMP/outside does not exist
[ "$(cat outside/hosts)" = host ] || fail "the module wrote outside the root"
mkdir -p "$ROOT$TMP/outside"
mod file '{"path":"/etc/hosts","content":"inside\n"}'
expect_status changed
[ "$(cat outside/hosts)" = host ] || fail "the module wrote outside the root"
[ "$(cat "$ROOT$TMP/outside/hosts")" = inside ] || fail "not written where the link resolves in the root"
mod file '{"path":"/etc/sub","state":"directory"}'
[ ! -e outside/sub ] || fail "a directory made outside the root"
mod file '{"path":"/etc/hosts","state":"absent"}'
[ -e outside/hosts ] || fail "removed a file outside the root"
exit 0
