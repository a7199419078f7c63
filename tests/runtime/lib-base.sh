# tests/runtime/lib-base.sh: helpers for the base tests t50NN-*.sh, sourced after
# tests/lib/test-lib.sh. They call base_create() and extract.c through base_test (built
# beside the tests), with a cache directory of their own.
#
#   base ARGS...         run base_test ARGS; status in $rc (0 done, 3 refused or failed),
#                        stderr in ./err; a crash, a hang or a sanitizer report fails the test
#   create JSON DEST     base create JSON DEST (DEST made empty first)
#   expect_refused ERE   the last run failed (status 3) with an error matching ERE
#   tree_list DIR        one line per entry: path, type, mode, uid, gid, size (not of
#                        directories), mtime, symlink target
#   mounts_under DIR     the mount points at or below DIR (none expected after a base)
#   elapsed              the last run's time in seconds ("time: S" line of base_test)

BASE_TEST=${BASE_TEST:-${KILN_BUILD_DIR:-$TOP/build}/tests/runtime/base_test}
[ -x "$BASE_TEST" ] || fail "base_test not found: $BASE_TEST (build it, or set BASE_TEST)"
KILN_CACHE_DIR=$TMP/cache
export KILN_CACHE_DIR

base()
{
	rc=0
	timeout -k 10 "$KILN_TEST_TIMEOUT" $BASE_TEST "$@" >"$TMP/out" 2>"$TMP/err" || rc=$?
	check_not_crashed "$@"
	if [ "$rc" -ne 0 ] && [ "$rc" -ne 3 ]; then
		fail "base_test $1 exited with status $rc"
	fi
}

create()
{
	rm -rf "$2"
	mkdir -p "$2"
	base create "$1" "$2"
}

expect_refused()
{
	[ "$rc" -eq 3 ] || fail "expected a refusal (status 3), got status $rc"
	expect_match "$TMP/err" "^error: .*$1"
}

tree_list()
{
	# a directory's size is the file system's business, not the tree's
	(cd "$1" && find . \( -type d -printf '%p %y %#m %U %G - %T@\n' \) -o \
		-printf '%p %y %#m %U %G %s %T@ %l\n' | sort)
}

mounts_under()
{
	awk -v d="$1" '$5 == d || index($5, d "/") == 1 { print $5 }' /proc/self/mountinfo
}

elapsed()
{
	sed -n 's/^time: //p' "$TMP/err"
}
