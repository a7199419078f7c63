#!/bin/sh
# tests/runtime/t6195-apt-lists-reused.sh: within one apply, an image's apt task that finds no
# package lists puts back the ones an earlier apt task downloaded for the same sources instead
# of running apt-get update again. A busybox image with a stand-in apt-get, dpkg-query and a
# repository in the tree (apt proper needs a debootstrapped tree: t1109): two apt tasks in two
# stages update once; the layers hold no lists and no .debs, and the second stage's layer is
# the one it has when it downloads the lists itself (update_cache = true); update_cache still
# updates and refreshes the copy the next task gets; other sources download again; nothing is
# left in the work directory.
. "$(dirname "$0")/../lib/test-lib.sh"
. "$TOP/tests/runtime/lib-apply.sh"
. "$TOP/tests/runtime/lib-fakeapt.sh"

# two apt tasks in two stages: one apt-get update
write_img 'apt "two" {}' ''
kapply -v app.img
[ "$rc" -eq 0 ] || fail "apply failed: $(tail -n 5 err)"
[ "$(updates)" = 1 ] || fail "apt-get update ran $(updates) times, not once: $(grep fake-apt err)"
grep -q 'fake-apt: installed two 1' err || fail "two not installed: $(grep fake-apt err)"
for n in 2 3; do
	layer_list $n >layer$n.list
	grep -q 'usr/share/fake-pkgs/' layer$n.list || fail "layer $n has no package: $(cat layer$n.list)"
	if grep -E 'var/lib/apt/lists/.+_|\.deb$' layer$n.list; then
		fail "layer $n holds lists or .debs"
	fi
done
reused=$(layer_digest 3)
[ -z "$(ls -A "$WORK" | grep -v '^\.')" ] || fail "left in the work directory: $(ls -A "$WORK")"

# update_cache = true in stage two: it downloads again, and its layer is the same
rm -rf img "$CACHE"
write_img 'apt "two" { update_cache = true }' ''
kapply -v app.img
[ "$rc" -eq 0 ] || fail "apply with update_cache failed: $(tail -n 5 err)"
[ "$(updates)" = 2 ] || fail "with update_cache, apt-get update ran $(updates) times, not twice"
[ "$(layer_digest 3)" = "$reused" ] ||
	fail "stage two's layer differs when its lists were put back: $reused vs $(layer_digest 3)"

# update_cache refreshes the copy the next task gets (three is only in the new index); other
# sources (four's repository added) download again
rm -rf img "$CACHE"
write_img 'copy "/srv/repo/Packages" { src = "fake/Packages2" }
    apt "two" { update_cache = true }' '  stage three { apt "three" {} }
  stage four {
    file "/srv/repo4" { state = "directory" }
    copy "/srv/repo4/Packages" { src = "fake/Packages4" }
    file "/etc/apt/sources.list" { content = "deb file:/srv/repo ./\ndeb file:/srv/repo4 ./\n" }
    apt "four" {}
  }'
kapply -v app.img
[ "$rc" -eq 0 ] || fail "apply failed: $(tail -n 5 err) $(grep fake-apt err)"
grep -q 'fake-apt: installed two 2' err || fail "update_cache did not update: $(grep fake-apt err)"
grep -q 'fake-apt: installed three 1' err || fail "three not installed: $(grep fake-apt err)"
grep -q 'fake-apt: installed four 1' err || fail "four not installed: $(grep fake-apt err)"
[ "$(updates)" = 3 ] || fail "apt-get update ran $(updates) times, not 3: $(grep fake-apt err)"
say "ok: one apt-get update per sources in an apply"
