#!/bin/sh
# tests/runtime/t4000-plan-cache.sh: kiln plan reads the cache apply uses. Before any
# apply every stage is to build ("not built before") and -detailed-exitcode exits 2;
# right after an apply it exits 0 and says nothing is to do; after an input changed it
# names the first input that differs (a file, a task, a param, the base) and its counts
# equal what the next apply does (its summary event). A no-op apply runs no task and
# writes no output; an image built from an unchanged parent does not make the parent's
# tree. Usage errors exit 1 under -detailed-exitcode (2 means "changes pending").
. "$(dirname "$0")/../lib/test-lib.sh"
. "$TOP/tests/runtime/lib-apply.sh"
need tar

mkdir -p build/files base/etc
echo base-one >base/etc/base.txt
tar -C base -cf build/base.tar .
echo page-one >build/files/index.html
write_img()
{
	cat >build/b.img <<EOF
param version: string = "1.0"
image parent from tarball("base.tar") {
  stage first {
    lineinfile "/etc/conf" { line = "x = $1", create = true }
  }
  stage second {
    file "/etc/version" { content = "\${version}\n" }
  }
  output tar "out/parent.tar" {}
}
image child from parent {
  stage web {
    copy "/index.html" { src = "files/index.html" }
  }
  stage last {
    file "/marker" { content = "m\n" }
  }
  output oci "out/child" { tag = "child:1" }
  output checksum "out/child.sha256" {}
}
EOF
}

kplan()
{
	run_kiln plan --color=never --work-dir="$WORK" --cache-dir="$CACHE" -detailed-exitcode "$@" \
		build/b.img
}

# the plan's summary line as "BUILD CACHED WRITE CURRENT"
plan_counts()
{
	sed -n 's/^Plan: \([0-9]*\) stages\{0,1\} to build, \([0-9]*\) cached; \([0-9]*\) outputs\{0,1\} to write, \([0-9]*\) up to date.*/\1 \2 \3 \4/p' "$TMP/out"
}

# the last JSON apply's summary as "BUILT CACHED WRITTEN CURRENT"
apply_counts()
{
	jq -r 'select(.event == "summary") |
		"\(.stages_built) \(.stages_cached) \(.outputs_written) \(.outputs_current)"' "$TMP/out"
}

# plan, then apply: the counts agree; $1: the reason plan must give (an ERE) or ""
plan_then_apply()
{
	kplan "$@"
	expect_rc 2
	[ -z "$WHY" ] || expect_match out "$WHY"
	_p=$(plan_counts)
	[ -n "$_p" ] || fail "plan printed no summary line: $(cat "$TMP/out")"
	kapply_json "$@" build/b.img
	expect_rc 0
	_a=$(apply_counts)
	cp "$TMP/out" "$TMP/applied"
	[ "$_p" = "$_a" ] || fail "plan said $_p (build cached write current), apply did $_a"
	kplan "$@"
	expect_rc 0
	[ "$(plan_counts)" = "0 4 0 3" ] || fail "after apply, plan says: $(plan_counts)"
}

write_img 1
# 1. nothing built yet
kplan
expect_rc 2
expect_match out '^  \+ stage  parent/first  to build: not built before$'
expect_match out '^  ~ output tar out/parent.tar  to write: not written before$'
expect_match out '^Plan: 4 stages to build, 0 cached; 3 outputs to write, 0 up to date$'
expect_match out '^Legend: '
[ ! -e "$CACHE" ] || fail "plan wrote into the cache: $(find "$CACHE")"
[ ! -e "$WORK" ] || fail "plan made a work directory"

