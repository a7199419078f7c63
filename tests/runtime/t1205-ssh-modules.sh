#!/bin/sh
# tests/runtime/t1205-ssh-modules.sh: modules over SSH (mod_test --ssh against a real sshd,
# lib-sshd.sh): file, copy, lineinfile, command and group/user act on the host through
# conn_ssh, idempotently (check mode changes nothing, the first run changes, the second is
# ok). The host is sshd chrooted into the test's rootfs, so /etc here is $ROOT/etc: the
# test asserts that this machine's /etc did not change.
. "$(dirname "$0")/../lib/test-lib.sh"
. "$TOP/tests/runtime/lib-mod.sh"
make_rootfs "$ROOT"
. "$TOP/tests/runtime/lib-sshd.sh"
sshd_start
MOD_TEST="$MOD_TEST --ssh $SSH_TARGET --ssh-key $SSH_KEY --known-hosts $SSH_KH"

idempotent file '{"path":"/etc/motd","content":"hello\nworld\n","mode":"0600","owner":"daemon","group":"adm"}'
[ "$(res_field conn)" = ssh ] || fail "the module did not run over ssh: $(cat res)"
[ "$(cat "$ROOT/etc/motd")" = "$(printf 'hello\nworld')" ] || fail "content"
[ "$(stat -c '%a %u %g' "$ROOT/etc/motd")" = "600 1 4" ] || fail "attrs: $(stat -c '%a %u %g' "$ROOT/etc/motd")"
idempotent file '{"path":"/srv/www/html","state":"directory","mode":"0750"}'
[ "$(stat -c %a "$ROOT/srv/www/html")" = 750 ] || fail "directory mode"
idempotent file '{"path":"/etc/motd.link","src":"/etc/motd","state":"link"}'
[ "$(readlink "$ROOT/etc/motd.link")" = /etc/motd ] || fail "link"

mkdir -p src/app/sub
echo one >src/app/a.txt
echo deep >src/app/sub/d
idempotent --local-root "$TMP/src" copy '{"src":"app/","dest":"/srv/app","owner":"daemon"}'
[ "$(cat "$ROOT/srv/app/sub/d")" = deep ] && [ "$(stat -c %u "$ROOT/srv/app/a.txt")" = 1 ] ||
	fail "copy over ssh"

printf 'a\n#PermitRootLogin yes\nb\n' >"$ROOT/etc/ssh.conf"
idempotent lineinfile '{"path":"/etc/ssh.conf","regexp":"^#?PermitRootLogin","line":"PermitRootLogin no"}'
[ "$(cat "$ROOT/etc/ssh.conf")" = "$(printf 'a\nPermitRootLogin no\nb')" ] || fail "lineinfile: $(cat "$ROOT/etc/ssh.conf")"

mod shell '{"cmd":"pwd > /tmp/pwd; echo \"$A\" > /tmp/env; cat > /tmp/in","chdir":"/etc","env":{"A":"x y"},"stdin":"fed\n"}'
expect_status changed
[ "$(cat "$ROOT/tmp/pwd")" = /etc ] && [ "$(cat "$ROOT/tmp/env")" = "x y" ] &&
	[ "$(cat "$ROOT/tmp/in")" = fed ] || fail "shell over ssh: cwd, env or stdin lost"
mod command '{"cmd":"no-such-program"}'
expect_status failed
[ "$(res_field exit_status)" = 127 ] || fail "a missing program over ssh: $(cat res)"

idempotent group '{"name":"web","gid":2000}'
grep -q '^web:x:2000:' "$ROOT/etc/group" || fail "group not in the rootfs"
idempotent user '{"name":"deploy","uid":2001,"group":"web","home":"/home/deploy","shell":"/bin/sh"}'
grep -q '^deploy:x:2001:2000:' "$ROOT/etc/passwd" || fail "user not in the rootfs: $(cat "$ROOT/etc/passwd")"

! grep -q '^deploy:' /etc/passwd || fail "the user reached this machine's /etc/passwd"
[ ! -e /etc/motd.link ] && [ ! -e /etc/ssh.conf ] || fail "files reached this machine's /etc"
! grep -q '^web:x:2000:' /etc/group || fail "the group reached this machine's /etc/group"
