#!/bin/sh
# tests/runtime/t6100-apply-deferred-path.sh: a build-machine path computed at apply time
# (a deferred {"$expr": ...} in a hand-edited plan) is held to the rules plan_validate
# applies to the plan's own paths: copy's src may not lead out of the build's directories.
# The task fails naming args.src, the image is abandoned and no output is written; the
# same plan unedited bakes.
. "$(dirname "$0")/../lib/test-lib.sh"
. "$TOP/tests/runtime/lib-apply.sh"

mkdir -p proj/files
echo inside >proj/files/one.txt
echo outside >outside.txt
cat >proj/app.img <<'EOF'
image app from busybox() {
  stage s {
    copy "one file" { src = "files/one.txt", dest = "/one.txt" }
  }
  output tar "out/app.tar" {}
}
EOF
run_kiln_in proj compile --color=never -o plan.json app.img
expect_rc 0

jq '.images[0].stages[0].tasks[0].args.src =
      {"$expr": {"concat": [{"const": "../"}, {"const": "outside.txt"}]}}' \
	proj/plan.json >proj/bad.json
kapply -C proj proj/bad.json
[ "$rc" -ne 0 ] || fail "a copy from ../outside.txt was applied"
expect_match err "args\.src: the path '\.\./outside\.txt' leads out of the build's directories"
[ ! -e proj/out ] || fail "an output was written for the abandoned image"

kapply -C proj proj/plan.json
expect_rc 0
[ -s proj/out/app.tar ] || fail "the unedited plan wrote no output"
tar -xOf proj/out/app.tar one.txt >one.txt 2>/dev/null ||
	tar -xOf proj/out/app.tar ./one.txt >one.txt
expect_match one.txt '^inside$' "the image holds another file"
say "ok: a deferred path is checked when it is computed"
