#!/bin/sh
# The bundled examples are in kiln fmt's layout: kiln fmt --check examples/ passes.
. "$(dirname "$0")/../lib/test-lib.sh"

run_kiln fmt --check "$TOP/examples"
[ "$rc" -eq 0 ] || fail "kiln fmt --check examples/ (exit $rc) wants to change: $(cat out)"
[ ! -s out ] || fail "kiln fmt --check examples/ named files: $(cat out)"
exit 0
