#!/bin/sh
# tests/runtime/t6170-apply-rootfs-inline.sh: an apply block of one rootfs host runs in
# kiln's own process, without a worker: an idempotent apply makes no process at all
# (strace counts clone, clone3, fork and vfork), a first one only the namespace holder
# of its command. What it prints is what a worker printed: every line between the plan
# line and the recap names the host, the command's output (-v) too; the JSON events are
# complete; a failed task stops the host, its recap says so and the exit status is 1;
# SIGTERM stops the command and kiln (143). Two hosts still run in workers. A plan of
# apply blocks only makes no work directory and takes no cache lock.
. "$(dirname "$0")/../lib/test-lib.sh"
. "$TOP/tests/runtime/lib-apply.sh"
need strace

sh "$TOP/tests/lib/busybox-rootfs.sh" "$TMP/site/roots/one" >/dev/null || skip "no busybox-static"
cat >site/hosts.img <<'EOF2'
hosts roots { "roots/one" { connection = rootfs } }
apply roots {
  file "/etc/motd" { content = "configured by kiln\n", mode = 0644 }
  command "sh -c 'echo made-it; touch /etc/made'" { creates = "/etc/made" }
}
EOF2

# traced ARGS...: kapply ARGS under strace; the clones kiln made in $TMP/strace.txt
traced()
{
	ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" \
		strace -f -qq -e trace=clone,clone3,fork,vfork -o "$TMP/strace.txt" "$KILN" apply \
		--work-dir="$WORK" --cache-dir="$CACHE" --progress=plain "$@" >out 2>err
	rc=$?
}

# the first apply: the command's namespace holder is the only process kiln makes itself
traced -v site/hosts.img
expect_rc 0
[ "$(cat site/roots/one/etc/motd)" = "configured by kiln" ] || fail "the host was not configured"
[ -e site/roots/one/etc/made ] || fail "the command did not run"
grep -q 'CLONE_NEWNS' "$TMP/strace.txt" || fail "the command ran without a namespace"
# the clones of kiln's own process (its pid: the first field of the first line)
kpid=$(awk 'NR == 1 { print $1 }' "$TMP/strace.txt")
[ "$(grep -E "^$kpid +(clone|clone3|fork|vfork)\\(" "$TMP/strace.txt" | grep -vc CLONE_NEWNS)" = 0 ] ||
	fail "kiln forked a worker for one rootfs host: $(cat "$TMP/strace.txt")"
expect_match err '^roots/one +: ok=0 +changed=2 +failed=0 '
# a plan of apply blocks only bakes nothing: it makes no work directory, locks no cache
[ ! -e "$WORK" ] || fail "an apply of hosts only made the work directory $WORK"
[ ! -e "$CACHE" ] || fail "an apply of hosts only made the cache directory $CACHE"
sed -n '2,/^RECAP/p' err | grep -v '^RECAP$' | grep -v '^$' | grep -Ev '^\[roots/one\] ' &&
	fail "a line without the host's prefix: $(cat err)"
expect_match err '^\[roots/one\] \| made-it$'
expect_match err '^\[roots/one\]     changed command'

# the second, idempotent apply makes no process at all
traced site/hosts.img
expect_rc 0
expect_match err '^roots/one +: ok=2 +changed=0 +failed=0 '
[ "$(grep -Ec '(clone|clone3|fork|vfork)\(' "$TMP/strace.txt")" = 0 ] ||
	fail "an idempotent apply of one rootfs host made a process: $(cat "$TMP/strace.txt")"

# the JSON events are complete: the image, the stage, each task's start and end, the recap
kapply_json site/hosts.img
expect_rc 0
for e in apply_start image_start stage_start recap summary; do
	[ "$(jq -r "select(.event == \"$e\") | .event" out | wc -l)" = 1 ] || fail "no single $e event: $(cat out)"
done
[ "$(jq -r 'select(.event == "task_start") | .id' out | wc -l)" = 2 ] || fail "task_start events: $(cat out)"
[ "$(jq -r 'select(.event == "task_end") | .status' out | sort | uniq -c | tr -s ' ')" = " 2 ok" ] ||
	fail "task_end events: $(cat out)"
expect_recap roots/one 2 0 0 0 false
jq -se 'map(select(.event == "recap"))[0].seconds > 0' out >/dev/null || fail "the recap has no time: $(cat out)"

# a failed task stops the host: its recap says so, exit status 1
cat >site/fail.img <<'EOF2'
hosts roots { "roots/one" { connection = rootfs } }
apply roots {
  command "sh -c 'echo partial; exit 3'" {}
  file "/etc/after" { content = "x\n" }
}
EOF2
kapply site/fail.img
expect_rc 1
[ ! -e site/roots/one/etc/after ] || fail "the host went on after its failure"
expect_match err '^roots/one +: ok=0 +changed=0 +failed=1 .*\(stopped\)'
expect_match err '^\[roots/one\]     FAILED'

# SIGTERM to kiln while the host's command runs: the command and kiln stop, 143
cat >site/long.img <<'EOF2'
hosts roots { "roots/one" { connection = rootfs } }
apply roots {
  command "sleep 36.6170" {}
  file "/etc/after-sleep" { content = "x\n" }
}
EOF2
$KILN apply --work-dir="$WORK" --cache-dir="$CACHE" --progress=plain site/long.img >out 2>err &
KPID=$!
i=0
until ps -e -o args= | grep -q '^sleep 36\.6170'; do
	i=$((i + 1))
	[ $i -le 100 ] || fail "the command did not start: $(cat err)"
	sleep 0.1
done
kill -TERM "$KPID"
rc=0
wait "$KPID" || rc=$?
KPID=
[ "$rc" = 143 ] || fail "kiln apply exited $rc after SIGTERM: $(cat err)"
[ ! -e site/roots/one/etc/after-sleep ] || fail "a task ran after SIGTERM"
[ "$(ps -e -o args= | grep -c '^sleep 36\.6170')" = 0 ] || fail "the command outlived kiln"

# two hosts: each in its worker, as before
sh "$TOP/tests/lib/busybox-rootfs.sh" "$TMP/site/roots/two" >/dev/null || skip "no busybox-static"
cat >site/two.img <<'EOF2'
hosts roots {
  "roots/one" { connection = rootfs }
  "roots/two" { connection = rootfs }
}
apply roots {
  file "/etc/motd" { content = "configured by kiln\n", mode = 0644 }
}
EOF2
traced site/two.img
expect_rc 0
[ "$(cat site/roots/two/etc/motd)" = "configured by kiln" ] || fail "the second host was not configured"
[ "$(grep -Ec '(clone|clone3|fork|vfork)\(' "$TMP/strace.txt")" = 2 ] ||
	fail "two hosts, not two workers: $(cat "$TMP/strace.txt")"
exit 0
