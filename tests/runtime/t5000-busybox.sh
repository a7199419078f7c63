#!/bin/sh
# tests/runtime/t5000-busybox.sh: busybox() makes a root filesystem that runs a shell when
# chrooted, with every applet linked, root in /etc/passwd, ID=busybox, /tmp 1777; in
# milliseconds. Without busybox-static the error names the package.
. "$(dirname "$0")/../lib/test-lib.sh"
. "$TOP/tests/runtime/lib-base.sh"
[ -x /bin/busybox ] || skip "needs /bin/busybox (busybox-static)"
need chroot
[ "$(id -u)" -eq 0 ] || skip "chroot needs root"

R=$TMP/root
create '{"base": "busybox", "args": {}}' "$R"
expect_rc 0
[ "$(chroot "$R" /bin/sh -c 'echo ok')" = ok ] || fail "chroot $R /bin/sh -c 'echo ok' did not print ok"
# Applets work through their links, with the PATH a shell has.
[ "$(chroot "$R" /bin/sh -c 'PATH=/usr/sbin:/usr/bin:/sbin:/bin; echo a-b | tr - _ | awk "{print toupper(\$0)}"')" = A_B ] ||
	fail "applets tr and awk do not run"
[ "$(chroot "$R" /usr/bin/id -un)" = root ] || fail "id -un is not root (/etc/passwd)"

want=$(/bin/busybox --list-full | grep -vc '^bin/busybox$')
got=$(find "$R" -type l -lname /bin/busybox | wc -l)
[ "$got" -eq "$want" ] || fail "expected $want applet links, got $got"
[ -L "$R/usr/bin/awk" ] && [ -L "$R/sbin/ifconfig" ] || fail "applets are not where --list-full puts them"
[ -f "$R/bin/busybox" ] && [ ! -L "$R/bin/busybox" ] || fail "/bin/busybox is not a copy"
cmp -s /bin/busybox "$R/bin/busybox" || fail "/bin/busybox differs from the build machine's"

expect_match "$R/etc/os-release" '^ID=busybox$'
expect_match "$R/etc/passwd" '^root:x:0:0:'
expect_match "$R/etc/group" '^root:x:0:'
[ "$(stat -c %a "$R/tmp")" = 1777 ] || fail "/tmp is $(stat -c %a "$R/tmp"), not 1777"
[ "$(stat -c %a "$R/root")" = 700 ] || fail "/root is not 0700"
for p in dev proc sys; do
	[ -d "$R/$p" ] || fail "/$p is missing"
done
[ -f "$R/etc/resolv.conf" ] || fail "/etc/resolv.conf placeholder is missing"

# Milliseconds, not seconds (a generous bound for slow sanitizer builds).
t=$(elapsed)
awk -v t="$t" 'BEGIN { exit !(t < 2.0) }' || fail "busybox() took $t s"
say "busybox() took $t s"

# Into a directory that is not empty: refused, nothing touched.
mkdir -p "$TMP/full"
echo keep >"$TMP/full/keep"
base create '{"base": "busybox"}' "$TMP/full"
expect_refused "not empty"
[ "$(cat "$TMP/full/keep")" = keep ] && [ "$(ls -A "$TMP/full")" = keep ] ||
	fail "a refused base changed the directory"

# Without busybox-static (hidden in a private mount namespace): the error names the package.
if command -v unshare >/dev/null 2>&1 && unshare -m true 2>/dev/null; then
	mkdir -p "$TMP/none"
	rc=0
	unshare -m sh -c 'mount -t tmpfs kiln-test /usr/bin && exec "$0" create "{\"base\": \"busybox\"}" "$1"' \
		"$BASE_TEST" "$TMP/none" >"$TMP/out" 2>"$TMP/err" || rc=$?
	check_not_crashed create busybox without busybox
	expect_refused "busybox-static"
	expect_match "$TMP/err" "apt-get install busybox-static"
	[ -z "$(ls -A "$TMP/none")" ] || fail "a failed busybox() left files"
	# A dynamically linked busybox (Debian's 'busybox' package) cannot run in the empty root.
	rc=0
	unshare -m sh -c 'mount --bind /usr/bin/true /usr/bin/busybox && exec "$0" create "{\"base\": \"busybox\"}" "$1"' \
		"$BASE_TEST" "$TMP/none" >"$TMP/out" 2>"$TMP/err" || rc=$?
	check_not_crashed create busybox with a dynamic busybox
	expect_refused "dynamically linked.*busybox-static"
	[ -z "$(mounts_under /usr/bin)" ] || fail "a test mount is visible outside its namespace"
fi
