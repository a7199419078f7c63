#!/bin/sh
# tests/runtime/t1221-ssh-kill-mid-apply.sh: three hosts over SSH (a real sshd each,
# lib-sshd-many.sh); host 2's sshd and its sessions are killed while its first task runs.
# Host 2 is reported unreachable (not failed), nothing after that task reached it and no
# half-written file or temporary is left in its /etc; hosts 1 and 3 finish; the exit
# status is 1. Once its sshd is back, a second apply converges host 2 and a third
# changes nothing anywhere.
. "$(dirname "$0")/../lib/test-lib.sh"
. "$TOP/tests/runtime/lib-apply.sh"
ROOT=$TMP/root
sh "$TOP/tests/lib/busybox-rootfs.sh" "$ROOT" >/dev/null || skip "no busybox-static"
. "$TOP/tests/runtime/lib-sshd.sh"
. "$TOP/tests/runtime/lib-sshd-many.sh"
trap 'many_stop_all; _apply_cleanup' EXIT

many_start 3
cp "$TMP/hosts.ini" site.ini
# a config file of 256 KiB: what a dropped connection must never leave half-written
seq 1 40000 | sed 's/^/setting = /' >app.conf
cat >site.img <<EOF2
inventory "site.ini"

apply all {
  user = "root"
  identity_file = "$SSH_KEY"
  known_hosts = "$SSH_KH"
  shell "touch /etc/started; sleep 3" { creates = "/etc/started-done" }
  file "/etc/started-done" { content = "x\n" }
  copy "/etc/app.conf" { src = "app.conf" }
}
EOF2

H2=$(many_root 2)
$KILN apply --work-dir="$WORK" --cache-dir="$CACHE" --progress=plain --forks 3 site.img >out 2>err &
KPID=$!
i=0
until [ -e "$H2/etc/started" ]; do
	i=$((i + 1))
	[ $i -le 200 ] || fail "host 2's first task did not start: $(cat err)"
	sleep 0.1
done
many_stop 2
rc=0
wait "$KPID" || rc=$?
KPID=
[ "$rc" -eq 1 ] || fail "kiln apply exited $rc when one host went away: $(cat err)"
expect_match err '^h02 +: ok=0 +changed=0 +failed=0 +skipped=0 +unreachable=1 ' "host 2's recap"
for h in 1 3; do
	r=$(many_root $h)
	cmp -s app.conf "$r/etc/app.conf" || fail "host $h did not finish: $(cat err)"
	expect_match err "^h0$h +: ok=0 +changed=3 +failed=0 +skipped=0 +unreachable=0 "
done
[ ! -e "$H2/etc/started-done" ] && [ ! -e "$H2/etc/app.conf" ] ||
	fail "a task reached host 2 after its sshd was killed"
[ -z "$(ls -A "$H2/etc" | grep -E '^\.kiln|kiln-tmp')" ] ||
	fail "temporaries left on host 2: $(ls -A "$H2/etc" | grep -E '^\.kiln|kiln-tmp')"

# host 2 back: the rerun converges it, and changes nothing on the others
many_restart 2
kapply --forks 3 site.img
expect_rc 0
cmp -s app.conf "$H2/etc/app.conf" || fail "the rerun did not converge host 2: $(cat err)"
expect_match err '^h02 +: ok=0 +changed=3 +failed=0 +skipped=0 +unreachable=0 '
expect_match err '^h01 +: ok=3 +changed=0 +failed=0 '
kapply --forks 3 site.img
expect_rc 0
[ "$(grep -Ec '^h0[123] +: ok=3 +changed=0 +failed=0 +skipped=0 +unreachable=0 ' err)" = 3 ] ||
	fail "the third apply changed something: $(cat err)"
