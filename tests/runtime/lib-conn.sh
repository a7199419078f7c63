# tests/runtime/lib-conn.sh: helpers for the connection tests t10NN-*.sh, sourced after
# tests/lib/test-lib.sh. They drive one connection with conn_test (built beside the tests)
# on a busybox root filesystem in $ROOT.
#
#   ct ARGS...            run conn_test ARGS, bounded in time: stdout in ./out, stderr in
#                         ./err, status in $rc; a crash, a hang or a sanitizer report fails
#   expect_out ERE [WHY]  a line of the last run's stdout matches ERE
#   host_mounts_under DIR the build machine's mount points at or below DIR (none, ever)
#   procs_running ARGS... how many processes have exactly ARGS as their command line
#   wait_procs_gone ARGS  wait (up to 10 s) until no process has ARGS as command line

CONN_TEST=${CONN_TEST:-${KILN_BUILD_DIR:-$TOP/build}/tests/runtime/conn_test}
[ -x "$CONN_TEST" ] || fail "conn_test not found: $CONN_TEST (build it, or set CONN_TEST)"
[ "$(id -u)" -eq 0 ] || skip "a rootfs connection needs root (mount and pid namespaces)"
[ -x /bin/busybox ] || skip "needs /bin/busybox (busybox-static)"
ROOT=$TMP/root
sh "$TOP/tests/lib/busybox-rootfs.sh" "$ROOT" >/dev/null || fail "cannot make a busybox rootfs"

ct()
{
	rc=0
	timeout -k 5 "${CT_TIMEOUT:-60}" "$CONN_TEST" "$@" >"$TMP/out" 2>"$TMP/err" || rc=$?
	if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
		fail "conn_test $* timed out (status $rc)"
	fi
	if [ "$rc" -ge 128 ]; then
		fail "conn_test $* crashed: killed by signal $((rc - 128))"
	fi
	if grep -Eq '^(==[0-9]+==ERROR: |SUMMARY: (Address|Leak|Undefined)Sanitizer|.*runtime error: )' \
		"$TMP/err"; then
		fail "conn_test $* made a sanitizer report"
	fi
}

expect_out()
{
	grep -Eq -- "$1" "$TMP/out" || fail "${2:-no line of conn_test's output matches /$1/}"
}

host_mounts_under()
{
	awk -v d="$1" '$5 == d || index($5, d "/") == 1 { print $5 }' /proc/self/mountinfo
}

# The command lines of all processes, one a line, arguments separated by spaces.
_cmdlines()
{
	for _p in /proc/[0-9]*; do
		{ tr '\0' ' ' <"$_p/cmdline"; } 2>/dev/null || true
		echo
	done
}

procs_running()
{
	_cmdlines | grep -cxF -- "$* " || true
}

wait_procs_gone()
{
	_i=0
	while [ "$(procs_running "$@")" -ne 0 ]; do
		_i=$((_i + 1))
		[ $_i -le 100 ] || return 1
		sleep 0.1
	done
}
