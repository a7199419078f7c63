#!/bin/sh
# tests/runtime/t5090-debian-minbase.sh (slow: minutes): debian("bookworm", variant =
# "minbase") from the build machine's mirror, for real. The tree is Debian bookworm, nothing
# stays mounted, the cache holds the tree and the .debs; a second base_create of the same
# arguments extracts the cache (debootstrap, replaced by a stand-in that fails, never
# runs) and is much faster. Both times are reported. Skipped without the mirror.
. "$(dirname "$0")/../lib/test-lib.sh"
. "$TOP/tests/runtime/lib-base.sh"
[ "$(id -u)" -eq 0 ] || skip "debootstrap runs as root"
command -v debootstrap >/dev/null 2>&1 || [ -x /usr/sbin/debootstrap ] || skip "needs debootstrap"
need curl
KILN_TEST_TIMEOUT=${KILN_TEST_TIMEOUT_SLOW:-1200}

base mirror /etc/apt
MIRROR=$(cat "$TMP/out")
[ "$MIRROR" != none ] || MIRROR=http://deb.debian.org/debian
curl -fsI --max-time 15 "$MIRROR/dists/bookworm/InRelease" >/dev/null 2>&1 ||
	skip "no network to the mirror $MIRROR"

ARGS='{"base": "debian", "args": {"suite": "bookworm", "variant": "minbase"}}'
create "$ARGS" "$TMP/d1"
[ "$rc" -eq 0 ] || fail "debootstrap failed: $(grep '^error' "$TMP/err")"
t1=$(elapsed)
expect_match "$TMP/err" "^progress: debian: debootstrap bookworm \\(minbase, [a-z0-9]+\\) from $MIRROR"
expect_match "$TMP/d1/etc/os-release" '^ID=debian$'
expect_match "$TMP/d1/etc/os-release" '^VERSION_CODENAME=bookworm$'
[ -x "$TMP/d1/usr/bin/apt-get" ] || fail "minbase has no apt-get"
[ -z "$(mounts_under "$TMP")" ] || fail "left mounted: $(mounts_under "$TMP")"
[ ! -e "$TMP/d1/debootstrap" ] || fail "debootstrap's work directory stayed in the tree"
ls "$TMP/d1/var/cache/apt/archives" | grep -q "\\.deb$" && fail ".debs stayed in /var/cache/apt/archives"
ls "$KILN_CACHE_DIR"/debian/*.tar.zst >/dev/null 2>&1 || fail "no cache entry"
ndebs=$(ls "$KILN_CACHE_DIR/debian/debs" | grep -c '\.deb$' || true)
[ "$ndebs" -gt 50 ] || fail "the .debs were not kept in the cache ($ndebs)"
tree_list "$TMP/d1" >want
tarsize=$(sed -n 's/^progress: debian: cached as .* (\(.*\))$/\1/p' "$TMP/err")

# The same arguments again: the cache. debootstrap is a stand-in that fails if it runs.
mkdir -p "$TMP/fakebin"
printf '#!/bin/sh\ntouch %s/ran\nexit 1\n' "$TMP" >"$TMP/fakebin/debootstrap"
chmod 755 "$TMP/fakebin/debootstrap"
PATH=$TMP/fakebin:$PATH create "$ARGS" "$TMP/d2"
expect_rc 0
t2=$(elapsed)
[ ! -e "$TMP/ran" ] || fail "the second build ran debootstrap"
expect_match "$TMP/err" "cache hit: .*\\(debootstrap not run\\)"
tree_list "$TMP/d2" | sed 's|/d2|/d1|' >got
diff -u want got >diff || fail "the cached tree differs: $(head -20 diff)"
chroot "$TMP/d2" /usr/bin/dpkg-query -W -f '${Package}\n' apt >/dev/null ||
	fail "dpkg in the cached tree does not work"
size=$(du -sh "$KILN_CACHE_DIR/debian" | cut -f1)
say "debootstrap: $t1 s; from the cache: $t2 s; cache: $size (tree $tarsize, $ndebs .debs)"
awk -v a="$t1" -v b="$t2" 'BEGIN { exit !(b < a / 2) }' || fail "the cache is not faster ($t2 s vs $t1 s)"
