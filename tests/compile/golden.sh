#!/bin/sh
# tests/compile/golden.sh KILN FILE: check one golden compile test.
#
# From FILE's directory, for FILE = NAME.img, there are two kinds of test.
#
# A lint test (no NAME.plan.json, no NAME.compile):
#   kiln lint --diagnostics=text --color=never NAME.img
#     stderr must equal NAME.diag (no NAME.diag: no output at all), stdout must be empty,
#     and the exit status must be 1 if NAME.diag holds an "error[", else 0.
#   kiln lint --dump=ast NAME.img            (only when NAME.ast exists)
#     stdout must equal NAME.ast, with the same exit status.
#
# A compile test (NAME.plan.json or NAME.compile exists; not both):
#   kiln compile --diagnostics=text --color=never -o - ARGS NAME.img
#     ARGS are the lines of NAME.args (one argument a line, as it is; empty lines and lines
#     starting with '#' are skipped), e.g. "-var" then "http_port=8080".
#     The environment has no KILN_VAR_* of the caller, plus the KEY=VALUE lines of NAME.env.
#     stdout must equal NAME.plan.json (NAME.compile: compile fails, stdout stays empty),
#     stderr must equal NAME.diag (no NAME.diag: no output at all), and the exit status
#     must be 1 if NAME.diag holds an "error[", else 0.
#   kiln lint NAME.img (same environment, no ARGS) must not crash, must write nothing to
#     stdout, and each diagnostic it reports (its "file:line:col: error[CODE]: ..." line)
#     must be among those of compile: compile checks everything lint checks.
#   With a plan: kiln plan and kiln graph (same ARGS) must succeed with some output, and
#     kiln graph NAME.plan.json must print the lines of kiln graph NAME.img (in any order:
#     a plan read back lists host groups by name, the build in source order).
#
# KILN_UPDATE_GOLDEN=1 rewrites NAME.diag (kept only when there is output), any existing
# NAME.ast and NAME.plan.json instead, and shows the diff. To start an AST or plan golden,
# create an empty NAME.ast or NAME.plan.json.
# KILN is left unquoted, so "valgrind -q build/kiln" works. A crash always fails.
set -u
LC_ALL=C
export LC_ALL
unset NO_COLOR CLICOLOR_FORCE || true
# Values of params come only from the test's own files.
for v in $(env | sed -n 's/^\(KILN_VAR_[A-Za-z0-9_]*\)=.*/\1/p'); do
	unset "$v"
done

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

# check_diag WHAT: stderr ($tmp/err) against NAME.diag; in update mode, rewrite it.
check_diag()
{
	if [ "$update" = 1 ]; then
		if [ -s "$tmp/err" ]; then
			[ -f "$name.diag" ] || : >"$name.diag"
			compare "$name.diag" "$tmp/err" "stderr"
		elif [ -f "$name.diag" ]; then
			echo "golden $dir/$img: removed $name.diag (now without diagnostics)" >&2
			rm -f "$name.diag"
		fi
	elif [ -f "$name.diag" ]; then
		compare "$name.diag" "$tmp/err" "stderr of $1"
	elif [ -s "$tmp/err" ]; then
		fail "expected no diagnostics from $1 (there is no $name.diag), got:"
		cat "$tmp/err" >&2
	fi
}

tmo=${KILN_GOLDEN_TIMEOUT:-60}

compile_test=0
if [ -f "$name.plan.json" ] || [ -f "$name.compile" ]; then
	compile_test=1
fi
if [ -f "$name.plan.json" ] && [ -f "$name.compile" ]; then
	fail "both $name.plan.json and $name.compile exist: keep one"
	exit 1
fi
if [ "$compile_test" = 0 ]; then
	for f in "$name.args" "$name.env"; do
		[ -f "$f" ] && fail "$f is read only by a compile test: add $name.plan.json or $name.compile"
	done
fi
if [ -f "$name.env" ]; then
	bad=$(grep -v -E '^(#.*|[A-Za-z_][A-Za-z0-9_]*=.*|)$' "$name.env" | sed -n 1p)
	[ -z "$bad" ] || fail "$name.env: not a KEY=VALUE line: $bad"
fi

# run OUT SUBCOMMAND [OPTIONS...]: kiln SUBCOMMAND OPTIONS [NAME.args] NAME.img, from the test's
# directory with NAME.env's variables, stdout to OUT, stderr to $tmp/err, status in $rc.
# The ARGS are added for every subcommand but lint.
run()
{
	_out=$1
	shift
	rc=0
	(
		if [ -f "$name.env" ]; then
			while IFS= read -r _l || [ -n "$_l" ]; do
				case $_l in '' | '#'*) continue ;; esac
				export "${_l%%=*}=${_l#*=}"
			done <"$name.env"
		fi
		if [ "$1" != lint ] && [ -f "$name.args" ]; then
			while IFS= read -r _a || [ -n "$_a" ]; do
				case $_a in '' | '#'*) continue ;; esac
				set -- "$@" "$_a"
			done <"$name.args"
		fi
		exec timeout -k 5 "$tmo" $kiln "$@" "$img"
	) >"$_out" 2>"$tmp/err" </dev/null || rc=$?
}

