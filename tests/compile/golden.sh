#!/bin/sh
# tests/compile/golden.sh KILN FILE: check one golden compile test.
#
# From FILE's directory, for FILE = NAME.img:
#   kiln lint --diagnostics=text --color=never NAME.img
#     stderr must equal NAME.diag (no NAME.diag: no output at all), stdout must be empty,
#     and the exit status must be 1 if NAME.diag holds an "error[", else 0.
#   kiln lint --dump=ast NAME.img            (only when NAME.ast exists)
#     stdout must equal NAME.ast, with the same exit status.
# KILN_UPDATE_GOLDEN=1 rewrites NAME.diag (kept only when there is output) and any existing
# NAME.ast instead, and shows the diff. To start an AST golden, create an empty NAME.ast.
# KILN is left unquoted, so "valgrind -q build/kiln" works. A crash always fails.
set -u
LC_ALL=C
export LC_ALL
unset NO_COLOR CLICOLOR_FORCE || true

if [ $# -ne 2 ]; then
	echo "usage: golden.sh KILN FILE.img" >&2
	exit 2
fi
kiln=$1
dir=$(dirname "$2")
img=$(basename "$2")
name=${img%.img}
update=${KILN_UPDATE_GOLDEN:-0}

cd "$dir" || exit 1
tmp=$(mktemp -d "${TMPDIR:-/tmp}/kiln-golden.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT

status=0
fail()
{
	echo "golden $dir/$img: $*" >&2
	status=1
}

# crashed RC WHAT: a signal or a timeout is a failure in every mode.
crashed()
{
	if [ "$1" -eq 124 ]; then
		fail "$2 timed out"
		return 0
	fi
	if [ "$1" -ge 128 ]; then
		fail "$2 crashed: killed by signal $(($1 - 128)) (status $1)"
		sed -n '1,40p' "$tmp/err" >&2
		return 0
	fi
	return 1
}

# compare EXPECTED ACTUAL WHAT: unified diff on mismatch; in update mode, rewrite.
compare()
{
	if [ "$update" = 1 ]; then
		if ! cmp -s "$1" "$2"; then
			diff -u --label "$dir/$1 (old)" --label "$dir/$1 (new)" "$1" "$2" >&2
			cp "$2" "$1"
			echo "golden $dir/$img: rewrote $1" >&2
		fi
		return 0
	fi
	if ! diff -u --label "$dir/$1 (expected)" --label "$3 (actual)" "$1" "$2" >"$tmp/diff"; then
		fail "$3 differs from $1:"
		cat "$tmp/diff" >&2
	fi
}

tmo=${KILN_GOLDEN_TIMEOUT:-60}

# 1. diagnostics
rc=0
timeout -k 5 "$tmo" $kiln lint --diagnostics=text --color=never "$img" \
	>"$tmp/out" 2>"$tmp/err" </dev/null || rc=$?
crashed "$rc" "kiln lint" && exit 1

if [ "$update" = 1 ]; then
	if [ -s "$tmp/err" ]; then
		[ -f "$name.diag" ] || : >"$name.diag"
		compare "$name.diag" "$tmp/err" "stderr"
	elif [ -f "$name.diag" ]; then
		echo "golden $dir/$img: removed $name.diag (now lints clean)" >&2
		rm -f "$name.diag"
	fi
elif [ -f "$name.diag" ]; then
	compare "$name.diag" "$tmp/err" "stderr of kiln lint"
elif [ -s "$tmp/err" ]; then
	fail "expected no diagnostics (there is no $name.diag), got:"
	cat "$tmp/err" >&2
fi

want=0
if [ -f "$name.diag" ] && grep -q 'error\[' "$name.diag"; then
	want=1
fi
[ "$rc" -eq "$want" ] || fail "kiln lint exited $rc, expected $want"
if [ -s "$tmp/out" ]; then
	fail "kiln lint --diagnostics=text wrote to stdout:"
	sed -n '1,20p' "$tmp/out" >&2
fi

# 2. AST dump
if [ -f "$name.ast" ]; then
	rc=0
	timeout -k 5 "$tmo" $kiln lint --dump=ast --color=never "$img" \
		>"$tmp/ast" 2>"$tmp/err" </dev/null || rc=$?
	crashed "$rc" "kiln lint --dump=ast" && exit 1
	[ "$rc" -eq "$want" ] || fail "kiln lint --dump=ast exited $rc, expected $want"
	compare "$name.ast" "$tmp/ast" "stdout of kiln lint --dump=ast"
fi

exit $status
