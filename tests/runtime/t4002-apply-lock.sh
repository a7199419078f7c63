#!/bin/sh
# tests/runtime/t4002-apply-lock.sh: two applies at once on one cache and work directory.
# The second fails at once, naming the first's pid and --lock-timeout, and touches
# nothing; with --lock-timeout it waits for the first and then finds everything cached.
# The image the first wrote is intact; kiln plan (read-only) does not wait.
. "$(dirname "$0")/../lib/test-lib.sh"
. "$TOP/tests/runtime/lib-apply.sh"
need flock

mkdir -p build
cat >build/l.img <<'EOF'
image l from busybox() {
  stage slow {
    shell "sleep 3; echo done >/done" {}
  }
  output tar "out/l.tar" {}
}
EOF

$KILN apply --work-dir="$WORK" --cache-dir="$CACHE" --progress=plain build/l.img \
	>"$TMP/first.out" 2>"$TMP/first.err" &
KPID=$!
# wait until the first holds the lock (its pid is in the lock file)
i=0
while [ "$(cat "$CACHE/lock" 2>/dev/null)" != "$KPID" ]; do
	i=$((i + 1))
	[ $i -lt 100 ] || fail "the first apply never took the cache lock"
	sleep 0.1
done

kapply build/l.img
expect_rc 1
expect_match err "another kiln \\(pid $KPID\\) is using the cache directory $CACHE; .*--lock-timeout"
expect_no_match err '^--> l/slow' "the second apply ran a stage"
# another cache, the same work directory (locked itself: it stays empty)
run_kiln apply --work-dir="$WORK" --cache-dir="$TMP/other-cache" --progress=plain build/l.img
expect_rc 1
expect_match err "another kiln \\(pid $KPID\\) is using the work directory $WORK; "

run_kiln plan --cache-dir="$CACHE" --work-dir="$WORK" build/l.img
expect_rc 0

kapply_json --lock-timeout=60 build/l.img
expect_rc 0
expect_match out '"event":"stage_cached","image":"l","stage":"slow"'
wait "$KPID" || fail "the first apply failed: $(cat "$TMP/first.err")"
KPID=
tar -tf build/out/l.tar | grep -qx './done' || tar -tf build/out/l.tar | grep -qx 'done' ||
	fail "the first apply's tar lacks /done"

# a short timeout that runs out names the holder and the wait
sh -c 'exec 9>"$1/lock"; flock 9; echo $$ >"$1/lock"; sleep 5' - "$CACHE" &
KPID=$!
sleep 0.5
kapply --lock-timeout=1 build/l.img
expect_rc 1
expect_match err "still uses the cache directory $CACHE after 1 s of waiting"
kill "$KPID" 2>/dev/null || true
wait "$KPID" 2>/dev/null || true
KPID=
