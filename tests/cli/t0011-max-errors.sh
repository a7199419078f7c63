#!/bin/sh
# --max-errors N caps the number of errors (default 20, 0 = unlimited).
. "$(dirname "$0")/../lib/test-lib.sh"

# 30 broken tasks, one error each, in one stage.
{
	echo 'image i from scratch() {'
	echo '  stage s {'
	i=1
	while [ $i -le 30 ]; do
		echo "    command \"task $i\" { cmd = = \"x\" }"
		i=$((i + 1))
	done
	echo '  }'
	echo '}'
} >many.img

errors()
{
	count_matches err "$RE_TEXT_ERROR"
}

run_kiln lint --color=never --max-errors 2 many.img
expect_rc 1
[ "$(errors)" -eq 2 ] || fail "--max-errors 2 printed $(errors) errors"
expect_match err '^many\.img:3:[0-9]+: error\[E' "the first error is not the first broken task"
expect_match err '^many\.img:4:[0-9]+: error\[E' "the second error is not the second broken task"

run_kiln lint --color=never --max-errors=2 many.img
expect_rc 1
[ "$(errors)" -eq 2 ] || fail "--max-errors=2 printed $(errors) errors"

run_kiln lint --color=never --max-errors 1 many.img
expect_rc 1
[ "$(errors)" -eq 1 ] || fail "--max-errors 1 printed $(errors) errors"

run_kiln lint --color=never many.img
expect_rc 1
[ "$(errors)" -eq 20 ] || fail "the default cap should be 20 errors, got $(errors)"

run_kiln lint --color=never --max-errors 0 many.img
expect_rc 1
[ "$(errors)" -eq 30 ] || fail "--max-errors 0 (unlimited) printed $(errors) of 30 errors"

run_kiln lint --color=never --max-errors 100 many.img
expect_rc 1
[ "$(errors)" -eq 30 ] || fail "--max-errors 100 printed $(errors) of 30 errors"

# The cap applies to JSON output too.
run_kiln lint --diagnostics=json --max-errors 3 many.img
expect_rc 1
[ "$(grep -c '"severity": *"error"' out)" -eq 3 ] || fail "--max-errors 3 in JSON mode"

# Bad values are usage errors.
for v in -1 abc 2x ''; do
	run_kiln lint --max-errors "$v" many.img
	expect_rc 2
	expect_match err 'max-errors' "--max-errors '$v': the usage error does not name the option"
done
