# tests/runtime/lib-kill.sh: helpers for the tests that SIGKILL kiln apply (t614N-*.sh),
# sourced after lib-apply.sh. Everything the killed apply used is under $TMP.
#
#   start_apply ARGS...     kiln apply ARGS in the background (this test's work and cache
#                           directories, --events=json into ./live), its pid in $KPID
#   wait_task_running N     wait until a process 'sleep N' runs that descends from $KPID
#   kill_apply              SIGKILL kiln ($KPID) and reap it
#   expect_nothing_left     no mount names a path under $TMP (this namespace's mountinfo),
#                           no process has its root or cwd under $TMP or $TMP on its command
#                           line (kiln, its workers, its namespace holders), no 'sleep N' of
#                           the build runs (waits up to 5 s for the
#                           kernel to finish killing them)

# the pids of the 'sleep $1' processes that descend from process $2
_build_sleeps()
{
	for _p in $(procs_matching "^[0-9]+ sleep $1 \$" | cut -d' ' -f1); do
		_q=$_p
		while [ -n "$_q" ] && [ "$_q" -gt 1 ]; do
			if [ "$_q" = "$2" ]; then
				echo "$_p"
				break
			fi
			_q=$(awk '{ print $4 }' "/proc/$_q/stat" 2>/dev/null || true)
		done
	done
}

start_apply()
{
	$KILN apply --work-dir="$WORK" --cache-dir="$CACHE" --events=json "$@" \
		>"$TMP/live" 2>"$TMP/live.err" &
	KPID=$!
}

wait_task_running()
{
	_n=0
	SLEEPS=
	while [ -z "$SLEEPS" ]; do
		_n=$((_n + 1))
		if [ $_n -gt 600 ] || ! kill -0 "$KPID" 2>/dev/null; then
			cat "$TMP/live" "$TMP/live.err" >&2
			fail "the build's 'sleep $1' did not start"
		fi
		sleep 0.1
		SLEEPS=$(_build_sleeps "$1" "$KPID")
	done
}

kill_apply()
{
	kill -KILL "$KPID"
	wait "$KPID" 2>/dev/null || true
	KPID=
}

# what is left of the killed run: one line each (mounts, roots and cwds, processes)
_left()
{
	grep -F "$TMP" /proc/self/mountinfo | sed 's/^/mount: /' || true
	for _p in /proc/[0-9]*; do
		[ "${_p#/proc/}" = $$ ] && continue
		for _l in root cwd; do
			_t=$(readlink "$_p/$_l" 2>/dev/null || true)
			case $_t in
			"$TMP" | "$TMP"/*) echo "process ${_p#/proc/}: $_l $_t ($(cat "$_p/comm" 2>/dev/null))" ;;
			esac
		done
	done
	procs_matching "[-]-work-dir=$WORK" | sed 's/^/process: /' || true
	for _p in $SLEEPS; do
		grep -qs '^sleep' "/proc/$_p/comm" && echo "process $_p: the build's sleep"
	done
	true
}

expect_nothing_left()
{
	cd /
	_n=0
	while [ -n "$(cd / && _left)" ]; do
		_n=$((_n + 1))
		if [ $_n -gt 50 ]; then
			_what=$(_left)
			# not left running after the test either
			for _p in $SLEEPS $(procs_matching "[-]-work-dir=$WORK" | cut -d' ' -f1); do
				kill -KILL "$_p" 2>/dev/null || true
			done
			fail "$1: the killed apply left: $_what"
		fi
		sleep 0.1
	done
	cd "$TMP"
}
