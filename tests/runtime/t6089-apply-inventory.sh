#!/bin/sh
# tests/runtime/t6089-apply-inventory.sh: kiln apply reaches the hosts of an Ansible INI
# inventory, read with an `inventory` line or with -i: a host with
# ansible_connection=chroot is a root file system directory (kiln's rootfs), configured;
# a host over SSH, with its address from ansible_host, is reported unreachable.
. "$(dirname "$0")/../lib/test-lib.sh"
. "$TOP/tests/runtime/lib-apply.sh"

sh "$TOP/tests/lib/busybox-rootfs.sh" "$TMP/site/roots/one" || skip "no busybox-static"
sh "$TOP/tests/lib/busybox-rootfs.sh" "$TMP/site/roots/two" || skip "no busybox-static"

cat >site/hosts.ini <<'INI'
; the roots are directories, entered as Ansible's chroot connection enters them
[roots]
roots/one ansible_connection=chroot
[remote]
web1 ansible_host=192.0.2.10 ansible_user=deploy
[mixed:children]
roots
remote
INI
cat >site/site.img <<'EOF2'
inventory "hosts.ini"

apply mixed {
  file "/etc/motd" { content = "configured by kiln\n", mode = 0644 }
}
EOF2

kapply site/site.img
expect_rc 1
[ "$(cat site/roots/one/etc/motd)" = "configured by kiln" ] || fail "the chroot host was not configured"
expect_match err '^roots/one +: ok=0 +changed=1 +failed=0 +skipped=0 +unreachable=0 ' \
	"recap of the chroot host"
expect_match err '^web1 +: ok=0 +changed=0 +failed=0 +skipped=0 +unreachable=1 ' \
	"recap of the SSH host"

# the same with -i FILE and no inventory line; 'all' reaches every group
printf '[roots]\nroots/two ansible_connection=chroot\n' >site/more.ini
cat >site/bare.img <<'EOF2'
apply all {
  file "/etc/motd" { content = "all of them\n", mode = 0644 }
}
EOF2
run_kiln_in site apply --work-dir="$WORK" --cache-dir="$CACHE" --progress=plain -i more.ini bare.img
expect_rc 0
[ "$(cat site/roots/two/etc/motd)" = "all of them" ] || fail "-i: the chroot host of 'all' was not configured"
