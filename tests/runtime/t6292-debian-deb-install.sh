#!/bin/sh
# tests/runtime/t6292-debian-deb-install.sh: the slow one for packaging. The .deb that cpack
# makes installs on a bare Debian 12: debootstrap bookworm minbase into the test's directory,
# apt installs the package (and busybox-static, which the busybox() base needs) inside it,
# and the installed kiln lints and bakes the hello example there, in a mount namespace of the
# test's own (nothing stays mounted). Skipped when the Debian mirror cannot be reached.
. "$(dirname "$0")/../lib/test-lib.sh"
need debootstrap
need cpack
need unshare
[ "$(id -u)" -eq 0 ] || skip "debootstrap and chroot need root"
B=${KILN_BUILD_DIR:-$TOP/build}
[ -f "$B/CPackConfig.cmake" ] || skip "no CPack configuration in $B"
if ldd $KILN 2>/dev/null | grep -q 'libasan\|libubsan'; then
	skip "the package is made from the plain build"
fi
MIRROR=http://deb.debian.org/debian
command -v curl >/dev/null 2>&1 || skip "needs curl to probe the Debian mirror"
timeout 10 curl -fsI "$MIRROR/dists/bookworm/Release" >/dev/null 2>&1 ||
	skip "the Debian mirror $MIRROR does not answer within 10 s"
KILN_TEST_TIMEOUT=${KILN_TEST_SLOW_TIMEOUT:-1500}

cpack -G DEB -B "$TMP/pkg" --config "$B/CPackConfig.cmake" >cpack.out 2>&1 ||
	fail "cpack: $(tail -n 5 cpack.out)"
deb=$(ls "$TMP"/pkg/kiln_*_amd64.deb | head -n 1)

R=$TMP/root
timeout -k 10 1200 debootstrap --variant=minbase bookworm "$R" "$MIRROR" >debootstrap.out 2>&1 ||
	fail "debootstrap: $(tail -n 5 debootstrap.out)"
cp "$deb" "$R/tmp/kiln.deb"
cp "$TOP/examples/hello.img" "$R/tmp/hello.img"

# Inside: /proc, /dev and the root as a mount point of its own (kiln's builds pivot_root).
cat >"$R/tmp/inside.sh" <<'EOF2'
set -eu
export DEBIAN_FRONTEND=noninteractive LC_ALL=C
apt-get update -q >/tmp/apt.out 2>&1 || { tail -n 5 /tmp/apt.out; exit 10; }
apt-get install -q -y /tmp/kiln.deb busybox-static >>/tmp/apt.out 2>&1 || { tail -n 5 /tmp/apt.out; exit 11; }
kiln --version
man -w kiln >/dev/null 2>&1 || [ -f /usr/share/man/man1/kiln.1 ] || exit 12
cd /tmp
kiln lint hello.img || exit 13
kiln apply --progress=plain --work-dir=/tmp/work --cache-dir=/tmp/cache hello.img || exit 14
[ -f /tmp/out/hello/index.json ] || exit 15
echo INSIDE-OK
EOF2
timeout -k 10 1200 unshare -m --propagation private sh -c '
	set -e
	R=$1
	mount --bind "$R" "$R"
	mount -t proc proc "$R/proc"
	mount --rbind /dev "$R/dev"
	cp /etc/resolv.conf "$R/etc/resolv.conf" 2>/dev/null || true
	exec chroot "$R" sh /tmp/inside.sh' sh "$R" >inside.out 2>&1 || fail "inside the chroot (status $?): $(tail -n 15 inside.out)"
grep -q INSIDE-OK inside.out || fail "inside the chroot: $(tail -n 15 inside.out)"
grep -q '^kiln [0-9]' inside.out || fail "the installed kiln did not run"
