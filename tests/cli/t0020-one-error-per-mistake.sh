#!/bin/sh
# One mistake gives one error: no cascade of follow-up errors after a lexical error, an
# unclosed bracket, a stray closer or a broken block header.
. "$(dirname "$0")/../lib/test-lib.sh"

failures=0

# one_error NAME POS_ERE TEXT: TEXT (printf format) must give exactly one error, at a
# line:col matching POS_ERE; and the items after it must still be read (exit 1, no crash).
one_error()
{
	printf "$3" >"$1.img"
	run_kiln lint --color=never "$1.img"
	n=$(count_matches err ': error\[')
	if [ "$rc" -ne 1 ] || [ "$n" -ne 1 ]; then
		say "$1: expected exactly 1 error, got $n (exit $rc):"
		grep ': error\[' err | sed 's/^/    /' >&2
		failures=$((failures + 1))
		return 0
	fi
	if ! grep -Eq "^$1\\.img:($2): error\\[" err; then
		say "$1: the error is not at $2:"
		grep ': error\[' err | sed 's/^/    /' >&2
		failures=$((failures + 1))
	fi
}

one_error unclosed-paren '2:1|1:9' 'let a = (1 + 2\nlet z = 3\n'
one_error unclosed-list '2:1|1:9' 'let b = [1, 2\nlet z = 3\n'
one_error unclosed-map '2:1|1:9' 'let c = { a = 1\nlet z = 3\n'
one_error unclosed-call '2:1|1:15' 'let d = format("%%d", 2\nlet z = 3\n'
one_error bad-char-as-value '1:9' 'let b = @\nlet c = 2\n'
one_error single-ampersand '1:11' 'let c = a & b\nlet z = 3\nlet a = true\nlet b = false\n'
one_error single-pipe '1:11' 'let d = a | b\nlet z = 3\nlet a = true\nlet b = false\n'
one_error heredoc-marker-text '1:9' 'let h = <<EOT text\nbody\nEOT\nlet b = 1\n'
one_error unclosed-interpolation '1:[0-9]+' 'let c = "${x"\nlet z = 3\nlet x = 1\n'
one_error stray-bracket-in-task '3:39' \
	'image i from scratch() {\n  stage s {\n    service "x" { name = "x", state = ] }\n  }\n}\n'
one_error bad-task-label '3:13' \
	'image i from scratch() {\n  stage s {\n    command 42 {}\n    command "ok" {}\n  }\n}\n'
one_error test-without-label '2:8' \
	'image i from scratch() {\n  test { command "x" {} }\n  stage s {}\n}\n'
one_error output-without-path '2:14' \
	'image i from scratch() {\n  output oci { tag = "x" }\n  stage s {}\n}\n'
one_error handler-without-name '3:11' \
	'image i from scratch() {\n  stage s {}\n  handler { service "x" { name = "x" } }\n}\n'

[ "$failures" -eq 0 ] || fail "$failures inputs with one mistake did not give exactly one error"
