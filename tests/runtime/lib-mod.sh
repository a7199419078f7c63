# tests/runtime/lib-mod.sh: helpers for the module tests t11NN-*.sh, sourced after
# tests/lib/test-lib.sh. They run one module at a time with mod_test (built beside the tests)
# on a busybox root filesystem in $TMP.
#
#   make_rootfs DIR         a busybox-static rootfs with /etc/passwd, /etc/group, /etc/shadow
#   mod [OPTS] MODULE JSON  run MODULE on $ROOT (default $TMP/root); result in ./res, and
#                           $status, $msg set; a crash or a sanitizer report fails the test
#   expect_status S         the last run's status was S (ok, changed, failed, skipped)
#   res_field NAME          a field of the last result (jq -r)
#   res_text NAME           a field's text exactly, e.g. a diff
#   tree_sum DIR            one checksum of a tree: names, types, modes, owners, times, bytes

MOD_TEST=${MOD_TEST:-${KILN_BUILD_DIR:-$TOP/build}/tests/runtime/mod_test}
[ -x "$MOD_TEST" ] || fail "mod_test not found: $MOD_TEST (build it, or set MOD_TEST)"
need jq
ROOT=$TMP/root

make_rootfs()
{
	_r=$1
	if [ -f "$TOP/tests/lib/busybox-rootfs.sh" ]; then
		_rc=0
		sh "$TOP/tests/lib/busybox-rootfs.sh" "$_r" >/dev/null 2>&1 || _rc=$?
		[ "$_rc" -ne 77 ] || skip "needs busybox-static"
		[ "$_rc" -eq 0 ] || fail "tests/lib/busybox-rootfs.sh failed ($_rc)"
	fi
	mkdir -p "$_r/bin" "$_r/etc" "$_r/root" "$_r/tmp" "$_r/home" "$_r/usr/bin" "$_r/sbin"
	if [ ! -x "$_r/bin/busybox" ]; then
		[ -x /bin/busybox ] || skip "needs /bin/busybox (busybox-static)"
		cp /bin/busybox "$_r/bin/busybox"
		for _a in $(/bin/busybox --list); do
			[ -e "$_r/bin/$_a" ] || ln -s busybox "$_r/bin/$_a"
		done
	fi
	cat >"$_r/etc/passwd" <<'EOF'
root:x:0:0:root:/root:/bin/sh
daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin
nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin
EOF
	cat >"$_r/etc/group" <<'EOF'
root:x:0:
daemon:x:1:
adm:x:4:
staff:x:50:
users:x:100:
nogroup:x:65534:
EOF
	cat >"$_r/etc/shadow" <<'EOF'
root:*:19000:0:99999:7:::
daemon:*:19000:0:99999:7:::
nobody:*:19000:0:99999:7:::
EOF
	chmod 0640 "$_r/etc/shadow"
}

# mod [--check] [--diff] [--in-image] [--local-root DIR] MODULE JSON
mod()
{
	_opts=
	while [ $# -gt 2 ]; do
		case $1 in
		--local-root) _opts="$_opts $1 $2"; shift 2 ;;
		*) _opts="$_opts $1"; shift ;;
		esac
	done
	rc=0
	timeout -k 5 60 $MOD_TEST $_opts "$ROOT" "$1" "$2" \
		>"$TMP/out" 2>"$TMP/err" || rc=$?
	check_not_crashed mod_test "$1"
	[ "$rc" -eq 0 ] || fail "mod_test $1 exited with $rc: $(head -c 300 "$TMP/err")"
	cp "$TMP/out" "$TMP/res"
	status=$(jq -r .status "$TMP/res")
	msg=$(jq -r .msg "$TMP/res")
}

expect_status()
{
	[ "$status" = "$1" ] || fail "expected status $1, got $status: $msg"
}

res_field()
{
	jq -r ".$1 // empty" "$TMP/res"
}

# res_text NAME: a field's text exactly (no newline added): for diffs
res_text()
{
	jq -j ".$1 // empty" "$TMP/res"
}

tree_sum()
{
	(cd "$1" && find . -printf '%p %y %m %U %G %s %T@ %l\n' | LC_ALL=C sort &&
		find . -type f -print0 | LC_ALL=C sort -z | xargs -0r sha256sum) | sha256sum
}

# idempotent [OPTS] MODULE JSON: the usual triple most tests start with (OPTS: --local-root
# DIR, --in-image, passed to every run):
#   1. --check --diff: status changed, the tree unchanged
#   2. --diff: changed, with a diff
#   3. again: ok, the tree unchanged
idempotent()
{
	_pre=
	while [ $# -gt 2 ]; do
		_pre="$_pre $1"
		shift
	done
	_before=$(tree_sum "$ROOT")
	mod $_pre --check --diff "$1" "$2"
	expect_status changed
	[ "$(tree_sum "$ROOT")" = "$_before" ] || fail "check mode changed the tree ($1 $2)"
	mod $_pre --diff "$1" "$2"
	expect_status changed
	[ -n "$(res_field diff)" ] || fail "no diff from $1 in diff mode"
	_after=$(tree_sum "$ROOT")
	mod $_pre "$1" "$2"
	expect_status ok
	[ "$(tree_sum "$ROOT")" = "$_after" ] || fail "a second run of $1 changed the tree"
}
