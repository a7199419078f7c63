#!/bin/sh
# --diagnostics=json: one JSON object per line on stdout, each with the documented fields.
. "$(dirname "$0")/../lib/test-lib.sh"
need jq

# Three independent errors: 1:9 (invalid octal digit), 2:14 (bad escape), 4:9 (a second '=').
printf 'let a = 09\nlet b = "bad \\q"\nlet c = "ok"\nlet d = = 1\n' >bad.img
echo 'image u from scratch() { description = "${a}${b}${c}" }' >>bad.img
: >empty.img
run_kiln lint --diagnostics=json bad.img empty.img
expect_rc 1
expect_nonempty out
n=0
while IFS= read -r line; do
	n=$((n + 1))
	printf '%s' "$line" | jq -e '
		(.code | type == "string" and test("^[EW][0-9]{4}$")) and
		(.severity | IN("error", "warning", "note")) and
		(.message | type == "string" and length > 0) and
		(.file | type == "string") and
		(.start.line | type == "number" and . >= 1) and
		(.start.column | type == "number" and . >= 1) and
		(.start.offset | type == "number" and . >= 0) and
		(.end.line | type == "number") and
		(.end.column | type == "number") and
		(.end.offset | type == "number" and . >= 0)' >/dev/null ||
		fail "JSON line $n lacks a field or has a wrong type: $line"
done <out
[ "$n" -ge 3 ] || fail "expected at least 3 JSON lines, got $n"

# The same diagnostics as the text form: same codes, files and positions, same order.
jq -r '"\(.file):\(.start.line):\(.start.column): \(.severity)[\(.code)]"' out >json.keys
run_kiln lint --diagnostics=text --color=never bad.img empty.img
expect_rc 1
# (a diagnostic about a whole file prints no line:col in text; JSON still gives 1:1)
sed -n -e 's/^\([^ :][^:]*\): \([a-z]*\[[EW][0-9]*\]\):.*/\1:1:1: \2/p' \
	-e 's/^\([^ :][^:]*:[0-9]*:[0-9]*: [a-z]*\[[EW][0-9]*\]\):.*/\1/p' err >text.keys
cmp -s json.keys text.keys || {
	diff -u text.keys json.keys >&2 || true
	fail "JSON and text diagnostics differ"
}
grep -q '^empty\.img:[0-9]*:[0-9]*: warning\[W' json.keys ||
	fail "the empty file's warning is missing from the JSON output"
grep -q '^bad\.img:1:9: error\[E' json.keys || fail "no error at bad.img:1:9 (the 09)"
grep -q '^bad\.img:2:14: error\[E' json.keys || fail "no error at bad.img:2:14 (the \\q)"
grep -q '^bad\.img:4:9: error\[E' json.keys || fail "no error at bad.img:4:9 (the second =)"
[ "$(grep -c '^bad\.img' json.keys)" -eq 3 ] || fail "expected exactly 3 errors in bad.img"

# Offsets are 0-based bytes from the start of the file: "\\q" is at 11 + 13 = 24.
run_kiln lint --diagnostics=json bad.img
off=$(jq -r 'select(.start.line == 2) | .start.offset' out)
[ "$off" = 24 ] || fail "offset of '\\q' should be 24, got '$off'"
end=$(jq -r 'select(.start.line == 2) | .end.offset' out)
[ "$end" -gt 24 ] || fail "end offset of '\\q' should be past 24, got '$end'"

# JSON goes to stdout only.
run_kiln lint --diagnostics=json bad.img
grep -Eq "$RE_TEXT_ERROR" err && fail "text diagnostics on stderr in JSON mode"

# A clean file prints no JSON at all.
echo 'image ok from scratch() {}' >ok.img
run_kiln lint --diagnostics=json ok.img
expect_rc 0
expect_empty out
