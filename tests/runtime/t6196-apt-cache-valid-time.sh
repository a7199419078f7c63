#!/bin/sh
# tests/runtime/t6196-apt-cache-valid-time.sh: apt's cache_valid_time (Ansible's). In an image,
# update_cache = true with cache_valid_time puts back the lists an earlier task of the apply
# downloaded for the same sources when they are recent enough (one apt-get update for two
# tasks, the outcome says how old they are), and its layer is the one a download gives;
# cache_valid_time alone implies update_cache; lists older than it are downloaded again;
# a negative value is an error. The stand-in apt-get and repository of t6195.
. "$(dirname "$0")/../lib/test-lib.sh"
. "$TOP/tests/runtime/lib-apply.sh"
. "$TOP/tests/runtime/lib-fakeapt.sh"

# update_cache in both stages: two downloads; the layer of stage two as a download leaves it
write_img 'apt "two" { update_cache = true }' ''
sed -i 's/apt "one" {}/apt "one" { update_cache = true }/' app.img
kapply -v app.img
[ "$rc" -eq 0 ] || fail "apply failed: $(tail -n 5 err)"
[ "$(updates)" = 2 ] || fail "apt-get update ran $(updates) times, not twice"
downloaded=$(layer_digest 3)

# cache_valid_time = 3600 on both: one download, the second task says how old the lists are
rm -rf img "$CACHE"
write_img 'apt "two" { update_cache = true, cache_valid_time = 3600 }' ''
sed -i 's/apt "one" {}/apt "one" { update_cache = true, cache_valid_time = 3600 }/' app.img
kapply -v app.img
[ "$rc" -eq 0 ] || fail "apply with cache_valid_time failed: $(tail -n 5 err)"
[ "$(updates)" = 1 ] || fail "apt-get update ran $(updates) times, not once: $(grep fake-apt err)"
grep -q 'fake-apt: installed two 1' err || fail "two not installed: $(grep fake-apt err)"
grep -Eq 'package lists are [0-9]+ s old: not updated' err ||
	{ cp -r . /tmp/aptvalid-dbg; fail "no note"; }
[ "$(layer_digest 3)" = "$downloaded" ] ||
	fail "stage two's layer differs when its lists were recent enough: $downloaded vs $(layer_digest 3)"
layer_list 3 >layer3.list
if grep -E 'var/lib/apt/lists/.+_|\.deb$' layer3.list; then
	fail "layer 3 holds lists or .debs"
fi
[ -z "$(ls -A "$WORK" | grep -v '^\.')" ] || fail "left in the work directory: $(ls -A "$WORK")"

# cache_valid_time alone (no name): it implies update_cache, and says the lists are recent
rm -rf img "$CACHE"
write_img 'apt { cache_valid_time = 3600 }
    apt "two" {}' ''
kapply -v app.img
[ "$rc" -eq 0 ] || fail "apply with cache_valid_time alone failed: $(tail -n 5 err)"
[ "$(updates)" = 1 ] || fail "apt-get update ran $(updates) times, not once: $(grep fake-apt err)"
# the note is the ok task's message (the events show it)
rm -rf img "$CACHE"
kapply_json app.img
[ "$rc" -eq 0 ] || fail "apply with cache_valid_time alone failed: $(tail -n 5 err)"
jq -e 'select(.event == "task_end" and .status == "ok") | .msg' out 2>/dev/null |
	grep -Eq 'package lists are [0-9]+ s old: not updated' ||
	fail "no note of the lists' age in the ok task: $(grep task_end out)"

# lists older than cache_valid_time are downloaded again (the first task waits 2 s)
rm -rf img "$CACHE"
write_img 'apt "two" { cache_valid_time = 1 }' ''
sed -i 's/apt "one" {}/apt "one" { update_cache = true }\n    command "sleep 2" {}/' app.img
kapply -v app.img
[ "$rc" -eq 0 ] || fail "apply with old lists failed: $(tail -n 5 err)"
[ "$(updates)" = 2 ] || fail "old lists: apt-get update ran $(updates) times, not twice"
if grep -Eq 'package lists are [0-9]+ s old' err; then
	fail "old lists said to be recent: $(cat err)"
fi

# a negative cache_valid_time: a clear error
rm -rf img "$CACHE"
write_img 'apt "two" { cache_valid_time = -5 }' ''
kapply app.img
[ "$rc" -ne 0 ] || fail "a negative cache_valid_time was accepted"
grep -q 'cache_valid_time' err || fail "the error does not name cache_valid_time: $(cat err)"
say "ok: cache_valid_time skips apt-get update while the lists are recent"
