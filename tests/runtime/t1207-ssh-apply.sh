#!/bin/sh
# tests/runtime/t1207-ssh-apply.sh: kiln apply to a host over SSH (a real sshd chrooted into
# the test's rootfs, lib-sshd.sh): the host's port, user, identity_file and known_hosts
# come from its attributes; the first apply changes, the second is ok; an unknown host
# key fails the host (not unreachable) until --accept-new-host-keys adds it; a host whose
# sshd is gone is reported unreachable in the recap.
. "$(dirname "$0")/../lib/test-lib.sh"
. "$TOP/tests/runtime/lib-apply.sh"
ROOT=$TMP/root
sh "$TOP/tests/lib/busybox-rootfs.sh" "$ROOT" >/dev/null || skip "no busybox-static"
. "$TOP/tests/runtime/lib-sshd.sh"
trap 'sshd_stop; _apply_cleanup' EXIT
sshd_start

mkdir -p site
write_img()
{
	cat >site/hosts.img <<EOF2
hosts web {
  "127.0.0.1" {
    port = $SSHD_PORT
    user = "root"
    identity_file = "$SSH_KEY"
    known_hosts = "$1"
  }
}

apply web {
  file "/etc/motd" { content = "configured over ssh\n", mode = 0640 }
  lineinfile "/etc/hosts" { line = "10.0.0.1 db" }
}
EOF2
}

write_img "$SSH_KH"
kapply site/hosts.img
expect_rc 0
[ "$(cat "$ROOT/etc/motd")" = "configured over ssh" ] || fail "the host was not configured"
[ "$(stat -c %a "$ROOT/etc/motd")" = 640 ] || fail "mode over ssh"
grep -qx '10.0.0.1 db' "$ROOT/etc/hosts" || fail "lineinfile over ssh"
[ ! -e /etc/motd ] || ! grep -q 'configured over ssh' /etc/motd || fail "this machine's /etc/motd was written"
expect_match err '^127\.0\.0\.1 +: ok=0 +changed=2 +failed=0 +skipped=0 +unreachable=0 ' "first recap"

kapply site/hosts.img
expect_rc 0
expect_match err '^127\.0\.0\.1 +: ok=2 +changed=0 +failed=0 +skipped=0 +unreachable=0 ' "second recap"

# An unknown host key: the host fails (it answered), with what to do; the opt-in adds it.
: >"$TMP/kh-new"
write_img "$TMP/kh-new"
kapply site/hosts.img
expect_rc 1
expect_match err 'is unknown: .*--accept-new-host-keys'
expect_match err '^127\.0\.0\.1 +: ok=0 +changed=0 +failed=1 +skipped=0 +unreachable=0 ' "an unknown key: failed, not unreachable"
kapply --accept-new-host-keys site/hosts.img
expect_rc 0
grep -q "^\[127.0.0.1\]:$SSHD_PORT " "$TMP/kh-new" || fail "--accept-new-host-keys did not add the key"

# sshd gone: unreachable, exit 1.
sshd_stop
kapply site/hosts.img
expect_rc 1
expect_match err '127\.0\.0\.1.*unreachable: .*is unreachable'
expect_match err '^127\.0\.0\.1 +: ok=0 +changed=0 +failed=0 +skipped=0 +unreachable=1 ' "recap of a dead host"

# A password login from a secret param: it works, and a wrong one is never printed.
sshd_start
cat >site/pw.img <<EOF2
param root_password: secret
hosts web { "127.0.0.1" { port = $SSHD_PORT, user = "root", known_hosts = "$SSH_KH", password = root_password } }
apply web {
  file "/etc/motd" { content = "by password\n" }
}
EOF2
KILN_VAR_root_password=$SSHD_PASSWORD kapply site/pw.img
expect_rc 0
[ "$(cat "$ROOT/etc/motd")" = "by password" ] || fail "a password login from a secret did not configure the host"
KILN_VAR_root_password=Wrong-$SSHD_PASSWORD kapply site/pw.img
expect_rc 1
expect_match err 'refused to log in \(tried a password\)'
! grep -qF "Wrong-$SSHD_PASSWORD" out err || fail "the wrong password was printed"

# sshd killed in the middle of an apply: the host is unreachable, not failed.
cat >site/mid.img <<EOF2
hosts web { "127.0.0.1" { port = $SSHD_PORT, user = "root", identity_file = "$SSH_KEY", known_hosts = "$SSH_KH" } }
apply web {
  shell "touch /etc/started; sleep 5" {}
  file "/etc/after" { content = "x\n" }
}
EOF2
rm -f "$ROOT/etc/started"
$KILN apply --work-dir="$WORK" --cache-dir="$CACHE" --progress=plain site/mid.img >out 2>err &
KPID=$!
i=0
until [ -e "$ROOT/etc/started" ]; do
	i=$((i + 1))
	[ $i -le 100 ] || fail "the first task did not start: $(cat err)"
	sleep 0.1
done
sshd_stop
rc=0
wait "$KPID" || rc=$?
KPID=
[ "$rc" -eq 1 ] || fail "kiln apply exited $rc when its host went away: $(cat err)"
[ ! -e "$ROOT/etc/after" ] || fail "a task ran after the host went away"
expect_match err '^127\.0\.0\.1 +: ok=0 +changed=0 +failed=0 +skipped=0 +unreachable=1 ' "recap of a host lost mid-apply"
