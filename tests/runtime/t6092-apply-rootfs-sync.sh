#!/bin/sh
# tests/runtime/t6092-apply-rootfs-sync.sh: what an apply writes to a rootfs host reaches the
# disk (one syncfs when the connection closes), and an apply that changes nothing and runs
# no command neither syncs nor makes a namespace (the holder starts with the first command);
# strace counts the calls.
. "$(dirname "$0")/../lib/test-lib.sh"
. "$TOP/tests/runtime/lib-apply.sh"
need strace

sh "$TOP/tests/lib/busybox-rootfs.sh" "$TMP/site/roots/one" || skip "no busybox-static"
cat >site/hosts.img <<'EOF2'
hosts roots { "roots/one" { connection = rootfs } }
apply roots {
  file "/etc/motd" { content = "configured by kiln\n", mode = 0644 }
  command "touch /etc/made" { creates = "/etc/made" }
}
EOF2

# syncs: kiln apply under strace; the number of syncfs calls
syncs()
{
	# LeakSanitizer cannot run under ptrace: a sanitizer build is checked for leaks elsewhere
	ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" \
		strace -f -qq -e trace=syncfs,clone,clone3 -o "$TMP/strace.txt" "$KILN" apply --color=never \
		--work-dir="$WORK" --cache-dir="$CACHE" site/hosts.img >"$TMP/out" 2>"$TMP/err" ||
		fail "kiln apply failed: $(tail -n 5 "$TMP/err")"
	grep -c 'syncfs(' "$TMP/strace.txt" || true
}

n=$(syncs)
[ "$(cat site/roots/one/etc/motd)" = "configured by kiln" ] || fail "the host was not configured"
[ -e site/roots/one/etc/made ] || fail "the command did not run"
[ "$n" -ge 1 ] || fail "an apply that changed the host did not sync it"
grep -q 'CLONE_NEWNS' "$TMP/strace.txt" || fail "the command ran without a namespace (test premise)"
n=$(syncs)
expect_match err 'changed=0' "the second apply changed something"
[ "$n" -eq 0 ] || fail "an apply that changed nothing called syncfs $n times"
expect_no_match "$TMP/strace.txt" 'CLONE_NEWNS' "an apply that ran no command made a namespace"
exit 0
