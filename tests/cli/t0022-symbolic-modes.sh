#!/bin/sh
# Symbolic file modes: an absolute one (every class set with '=') lints and compiles to the
# int the plan holds for every mode; a relative one ('+', '-', 'X') or one that leaves a
# class unset is refused by lint, at its file:line:col, with what to write instead. A param
# of type mode is usable as a mode, and -var sets it in the same forms.
. "$(dirname "$0")/../lib/test-lib.sh"
need jq

cat >ok.img <<'IMG'
image i from scratch() {
  stage s {
    file "/a" { state = touch, mode = "u=rw,go=r" }
    file "/b" { state = directory, mode = "a=rx,u=rwx" }
    file "/c" { state = touch, mode = "0640" }
    file "/d" { state = touch, mode = 0600 }
  }
}
IMG
run_kiln lint ok.img
expect_rc 0
expect_empty err
run_kiln compile ok.img -o -
expect_rc 0
modes=$(jq -c '[.images[0].stages[0].tasks[].args.mode]' out)
[ "$modes" = "[420,493,416,384]" ] || fail "the plan's modes are $modes, not [420,493,416,384]"

for bad in 'u+x' 'a-w' 'u=rwX,go=rX' 'g=u,u=rw,o=' 'u=rw' '=rw'; do
	cat >bad.img <<IMG
image i from scratch() {
  stage s {
    file "/a" { state = touch, mode = "$bad" }
  }
}
IMG
	run_kiln lint --color=never bad.img
	expect_rc 1
	re=$(printf '%s' "$bad" | sed 's/+/\\+/g')
	expect_match err "^bad\\.img:3:39: error\\[E3005\\]: argument 'mode' '$re' is not a file mode" \
		"lint did not refuse mode '$bad' at its position"
	expect_match err 'help: .*(absolute form such as u=rwx,go=rx|each of u, g and o|whom each clause)' \
		"no advice for mode '$bad'"
done

# a mode param set from outside reads the same way: -var, KILN_VAR_
cat >param.img <<'IMG'
param m: mode = 0600
image i from scratch() {
  stage s {
    file "/a" { state = touch, mode = m }
  }
}
IMG
# a param of type mode goes where a mode goes
run_kiln compile param.img -o -
expect_rc 0
[ "$(jq '.images[0].stages[0].tasks[0].args.mode' out)" = 384 ] || fail "the default 0600"
run_kiln compile param.img -o - -var 'm=u=rw,go=r'
expect_rc 0
[ "$(jq '.images[0].stages[0].tasks[0].args.mode' out)" = 420 ] ||
	fail "-var m=u=rw,go=r gave mode $(jq '.images[0].stages[0].tasks[0].args.mode' out)"
run_kiln compile param.img -o - -var 'm=0750'
expect_rc 0
[ "$(jq '.images[0].stages[0].tasks[0].args.mode' out)" = 488 ] || fail "-var m=0750"
run_kiln compile param.img -o - -var 'm=u+x'
expect_rc 1
expect_match err 'm' "no error for -var m=u+x"
