#!/bin/sh
# Several files in one run: each is checked, each diagnostic names its file, one summary.
. "$(dirname "$0")/../lib/test-lib.sh"

mkdir sub
echo 'image a from scratch() {}' >a.img
printf 'let b = = 1\n' >sub/b.img
printf 'let c = 09\nimage u from scratch() { description = "${c}" }\n' >c.img

run_kiln lint --color=never a.img sub/b.img c.img
expect_rc 1
expect_match err '^sub/b\.img:1:[0-9]+: error\[E' "no error for sub/b.img, or a rewritten path"
expect_match err '^c\.img:1:9: error\[E' "no error for c.img"
expect_no_match err '^a\.img:' "a clean file got a diagnostic"
expect_count err '^kiln: [0-9]+ errors?, [0-9]+ warnings?$' 1 "expected one summary line"
expect_match err '^kiln: 2 errors, 0 warnings$' "wrong summary for 2 errors"

# All clean: exit 0, nothing printed.
run_kiln lint a.img a.img
expect_rc 0
expect_empty err
expect_empty out
