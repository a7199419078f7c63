#!/bin/sh
# --diagnostics=short: one line per diagnostic, "file:line:col: severity: message [CODE]".
. "$(dirname "$0")/../lib/test-lib.sh"

# Three independent errors: 1:9 (invalid octal digit), 2:14 (bad escape), 4:9 (a second '=').
printf 'let a = 09\nlet b = "bad \\q"\nlet c = "ok"\nlet d = = 1\n' >bad.img
echo 'image u from scratch() { description = "${a}${b}${c}" }' >>bad.img
: >empty.img
run_kiln lint --diagnostics=short bad.img empty.img
expect_rc 1
expect_empty out
n=0
while IFS= read -r line; do
	case $line in
	"kiln: "*) continue ;;   # the summary line
	esac
	n=$((n + 1))
	printf '%s\n' "$line" |
		grep -Eq '^[^:]+:[0-9]+:[0-9]+: (error|warning): .+ \[[EW][0-9]{4}\]$' ||
		fail "line $n is not in the short form: $line"
done <err
[ "$n" -ge 3 ] || fail "expected at least 3 short lines, got $n"
expect_match err '^bad\.img:1:9: error: .* \[E[0-9]{4}\]$' "no short error at bad.img:1:9"
expect_count err '^bad\.img:' 3 "expected exactly 3 short diagnostics for bad.img"
expect_match err '^empty\.img:[0-9]+:[0-9]+: warning: .* \[W[0-9]{4}\]$' "no short warning"
expect_no_match err "$RE_CARET" "the short form printed a caret line"
expect_no_match err '^ +[0-9]* \|' "the short form printed a source line"

# Same number of diagnostics as the text form.
nshort=$(count_matches err '^[^:]+:[0-9]+:[0-9]+: (error|warning): ')
run_kiln lint --color=never bad.img empty.img
ntext=$(count_matches err '^[^ :][^:]*(:[0-9]+:[0-9]+)?: (error|warning)\[')
[ "$nshort" -eq "$ntext" ] || fail "short gives $nshort diagnostics, text $ntext"
