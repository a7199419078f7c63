# tests/lib/test-lib.sh: helpers for kiln's shell tests (tests/cli/, later tests/runtime/).
#
# Source it first:   . "$(dirname "$0")/../lib/test-lib.sh"
#
# It sets -eu, moves into a fresh temporary directory ($TMP, removed on exit) and sets:
#   KILN   the command to test; left unquoted, so KILN="valgrind build/kiln" works.
#          Default: $KILN from the environment, else build/kiln at the top of the tree.
#   TOP    the top of the source tree;  DATA  tests/<family>/data
#   KILN_CACHE_DIR, KILN_WORK_DIR   exported, under $TMP (never the machine's defaults)
# Exit codes follow CTest: 0 pass, 1 fail, 77 skip (SKIP_RETURN_CODE 77).
#
# run_kiln ARGS...  runs $KILN with a time bound ($KILN_TEST_TIMEOUT, default 120 s),
# stdout to ./out, stderr to ./err, exit status in $rc. A crash (status >= 128), a
# timeout (124) or a sanitizer report fails the test right there, whatever it expected.

set -eu
LC_ALL=C
export LC_ALL
unset NO_COLOR CLICOLOR_FORCE || true

TEST_NAME=$(basename "$0" .sh)
TOP=$(cd "$(dirname "$0")/../.." && pwd)
DATA=$(cd "$(dirname "$0")" && pwd)/data
KILN=${KILN:-$TOP/build/kiln}
KILN_TEST_TIMEOUT=${KILN_TEST_TIMEOUT:-120}

TMP=$(mktemp -d "${TMPDIR:-/tmp}/kiln-$TEST_NAME.XXXXXX")
trap 'cd /; rm -rf "$TMP"' EXIT
trap 'exit 130' INT TERM
cd "$TMP"
# kiln's cache and work directories default to /var/cache/kiln and /var/tmp/kiln (as root),
# shared with the machine: a test keeps to its own (lib-apply.sh passes its own flags too)
KILN_CACHE_DIR=$TMP/.kiln-cache
KILN_WORK_DIR=$TMP/.kiln-work
export KILN_CACHE_DIR KILN_WORK_DIR

say()
{
	printf '%s: %s\n' "$TEST_NAME" "$*" >&2
}

skip()
{
	say "SKIP: $*"
	exit 77
}

# fail MSG: report and stop. The last kiln run's output is shown to explain it.
fail()
{
	say "FAIL: $*"
	for f in out err; do
		if [ -s "$TMP/$f" ]; then
			printf -- '--- kiln std%s (first 40 lines) ---\n' "$f" >&2
			head -n 40 "$TMP/$f" | cut -c1-300 >&2
		fi
	done
	exit 1
}

# The binary itself must exist; a wrapper (first word) must be a command.
set -- $KILN
case $1 in
*/*) [ -x "$1" ] || fail "not found: $1 (build kiln, or set KILN)" ;;
*) command -v "$1" >/dev/null 2>&1 || fail "not found: $1 (set KILN)" ;;
esac
set --

# run_kiln ARGS...: run kiln, bounded in time; never returns on a crash or a hang.
run_kiln()
{
	rc=0
	timeout -k 10 "$KILN_TEST_TIMEOUT" $KILN "$@" >"$TMP/out" 2>"$TMP/err" || rc=$?
	check_not_crashed "$@"
}

# run_kiln_in DIR ARGS...: the same, from DIR (so file names in diagnostics are short).
run_kiln_in()
{
	_dir=$1
	shift
	rc=0
	(cd "$_dir" && exec timeout -k 10 "$KILN_TEST_TIMEOUT" $KILN "$@") \
		>"$TMP/out" 2>"$TMP/err" || rc=$?
	check_not_crashed "$@"
}

check_not_crashed()
{
	if [ "$rc" -eq 124 ] || [ "$rc" -eq 137 ]; then
		fail "kiln $* timed out after ${KILN_TEST_TIMEOUT}s (status $rc)"
	fi
	if [ "$rc" -ge 128 ]; then
		fail "kiln $* crashed: killed by signal $((rc - 128)) (status $rc)"
	fi
	if grep -Eq '^(==[0-9]+==ERROR: |SUMMARY: (Address|Leak|Undefined)Sanitizer|.*runtime error: )' \
		"$TMP/err"; then
		fail "kiln $* made a sanitizer report (status $rc)"
	fi
}

# expect_rc N: the last run exited with N.
expect_rc()
{
	[ "$rc" -eq "$1" ] || fail "expected exit status $1, got $rc"
}

# expect_match FILE ERE [WHY]: some line of FILE (out, err, or a path) matches ERE.
expect_match()
{
	grep -Eq -- "$2" "$1" || fail "${3:-no line of $1 matches /$2/}"
}

# expect_no_match FILE ERE [WHY]: no line of FILE matches ERE.
expect_no_match()
{
	if grep -Eq -- "$2" "$1"; then
		fail "${3:-a line of $1 matches /$2/: $(grep -E -m1 -- "$2" "$1" | cut -c1-200)}"
	fi
}

# expect_empty FILE / expect_nonempty FILE
expect_empty()
{
	[ ! -s "$1" ] || fail "expected $1 to be empty"
}

expect_nonempty()
{
	[ -s "$1" ] || fail "expected output in $1, got none"
}

# count_matches FILE ERE: print the number of lines of FILE matching ERE.
count_matches()
{
	grep -Ec -- "$2" "$1" || true
}

# expect_count FILE ERE N [WHY]
expect_count()
{
	_n=$(count_matches "$1" "$2")
	[ "$_n" -eq "$3" ] || fail "${4:-expected $3 lines of $1 matching /$2/, got $_n}"
}

# need CMD: skip when a tool the test needs is missing.
need()
{
	command -v "$1" >/dev/null 2>&1 || skip "needs $1"
}

# Shapes of diagnostics, for greps.
RE_TEXT_ERROR='^[^ :][^:]*:[0-9]+:[0-9]+: error\[E[0-9]{4}\]: [^ ]'
RE_TEXT_WARNING='^[^ :][^:]*:[0-9]+:[0-9]+: warning\[W[0-9]{4}\]: [^ ]'
RE_CARET='^ +\|[[:space:]]*\^'
