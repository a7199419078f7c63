#!/bin/sh
# Every bundled example lints clean (warnings allowed).
. "$(dirname "$0")/../lib/test-lib.sh"

n=0
for f in "$TOP"/examples/*.img "$TOP"/examples/*/*.img; do
	[ -f "$f" ] || continue
	n=$((n + 1))
	run_kiln_in "$(dirname "$f")" lint --color=never "$(basename "$f")"
	[ "$rc" -eq 0 ] || fail "examples/${f#"$TOP"/examples/} does not lint clean (exit $rc)"
	expect_no_match err 'error\[' "examples/${f#"$TOP"/examples/}: error"
done
[ "$n" -gt 0 ] || skip "no examples"
