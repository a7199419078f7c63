#!/bin/sh
# tests/runtime/t1110-mod-local.sh: local runs on the build machine, in the .img file's
# directory, with creates and removes relative to it.
. "$(dirname "$0")/../lib/test-lib.sh"
. "$TOP/tests/runtime/lib-mod.sh"
make_rootfs "$ROOT"
mkdir proj
mod --local-root "$TMP/proj" local '{"cmd":"pwd > where; echo $X > x","creates":"where","env":{"X":"1"}}'
expect_status changed
[ "$(cat proj/where)" = "$TMP/proj" ] || fail "ran in $(cat proj/where 2>/dev/null)"
[ "$(cat proj/x)" = 1 ] || fail "env"
[ ! -e "$ROOT/where" ] || fail "ran in the target"
mod --local-root "$TMP/proj" local '{"cmd":"echo again > where","creates":"where"}'
expect_status ok
mod --local-root "$TMP/proj" local '{"cmd":"exit 4"}'
expect_status failed
[ "$(res_field exit_status)" = 4 ] || fail "status"
exit 0
