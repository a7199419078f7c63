#!/bin/sh
# tests/runtime/t6142-kill-forks-worker.sh: kiln apply SIGKILLed while its --forks workers
# run a task on root filesystem hosts ('sleep 6142') leaves nothing: the workers, their
# namespace holders and the sleeps die with kiln, no mount names a path under the test's
# directory, the image written before the hosts stays whole. The next apply works, builds
# the child image on its parent's kept tree and writes what a clean build writes.
. "$(dirname "$0")/../lib/test-lib.sh"
. "$TOP/tests/runtime/lib-apply.sh"
. "$TOP/tests/runtime/lib-kill.sh"

mkdir -p site clean
for h in a b; do
	sh "$TOP/tests/lib/busybox-rootfs.sh" "$TMP/site/roots/$h" >/dev/null || skip "no busybox-static"
done
cat >site/hosts.ini <<'INI'
[roots]
roots/a ansible_connection=chroot
roots/b ansible_connection=chroot
INI
cat >site/site.img <<'EOF2'
inventory "hosts.ini"
param v: int = 1
param nap: int = 0
image parent from busybox() {
  stage p {
    file "/etc/parent" { content = "p\n" }
  }
}
image child from parent {
  stage c {
    file "/etc/v" { content = "${v}\n" }
  }
  output oci "out/child" { tag = "child:1" }
}
apply roots {
  shell "sleep ${nap}" {}
  file "/etc/motd" { content = "configured\n" }
}
EOF2

WORK=$TMP/clean/work CACHE=$TMP/clean/cache kapply -var v=2 site/site.img
expect_rc 0
clean=$(oci_digest site/out/child)
rm -rf site/out

kapply site/site.img
expect_rc 0
before=$(oci_digest site/out/child)

# the hosts' workers sleep; kiln is killed
start_apply --forks 2 -var nap=6142 site/site.img
wait_task_running 6142
n=0
while [ "$(_build_sleeps 6142 "$KPID" | wc -l)" -lt 2 ]; do
	n=$((n + 1))
	[ $n -le 100 ] || fail "the two hosts' sleeps did not both start"
	sleep 0.1
done
SLEEPS=$(_build_sleeps 6142 "$KPID")
workers=$(ps -o pid= --ppid "$KPID" | tr -d ' ')
[ -n "$workers" ] || fail "kiln has no worker processes"
kill_apply
expect_nothing_left "killed with workers running"
# dead (a zombie until its new parent reaps it), within 5 s
for w in $workers; do
	n=0
	while [ "$(awk '{ print $3 }' "/proc/$w/stat" 2>/dev/null || echo Z)" != Z ]; do
		n=$((n + 1))
		[ $n -le 50 ] || fail "worker $w outlived kiln"
		sleep 0.1
	done
done
[ "$(oci_digest site/out/child)" = "$before" ] || fail "the image's output changed"

kapply_json -var v=2 site/site.img
expect_rc 0
expect_match out '"msg":"image parent mounted from the cache'
[ "$(oci_digest site/out/child)" = "$clean" ] ||
	fail "the rebuilt image differs from a clean build's"
[ "$(cat site/roots/a/etc/motd)" = configured ] || fail "host roots/a was not configured"
[ -z "$(ls -A "$WORK")" ] || fail "the work directory holds $(ls -A "$WORK")"
expect_nothing_left "after the next apply"
say "ok: a SIGKILL with --forks workers running leaves no process or mount; the next apply works"
