#!/bin/sh
# Independent mistakes on consecutive lines are all reported: the parser's recovery must
# not swallow an error that follows another one closely.
. "$(dirname "$0")/../lib/test-lib.sh"

cat >next.img <<'IMG'
let in = 1
param image: string = "x"
role for() {}
let x
let z = 3
hosts { "y.example.com" }
IMG
run_kiln lint --color=never next.img
expect_rc 1
for pos in 1:5 2:7 3:6 5:1 6:7; do
	expect_match err "^next\\.img:$pos: error\\[E1001\\]: " "no error at next.img:$pos"
done
expect_count err ': error\[' 5 "expected 5 errors, got $(count_matches err ': error\[')"

# The same mistakes, one per block body: also 3 errors.
cat >bodies.img <<'IMG'
image i from scratch() {
  stage s {
    apt { name = "a", state = = 1 }
    apt { name = "b", state = ] }
    apt { name = "c", state = ) }
  }
}
IMG
run_kiln lint --color=never bodies.img
expect_rc 1
for line in 3 4 5; do
	expect_match err "^bodies\\.img:$line:[0-9]+: error\\[E1001\\]: " "no error on bodies.img line $line"
done
expect_count err ': error\[' 3 "expected 3 errors, got $(count_matches err ': error\[')"
