#!/bin/sh
# tests/runtime/t6010-apply-idempotent.sh: a second apply with the same stage cache changes
# nothing (recap changed=0, no task runs) and, with SOURCE_DATE_EPOCH set, writes the same
# OCI manifest digest. Changing one task's argument in the second of three stages runs
# that stage and the third again; the first stays a cache hit. Moving a task's line (its
# source) alone does not invalidate a stage.
. "$(dirname "$0")/../lib/test-lib.sh"
. "$TOP/tests/runtime/lib-apply.sh"
need umoci

# the timestamps of the config and of the base's files follow SOURCE_DATE_EPOCH; without
# it a build records the time it ran, and the busybox base's files the time they were made
SOURCE_DATE_EPOCH=1700000000
export SOURCE_DATE_EPOCH

mkdir build
write_img()
{
	cat >build/three.img <<EOF
image three from busybox() {
  stage first {
    file "/srv" { state = directory }
    file "/srv/first.txt" { content = "one\n" }
    shell "echo first-ran >> /srv/log" {}
  }
  stage second {
    file "/srv/second.txt" { content = "$1\n" }
    shell "echo second-ran >> /srv/log" {}
  }
  stage third {
    shell "echo third-ran >> /srv/log" {}
    file "/srv/third.txt" { content = "three\n" }
  }
  output oci "out/three" { tag = "three:1" }
}
EOF
}

# 1. the first apply runs every task
write_img two
kapply_json build/three.img
expect_rc 0
expect_recap three 0 7 0 0 false
[ "$(ran_tasks | wc -l)" -eq 7 ] || fail "the first apply ran $(ran_tasks | wc -l) tasks, not 7"
d1=$(oci_digest build/out/three)
# 3 stages and the base's layer
[ "$(ls "$CACHE/stages" | grep -c '\.tar$')" -eq 4 ] ||
	fail "expected 3 stages and the base in the cache, found: $(ls "$CACHE/stages")"

# 2. the second changes nothing: every stage is a cache hit, the image is the same
kapply_json build/three.img
expect_rc 0
expect_recap three 7 0 0 0 false
[ -z "$(ran_tasks)" ] || fail "tasks ran again on a cache hit: $(ran_tasks | tr '\n' ' ')"
[ "$(jq -r 'select(.event == "stage_cached") | .stage' out | grep -c .)" -eq 3 ] ||
	fail "not every stage was reported cached"
d2=$(oci_digest build/out/three)
[ "$d1" = "$d2" ] || fail "the second apply wrote another image: $d1 then $d2"
# the plain report says the same
kapply build/three.img
expect_rc 0
expect_match err '^three +: ok=7 +changed=0 +failed=0 +skipped=0 '
[ "$(oci_digest build/out/three)" = "$d1" ] || fail "the third apply wrote another image"

# 3. one argument of the second stage changes: it and the third run again, the first is
#    replayed; the log proves the first stage's shell did not run twice
write_img TWO
kapply_json build/three.img
expect_rc 0
expect_recap three 3 4 0 0 false
[ "$(ran_tasks | tr '\n' ' ')" = "three.second.0 three.second.1 three.third.0 three.third.1 " ] ||
	fail "expected the second and third stages to run, ran: $(ran_tasks | tr '\n' ' ')"
expect_status three.second.0 changed
d3=$(oci_digest build/out/three)
[ "$d3" != "$d1" ] || fail "a changed stage gave the same image"
unpack build/out/three three:1 bundle
[ "$(cat bundle/rootfs/srv/second.txt)" = TWO ] || fail "second.txt: $(cat bundle/rootfs/srv/second.txt)"
[ "$(cat bundle/rootfs/srv/log | tr '\n' ' ')" = "first-ran second-ran third-ran " ] ||
	fail "the stages' log is: $(cat bundle/rootfs/srv/log | tr '\n' ' ')"

# ... and once more: all cached again, the same image as the run before
kapply_json build/three.img
expect_recap three 7 0 0 0 false
[ "$(oci_digest build/out/three)" = "$d3" ] || fail "the image changed on a cache hit"

# 4. going back to the first argument hits the cache entries of the first build
write_img two
kapply_json build/three.img
expect_recap three 7 0 0 0 false
[ "$(oci_digest build/out/three)" = "$d1" ] || fail "the first build's image did not come back"

# 5. a comment and a blank line move every task's source line: still all cached
{ printf '# a comment\n\n'; cat build/three.img; } >build/moved.img
mv build/moved.img build/three.img
kapply_json build/three.img
expect_recap three 7 0 0 0 false
[ "$(oci_digest build/out/three)" = "$d1" ] || fail "moving lines changed the image"

# 6. another cache directory: everything runs again
CACHE=$TMP/cache2
kapply_json build/three.img
expect_recap three 0 7 0 0 false
say "ok: a second apply is all cache hits with the same digest; a changed stage reruns it and later ones"
