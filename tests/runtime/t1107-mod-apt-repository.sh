#!/bin/sh
# tests/runtime/t1107-mod-apt-repository.sh: apt_repository writes a source file (one-line
# or deb822) and its key under /etc/apt/keyrings with signed-by; absent removes both;
# key_url is refused (builds do not download). update_cache is off here: busybox has no apt.
. "$(dirname "$0")/../lib/test-lib.sh"
. "$TOP/tests/runtime/lib-mod.sh"
make_rootfs "$ROOT"
KEY='-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nmDMEZQAAABYJKwYBBAHaRw8BAQdA\n-----END PGP PUBLIC KEY BLOCK-----\n'

idempotent apt_repository "{\"repo\":\"deb https://deb.example.com/debian bookworm main\",\"key\":\"$KEY\",\"update_cache\":false}"
F=$ROOT/etc/apt/sources.list.d/deb_example_com_debian.list
[ -f "$F" ] || fail "no source file: $(ls "$ROOT/etc/apt/sources.list.d")"
[ "$(cat "$F")" = 'deb [signed-by=/etc/apt/keyrings/deb_example_com_debian.asc] https://deb.example.com/debian bookworm main' ] || fail "source: $(cat "$F")"
K=$ROOT/etc/apt/keyrings/deb_example_com_debian.asc
head -n1 "$K" | grep -q 'BEGIN PGP PUBLIC KEY BLOCK' || fail "key file"
[ "$(stat -c %a "$K")" = 644 ] || fail "key mode"

# options already there; a file name
idempotent apt_repository '{"repo":"deb [arch=amd64] http://x.example.org/apt stable main","filename":"xapt","key":"-----BEGIN PGP PUBLIC KEY BLOCK-----\nk\n-----END PGP PUBLIC KEY BLOCK-----\n","update_cache":false}'
[ "$(cat "$ROOT/etc/apt/sources.list.d/xapt.list")" = 'deb [arch=amd64 signed-by=/etc/apt/keyrings/xapt.asc] http://x.example.org/apt stable main' ] || fail "options: $(cat "$ROOT/etc/apt/sources.list.d/xapt.list")"

# deb822
idempotent apt_repository '{"repo":"Types: deb\nURIs: https://pkgs.example.net/repo\nSuites: stable\nComponents: main\n","filename":"ex","update_cache":false}'
printf 'Types: deb\nURIs: https://pkgs.example.net/repo\nSuites: stable\nComponents: main\n' >want
cmp -s want "$ROOT/etc/apt/sources.list.d/ex.sources" || fail "deb822: $(cat "$ROOT/etc/apt/sources.list.d/ex.sources")"

# absent: the source and its key
idempotent apt_repository '{"repo":"deb https://deb.example.com/debian bookworm main","state":"absent","update_cache":false}'
[ ! -e "$F" ] && [ ! -e "$K" ] || fail "absent left files"

mod apt_repository '{"repo":"deb https://x.example/ s main","key_url":"https://x.example/key.asc"}'
expect_status failed
expect_match res 'key_url is not supported'
mod apt_repository '{"repo":"https://x.example/ s main"}'
expect_status failed
mod apt_repository '{"repo":"deb https://x.example/ s main","key":"not a key"}'
expect_status failed
mod apt_repository '{"repo":"deb https://x.example/ s main","filename":"../x"}'
expect_status failed

# with update_cache (the default), a busybox target fails at apt-get update, saying so
mod apt_repository '{"repo":"deb https://deb.example.com/debian bookworm main"}'
expect_status failed
expect_match res 'apt-get update'
exit 0
