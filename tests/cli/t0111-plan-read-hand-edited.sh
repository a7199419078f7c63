#!/bin/sh
# kiln plan and kiln graph read a plan.json only when it passes plan_validate: a
# hand-edited one (an image name that is a number, an image that is not a map, ...) is
# refused with its JSON path instead of being shown (kiln graph used to crash on them).
. "$(dirname "$0")/../lib/test-lib.sh"
need jq

cp "$TOP/tests/compile/plan/example-web.plan.json" plan.json
for c in plan graph; do
	run_kiln "$c" --color=never plan.json
	expect_rc 0
done

n=0
bad()
{
	n=$((n + 1))
	jq "$1" plan.json >"bad$n.json" || fail "jq '$1' failed"
	for c in plan graph; do
		run_kiln "$c" --color=never "bad$n.json"
		[ "$rc" -eq 1 ] || fail "kiln $c: $1: expected exit status 1, got $rc"
		expect_match err "^kiln: bad$n\.json: plan: $2" "kiln $c: $1: the error does not say /$2/"
		expect_empty out
	done
}

bad '.images[0].name = 5' 'images\[0\]\.name: expected a name, got an int'
bad '.images = [1]' 'images\[0\]: expected a map, got an int'
bad '.images[1].from = 3' 'images\[1\]\.from: expected a map, got an int'
bad '.groups = []' 'groups: expected a map, got a list'
bad '.images[0].stages[0].tasks[0].args = 7' 'images\[0\]\.stages\[0\]\.tasks\[0\]\.args: expected a map'
