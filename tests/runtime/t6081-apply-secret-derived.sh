#!/bin/sh
# tests/runtime/t6081-apply-secret-derived.sh: a value computed from a secret (upper(),
# lower(), a format) is a secret too: the plan keeps it as an expression, and apply must
# not print it either, in the task's name, its "ran:" message or the JSON events.
. "$(dirname "$0")/../lib/test-lib.sh"
. "$TOP/tests/runtime/lib-apply.sh"

KILN_VAR_pw='S3cr3t-Zebra-42'
export KILN_VAR_pw
mkdir build
cat >build/derived.img <<'EOF'
param pw: secret
image d from busybox() {
  stage s {
    shell "echo ${upper(pw)} > /upper" {}
    shell "lower" { cmd = "echo ${lower(pw)} > /lower" }
    command "touch /${format("%s-file", pw)}" {}
  }
}
EOF
run_kiln compile build/derived.img -o plan.json
expect_rc 0
grep -qi 'zebra' plan.json && fail "the plan holds a value computed from the secret"
kapply build/derived.img
expect_rc 0
expect_no_match err '[Zz][Ee][Bb][Rr][Aa]'
kapply_json --cache-dir="$TMP/cache2" build/derived.img
expect_rc 0
expect_no_match out '[Zz][Ee][Bb][Rr][Aa]'
say "ok: values computed from a secret are not printed"
