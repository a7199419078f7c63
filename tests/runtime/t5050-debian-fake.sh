#!/bin/sh
# tests/runtime/t5050-debian-fake.sh: debian()'s machinery around debootstrap, with a
# stand-in debootstrap first in PATH (fast, no network): the arguments it gets, the .debs
# it leaves in /var/cache/apt/archives removed, the cache (a second build extracts the tree
# and never runs debootstrap; other arguments miss; a damaged entry is rebuilt), a failure
# (its status and the tail of its output and log, nothing left in the destination, nothing
# left mounted), an interrupt (the process group stopped, the mount gone), debootstrap
# missing, bad arguments refused.
. "$(dirname "$0")/../lib/test-lib.sh"
. "$TOP/tests/runtime/lib-base.sh"
[ "$(id -u)" -eq 0 ] || skip "debootstrap runs as root"
unshare -m true 2>/dev/null || skip "needs mount namespaces"

FAKE=$TMP/fakebin
mkdir -p "$FAKE"
# The stand-in: MODE (ok, fail, hang) from $TMP/mode; records its arguments; mounts a
# tmpfs on TARGET/proc as debootstrap's second stage does.
cat >"$FAKE/debootstrap" <<EOF
#!/bin/sh
mode=\$(cat "$TMP/mode")
printf '%s\n' "\$@" >"$TMP/args"
touch "$TMP/ran"
n=\$#
target=\$(eval echo "\\\${\$((n - 1))}")
mkdir -p "\$target/proc" "\$target/etc" "\$target/debootstrap" "\$target/usr/bin" "\$target/srv"
mount -t tmpfs kiln-fake "\$target/proc" || exit 99
echo "I: Retrieving InRelease"
echo "I: Retrieving libc6 2.36"
case \$mode in
ok)
	printf 'ID=debian\nVERSION_CODENAME=fake\n' >"\$target/etc/os-release"
	printf 'data\n' >"\$target/srv/file"
	chown 1234:5678 "\$target/srv/file"
	chmod 4755 "\$target/srv/file"
	ln -s ../srv/file "\$target/usr/bin/link"
	mknod "\$target/null" c 1 3
	mkdir -p "\$target/var/cache/apt/archives/partial"
	echo deb >"\$target/var/cache/apt/archives/fake_1.0_all.deb"
	echo "I: Base system installed successfully."
	exit 0 ;;
fail)
	echo "line one of the log" >"\$target/debootstrap/debootstrap.log"
	echo "dpkg: error processing package fake-pkg" >>"\$target/debootstrap/debootstrap.log"
	echo "W: Failure trying to run: chroot \$target dpkg --configure fake-pkg" >&2
	echo "E: fake failure for the test" >&2
	exit 1 ;;
hang)
	sleep 300 &
	echo \$! >"$TMP/sleep.pid"
	touch "$TMP/ready"
	wait
	exit 0 ;;
esac
EOF
chmod 755 "$FAKE/debootstrap"
PATH=$FAKE:$PATH
export PATH

ARGS='{"base": "debian", "args": {"suite": "bookworm", "variant": "minbase", "mirror": "http://deb.debian.org/debian", "components": ["main", "contrib"], "include": ["ca-certificates", "libc6:amd64"]}}'
no_mounts()
{
	[ -z "$(mounts_under "$TMP")" ] || fail "$1: left mounted: $(mounts_under "$TMP")"
}

# 1. A build runs debootstrap with the arguments, in a private mount namespace.
echo ok >"$TMP/mode"
create "$ARGS" "$TMP/d1"
expect_rc 0
[ -e "$TMP/ran" ] || fail "debootstrap did not run"
no_mounts "a successful debootstrap"
printf '%s\n' --variant=minbase --components=main,contrib --include=ca-certificates,libc6:amd64 \
	"--cache-dir=$KILN_CACHE_DIR/debian/debs" >want.args
head -n 4 "$TMP/args" >got.args
diff -u want.args got.args || fail "debootstrap got other options"
[ "$(tail -n 3 "$TMP/args" | tr '\n' ' ')" = "bookworm $TMP/d1 http://deb.debian.org/debian " ] ||
	fail "debootstrap got other operands: $(tail -n 3 "$TMP/args" | tr '\n' ' ')"
expect_match err "^progress: debian: I: Retrieving InRelease"
[ ! -e "$TMP/d1/var/cache/apt/archives/fake_1.0_all.deb" ] && [ -d "$TMP/d1/var/cache/apt/archives/partial" ] ||
	fail "the .debs were not cleaned from /var/cache/apt/archives (or too much was)"
expect_no_match err "libc6 2.36" "per-package lines are not progress"
expect_match err "^progress: debian: cached as $KILN_CACHE_DIR/debian/[0-9a-f]{64}\\.tar\\.zst"
key=$(ls "$KILN_CACHE_DIR/debian" | sed -n 's/\.tar\.zst$//p')
[ -n "$key" ] || fail "no cache entry"
jq -e '.sha256 | test("^[0-9a-f]{64}$")' "$KILN_CACHE_DIR/debian/$key.json" >/dev/null ||
	fail "the cache entry's JSON has no digest"
[ "$(sha256sum <"$KILN_CACHE_DIR/debian/$key.tar.zst" | cut -c1-64)" = \
	"$(jq -r .sha256 "$KILN_CACHE_DIR/debian/$key.json")" ] || fail "the recorded digest is wrong"
