#!/bin/sh
# tests/runtime/t6085-apply-ssh-unreachable.sh: an apply block configures the hosts whose
# connection is rootfs (a root file system directory, entered like an image) and reports
# a host over SSH that cannot be reached (its name does not resolve) as unreachable: in the recap (text
# and JSON), with exit status 1, and with nothing about a base that failed.
. "$(dirname "$0")/../lib/test-lib.sh"
. "$TOP/tests/runtime/lib-apply.sh"

sh "$TOP/tests/lib/busybox-rootfs.sh" "$TMP/site/roots/one" || skip "no busybox-static"

cat >site/hosts.img <<'EOF2'
hosts roots { "roots/one" { connection = rootfs } }
hosts remote { "web1.example.com" }
hosts mixed { roots, remote }

apply mixed {
  file "/etc/motd" { content = "configured by kiln\n", mode = 0644 }
}
EOF2

# lint accepts the build: whether a host answers is known only when apply tries
run_kiln lint --color=never site/hosts.img
expect_rc 0
expect_empty err

kapply site/hosts.img
expect_rc 1
[ "$(cat site/roots/one/etc/motd)" = "configured by kiln" ] || fail "the rootfs host was not configured"
expect_match err '^roots/one +: ok=0 +changed=1 +failed=0 +skipped=0 +unreachable=0 ' \
	"recap of the rootfs host"
expect_match err '^web1\.example\.com +: ok=0 +changed=0 +failed=0 +skipped=0 +unreachable=1 ' \
	"recap of the SSH host"
expect_match err 'web1\.example\.com.*unreachable' "no unreachable message for the SSH host"
expect_no_match err 'E5002|base failed' "an unreachable host reported as a failed base"

# a second run: the rootfs host is ok, the SSH host still unreachable
kapply_json site/hosts.img
expect_rc 1
jq -e -s '[.[] | select(.event == "recap" and .name == "web1.example.com")] |
	length == 1 and .[0].unreachable == 1 and .[0].failed == 0' out >/dev/null ||
	fail "the JSON recap of the SSH host is not unreachable=1"
jq -e -s '[.[] | select(.event == "recap" and .name == "roots/one")] |
	length == 1 and .[0].unreachable == 0 and .[0].ok == 1 and .[0].changed == 0' out >/dev/null ||
	fail "the JSON recap of the rootfs host is not ok=1 on the second run"
