#!/bin/sh
# kiln apply refuses a hand-edited plan before it does anything: the error names the
# JSON path of the fault, the exit status is not 0, and nothing is written (no output,
# nothing in the work or cache directory; the plan's first task, a local one, never runs).
. "$(dirname "$0")/../lib/test-lib.sh"
need jq

cp -r "$TOP/examples" ex
run_kiln_in ex compile --color=never -o plan.json pipeline.img
expect_rc 0
jq -e '.images[0].stages[0].tasks[0].module == "local" and
       .images[0].stages[0].tasks[1].module == "copy"' ex/plan.json >/dev/null ||
	fail "examples/pipeline.img no longer starts with a local and a copy task"

n=0
# bad EDIT ERE: apply the plan edited with the jq program EDIT; stderr must match ERE.
bad()
{
	n=$((n + 1))
	rm -rf ex/out work cache
	jq "$1" ex/plan.json >"ex/bad$n.json" || fail "jq '$1' failed"
	run_kiln apply -C ex --work-dir="$TMP/work" --cache-dir="$TMP/cache" --progress=plain \
		--color=never "ex/bad$n.json"
	[ "$rc" -ne 0 ] || fail "$1: kiln apply exited 0"
	expect_match err "$2" "$1: the error does not say /$2/"
	for d in ex/out work cache; do
		if [ -e "$d" ] && [ -n "$(ls -A "$d")" ]; then
			fail "$1: kiln apply wrote to $d"
		fi
	done
}

bad '.images[0].name = "../../x"' \
	"images\[0\]\.name: '\.\./\.\./x' is not a name"
bad '.images[0].outputs[0].path = "../../../tmp/x"' \
	"images\[0\]\.outputs\[0\]\.path: the path '\.\./\.\./\.\./tmp/x' leads out of the build"
bad '.images[0].stages = "nope"' \
	'images\[0\]\.stages: expected a list, got a string'
bad '.images[0].stages[0].tasks[1].args.src = "../../../etc/passwd"' \
	"images\[0\]\.stages\[0\]\.tasks\[1\]\.args\.src: the path '\.\./\.\./\.\./etc/passwd' leads out"
bad '.images[0].stages[0].tasks[1].args.src = "files/../../x"' \
	"tasks\[1\]\.args\.src: the path 'files/\.\./\.\./x' is not in normal form"
bad '.format_version = 99' \
	'format_version 99.*compile it again'
bad '.images[0].stages[0].tasks[0].module = "rm_rf"' \
	"images\[0\]\.stages\[0\]\.tasks\[0\]\.module: no module 'rm_rf'"
bad '.images[0].stages[0].tasks[1].args.bogus = true' \
	"tasks\[1\]\.args\.bogus: module 'copy' has no argument 'bogus'"
bad '.images[0].stages[0].tasks[1].args.dest = 3' \
	'tasks\[1\]\.args\.dest: expected string, got an int'
bad '.images[0].stages[0].tasks[1].args.mode = 70000' \
	'tasks\[1\]\.args\.mode: expected mode, got an int'
bad '.images[0].outputs[0].type = "zip"' \
	"images\[0\]\.outputs\[0\]\.type: no output 'zip'"
bad '.images[0].stages[0].tasks[0].when = {"$expr": {"op": ["<<", {"const": 1}, {"const": 2}]}}' \
	'tasks\[0\]\.when\.\$expr\.op: not an operator'

