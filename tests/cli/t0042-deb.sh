#!/bin/sh
# tests/cli/t0042-deb.sh: `cpack -G DEB` (into the test's directory) makes a Debian package
# that dpkg-deb reads: its name and version, Depends computed from the libraries kiln links
# (dpkg-shlibdeps), Recommends for the bases' and disks' tools, and the files where Debian
# keeps them (the binary, both manual pages, the completions, the examples).
# ctest-timeout: 600
. "$(dirname "$0")/../lib/test-lib.sh"
need cpack
need dpkg-deb
need dpkg-shlibdeps
B=${KILN_BUILD_DIR:-$TOP/build}
[ -f "$B/CPackConfig.cmake" ] || skip "no CPack configuration in $B"
cpack -G DEB -B "$TMP/pkg" --config "$B/CPackConfig.cmake" >cpack.out 2>&1 ||
	fail "cpack: $(tail -n 5 cpack.out)"
deb=$(ls "$TMP"/pkg/kiln_*_amd64.deb 2>/dev/null | head -n 1)
[ -n "$deb" ] || fail "no .deb: $(ls "$TMP/pkg")"
version=$($KILN --version | awk '{ print $2 }')
[ "$(dpkg-deb -f "$deb" Package)" = kiln ] || fail "Package: $(dpkg-deb -f "$deb" Package)"
[ "$(dpkg-deb -f "$deb" Version)" = "$version" ] || fail "Version: $(dpkg-deb -f "$deb" Version)"
depends=$(dpkg-deb -f "$deb" Depends)
for lib in libc6 libjansson4 libssh-4 libarchive13; do
	printf '%s' "$depends" | grep -q "$lib" || fail "Depends lacks $lib: $depends"
done
dpkg-deb -f "$deb" Recommends | grep -q debootstrap || fail "Recommends lacks debootstrap"
dpkg-deb -c "$deb" | awk '{ print $NF }' >contents
for f in ./usr/bin/kiln ./usr/share/man/man1/kiln.1 ./usr/share/man/man5/kiln.img.5 \
	./usr/share/bash-completion/completions/kiln ./usr/share/zsh/vendor-completions/_kiln \
	./usr/share/doc/kiln/examples/hello.img; do
	grep -qx -- "$f" contents || fail "the package lacks $f"
done