ls "$KILN_CACHE_DIR/debian" | grep -q tmp && fail "a temporary file stayed in the cache"
tree_list "$TMP/d1" >want.tree

# 1b. A relative cache directory (kiln apply --cache-dir=cache): debootstrap, which refuses a
# relative one, gets it made absolute.
mkdir -p "$TMP/rel"
(cd "$TMP/rel" && KILN_CACHE_DIR=relcache create "$ARGS" "$TMP/d1b")
expect_rc 0
grep -qx -- "--cache-dir=$TMP/rel/relcache/debian/debs" "$TMP/args" ||
	fail "a relative cache directory reached debootstrap as $(grep -- --cache-dir "$TMP/args")"

# 2. The same arguments again: the cache, not debootstrap (which would now fail).
echo fail >"$TMP/mode"
rm -f "$TMP/ran"
create "$ARGS" "$TMP/d2"
expect_rc 0
[ ! -e "$TMP/ran" ] || fail "debootstrap ran on a cache hit"
expect_match err "cache hit: .* \\(debootstrap not run\\)"
tree_list "$TMP/d2" >got.tree
diff -u want.tree got.tree >diff || fail "the cached tree differs:
$(head -20 diff)"

# 3. Other arguments miss the cache; the failure shows debootstrap's status, output and log.
create '{"base": "debian", "args": {"suite": "bookworm", "mirror": "http://deb.debian.org/debian"}}' "$TMP/d3"
[ -e "$TMP/ran" ] || fail "other arguments did not run debootstrap"
expect_refused "debian\\(\\): debootstrap failed \\(status 1; log: $KILN_CACHE_DIR/debian/[0-9a-f]{64}\\.failed\\.log\\)"
expect_match err "E: fake failure for the test"
expect_match err "dpkg: error processing package fake-pkg"
[ -z "$(ls -A "$TMP/d3")" ] || fail "a failed debootstrap left files: $(ls -A "$TMP/d3")"
no_mounts "a failed debootstrap"
grep -q "E: fake failure" "$KILN_CACHE_DIR"/debian/*.failed.log || fail "the failure log was not kept"

# 4. A damaged cache entry is dropped and rebuilt.
echo ok >"$TMP/mode"
rm -f "$TMP/ran"
printf 'garbage' | dd of="$KILN_CACHE_DIR/debian/$key.tar.zst" bs=1 seek=100 conv=notrunc 2>/dev/null
create "$ARGS" "$TMP/d4"
expect_rc 0
expect_match err "cache entry .* is damaged .*: dropped, rebuilding"
[ -e "$TMP/ran" ] || fail "a damaged entry did not run debootstrap"
tree_list "$TMP/d4" | sed "s|d4|d1|" >got.tree
[ "$(wc -l <got.tree)" -eq "$(wc -l <want.tree)" ] || fail "the rebuilt tree differs"

# 5. An interrupt stops debootstrap's whole process group; its mount goes with it.
echo hang >"$TMP/mode"
mkdir -p "$TMP/d5"
$BASE_TEST create '{"base": "debian", "args": {"suite": "trixie"}}' "$TMP/d5" >out 2>err &
pid=$!
i=0
while [ ! -e "$TMP/ready" ] && [ $i -lt 100 ]; do
	sleep 0.1
	i=$((i + 1))
done
[ -e "$TMP/ready" ] || { kill $pid; fail "the hanging debootstrap did not start"; }
kill -TERM $pid
rc=0
wait $pid || rc=$?
check_not_crashed interrupted
expect_refused "interrupted; debootstrap stopped"
# Dead: gone, or a zombie not yet reaped by init.
state=$(sed 's/.*) //' "/proc/$(cat "$TMP/sleep.pid")/stat" 2>/dev/null | cut -c1)
[ -z "$state" ] || [ "$state" = Z ] || fail "debootstrap's child survived the interrupt"
[ -z "$(ls -A "$TMP/d5")" ] || fail "an interrupted debootstrap left files"
no_mounts "an interrupted debootstrap"

# 6. Without debootstrap (hidden in a private mount namespace): the package is named.
mkdir -p "$TMP/d6"
rc=0
PATH=/usr/bin:/bin unshare -m sh -c 'mount -t tmpfs none /usr/sbin && exec "$0" create "{\"base\": \"debian\"}" "$1"' \
	"$BASE_TEST" "$TMP/d6" >out 2>err || rc=$?
check_not_crashed no debootstrap
expect_refused "debootstrap not found: install Debian's debootstrap package"

# 7. Arguments that could become options or words on its command line are refused.
create '{"base": "debian", "args": {"suite": "--foreign"}}' "$TMP/d7"
expect_refused "invalid suite '--foreign'"
create '{"base": "debian", "args": {"include": ["a b"]}}' "$TMP/d7"
expect_refused "invalid package name 'a b'"
create '{"base": "debian", "args": {"variant": "fat"}}' "$TMP/d7"
expect_refused "variant must be minbase, buildd or standard"
create '{"base": "debian", "args": {"mirror": "gopher://x/debian"}}' "$TMP/d7"
expect_refused "is not an http, https or file URL"
create '{"base": "debian", "args": {"components": "main"}}' "$TMP/d7"
expect_refused "argument 'components' must be a list of strings"
