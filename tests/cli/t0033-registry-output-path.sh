#!/bin/sh
# An output registry's label is a repository, not a file: in an imported file of another
# directory it stays as written, while an oci output's path there is joined with that
# directory. A secret password stays an expression in the plan.
. "$(dirname "$0")/../lib/test-lib.sh"

mkdir sub
cat >sub/x.img <<'IMG'
param pw: secret
image a from scratch() {
  output registry "127.0.0.1:5000/kiln/a" { insecure = true, username = "u", password = pw }
  output oci "o" {}
}
IMG
printf 'import "sub/x.img"\n' >main.img
KILN_VAR_pw=hunter2-secret run_kiln compile --color=never -o plan.json main.img
expect_rc 0
[ "$(jq -r '.images[0].outputs[0].path' plan.json)" = "127.0.0.1:5000/kiln/a" ] ||
	fail "registry path: $(jq -c '.images[0].outputs[0].path' plan.json)"
[ "$(jq -r '.images[0].outputs[1].path' plan.json)" = "sub/o" ] ||
	fail "oci path: $(jq -c '.images[0].outputs[1].path' plan.json)"
[ "$(jq -c '.images[0].outputs[0].args.password' plan.json)" = '{"$expr":{"secret":"pw"}}' ] ||
	fail "password: $(jq -c '.images[0].outputs[0].args.password' plan.json)"
expect_no_match plan.json hunter2
