#!/bin/sh
# tests/runtime/t1109-mod-apt-debian.sh: apt and apt_repository on a debootstrapped rootfs
# (a copy of $KILN_TEST_DEBIAN_ROOTFS; skipped without it), offline: a local file: repository
# with a package built here serves install, latest, absent and update_cache.
# ctest-timeout: 900
. "$(dirname "$0")/../lib/test-lib.sh"
. "$TOP/tests/runtime/lib-mod.sh"
[ -n "${KILN_TEST_DEBIAN_ROOTFS:-}" ] || skip "set KILN_TEST_DEBIAN_ROOTFS to a debootstrapped rootfs"
[ -x "$KILN_TEST_DEBIAN_ROOTFS/usr/bin/apt-get" ] || fail "$KILN_TEST_DEBIAN_ROOTFS has no apt-get"
need dpkg-deb
need sha256sum
cp -a "$KILN_TEST_DEBIAN_ROOTFS" "$ROOT"
# only the local repository: no network
rm -f "$ROOT/etc/apt/sources.list" "$ROOT"/etc/apt/sources.list.d/*
rm -rf "$ROOT"/var/lib/apt/lists/*

# make_pkg VERSION: kiln-test-pkg_VERSION_all.deb in $ROOT/srv/repo, and its Packages index
make_pkg()
{
	rm -rf pkg
	mkdir -p pkg/DEBIAN pkg/usr/share/kiln-test
	printf 'Package: kiln-test-pkg\nVersion: %s\nArchitecture: all\nMaintainer: kiln tests <kiln@example.invalid>\nDescription: a package for kiln tests\n' "$1" >pkg/DEBIAN/control
	echo "$1" >pkg/usr/share/kiln-test/version
	mkdir -p "$ROOT/srv/repo"
	dpkg-deb --root-owner-group -b pkg "$ROOT/srv/repo/kiln-test-pkg_$1_all.deb" >/dev/null
	(cd "$ROOT/srv/repo" && : >Packages && for d in *.deb; do
		dpkg-deb -f "$d"
		printf 'Filename: ./%s\nSize: %s\nSHA256: %s\n\n' "$d" "$(stat -c %s "$d")" \
			"$(sha256sum "$d" | cut -d' ' -f1)"
	done >Packages)
}
make_pkg 1.0

mod apt_repository '{"repo":"deb [trusted=yes] file:/srv/repo ./","filename":"kiln-test"}'
expect_status changed
[ "$(cat "$ROOT/etc/apt/sources.list.d/kiln-test.list")" = 'deb [trusted=yes] file:/srv/repo ./' ] || fail "source file"
ls "$ROOT/var/lib/apt/lists" | grep -q Packages || fail "apt-get update did not run"

# present, with an installed package next to it
idempotent apt '{"name":["kiln-test-pkg","dpkg"]}'
[ "$(cat "$ROOT/usr/share/kiln-test/version")" = 1.0 ] || fail "not installed"
mod apt '{"name":"dpkg"}'
expect_status ok

# update_cache: changed when the lists' content changed (a file: source's list is a link to
# the repository's index, so lost lists are the change seen here)
rm -f "$ROOT"/var/lib/apt/lists/*Packages*
mod apt '{"update_cache":true}'
expect_status changed
mod apt '{"update_cache":true}'
expect_status ok

# latest: a new version in the repository
make_pkg 2.0
mod apt '{"update_cache":true,"name":"kiln-test-pkg","state":"present"}'
expect_status ok
idempotent apt '{"name":"kiln-test-pkg","state":"latest"}'
[ "$(cat "$ROOT/usr/share/kiln-test/version")" = 2.0 ] || fail "not upgraded"

# absent
idempotent apt '{"name":"kiln-test-pkg","state":"absent"}'
[ ! -e "$ROOT/usr/share/kiln-test/version" ] || fail "not removed"

# an unknown package: apt-get's failure, with its stderr
mod apt '{"name":"kiln-no-such-package"}'
expect_status failed
[ "$(res_field exit_status)" = 100 ] || fail "exit status $(res_field exit_status)"
res_field stderr_tail | grep -q 'Unable to locate package' || fail "stderr tail: $(res_field stderr_tail)"
exit 0
