#!/bin/sh
# An empty file is a warning, not an error: exit 0.
. "$(dirname "$0")/../lib/test-lib.sh"

: >empty.img
run_kiln lint empty.img
expect_rc 0
expect_match err '^empty\.img(:1:1)?: warning\[W[0-9]{4}\]: ' "no warning naming empty.img"
expect_no_match err 'error\[' "an empty file gave an error"
expect_match err '^kiln: 0 errors, 1 warning' "summary line missing or wrong"

run_kiln lint --diagnostics=short empty.img
expect_rc 0
expect_match err '^empty\.img:[0-9]+:[0-9]+: warning: ' "short warning missing"
