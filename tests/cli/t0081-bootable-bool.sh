#!/bin/sh
# tests/cli/t0081-bootable-bool.sh: bootable, of output disk and output vagrant, takes the
# bools as users write them (bootable = true, bootable = false) as well as auto, true and
# false as words or strings:
#   - kiln lint and kiln compile accept each, with no diagnostic; the plan holds a bool as
#     a JSON bool and a word as its string; kiln reads that plan back (kiln graph);
#   - a value of another type (an int) is E3001 at its file:line:col, naming both types;
#     a string that is none of the words is E3004 with the words;
#   - a hand-edited plan with another value is refused with its JSON path.
. "$(dirname "$0")/../lib/test-lib.sh"
need jq

# (a shell task may install a kernel: lint cannot tell that the disk will not boot, E4007)
cat >ok.img <<'EOF2'
image box from busybox() {
  stage s { shell "kernel" { cmd = "true" } }
  output disk "out/a.raw" { bootable = true }
  output disk "out/b.raw" { bootable = false }
  output disk "out/c.raw" { bootable = auto }
  output disk "out/d.raw" { bootable = "false" }
  output vagrant "out/e.box" { bootable = true }
  output vagrant "out/f.box" { bootable = false }
}
EOF2
run_kiln lint --color=never ok.img
expect_rc 0
expect_empty err
run_kiln compile --color=never -o plan.json ok.img
expect_rc 0
expect_empty err
[ "$(jq -c '[.images[0].outputs[].args.bootable]' plan.json)" = '[true,false,"auto","false",true,false]' ] ||
	fail "the plan's bootable values: $(jq -c '[.images[0].outputs[].args.bootable]' plan.json)"
run_kiln graph plan.json
expect_rc 0
expect_nonempty out

cat >bad.img <<'EOF2'
image box from busybox() {
  stage s { file "/etc/motd" { content = "hi\n" } }
  output disk "out/a.raw" { bootable = 1 }
  output vagrant "out/b.box" { bootable = "ture" }
}
EOF2
run_kiln lint --color=never --diagnostics=text bad.img
expect_rc 1
expect_match err "^bad\\.img:3:40: error\\[E3001\\]: attribute 'bootable' expects enum\\(auto, true, false\\) or bool, found int"
expect_match err "^bad\\.img:4:43: error\\[E3004\\]: attribute 'bootable' must be one of enum\\(auto, true, false\\), not 'ture'"

jq '.images[0].outputs[0].args.bootable = 1' plan.json >bad1.json
run_kiln graph bad1.json
[ "$rc" -ne 0 ] || fail "a plan with bootable = 1 was read"
expect_match err 'images\[0\]\.outputs\[0\]\.args\.bootable: expected enum\(auto, true, false\)\|bool, got an int'
jq '.images[0].outputs[5].args.bootable = "yes"' plan.json >bad2.json
run_kiln graph bad2.json
[ "$rc" -ne 0 ] || fail "a plan with bootable = \"yes\" was read"
expect_match err 'images\[0\]\.outputs\[5\]\.args\.bootable: expected enum\(auto, true, false\)\|bool, got a string'
say "ok"
