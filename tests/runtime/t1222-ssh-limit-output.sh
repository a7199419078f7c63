#!/bin/sh
# tests/runtime/t1222-ssh-limit-output.sh: three hosts over SSH (a real sshd each,
# lib-sshd-many.sh). --list-hosts lists them and connects to none (no sshd logs a
# connection); --limit narrows the apply to the hosts a pattern selects and the others
# are not touched; a failing command's stdout and stderr tails are shown, in text and in
# --events=json; -v prints each host's command output prefixed with the host; a secret in
# a command's output is blanked everywhere, the log file included.
. "$(dirname "$0")/../lib/test-lib.sh"
. "$TOP/tests/runtime/lib-apply.sh"
ROOT=$TMP/root
sh "$TOP/tests/lib/busybox-rootfs.sh" "$ROOT" >/dev/null || skip "no busybox-static"
. "$TOP/tests/runtime/lib-sshd.sh"
. "$TOP/tests/runtime/lib-sshd-many.sh"
trap 'many_stop_all; _apply_cleanup' EXIT

many_start 3
{
	echo '[web]'
	grep '^h0[12] ' "$TMP/hosts.ini"
	echo '[db]'
	grep '^h03 ' "$TMP/hosts.ini"
} >site.ini
cat >site.img <<EOF2
inventory "site.ini"
param token: secret

apply all {
  user = "root"
  identity_file = "$SSH_KEY"
  known_hosts = "$SSH_KH"
  shell "echo hello from \$(cat /etc/hostname.kiln-test)" {}
  file "/etc/motd" { content = "limited\n" }
}
EOF2
export KILN_VAR_token=Tok-$$-secret-value

connections()
{
	cat "$TMP"/sshd-*/log | grep -c 'Accepted publickey' || true
}

run_kiln apply --list-hosts site.img
expect_rc 0
[ "$(grep -c '^    h0[123]$' out)" = 3 ] || fail "--list-hosts: $(cat out)"
run_kiln apply --list-hosts --limit 'web:!h02' site.img
expect_rc 0
[ "$(grep '^    ' out | tr -d ' ')" = h01 ] || fail "--list-hosts --limit 'web:!h02': $(cat out)"
[ "$(connections)" = 0 ] || fail "--list-hosts connected to a host"

kapply --limit 'web:!h02' site.img
expect_rc 0
[ "$(cat "$(many_root 1)/etc/motd")" = limited ] || fail "h01 was not configured"
[ ! -e "$(many_root 2)/etc/motd" ] && [ ! -e "$(many_root 3)/etc/motd" ] ||
	fail "a host outside --limit was configured"
expect_match err '^h01 +: ok=0 +changed=2 '
expect_no_match err '^h0[23] ' "a host outside --limit is in the recap"
[ "$(connections)" = 1 ] || fail "$(connections) connections for one host"

kapply --limit '~h0[23]' --forks 2 site.img
expect_rc 0
[ "$(cat "$(many_root 3)/etc/motd")" = limited ] || fail "h03 was not configured"
kapply --limit nothing site.img
expect_rc 1
expect_match err "host pattern 'nothing' matches no host"

# a failing command: the tails of both streams, over ssh
cat >fail.img <<EOF2
inventory "site.ini"
param token: secret

apply web {
  user = "root"
  identity_file = "$SSH_KEY"
  known_hosts = "$SSH_KH"
  shell "seq 1 50; echo the token is \${token}; echo last-out-line; echo err-line >&2; exit 7" {}
  file "/etc/never" { content = "x\n" }
}
EOF2
kapply --log-file="$TMP/run.log" fail.img
expect_rc 1
for h in h01 h02; do
	expect_match err "^\[$h\]     \| last-out-line$"
	expect_match err "^\[$h\]     \| the token is \*\*\*\*\*\*\*\*$"
	expect_match err "^\[$h\]     \| err-line$"
	expect_match err "^$h +: ok=0 +changed=0 +failed=1 .*\(stopped\)"
done
expect_no_match err '\| 1$' "more than the tail was printed"
[ ! -e "$(many_root 1)/etc/never" ] || fail "a task ran after the failure"
jq -e -s 'map(select(.event == "task_end" and .image == "h01" and .status == "failed"))[0]
	| (.stdout | startswith("1\n2\n3\n")) and (.stdout | contains("the token is ********"))' \
	"$TMP/run.log" >/dev/null || fail "the log does not hold the full stdout: $(cat "$TMP/run.log")"

kapply_json fail.img
expect_rc 1
jq -e -s 'map(select(.event == "task_end" and .image == "h02" and .status == "failed"))[0]
	| (.stdout | endswith("the token is ********\nlast-out-line")) and .stderr == "err-line"
	and .exit_status == 7' out >/dev/null || fail "the failed task's JSON event: $(grep task_end out)"

kapply -v --limit h02 fail.img
expect_rc 1
expect_match err '^\[h02\] \| 1$'
expect_match err '^\[h02\] \| the token is \*\*\*\*\*\*\*\*$'
expect_match err '^\[h02\] ! err-line$'
! grep -qF "$KILN_VAR_token" err out "$TMP/run.log" || fail "the secret was printed"
