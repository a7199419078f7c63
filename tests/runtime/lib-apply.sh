# tests/runtime/lib-apply.sh: helpers for the apply tests t60NN-*.sh, sourced after
# tests/lib/test-lib.sh. Each test gets its own work and cache directories under $TMP
# ($WORK, $CACHE), so no test sees another's stage cache or runs.
#
#   kapply ARGS...          kiln apply ARGS with this test's --work-dir and --cache-dir and
#                           plain progress; stdout in ./out, stderr (the report) in ./err,
#                           status in $rc; a crash, a hang or a sanitizer report fails
#   kapply_json ARGS...     the same with --events=json: the events in ./out, each line a
#                           JSON object with an "event" key (else the test fails)
#   task_event ID           the task_end event of task ID in the last JSON run (one line)
#   status_of ID            the status of task ID in the last JSON run (empty: it did not run)
#   expect_status ID STATUS task ID ended with STATUS in the last JSON run
#   expect_recap IMG OK CHANGED FAILED SKIPPED ABORTED
#                           the recap event of image IMG in the last JSON run
#   ran_tasks               the ids of the tasks the last JSON run started, one a line
#   oci_digest LAYOUT       the digest of the first manifest of an OCI layout
#   unpack LAYOUT TAG DIR   umoci unpack of LAYOUT:TAG into DIR (the tree in DIR/rootfs)
#   host_mounts_under DIR   the build machine's mount points at or below DIR
#   temp_files DIR          kiln's temporary files left in DIR (none expected)
#   procs_matching ERE      the processes whose command line matches ERE, one a line

need jq
[ "$(id -u)" -eq 0 ] || skip "kiln apply builds root filesystems: needs root (namespaces, owners)"
[ -x /bin/busybox ] || skip "busybox() bases need /bin/busybox (Debian's busybox-static)"
# skopeo, umoci, buildah, podman: kept to $TMP
. "$TOP/tests/runtime/lib-containers.sh"

WORK=$TMP/work
CACHE=$TMP/cache
# nothing from the caller's environment steers these tests; a kiln run without the flags
# keeps to this test's directories too
KILN_CACHE_DIR=$CACHE
KILN_WORK_DIR=$WORK
export KILN_CACHE_DIR KILN_WORK_DIR
unset SOURCE_DATE_EPOCH || true
KPID=

# On exit: stop a kiln still running in the background, unmount what a broken run could
# have left under $TMP (rm -rf must never walk into a bind mount), then remove $TMP.
_apply_cleanup()
{
	cd /
	if [ -n "$KPID" ]; then
		kill -KILL "$KPID" 2>/dev/null || true
		wait "$KPID" 2>/dev/null || true
	fi
	for _m in $(host_mounts_under "$TMP" | sort -r); do
		umount -l "$_m" 2>/dev/null || true
	done
	rm -rf --one-file-system "$TMP"
}
trap _apply_cleanup EXIT

kapply()
{
	run_kiln apply --work-dir="$WORK" --cache-dir="$CACHE" --progress=plain "$@"
}

kapply_json()
{
	run_kiln apply --work-dir="$WORK" --cache-dir="$CACHE" --events=json "$@"
	jq -e -s 'all(.[]; type == "object" and has("event"))' "$TMP/out" >/dev/null 2>&1 ||
		fail "--events=json wrote a line that is not a JSON event"
}

task_event()
{
	jq -c --arg id "$1" 'select(.event == "task_end" and .id == $id)' "$TMP/out" | head -n 1
}

status_of()
{
	jq -r --arg id "$1" 'select(.event == "task_end" and .id == $id) | .status' "$TMP/out"
}

expect_status()
{
	_s=$(status_of "$1")
	[ "$_s" = "$2" ] || fail "task $1: expected status $2, got '${_s:-(not run)}'"
}

expect_recap()
{
	_r=$(jq -r --arg n "$1" 'select(.event == "recap" and .name == $n) |
		"\(.ok) \(.changed) \(.failed) \(.skipped) \(.aborted)"' "$TMP/out")
	[ "$_r" = "$2 $3 $4 $5 $6" ] ||
		fail "recap of $1: expected ok changed failed skipped aborted = $2 $3 $4 $5 $6, got '$_r'"
}

ran_tasks()
{
	jq -r 'select(.event == "task_start") | .id' "$TMP/out"
}

oci_digest()
{
	jq -r '.manifests[0].digest' "$1/index.json"
}

unpack()
{
	umoci unpack --image "$1:$2" "$3" >"$TMP/umoci.out" 2>&1 ||
		fail "umoci unpack $1:$2: $(tail -n 5 "$TMP/umoci.out")"
}

host_mounts_under()
{
	awk -v d="$1" '$5 == d || index($5, d "/") == 1 { print $5 }' /proc/self/mountinfo
}

temp_files()
{
	find "$1" -name '*kiln-tmp*' 2>/dev/null || true
}

procs_matching()
{
	for _p in /proc/[0-9]*; do
		_c=$({ tr '\0' ' ' <"$_p/cmdline"; } 2>/dev/null || true)
		[ -n "$_c" ] && printf '%s %s\n' "${_p#/proc/}" "$_c"
	done | grep -E -- "$1" || true
}
