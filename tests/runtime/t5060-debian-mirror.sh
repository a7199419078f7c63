#!/bin/sh
# tests/runtime/t5060-debian-mirror.sh: debian()'s default mirror is the build machine's:
# the first "deb" URI of apt's sources (sources.list, then sources.list.d/*.list and
# *.sources in name order) that is a Debian archive root (".../debian"), skipping deb-src,
# comments, disabled deb822 paragraphs, the security archive and other vendors' archives.
. "$(dirname "$0")/../lib/test-lib.sh"
. "$TOP/tests/runtime/lib-base.sh"

A=$TMP/apt
mirror_is()
{
	base mirror "$A"
	expect_rc 0
	[ "$(cat "$TMP/out")" = "$1" ] || fail "$2: expected '$1', got '$(cat "$TMP/out")'"
}

mkdir -p "$A/sources.list.d"
mirror_is none "no sources"

cat >"$A/sources.list.d/10-debian.sources" <<'EOF'
# deb822, as Debian 12 installs it
Types: deb-src
URIs: http://src.example.org/debian
Suites: bookworm
Components: main

Types: deb
URIs: http://deb.debian.org/debian-security
Suites: bookworm-security
Components: main

Types: deb
URIs: http://off.example.org/debian
Suites: bookworm
Enabled: no

Types: deb deb-src
URIs: https://mirror.example.net/pub/debian/ http://second.example.net/debian
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
cat >"$A/sources.list.d/05-node.list" <<'EOF'
deb [signed-by=/usr/share/keyrings/nodesource.gpg] https://deb.nodesource.com/node_20.x nodistro main
EOF
printf 'deb http://never.example.org/debian bookworm main\n' >"$A/sources.list.d/00-x.list.disabled"
mirror_is https://mirror.example.net/pub/debian "deb822 sources"

# sources.list comes first; options in brackets, comments and deb-src are skipped.
cat >"$A/sources.list" <<'EOF'
# deb http://commented.example.org/debian bookworm main
deb-src http://src.example.org/debian bookworm main
deb [arch=amd64 signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://ftp.fr.debian.org/debian/ bookworm main
EOF
mirror_is http://ftp.fr.debian.org/debian "sources.list"

# This machine's own configuration gives some answer (or none), without failing.
base mirror /etc/apt
expect_rc 0
expect_nonempty "$TMP/out"
