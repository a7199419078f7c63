#!/bin/sh
# --color=always|never|auto; auto (the default) never colours a pipe or a file.
. "$(dirname "$0")/../lib/test-lib.sh"

printf 'let a = = 1\n' >bad.img
esc=$(printf '\033')

run_kiln lint --color=always bad.img
expect_rc 1
grep -q "$esc\[" err || fail "--color=always printed no colour"

run_kiln lint --color=never bad.img
expect_rc 1
grep -q "$esc" err && fail "--color=never printed an escape sequence"

run_kiln lint bad.img
expect_rc 1
grep -q "$esc" err && fail "the default (auto) coloured a file"

run_kiln lint --color=auto bad.img
grep -q "$esc" err && fail "--color=auto coloured a file"

# Short and JSON forms never carry colour codes in their text.
run_kiln lint --color=always --diagnostics=json bad.img
grep -q "$esc" out && fail "JSON output carries escape sequences"
need jq
jq -e . out >/dev/null || fail "JSON output does not parse with --color=always"

# NO_COLOR: honoured by auto (and never overridden silently into garbage).
NO_COLOR=1
export NO_COLOR
run_kiln lint --color=auto bad.img
grep -q "$esc" err && fail "--color=auto ignored NO_COLOR"
unset NO_COLOR
exit 0
