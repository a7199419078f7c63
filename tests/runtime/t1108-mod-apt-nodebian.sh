#!/bin/sh
# tests/runtime/t1108-mod-apt-nodebian.sh: apt on a target without apt-get fails clearly,
# and validates its arguments before running anything.
. "$(dirname "$0")/../lib/test-lib.sh"
. "$TOP/tests/runtime/lib-mod.sh"
make_rootfs "$ROOT"
mod apt '{"name":"curl"}'
expect_status failed
expect_match res 'no apt-get'
mod --check apt '{"name":["curl"],"update_cache":true}'
expect_status failed
exit 0
