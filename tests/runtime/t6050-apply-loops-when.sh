#!/bin/sh
# tests/runtime/t6050-apply-loops-when.sh: a 'for' over a list of objects gives one task per
# element (ids IMAGE.STAGE.N[i] in the JSON events), over a map one per key (N[key]); a
# 'when' false at compile time removes the task (it never starts, and -var makes it
# come back); a 'when' on facts is decided at apply time: facts.os.family == "busybox"
# runs on a busybox image, "debian" is reported skipped; a 'when' on the loop variable
# and a fact skips some turns only.
. "$(dirname "$0")/../lib/test-lib.sh"
. "$TOP/tests/runtime/lib-apply.sh"
need umoci

mkdir build
cat >build/loops.img <<'EOF'
let users = [{ name = "ann", uid = 3001 }, { name = "ben", uid = 3002 }, { name = "cat", uid = 3003 }]
param extra: bool = false

image l from busybox() {
  stage loops {
    file "/srv" { state = directory }
    file "one file per user" {
      for u in users
      path = "/srv/${u.name}.txt"
      content = "${u.name}:${u.uid}\n"
    }
    file "one file per key" {
      for k, v in { ALPHA = "1", BETA = "2" }
      path = "/srv/env-${k}"
      content = "${v}\n"
    }
    file "/srv/extra" { content = "x\n", when extra }
    file "/srv/not-extra" { content = "x\n", when !extra }
    file "/srv/busybox-only" { content = "bb\n", when facts.os.family == "busybox" }
    file "/srv/debian-only" { content = "deb\n", when facts.os.family == "debian" }
    file "some turns" {
      for u in users
      when u.name != "ben" && facts.os.family == "busybox"
      path = "/srv/some-${u.name}"
      content = "${facts.os.family}\n"
    }
    group "one group per user" {
      for i, u in users
      name = u.name
      gid = 4000 + i
    }
  }
  output oci "out/l" { tag = "l:1" }
}
EOF

# the plan: the compile-time false task is not in it; the fact conditions are kept
run_kiln compile build/loops.img -o plan.json
expect_rc 0
jq -e '[.images[0].stages[0].tasks[].id] | (index("l.loops.3") == null) and (index("l.loops.4") != null)' \
	plan.json >/dev/null || fail "the plan's tasks: $(jq -c '[.images[0].stages[0].tasks[].id]' plan.json)"
jq -e '.images[0].stages[0].tasks[] | select(.id == "l.loops.6") | .when."$expr"' plan.json >/dev/null ||
	fail "the plan does not keep the fact condition of l.loops.6"

kapply_json build/loops.img
expect_rc 0
[ "$(jq -r 'select(.event == "apply_start") | .tasks' out)" -eq 14 ] ||
	fail "the plan has $(jq -r 'select(.event == "apply_start") | .tasks' out) tasks, not 14"
ran_tasks >ran.got
printf '%s\n' l.loops.0 'l.loops.1[0]' 'l.loops.1[1]' 'l.loops.1[2]' 'l.loops.2[ALPHA]' \
	'l.loops.2[BETA]' l.loops.4 l.loops.5 l.loops.6 'l.loops.7[0]' 'l.loops.7[2]' 'l.loops.8[0]' \
	'l.loops.8[1]' 'l.loops.8[2]' >ran.want
cmp -s ran.want ran.got || fail "the tasks that ran: $(tr '\n' ' ' <ran.got)"
for id in 'l.loops.1[0]' 'l.loops.1[1]' 'l.loops.1[2]' 'l.loops.2[ALPHA]' 'l.loops.2[BETA]' l.loops.4 \
	l.loops.5 'l.loops.7[0]' 'l.loops.7[2]' 'l.loops.8[1]'; do
	expect_status "$id" changed
done
expect_status l.loops.6 skipped
jq -r 'select(.event == "task_end" and .id == "l.loops.6") | .msg' out | grep -q 'when' ||
	fail "the skipped task does not say why"
[ -z "$(ran_tasks | grep -E '^l\.loops\.(3|7\[1\])$')" ] || fail "a task removed at compile time ran"
expect_recap l 0 13 0 1 false
jq -r 'select(.event == "task_end" and .id == "l.loops.1[1]") | .task' out | grep -q 'one file per user' ||
	fail "a loop's task is not named by its label"

unpack build/out/l l:1 bundle
R=bundle/rootfs/srv
[ "$(cat $R/ann.txt $R/ben.txt $R/cat.txt | tr '\n' ' ')" = "ann:3001 ben:3002 cat:3003 " ] ||
	fail "the loop's files: $(cat $R/*.txt | tr '\n' ' ')"
[ "$(cat $R/env-ALPHA $R/env-BETA | tr '\n' ' ')" = "1 2 " ] || fail "the map loop's files"
[ -e $R/not-extra ] && [ ! -e $R/extra ] || fail "when on a param"
[ -e $R/busybox-only ] && [ ! -e $R/debian-only ] || fail "when on facts"
[ "$(cat $R/some-ann)" = busybox ] && [ ! -e $R/some-ben ] && [ -e $R/some-cat ] ||
	fail "when on the loop variable and a fact"
expect_match bundle/rootfs/etc/group '^ann:x:4000:$'
expect_match bundle/rootfs/etc/group '^cat:x:4002:$'

# with -var extra=true, the task that was removed at compile time is there, the other gone
kapply_json -var extra=true build/loops.img
expect_rc 0
[ -n "$(ran_tasks | grep -x l.loops.3)" ] || fail "-var extra=true did not bring back l.loops.3"
[ -z "$(ran_tasks | grep -x l.loops.4)" ] || fail "l.loops.4 ran with extra=true"
expect_status l.loops.3 changed
say "ok: for unrolls per element with stable ids; when is folded at compile time or decided on facts"