WHY='' plan_then_apply
ls "$CACHE"/stages/*.json >/dev/null 2>&1 || fail "no key records beside the layers"
rec=$(grep -l '"stage":"first"' "$CACHE"/stages/*.json | head -1)
jq -e '.kiln_version and .parent and .tasks and .image and .stage' "$rec" >/dev/null ||
	fail "a key record lacks its inputs: $(cat "$rec")"

# 2. a no-op apply: every stage cached, every output up to date, nothing run or written
t0=$(stat -c %Y.%i build/out/parent.tar)
kapply_json build/b.img
expect_rc 0
[ -z "$(ran_tasks)" ] || fail "a no-op apply ran tasks: $(ran_tasks | tr '\n' ' ')"
[ "$(jq -r 'select(.event == "stage_cached") | .stage' out | wc -l)" -eq 4 ] ||
	fail "not every stage was reported cached"
[ "$(jq -r 'select(.event == "output_current") | .path' out | wc -l)" -eq 3 ] ||
	fail "not every output was reported up to date"
expect_no_match out '"event":"(artifact|stage_start)"'
expect_no_match out 'base ready'
[ "$(stat -c %Y.%i build/out/parent.tar)" = "$t0" ] || fail "a no-op apply rewrote an output"

# 3. a file of the last image changes: plan names it; only the child is built, on the
#    parent's tree kept in the cache (overlay-mounted), and the parent's output is not
#    rewritten
echo page-two >build/files/index.html
WHY='^  \+ stage  child/web  to build: file files/index.html changed$' plan_then_apply
expect_match applied '"event":"stage_cached","image":"parent","stage":"first"'
expect_match applied '"msg":"image parent mounted from the cache'
expect_no_match applied 'base ready'
[ "$(stat -c %Y.%i build/out/parent.tar)" = "$t0" ] || fail "the parent's output was rewritten"
[ "$(jq -r 'select(.event == "artifact") | .path' applied | tr '\n' ' ')" = "out/child out/child.sha256 " ] ||
	fail "expected only the child's outputs written: $(jq -r 'select(.event == "artifact") | .path' applied)"

# 4. a task changes
write_img 2
WHY='^  \+ stage  parent/first  to build: task parent\.first\.0 changed$' plan_then_apply
expect_match applied '"event":"stage_start","image":"child","stage":"web"'

# 5. a param changes: named
WHY='^  \+ stage  parent/second  to build: param version changed$' plan_then_apply -var version=2.0

# 6. the base changes
echo base-two >base/etc/base.txt
tar -C base -cf build/base.tar .
WHY='^  \+ stage  parent/first  to build: base changed$' plan_then_apply -var version=2.0

# 7. an output removed by hand is written again (and only its image's)
rm -rf build/out/child
WHY='^  ~ output oci out/child  to write: missing$' plan_then_apply -var version=2.0

# 8. usage errors are 1 under -detailed-exitcode, 2 without
run_kiln plan -detailed-exitcode --no-such-option build/b.img
expect_rc 1
run_kiln plan --no-such-option build/b.img
expect_rc 2

# 9. every example that bakes without network (busybox, tarball, scratch, oci bases):
#    plan's counts are what apply does, and after apply plan has nothing to do
#    (variables.img fetches a certificate with wget: it needs the network; push.img
#    pushes to a registry, which t7000 starts for it)
cp -r "$TOP/examples" ex
export KILN_VAR_api_token=not-a-real-token CLIENT_ID=client-1
n=0
for img in $(grep -l -E '^image .* from (busybox|scratch|tarball|oci)\(' ex/*.img); do
	! grep -q 'wget ' "$img" || continue
	! grep -q '^ *output registry ' "$img" || continue
	n=$((n + 1))
	rm -rf ex/out
	run_kiln plan --color=never --work-dir="$WORK" --cache-dir="$CACHE" -detailed-exitcode "$img"
	expect_rc 2
	_p=$(plan_counts)
	kapply_json "$img"
	expect_rc 0
	[ "$_p" = "$(apply_counts)" ] || fail "$img: plan said $_p, apply did $(apply_counts)"
	run_kiln plan --color=never --work-dir="$WORK" --cache-dir="$CACHE" -detailed-exitcode "$img"
	expect_rc 0
	expect_match out '^Plan: 0 stages? to build'
done
[ "$n" -ge 1 ] || fail "no example was tried"

# 10. --no-cache and --refresh-base run every stage and write every output; what they
#     store is what the next plan finds
for opt in --no-cache --refresh-base; do
	kapply_json "$opt" -var version=2.0 build/b.img
	expect_rc 0
	[ "$(apply_counts)" = "4 0 3 0" ] || fail "$opt: apply did $(apply_counts)"
	kplan -var version=2.0
	expect_rc 0
done

# 11. a stage that reads a secret: plan keys it with the secret's keyed hash, as apply
#     does (nothing to do after apply), and names the secret when it changes
cat >build/s.img <<'EOF'
param token: secret
image s from busybox() {
  stage plain {
    file "/plain" { content = "p\n" }
  }
  stage uses_token {
    file "/token" { content = "${token}\n", mode = 0600 }
  }
  output tar "out/s.tar" {}
}
EOF
kapply_json -var token=first-value build/s.img
expect_rc 0
run_kiln plan --color=never --work-dir="$WORK" --cache-dir="$CACHE" -detailed-exitcode -var token=first-value build/s.img
expect_rc 0
run_kiln plan --color=never --work-dir="$WORK" --cache-dir="$CACHE" -detailed-exitcode -var token=second-value build/s.img
expect_rc 2
expect_match out '^  = stage  s/plain  cached'
expect_match out '^  \+ stage  s/uses_token  to build: param token changed$'
expect_no_match out 'first-value|second-value'
