#!/bin/sh
# tests/runtime/t6061-apply-failure-path.sh: the FILE:LINE:COL of a task that fails at apply
# time names the file as the command line did, as compile-time diagnostics do: run from
# another directory, `kiln apply build/fail.img` reports build/fail.img:3:5, so an editor
# or a terminal can open it from where kiln ran.
. "$(dirname "$0")/../lib/test-lib.sh"
. "$TOP/tests/runtime/lib-apply.sh"

mkdir build
cat >build/fail.img <<'EOF'
image broken from busybox() {
  stage s {
    command "false" {}
  }
  handler never { command "true" {} }
}
EOF
kapply build/fail.img
expect_rc 1
expect_match err '^build/fail\.img:5:11: warning\[W2002\]' "the compile-time warning is not there"
expect_match err '^build/fail\.img:3:5: error\[E5001\]: task command false failed'
say "ok: apply-time errors name the file as it was given"
