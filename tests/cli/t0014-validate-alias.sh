#!/bin/sh
# kiln validate is an alias of kiln lint: same output, same exit status.
. "$(dirname "$0")/../lib/test-lib.sh"

echo 'image a from scratch() {}' >ok.img
printf 'image a from scratch() {}\nlet b = = 2\n' >bad.img
: >empty.img

for f in ok.img bad.img empty.img; do
	for mode in text short json; do
		run_kiln lint --diagnostics=$mode --color=never $f
		lint_rc=$rc
		cp out lint.out
		cp err lint.err
		run_kiln validate --diagnostics=$mode --color=never $f
		[ "$rc" -eq "$lint_rc" ] || fail "$f ($mode): validate exited $rc, lint $lint_rc"
		cmp -s out lint.out || fail "$f ($mode): stdout of validate differs from lint"
		cmp -s err lint.err || fail "$f ($mode): stderr of validate differs from lint"
	done
done

# And it really checks: the bad file fails.
run_kiln validate bad.img
expect_rc 1
expect_match err '^bad\.img:2:[0-9]+: error\[E' "validate did not report the error"
run_kiln validate ok.img
expect_rc 0
expect_empty err
