#!/bin/sh
# tests/runtime/t6198-apt-cache-valid-time-host.sh: apt's cache_valid_time on a live target
# (not an image): the lists' age is the mtime of /var/lib/apt/periodic/update-success-stamp,
# else of /var/lib/apt/lists, as Ansible's apt reads it; recent lists are not updated (the
# outcome says how old they are), older ones are; check mode says what apply does (the age
# is read with commands check mode runs). A busybox root with a stand-in apt-get that counts
# its updates.
. "$(dirname "$0")/../lib/test-lib.sh"
. "$TOP/tests/runtime/lib-mod.sh"
make_rootfs "$ROOT"
mkdir -p "$ROOT/usr/bin" "$ROOT/var/lib/apt/lists/partial" "$ROOT/var/lib/apt/periodic"
cat >"$ROOT/usr/bin/apt-get" <<'SH'
#!/bin/sh
case $1 in
update)
	echo x >>/var/lib/apt/updates
	# new lists under a new name (busybox has no cksum: kiln tells a change by the names)
	rm -f /var/lib/apt/lists/*_Packages
	echo 'Package: x' >/var/lib/apt/lists/deb.example_dists_x_$(wc -l </var/lib/apt/updates)_Packages
	touch /var/lib/apt/periodic/update-success-stamp ;;
*) exit 100 ;;
esac
SH
chmod 755 "$ROOT/usr/bin/apt-get"
echo 'Origin: x' >"$ROOT/var/lib/apt/lists/deb.example_dists_x_Release"
updates()
{
	[ -f "$ROOT/var/lib/apt/updates" ] && wc -l <"$ROOT/var/lib/apt/updates" | tr -d ' ' || echo 0
}
A='{"update_cache":true,"cache_valid_time":3600}'

# a recent stamp: check and apply both leave the lists
touch "$ROOT/var/lib/apt/periodic/update-success-stamp"
mod --check apt "$A"
expect_status ok
echo "$msg" | grep -Eq '^package lists are [0-9]+ s old: not updated$' || fail "check: $msg"
mod apt "$A"
expect_status ok
echo "$msg" | grep -Eq '^package lists are [0-9]+ s old: not updated$' || fail "apply: $msg"
[ "$(updates)" = 0 ] || fail "recent lists were updated"

# cache_valid_time alone implies update_cache
mod apt '{"cache_valid_time":3600}'
expect_status ok
[ "$(updates)" = 0 ] || fail "recent lists were updated (cache_valid_time alone)"

# a stamp two hours old: check says it would update, apply does
touch -d '@'$(($(date +%s) - 7200)) "$ROOT/var/lib/apt/periodic/update-success-stamp"
mod --check apt "$A"
expect_status changed
echo "$msg" | grep -q 'package lists updated' || fail "check of old lists: $msg"
[ "$(updates)" = 0 ] || fail "check mode updated"
mod apt "$A"
expect_status changed
[ "$(updates)" = 1 ] || fail "old lists were not updated ($(updates))"
# now recent (apt-get update touched the stamp)
mod apt "$A"
expect_status ok
[ "$(updates)" = 1 ] || fail "lists just updated were updated again"

# no stamp: the lists directory's mtime
rm "$ROOT/var/lib/apt/periodic/update-success-stamp"
touch -d '@'$(($(date +%s) - 7200)) "$ROOT/var/lib/apt/lists"
mod --check apt "$A"
expect_status changed
mod apt "$A"
expect_status changed
[ "$(updates)" = 2 ] || fail "old lists (directory's mtime) were not updated ($(updates))"
rm "$ROOT/var/lib/apt/periodic/update-success-stamp"
touch "$ROOT/var/lib/apt/lists"
mod --check apt "$A"
expect_status ok
mod apt "$A"
expect_status ok
[ "$(updates)" = 2 ] || fail "recent lists (directory's mtime) were updated"

# no lists at all: updated whatever the stamp says
rm -f "$ROOT/var/lib/apt/lists/"*Release "$ROOT/var/lib/apt/lists/"*Packages
touch "$ROOT/var/lib/apt/periodic/update-success-stamp"
mod apt "$A"
expect_status changed
[ "$(updates)" = 3 ] || fail "missing lists were not updated"

# without cache_valid_time: always
mod apt '{"update_cache":true}'
[ "$(updates)" = 4 ] || fail "update_cache alone did not update"

# a negative value: a clear error
mod apt '{"update_cache":true,"cache_valid_time":-1}'
expect_status failed
echo "$msg" | grep -q cache_valid_time || fail "the error does not name cache_valid_time: $msg"
say "ok: cache_valid_time on a live target"
