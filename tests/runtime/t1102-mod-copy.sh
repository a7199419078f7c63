#!/bin/sh
# tests/runtime/t1102-mod-copy.sh: copy and template: inline content, a file, a directory
# with and without its trailing slash (its contents, or itself), symlinks copied as links,
# only what differs rewritten, owner and mode; template writes the rendered content.
. "$(dirname "$0")/../lib/test-lib.sh"
. "$TOP/tests/runtime/lib-mod.sh"
make_rootfs "$ROOT"

mkdir -p src/app/sub
echo one >src/app/a.txt
printf '#!/bin/sh\necho hi\n' >src/app/run.sh
chmod 0755 src/app/run.sh
echo deep >src/app/sub/d
ln -s a.txt src/app/link
L="--local-root $TMP/src"

# "app/": the contents go into dest, which is made
idempotent $L copy '{"src":"app/","dest":"/srv/app","owner":"daemon"}'
[ -f "$ROOT/srv/app/a.txt" ] && [ ! -e "$ROOT/srv/app/app" ] || fail "app/ did not copy the contents"
[ "$(readlink "$ROOT/srv/app/link")" = a.txt ] || fail "symlink not copied as a link"
[ "$(stat -c '%a %u' "$ROOT/srv/app/run.sh")" = "755 1" ] || fail "run.sh: $(stat -c '%a %u' "$ROOT/srv/app/run.sh")"
[ "$(stat -c '%a %u' "$ROOT/srv/app/a.txt")" = "644 1" ] || fail "a.txt attrs"
[ "$(stat -c '%u' "$ROOT/srv/app/sub")" = 1 ] || fail "sub owner"
[ "$(stat -c '%u' "$ROOT/srv/app")" = 1 ] || fail "dest owner"
cmp -s src/app/sub/d "$ROOT/srv/app/sub/d" || fail "sub/d content"

# "app": the directory itself goes into dest
idempotent $L copy '{"src":"app","dest":"/opt"}'
[ -f "$ROOT/opt/app/sub/d" ] || fail "app did not copy the directory itself"
[ ! -e "$ROOT/opt/a.txt" ] || fail "app copied its contents into dest"

# one changed file: only it is rewritten; others keep their inode and time
ino_a=$(stat -c '%i %Y' "$ROOT/opt/app/a.txt")
echo changed >src/app/sub/d
mod $L --diff copy '{"src":"app","dest":"/opt"}'
expect_status changed
expect_match res 'changed /opt/app/sub/d'
expect_no_match res 'a.txt'
res_text diff | grep -q '^+changed$' || fail "no content diff: $(res_text diff)"
[ "$(stat -c '%i %Y' "$ROOT/opt/app/a.txt")" = "$ino_a" ] || fail "an unchanged file was rewritten"
[ "$(cat "$ROOT/opt/app/sub/d")" = changed ] || fail "the change did not land"

# files: into a directory, a path, a new directory named with a trailing /
idempotent $L copy '{"src":"app/a.txt","dest":"/etc/","mode":"0600"}'
[ "$(stat -c %a "$ROOT/etc/a.txt")" = 600 ] || fail "file into a directory"
idempotent $L copy '{"src":"app/a.txt","dest":"/etc/renamed.txt"}'
idempotent $L copy '{"src":"app/a.txt","dest":"/new/dir/"}'
[ -f "$ROOT/new/dir/a.txt" ] || fail "dest/ not made"
mod $L copy '{"src":"app/a.txt","dest":"/missing/file"}'
expect_status failed
expect_match res 'directory /missing does not exist'
mod $L copy '{"src":"nope","dest":"/etc/nope"}'
expect_status failed

# content
idempotent copy '{"content":"x=1\n","dest":"/etc/x.conf","mode":"0640","group":"adm"}'
[ "$(cat "$ROOT/etc/x.conf")" = x=1 ] || fail "content"
[ "$(stat -c '%a %g' "$ROOT/etc/x.conf")" = "640 4" ] || fail "content attrs"
mod copy '{"content":"x\n","dest":"/etc/"}'
expect_status failed

# a symlink at dest is replaced by the file (Ansible's follow = no)
ln -s /etc/passwd "$ROOT/etc/link.conf"
mod copy '{"content":"mine\n","dest":"/etc/link.conf"}'
expect_status changed
[ ! -L "$ROOT/etc/link.conf" ] && [ "$(cat "$ROOT/etc/link.conf")" = mine ] || fail "link at dest"
expect_match "$ROOT/etc/passwd" '^root:'

# template: the plan carries the rendered text as content
idempotent template '{"src":"t/ports.conf.tmpl","content":"Listen 8080\n","dest":"/etc/ports.conf","mode":"0644"}'
[ "$(cat "$ROOT/etc/ports.conf")" = "Listen 8080" ] || fail "template content"
mod --diff template '{"src":"t/ports.conf.tmpl","content":"Listen 80\n","dest":"/etc/ports.conf"}'
expect_status changed
res_text diff | grep -q '^-Listen 8080$' || fail "template diff"
mod template '{"src":"t/ports.conf.tmpl","dest":"/etc/ports.conf"}'
expect_status failed
exit 0
