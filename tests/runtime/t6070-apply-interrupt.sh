#!/bin/sh
# tests/runtime/t6070-apply-interrupt.sh: an apply stopped while a task runs (shell
# "sleep 30") by SIGINT or SIGTERM exits 130 or 143 (as shells and CI expect) within a few
# seconds, saying it was interrupted;
# no process of the build is left (the sleep is gone), nothing is mounted (no mount point
# under $TMP, none new on the build machine), the work directory holds nothing of the run,
# no artifact and no temporary file is in the output directory (an earlier artifact stays
# as it was), and the next apply succeeds. SIGKILL of kiln: the processes and mounts die
# with its namespaces; the dead run's directory may stay, and the next apply removes it.
. "$(dirname "$0")/../lib/test-lib.sh"
. "$TOP/tests/runtime/lib-apply.sh"

mkdir build
cat >build/sleepy.img <<'EOF'
param nap: int = 30
image sleepy from busybox() {
  stage s {
    file "/before" { content = "b\n" }
    shell "sleep ${nap}" {}
  }
  output oci "out/sleepy" { tag = "s:1" }
  output tar "out/sleepy.tar" {}
}
EOF

mount_points()
{
	awk '{ print $5 }' /proc/self/mountinfo | sort
}

# the mount points that are new since mounts.before; other tests' directories aside
new_mounts()
{
	mount_points | comm -13 mounts.before - |
		awk -v mine="$TMP" -v others="${TMPDIR:-/tmp}/kiln-" \
			'index($0, mine) == 1 || index($0, others) != 1'
}

# the pids of the 'sleep 30' processes that descend from process $1
build_sleeps()
{
	for _p in $(procs_matching '^[0-9]+ sleep 30 $' | cut -d' ' -f1); do
		_q=$_p
		while [ -n "$_q" ] && [ "$_q" -gt 1 ]; do
			if [ "$_q" = "$1" ]; then
				echo "$_p"
				break
			fi
			_q=$(awk '{ print $4 }' "/proc/$_q/stat" 2>/dev/null || true)
		done
	done
}

# interrupt SIGNAL: start the apply, wait for its sleep, wait 1 s, send SIGNAL to kiln,
# and check what must hold after any way of stopping it
interrupt()
{
	mount_points >mounts.before
	$KILN apply --work-dir="$WORK" --cache-dir="$CACHE" --progress=plain build/sleepy.img \
		>"$TMP/out" 2>"$TMP/err" &
	KPID=$!
	_n=0
	sleeps=
	while [ -z "$sleeps" ]; do
		_n=$((_n + 1))
		[ $_n -le 300 ] && kill -0 $KPID 2>/dev/null ||
			fail "SIG$1: the build's 'sleep 30' did not start"
		sleep 0.1
		sleeps=$(build_sleeps $KPID)
	done
	run_dir=$(ls -A "$WORK")
	[ -n "$run_dir" ] || fail "SIG$1: the run has no directory in the work directory"
	sleep 1
	kill -s "$1" $KPID
	_n=0
	while kill -0 $KPID 2>/dev/null; do
		_n=$((_n + 1))
		[ $_n -le 50 ] || fail "SIG$1: kiln did not stop within 5 s"
		sleep 0.1
	done
	rc=0
	wait $KPID || rc=$?
	KPID=
	_n=0
	for _p in $sleeps; do
		while [ -e "/proc/$_p" ] && grep -q '^sleep' "/proc/$_p/comm" 2>/dev/null; do
			_n=$((_n + 1))
			[ $_n -le 50 ] || fail "SIG$1: the build's sleep (pid $_p) is still running"
			sleep 0.1
		done
	done
	[ -z "$(host_mounts_under "$TMP")" ] || fail "SIG$1: mounted under $TMP: $(host_mounts_under "$TMP")"
	[ -z "$(new_mounts)" ] || fail "SIG$1: new mount points: $(new_mounts | tr '\n' ' ')"
	[ -z "$(temp_files build)" ] || fail "SIG$1: temporary files left: $(temp_files build)"
	[ ! -e build/out/sleepy.tar.kiln-tmp ] || fail "SIG$1: a half tarball is there"
}

# the next apply succeeds (without the long sleep) and leaves nothing in the work directory
next_apply()
{
	kapply -var nap=0 build/sleepy.img
	expect_rc 0
	[ -f build/out/sleepy.tar ] && [ -f build/out/sleepy/index.json ] || fail "the next apply wrote no artifacts"
	[ -z "$(ls -A "$WORK")" ] || fail "after the next apply the work directory holds $(ls -A "$WORK")"
}

# 1. SIGINT, no earlier artifact
interrupt INT
[ "$rc" -eq 130 ] || fail "SIGINT: kiln exited with status $rc, not 130"
expect_no_match err 'Sanitizer|runtime error:' "SIGINT: a sanitizer report"
expect_match err 'interrupted' "SIGINT: kiln does not say it was interrupted"
expect_match err '^sleepy +: .*\(stopped\)'
[ -z "$(ls -A "$WORK")" ] || fail "SIGINT: the work directory holds $(ls -A "$WORK")"
[ ! -e build/out ] || fail "SIGINT: the output directory holds $(ls -A build/out | tr '\n' ' ')"
next_apply

# 2. SIGTERM, with the artifacts of the last apply in place: they stay as they were
sum_before=$(cd build/out && find . -type f | sort | xargs sha256sum)
interrupt TERM
[ "$rc" -eq 143 ] || fail "SIGTERM: kiln exited with status $rc, not 143"
expect_no_match err 'Sanitizer|runtime error:' "SIGTERM: a sanitizer report"
expect_match err 'interrupted' "SIGTERM: kiln does not say it was interrupted"
[ -z "$(ls -A "$WORK")" ] || fail "SIGTERM: the work directory holds $(ls -A "$WORK")"
[ "$(cd build/out && find . -type f | sort | xargs sha256sum)" = "$sum_before" ] ||
	fail "SIGTERM: the earlier artifacts changed"
next_apply

# 3. SIGKILL of kiln: no artifact; the run's directory may stay until the next apply
rm -rf build/out
interrupt KILL
[ "$rc" -eq 137 ] || fail "SIGKILL: the shell saw status $rc, not 137"
[ ! -e build/out ] || fail "SIGKILL: the output directory holds $(ls -A build/out | tr '\n' ' ')"
stale=$(ls -A "$WORK")
[ -z "$stale" ] || [ "$stale" = "$run_dir" ] || fail "SIGKILL: the work directory holds $stale"
next_apply
[ ! -e "$WORK/$run_dir" ] || fail "the next apply did not remove the dead run's $run_dir"
say "ok: SIGINT, SIGTERM and SIGKILL leave no process, mount, work file or artifact; the next apply works"
