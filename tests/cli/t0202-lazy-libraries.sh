#!/bin/sh
# libarchive, libssh and libcrypto (with libxml2, ICU, libstdc++ and Kerberos behind them) are not
# loaded when kiln starts: not a dependency of the binary, and lint, compile and plan of a
# file load neither (LD_DEBUG=libs lists what the dynamic loader opens) — but plan, which
# hashes the stage keys to tell what is cached, loads libcrypto; the output and base
# tests (t30xx, t50xx) and the ssh tests (t12xx) load them on first use.
. "$(dirname "$0")/../lib/test-lib.sh"
# the sanitizers' runtime loads libstdc++ itself: what kiln loads is seen on the plain build
if ldd $KILN 2>/dev/null | grep -q 'libasan\|libubsan'; then
	skip "the start-up check runs on the plain build"
fi

if command -v readelf >/dev/null 2>&1; then
	readelf -d "$KILN" >dyn.txt || fail "readelf -d $KILN"
	expect_no_match dyn.txt 'NEEDED.*(libarchive|libssh|libcrypto|libcurl|libxml2|libicu|libstdc)' \
		"kiln links a library it should load on first use: $(grep NEEDED dyn.txt)"
fi

cat >ok.img <<'IMG'
image i from scratch() { stage s { command "echo hi" {} } }
IMG
for cmd in "--version" "lint ok.img" "compile ok.img -o plan.json" "plan ok.img"; do
	not='libarchive|libssh|libcrypto|libxml2|libicu|libstdc|libkrb5|libcurl'
	[ "$cmd" != "plan ok.img" ] || not='libarchive|libssh|libxml2|libicu|libstdc|libkrb5|libcurl'
	# shellcheck disable=SC2086
	LD_DEBUG=libs "$KILN" $cmd >out 2>libs.txt || fail "kiln $cmd failed: $(grep -v '^ *[0-9]*:' libs.txt | head -5)"
	expect_no_match libs.txt "calling init: .*($not)" \
		"kiln $cmd loaded $(grep -oE "($not)[^ ]*" libs.txt | sort -u | tr '\n' ' ')"
done
grep -q 'calling init: .*libjansson' libs.txt || fail "LD_DEBUG=libs shows no library at all: the check is blind"
exit 0
