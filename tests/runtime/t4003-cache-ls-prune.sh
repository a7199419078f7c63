#!/bin/sh
# tests/runtime/t4003-cache-ls-prune.sh: kiln cache ls lists the stage layers (with the
# image and stage of their records), the compressed blobs, their sizes and last use;
# kiln cache prune removes what was not used for a while (--older-than), then the
# least recently used over a size (--max-size), or everything (--all); a pruned stage
# is built again. Prune does not run while an apply holds the cache. Bad values are
# usage errors.
. "$(dirname "$0")/../lib/test-lib.sh"
. "$TOP/tests/runtime/lib-apply.sh"
need flock

mkdir -p build
cat >build/p.img <<'EOF'
image p from busybox() {
  stage one {
    file "/one" { content = "1\n" }
  }
  stage two {
    file "/two" { content = "2\n" }
  }
  output oci "out/p" { tag = "p:1" }
}
EOF
kapply_json build/p.img
expect_rc 0

run_kiln cache ls --cache-dir="$CACHE"
expect_rc 0
expect_match out '^stage +[0-9a-f]{12} +[0-9.]+ (B|KiB|MiB) +[0-9]+s ago +p/one$'
expect_match out '^stage +[0-9a-f]{12} .* p/two$'
expect_match out '^blob +[0-9a-f]{12} .* layer sha256:'
expect_match out '^7 entries, '
expect_match out '^tree +[0-9a-f]{12} .* p$'
run_kiln cache ls --cache-dir="$CACHE" --json
expect_rc 0
[ "$(jq -r 'select(.kind == "stage") | .what' out | sort | tr '\n' ' ')" = "p/(base) p/one p/two " ] ||
	fail "cache ls --json: $(cat out)"

# the stage "one" and its layer's blob were last used 3 days ago
one=$(jq -r 'select(.what == "p/one") | .key' out)
touch -d '3 days ago' "$CACHE/stages/$one.json"
run_kiln cache prune --cache-dir="$CACHE" --older-than=2d
expect_rc 0
expect_match out '^removed 1 entry, '
[ ! -e "$CACHE/stages/$one.tar" ] || fail "the old stage is still there"
run_kiln plan --color=never --cache-dir="$CACHE" --work-dir="$WORK" build/p.img
expect_match out '^  \+ stage  p/one  to build: '
kapply_json build/p.img
expect_rc 0
expect_match out '"event":"stage_start","image":"p","stage":"one"'

# over a size: the least recently used go first
run_kiln cache prune --cache-dir="$CACHE" --max-size=0
expect_rc 0
run_kiln cache ls --cache-dir="$CACHE" --json
expect_empty out

# prune waits for no apply
sh -c 'exec 9>"$1/lock"; flock 9; echo $$ >"$1/lock"; sleep 5' - "$CACHE" &
KPID=$!
sleep 0.5
run_kiln cache prune --cache-dir="$CACHE" --all
expect_rc 1
expect_match err "is using the cache directory"
kill "$KPID" 2>/dev/null || true
wait "$KPID" 2>/dev/null || true
KPID=

for bad in --older-than=soon --max-size=lots --older-than=-1d; do
	run_kiln cache prune --cache-dir="$CACHE" "$bad"
	expect_rc 2
done
run_kiln cache prune --cache-dir="$CACHE"
expect_rc 2
run_kiln cache frobnicate
expect_rc 2
