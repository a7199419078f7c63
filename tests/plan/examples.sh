#!/bin/sh
# examples.sh KILN TEST_PLAN EXAMPLES: compile every examples/*.img and check that
# plan_validate accepts each plan (test_plan FILE...).
set -eu
kiln=$1
test_plan=$2
examples=$3
tmp=$(mktemp -d "${TMPDIR:-/tmp}/kiln-plan-examples.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
# the values variables.img asks for
CLIENT_ID=example-client
KILN_VAR_api_token=example-token
export CLIENT_ID KILN_VAR_api_token
set --
for f in "$examples"/*.img; do
	[ -f "$f" ] || continue
	name=$(basename "$f" .img)
	if ! (cd "$examples" && $kiln compile --color=never -o "$tmp/$name.plan.json" "$name.img"); then
		echo "examples.sh: examples/$name.img does not compile" >&2
		exit 1
	fi
	set -- "$@" "$tmp/$name.plan.json"
done
[ $# -gt 0 ] || exit 77
exec "$test_plan" "$@"
