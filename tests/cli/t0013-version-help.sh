#!/bin/sh
# kiln --version, kiln help, kiln help lint, kiln lint --help.
. "$(dirname "$0")/../lib/test-lib.sh"

run_kiln --version
expect_rc 0
expect_match out '^kiln [0-9]+\.[0-9]+\.[0-9]+' "--version does not print 'kiln X.Y.Z'"
[ "$(wc -l <out)" -le 3 ] || fail "--version printed more than 3 lines"
expect_empty err

run_kiln help
expect_rc 0
expect_match out 'lint' "kiln help does not list the lint command"
expect_match out 'validate' "kiln help does not list validate"
expect_empty err

run_kiln help lint
expect_rc 0
for opt in --diagnostics --max-errors --dump --color; do
	expect_match out "$opt" "kiln help lint does not document $opt"
done
cp out help-lint

run_kiln lint --help
expect_rc 0
cmp -s out help-lint || fail "kiln lint --help differs from kiln help lint"

run_kiln help validate
expect_rc 0
expect_match out '--max-errors' "kiln help validate does not document the lint options"

run_kiln help no-such-command
expect_rc 2
expect_match err 'no-such-command' "help for an unknown command does not name it"
