#!/bin/sh
# 100,000 levels of nesting: a clear error (or a clean lint), never a crash or a hang.
. "$(dirname "$0")/../lib/test-lib.sh"

depth=100000
# repeat STR N: STR written N times, no newline.
repeat()
{
	awk -v s="$1" -v n="$2" 'BEGIN { for (i = 0; i < n; i++) printf "%s", s }'
}

# check FILE: exit 1 with an error located in FILE, a caret line, and few errors.
check_error()
{
	run_kiln lint "$1"
	expect_rc 1
	expect_match err "^$1:[0-9]+:[0-9]+: error\\[E[0-9]{4}\\]: " \
		"$1: no located error for deep nesting"
	n=$(count_matches err ': error\[')
	[ "$n" -le 3 ] || fail "$1: deep nesting gave $n errors, expected one"
	# The caret line must not echo the whole 100,000-character line.
	len=$(awk '{ if (length($0) > m) m = length($0) } END { print m + 0 }' err)
	[ "$len" -le 1000 ] || fail "$1: a diagnostic line is $len characters long"
}

{ printf 'let x = '; repeat '[' $depth; repeat ']' $depth; echo; } >brackets.img
check_error brackets.img

{ printf 'let x = '; repeat '(' $depth; printf 1; repeat ')' $depth; echo; } >parens.img
check_error parens.img

{ printf 'let x = '; repeat '{a=' $depth; printf 1; repeat '}' $depth; echo; } >maps.img
check_error maps.img

{ printf 'let x = '; repeat '"${' $depth; printf 1; repeat '}"' $depth; echo; } >interp.img
check_error interp.img

# Unclosed: the error must come quickly, not after exhausting memory.
{ printf 'let x = '; repeat '[' $depth; echo; } >unclosed.img
check_error unclosed.img

# Long chains need no nesting limit, but may have one; either way, no crash.
{ printf 'let x = '; repeat '!' $depth; echo true; } >unary.img
{ printf 'let x = '; repeat '-' $depth; echo 1; } >negation.img
{ printf 'let x = 1'; repeat ' + 1' $depth; echo; } >sum.img
{ printf 'let x = a'; repeat '.b' $depth; echo; } >member.img
{ printf 'let x = f'; repeat '()' $depth; echo; } >calls.img
{ printf 'let x = 1'; repeat ' ? 1 : 1' $depth; echo; } >ternary.img
for f in unary negation sum member calls ternary; do
	run_kiln lint $f.img
	case $rc in
	0) expect_no_match err 'error\[' ;;
	1)
		expect_match err "^$f\\.img:1:[0-9]+: error\\[E" "$f chain: error without location"
		expect_count err ': error\[' 1 "$f chain: more than one error"
		;;
	*) fail "$f chain: exit status $rc" ;;
	esac
done

# A long but shallow file is fine: 100,000 list elements.
{ printf 'let x = ['; repeat '1, ' $depth; echo ']'; } >wide.img
echo 'image u from scratch() { description = "${length(x)}" }' >>wide.img
run_kiln lint wide.img
expect_rc 0
expect_empty err
