#!/bin/sh
# tests/runtime/t6143-leftover-mounts.sh: what a kiln from before applies had a mount
# namespace of their own left in the work directory is cleaned up by the next apply: the
# overlay mount of an image's tree and a bind mount in a dead run's directory are
# detached from the build machine's namespace (a note names them) and the run's directory
# goes, its overlay upper and work directories (a mode 000 work/work) with it. Left alone:
# the work directory's own mount, a live kiln's run and its mount, a directory outside
# the work directory that a leftover bind mount showed. A run whose pid file names a
# process started after it was written (its pid used again) is dead.
. "$(dirname "$0")/../lib/test-lib.sh"
. "$TOP/tests/runtime/lib-apply.sh"
need mount
need umount

mkdir -p build "$WORK" precious
echo keep >precious/file
cat >build/small.img <<'EOF2'
image small from busybox() {
  stage s {
    file "/etc/small" { content = "s\n" }
  }
  output tar "out/small.tar" {}
}
EOF2

# the work directory is a mount of its own (a tmpfs): it stays mounted
mount -t tmpfs kiln-t6143 "$WORK" || skip "cannot mount a tmpfs"

# a dead run, as an old kiln left it: an image's tree overlay-mounted, a bind mount
sh -c 'exit 0' &
dead=$!
wait $dead
dead_run=$WORK/apply-dead01
mkdir -p "$dead_run/lower" "$dead_run/child.rootfs" "$dead_run/child.rootfs.upper" \
	"$dead_run/child.rootfs.ovl" "$dead_run/seen"
echo "$dead" >"$dead_run/pid"
echo low >"$dead_run/lower/l"
mount -t overlay overlay -o "lowerdir=$dead_run/lower,upperdir=$dead_run/child.rootfs.upper,workdir=$dead_run/child.rootfs.ovl" \
	"$dead_run/child.rootfs" || skip "cannot mount overlayfs"
echo up >"$dead_run/child.rootfs/u"
mount --bind "$TMP/precious" "$dead_run/seen"
[ -d "$dead_run/child.rootfs.ovl/work" ] || fail "overlayfs made no work/work"

# a run whose pid was used again: the pid file is older than the process
reused_run=$WORK/apply-reuse1
mkdir -p "$reused_run/sub"
sleep 300 &
reuser=$!
echo "$reuser" >"$reused_run/pid"
touch -d '1 hour ago' "$reused_run/pid"
mount -t tmpfs kiln-t6143-reused "$reused_run/sub"

# a live run (this test's own sleep holds it): left alone, its mount too
live_run=$WORK/apply-live01
mkdir -p "$live_run/tree"
sleep 300 &
holder=$!
echo "$holder" >"$live_run/pid"
mount -t tmpfs kiln-t6143-live "$live_run/tree"
trap 'kill $holder $reuser 2>/dev/null || true; _apply_cleanup' EXIT

kapply_json build/small.img
expect_rc 0
[ -f build/out/small.tar ] || fail "the apply wrote no tarball"
expect_match out '"msg":"detached 3 mounts an earlier kiln left under the work directory '
jq -r 'select(.event == "note") | .msg' out | grep -F "$dead_run/child.rootfs" >/dev/null ||
	fail "the note does not name the overlay mount: $(jq -r 'select(.event == "note") | .msg' out)"
mounted=$(host_mounts_under "$WORK" | sort | tr '\n' ' ')
[ "$mounted" = "$WORK $live_run/tree " ] || fail "mounted under the work directory: $mounted"
[ ! -e "$dead_run" ] || fail "the dead run's directory stayed: $(find "$dead_run" | head)"
[ ! -e "$reused_run" ] || fail "the run of a reused pid stayed"
[ -f "$live_run/pid" ] || fail "a live run's directory was removed"
[ "$(cat precious/file)" = keep ] || fail "the bind mount's source was touched"
[ "$(ls -A "$WORK" | tr '\n' ' ')" = "apply-live01 " ] || fail "the work directory holds $(ls -A "$WORK")"

# nothing left: the next apply says nothing of mounts
kapply_json build/small.img
expect_rc 0
expect_no_match out 'detached'
say "ok: leftover mounts of an old kiln are detached and its run removed; live runs stay"
