#!/bin/sh
# --dump=tokens and --dump=ast print to stdout; diagnostics stay on stderr.
. "$(dirname "$0")/../lib/test-lib.sh"

cat >ok.img <<'IMG'
let port = 8080
image i from scratch() { stage s { command "echo ${port}" {} } }
IMG

run_kiln lint --dump=tokens ok.img
expect_rc 0
expect_nonempty out
expect_empty err
expect_match out '8080' "the token dump does not show the integer 8080"
expect_match out 'port' "the token dump does not show the identifier port"
[ "$(wc -l <out)" -ge 10 ] || fail "the token dump has fewer than 10 lines"

run_kiln lint --dump=ast ok.img
expect_rc 0
expect_nonempty out
expect_empty err
expect_match out 'port' "the AST dump does not show the let"
expect_match out 'scratch' "the AST dump does not show the base call"

# A broken file: the partial dump on stdout, the error on stderr, exit 1.
printf 'image a from scratch() {}\nlet b = = 2\nimage c from a {}\n' >bad.img
run_kiln lint --dump=ast --color=never bad.img
expect_rc 1
expect_match err '^bad\.img:2:[0-9]+: error\[E' "no error for the broken file"
expect_no_match out 'error\[' "a diagnostic leaked to stdout"