# expected_status: 1 if NAME.diag (after any update) holds an error, else 0
expected_status()
{
	want=0
	if [ -f "$name.diag" ] && grep -q 'error\[' "$name.diag"; then
		want=1
	fi
}

if [ "$compile_test" = 0 ]; then
	# 1. diagnostics
	run "$tmp/out" lint --diagnostics=text --color=never
	crashed "$rc" "kiln lint" && exit 1
	check_diag "kiln lint"
	expected_status
	[ "$rc" -eq "$want" ] || fail "kiln lint exited $rc, expected $want"
	if [ -s "$tmp/out" ]; then
		fail "kiln lint --diagnostics=text wrote to stdout:"
		sed -n '1,20p' "$tmp/out" >&2
	fi

	# 2. AST dump
	if [ -f "$name.ast" ]; then
		run "$tmp/ast" lint --dump=ast --color=never
		crashed "$rc" "kiln lint --dump=ast" && exit 1
		[ "$rc" -eq "$want" ] || fail "kiln lint --dump=ast exited $rc, expected $want"
		compare "$name.ast" "$tmp/ast" "stdout of kiln lint --dump=ast"
	fi
	exit $status
fi

# 1. compile: the plan on stdout, the diagnostics on stderr
run "$tmp/plan" compile --diagnostics=text --color=never -o -
crashed "$rc" "kiln compile" && exit 1
cp "$tmp/err" "$tmp/compile.err"
check_diag "kiln compile"
if [ -f "$name.plan.json" ]; then
	if [ "$update" = 1 ] && [ ! -s "$tmp/plan" ]; then
		fail "kiln compile wrote no plan (exit $rc): to keep a failing compile test," \
			"replace $name.plan.json by an empty $name.compile"
	else
		compare "$name.plan.json" "$tmp/plan" "the plan of kiln compile"
	fi
elif [ -s "$tmp/plan" ]; then
	fail "kiln compile wrote a plan, expected none ($name.compile; to keep the plan," \
		"replace $name.compile by an empty $name.plan.json and update):"
	sed -n '1,20p' "$tmp/plan" >&2
fi
expected_status
[ "$rc" -eq "$want" ] || fail "kiln compile exited $rc, expected $want"

# 2. lint finds nothing that compile does not
run "$tmp/out" lint --diagnostics=text --color=never
crashed "$rc" "kiln lint" && exit 1
if [ -s "$tmp/out" ]; then
	fail "kiln lint --diagnostics=text wrote to stdout:"
	sed -n '1,20p' "$tmp/out" >&2
fi
grep -E '^[^ ].*: (error|warning)\[[EW][0-9]{4}\]' "$tmp/err" >"$tmp/lint.heads" || true
if grep -q 'error\[' "$tmp/lint.heads"; then lint_want=1; else lint_want=0; fi
[ "$rc" -eq "$lint_want" ] || fail "kiln lint exited $rc, expected $lint_want"
if grep -Fxv -f "$tmp/compile.err" "$tmp/lint.heads" >"$tmp/extra"; then
	fail "kiln lint reports what kiln compile does not:"
	cat "$tmp/extra" >&2
fi

# 3. plan and graph of the same build; graph of the written plan
if [ -f "$name.plan.json" ] && [ -s "$name.plan.json" ] && [ "$want" = 0 ]; then
	# -refresh=false: the hosts of apply blocks are not reached (hosts.md; t1250 reaches them)
	run "$tmp/show" plan -refresh=false --color=never
	crashed "$rc" "kiln plan" && exit 1
	[ "$rc" -eq 0 ] || fail "kiln plan exited $rc, expected 0"
	[ -s "$tmp/show" ] || fail "kiln plan printed nothing"
	run "$tmp/graph" graph --color=never
	crashed "$rc" "kiln graph" && exit 1
	[ "$rc" -eq 0 ] || fail "kiln graph exited $rc, expected 0"
	grep -q '^digraph ' "$tmp/graph" || fail "kiln graph printed no digraph"
	rc=0
	timeout -k 5 "$tmo" $kiln graph "$name.plan.json" >"$tmp/graph2" 2>"$tmp/err" </dev/null || rc=$?
	crashed "$rc" "kiln graph $name.plan.json" && exit 1
	[ "$rc" -eq 0 ] || fail "kiln graph $name.plan.json exited $rc, expected 0"
	sort "$tmp/graph" >"$tmp/graph.sorted"
	sort "$tmp/graph2" >"$tmp/graph2.sorted"
	if ! cmp -s "$tmp/graph.sorted" "$tmp/graph2.sorted"; then
		fail "kiln graph of $name.plan.json differs from kiln graph $img (lines sorted):"
		diff -u "$tmp/graph.sorted" "$tmp/graph2.sorted" | sed -n '1,30p' >&2
	fi
fi

exit $status
