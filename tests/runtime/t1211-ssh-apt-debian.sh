#!/bin/sh
# tests/runtime/t1211-ssh-apt-debian.sh: apt and apt_repository over SSH, on a host that is
# a copy of $KILN_TEST_DEBIAN_ROOTFS (a debootstrapped tree; skipped without it, as t1109)
# served by the tests' sshd chrooted into it (lib-sshd.sh), offline: a local file:
# repository with a package built here. Each is applied twice: the second run changes
# nothing. (apt on a host without apt-get is in t1210.)
# ctest-timeout: 900
. "$(dirname "$0")/../lib/test-lib.sh"
. "$TOP/tests/runtime/lib-mod.sh"
[ -n "${KILN_TEST_DEBIAN_ROOTFS:-}" ] || skip "set KILN_TEST_DEBIAN_ROOTFS to a debootstrapped rootfs"
[ -x "$KILN_TEST_DEBIAN_ROOTFS/usr/bin/apt-get" ] || fail "$KILN_TEST_DEBIAN_ROOTFS has no apt-get"
need dpkg-deb
need sha256sum
cp -a "$KILN_TEST_DEBIAN_ROOTFS" "$ROOT"
rm -f "$ROOT/etc/apt/sources.list" "$ROOT"/etc/apt/sources.list.d/*
rm -rf "$ROOT"/var/lib/apt/lists/*
. "$TOP/tests/runtime/lib-sshd.sh"
sshd_start
MOD_TEST="$MOD_TEST --ssh $SSH_TARGET --ssh-key $SSH_KEY --known-hosts $SSH_KH"

mkdir -p pkg/DEBIAN pkg/usr/share/kiln-test "$ROOT/srv/repo"
printf 'Package: kiln-test-pkg\nVersion: 1.0\nArchitecture: all\nMaintainer: kiln tests <kiln@example.invalid>\nDescription: a package for kiln tests\n' >pkg/DEBIAN/control
echo 1.0 >pkg/usr/share/kiln-test/version
dpkg-deb --root-owner-group -b pkg "$ROOT/srv/repo/kiln-test-pkg_1.0_all.deb" >/dev/null
(cd "$ROOT/srv/repo" && for d in *.deb; do
	dpkg-deb -f "$d"
	printf 'Filename: ./%s\nSize: %s\nSHA256: %s\n\n' "$d" "$(stat -c %s "$d")" \
		"$(sha256sum "$d" | cut -d' ' -f1)"
done >Packages)

mod apt_repository '{"repo":"deb [trusted=yes] file:/srv/repo ./","filename":"kiln-test"}'
expect_status changed
[ "$(res_field conn)" = ssh ] || fail "the module did not run over ssh"
mod apt_repository '{"repo":"deb [trusted=yes] file:/srv/repo ./","filename":"kiln-test"}'
expect_status ok

mod apt '{"name":["kiln-test-pkg","dpkg"]}'
expect_status changed
[ "$(cat "$ROOT/usr/share/kiln-test/version")" = 1.0 ] || fail "not installed over ssh"
mod apt '{"name":["kiln-test-pkg","dpkg"]}'
expect_status ok

mod apt '{"name":"kiln-test-pkg","state":"absent"}'
expect_status changed
[ ! -e "$ROOT/usr/share/kiln-test/version" ] || fail "not removed over ssh"
mod apt '{"name":"kiln-test-pkg","state":"absent"}'
expect_status ok
