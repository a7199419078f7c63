#!/bin/sh
# tests/runtime/t6110-apply-hosts-forks.sh: kiln apply runs the hosts of an apply block in
# parallel, at most --forks at once (rootfs hosts here; SSH hosts in t1220): four hosts that
# each sleep 1 s take about 1 s with --forks 4 and 4 s with --forks 1; every line a worker
# prints names its host, whole; one host's failure stops that host only, the others
# finish, and the exit status is 1; a failed worker's recap says failed. SIGTERM to kiln
# stops every host's worker and command, exit status 143; a worker killed is its host's
# failure only.
. "$(dirname "$0")/../lib/test-lib.sh"
. "$TOP/tests/runtime/lib-apply.sh"

for h in a b c d; do
	sh "$TOP/tests/lib/busybox-rootfs.sh" "$TMP/site/roots/$h" >/dev/null || skip "no busybox-static"
done
cat >site/hosts.ini <<'INI'
[roots]
roots/a ansible_connection=chroot
roots/b ansible_connection=chroot
roots/c ansible_connection=chroot
roots/d ansible_connection=chroot
INI
cat >site/site.img <<'EOF2'
inventory "hosts.ini"

apply roots {
  shell "sleep 1; echo slept-on-$(cat /etc/hostname 2>/dev/null)" {}
  file "/etc/motd" { content = "configured\n" }
}
EOF2

# timed ARGS...: kapply ARGS, its wall time in seconds in $s
timed()
{
	t0=$(date +%s.%N)
	kapply "$@"
	s=$(echo "$t0 $(date +%s.%N)" | awk '{ printf "%.1f", $2 - $1 }')
}

timed --forks 4 site/site.img
expect_rc 0
awk -v s="$s" 'BEGIN { exit !(s < 3.0) }' || fail "4 hosts of 1 s with --forks 4 took ${s}s: $(cat err)"
for h in a b c d; do
	[ "$(cat "site/roots/$h/etc/motd")" = configured ] || fail "host roots/$h was not configured"
	expect_match err "^roots/$h +: ok=0 +changed=2 +failed=0 "
done
# every line between the plan line and the recap comes from a worker and names its host
sed -n '2,/^RECAP/p' err | grep -v '^RECAP$' | grep -v '^$' | grep -Ev '^\[roots/[abcd]\] ' &&
	fail "a line without its host's prefix (interleaved?): $(cat err)"
expect_match err '^\[roots/c\]     changed shell'

timed --forks 1 site/site.img
expect_rc 0
awk -v s="$s" 'BEGIN { exit !(s >= 4.0) }' || fail "4 hosts of 1 s with --forks 1 took only ${s}s"

# one host fails: it stops, the three others finish; exit status 1
rm -f site/roots/*/etc/motd
echo broken >site/roots/b/etc/hostname
cat >site/fail.img <<'EOF2'
inventory "hosts.ini"

apply roots {
  shell "if grep -q broken /etc/hostname; then echo partial-output; exit 3; fi" {}
  file "/etc/motd" { content = "configured\n" }
}
EOF2
kapply --forks 2 site/fail.img
expect_rc 1
[ ! -e site/roots/b/etc/motd ] || fail "the failed host went on after its failure"
for h in a c d; do
	[ "$(cat "site/roots/$h/etc/motd")" = configured ] || fail "host roots/$h did not finish: $(cat err)"
done
expect_match err '^roots/b +: ok=0 +changed=0 +failed=1 .*\(stopped\)'
expect_match err '^roots/d +: ok=0 +changed=2 +failed=0 '

# bad --forks values are usage errors
run_kiln apply --forks 0 site/site.img
expect_rc 2
expect_match err "option '--forks' takes a number from 1 to 1000, not '0'"

# SIGTERM to kiln alone while its workers run: they stop too, nothing after runs, 143
cat >site/long.img <<'EOF2'
inventory "hosts.ini"

apply roots {
  shell "sleep 37.6110" {}
  file "/etc/after-sleep" { content = "x\n" }
}
EOF2
$KILN apply --work-dir="$WORK" --cache-dir="$CACHE" --progress=plain --forks 4 site/long.img >out 2>err &
KPID=$!
i=0
until [ "$(grep -c '^\[roots/[abcd]\] --> ' err)" = 4 ]; do
	i=$((i + 1))
	[ $i -le 100 ] || fail "the four hosts did not start: $(cat err)"
	sleep 0.1
done
sleep 0.5
kill -TERM "$KPID"
rc=0
wait "$KPID" || rc=$?
KPID=
[ "$rc" = 143 ] || fail "kiln apply exited $rc after SIGTERM: $(cat err)"
ls site/roots/*/etc/after-sleep >/dev/null 2>&1 && fail "a task ran after SIGTERM"
[ "$(ps -e -o args= | grep -c '^sleep 37\.6110')" = 0 ] || fail "a host's command outlived kiln"
expect_match err 'interrupted'

# a worker that dies (SIGKILL) is its host's failure; the other hosts finish
rm -f site/roots/*/etc/after-sleep
sed -i 's/sleep 37.6110/sleep 3/' site/long.img
$KILN apply --work-dir="$WORK" --cache-dir="$CACHE" --progress=plain --forks 4 site/long.img >out 2>err &
KPID=$!
i=0
until [ "$(ps -o pid= --ppid "$KPID" | wc -l)" -ge 4 ]; do
	i=$((i + 1))
	[ $i -le 100 ] || fail "kiln did not start four workers: $(cat err)"
	sleep 0.1
done
victim=$(ps -o pid= --ppid "$KPID" | head -n 1 | tr -d ' ')
kill -KILL "$victim"
rc=0
wait "$KPID" || rc=$?
KPID=
[ "$rc" = 1 ] || fail "kiln apply exited $rc when a worker died: $(cat err)"
expect_match err "worker for this host was killed by signal 9"
[ "$(grep -Ec '^roots/[abcd] +: ok=0 +changed=2 +failed=0 ' err)" = 3 ] || fail "the other hosts did not finish: $(cat err)"
[ "$(grep -Ec '^roots/[abcd] +: ok=0 +changed=0 +failed=1 .*\(stopped\)' err)" = 1 ] || fail "the dead worker's host: $(cat err)"
