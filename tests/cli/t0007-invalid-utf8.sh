#!/bin/sh
# Invalid UTF-8 in a string and in a comment: a clear error at the exact line:col.
. "$(dirname "$0")/../lib/test-lib.sh"

# Line 2, column 13: the byte 0xE9 after "let s = "caf.
printf 'let a = 1\nlet s = "caf\351"\nimage u from scratch() { description = "${a}${s}" }\n' >str.img
run_kiln lint str.img
expect_rc 1
expect_match err '^str\.img:2:13: error\[E[0-9]{4}\]: .*(UTF-8|utf-8|utf8)' \
	"invalid UTF-8 in a string not reported at 2:13"
expect_match err "$RE_CARET" "no caret line"

# Line 3, column 6 in a comment; the valid text before it has multi-byte characters,
# so the column counts code points: "# é caf" is 7 code points -> column 8.
printf 'let a = 1\nlet b = 2\n# \303\251 caf\351\nlet c = 3\nimage u from scratch() { description = "${a}${b}${c}" }\n' \
	>comment.img
run_kiln lint comment.img
expect_rc 1
expect_match err '^comment\.img:3:8: error\[E[0-9]{4}\]: .*(UTF-8|utf-8|utf8)' \
	"invalid UTF-8 in a comment not reported at 3:8"
expect_count err ': error\[' 1 "one bad byte in a comment should give exactly one error"

# The JSON form carries the byte offset (0-based): 10 + 10 + 8 bytes ("# ", é is 2, " caf").
run_kiln lint --diagnostics=json comment.img
expect_rc 1
need jq
line=$(grep '"severity":"error"' out | head -n 1)
[ "$(printf '%s' "$line" | jq -r '.start.offset')" = 28 ] ||
	fail "JSON start.offset is not the byte offset 28: $line"
[ "$(printf '%s' "$line" | jq -r '.start.column')" = 8 ] ||
	fail "JSON start.column is not 8: $line"
