#!/bin/sh
# tests/runtime/t6111-apply-task-output.sh: what a task printed is never lost. A failing
# command shows the last lines of both its stdout and its stderr, in text and in
# --events=json; -v prints everything commands printed, each line prefixed with its host;
# --log-file keeps every event with a timestamp and the full outputs, secrets blanked,
# and is never written through a symlink or into a FIFO; -v shows a line as soon as the
# command prints it. An ignored failure is counted as ignored in the recap, not failed.
. "$(dirname "$0")/../lib/test-lib.sh"
. "$TOP/tests/runtime/lib-apply.sh"

sh "$TOP/tests/lib/busybox-rootfs.sh" "$TMP/site/roots/a" >/dev/null || skip "no busybox-static"
printf '[roots]\nroots/a ansible_connection=chroot\n' >site/hosts.ini
cat >site/site.img <<'EOF2'
inventory "hosts.ini"
param token: secret

apply roots {
  shell "echo ignored-out; exit 1" { ignore_errors = true }
  shell "echo first-of-many; seq 1 100; echo token=${token}; echo last-stdout; echo on-stderr >&2; exit 5" {}
}
EOF2
export KILN_VAR_token=Sekrit-$$-value

kapply site/site.img
expect_rc 1
expect_match err '^\[roots/a\]     stdout \(last lines\):$'
expect_match err '^\[roots/a\]     \| last-stdout$'
expect_match err '^\[roots/a\]     \| token=\*\*\*\*\*\*\*\*$'
expect_match err '^\[roots/a\]     \| on-stderr$'
expect_no_match err 'first-of-many' "the whole stdout was printed, not its tail"
expect_match err '^roots/a +: ok=0 +changed=0 +failed=1 +skipped=0 +unreachable=0 +rescued=0 +ignored=1 '

kapply_json site/site.img
expect_rc 1
task_event apply.roots.1 | jq -e '.status == "failed" and (.stdout | endswith("token=********\nlast-stdout"))
	and .stderr == "on-stderr" and (.stdout | contains("first-of-many") | not)
	and (.time | test("^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z$"))' >/dev/null ||
	fail "the failed task's event: $(task_event apply.roots.1)"
[ "$(jq -c 'select(.event == "apply_start") | .version' out)" = 1 ] || fail "no version in apply_start"
[ "$(jq -c 'select(.event == "recap") | [.failed, .ignored]' out)" = "[1,1]" ] || fail "recap: $(grep recap out)"

# -v: everything, each line prefixed
kapply -v site/site.img
expect_rc 1
expect_match err '^\[roots/a\] \| ignored-out$'
expect_match err '^\[roots/a\] \| first-of-many$'
expect_match err '^\[roots/a\] \| 57$'
expect_match err '^\[roots/a\] ! on-stderr$'
! grep -qF "$KILN_VAR_token" err out || fail "-v printed the secret"

# --log-file: all events, timestamps, full outputs, no secret; mode 0600
kapply --log-file="$TMP/apply.log" site/site.img
expect_rc 1
[ "$(stat -c %a "$TMP/apply.log")" = 600 ] || fail "the log is not 0600"
jq -e -s 'all(.[]; has("event") and has("time"))' "$TMP/apply.log" >/dev/null || fail "a log line without event or time"
jq -e -s 'map(select(.event == "task_end" and .id == "apply.roots.1"))[0]
	| (.stdout | startswith("first-of-many\n1\n2\n")) and .stderr == "on-stderr\n"' "$TMP/apply.log" >/dev/null ||
	fail "the log does not hold the full output: $(cat "$TMP/apply.log")"
jq -e -s 'map(.event) | index("apply_start") == 0 and (index("recap") != null)' "$TMP/apply.log" >/dev/null ||
	fail "the log does not hold every event"
! grep -qF "$KILN_VAR_token" "$TMP/apply.log" || fail "the log holds the secret"
# a second run replaces it (a regular file)
kapply --log-file="$TMP/apply.log" site/site.img
[ "$(grep -c '"apply_start"' "$TMP/apply.log")" = 1 ] || fail "the log was appended to, not replaced"

# never through a symlink, never into a FIFO or a directory
echo keep >"$TMP/target"
ln -s "$TMP/target" "$TMP/link.log"
kapply --log-file="$TMP/link.log" site/site.img
expect_rc 1
expect_match err 'log-file .*link.log: is a symlink'
[ "$(cat "$TMP/target")" = keep ] && [ -L "$TMP/link.log" ] || fail "the symlink or its target was touched"
mkfifo "$TMP/fifo.log"
kapply --log-file="$TMP/fifo.log" site/site.img
expect_rc 1
expect_match err 'log-file .*fifo.log: is not a regular file'
[ -p "$TMP/fifo.log" ] || fail "the FIFO was replaced"
kapply --log-file="$TMP" site/site.img
expect_rc 1
expect_match err 'is a directory'

# -v streams: a line is shown as soon as the command prints it, not when the task ends
cat >site/live.img <<'EOF2'
inventory "hosts.ini"
apply roots {
  shell "echo early-line; sleep 4; echo late-line" {}
}
EOF2
$KILN apply -v --work-dir="$WORK" --cache-dir="$CACHE" --progress=plain site/live.img >out 2>err &
KPID=$!
i=0
until grep -q '^\[roots/a\] | early-line$' err; do
	i=$((i + 1))
	[ $i -le 30 ] || fail "-v did not show the first line while the command ran: $(cat err)"
	sleep 0.1
done
grep -q 'late-line' err && fail "the command ended before its first line was shown"
wait "$KPID" || fail "kiln apply -v failed: $(cat err)"
KPID=
expect_match err '^\[roots/a\] \| late-line$'
[ "$(grep -c '| early-line$' err)" = 1 ] || fail "a line was shown twice: $(cat err)"
