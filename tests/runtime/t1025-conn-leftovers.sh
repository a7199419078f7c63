#!/bin/sh
# tests/runtime/t1025-conn-leftovers.sh: what a SIGKILLed kiln leaves in a rootfs is
# recognised and removed by a later connection, and nothing else is: a write's temporary
# file (.kiln- and 16 hex digits, held by no writer) goes at the next write into its
# directory, an old temporary symlink too; kiln's resolv.conf placeholder goes at the next
# close. A user's similarly named files, a temporary a live writer holds, a fresh symlink
# and a directory stay.
. "$(dirname "$0")/../lib/test-lib.sh"
. "$TOP/tests/runtime/lib-conn.sh"
need flock
holder=
trap 'if [ -n "$holder" ]; then kill -KILL "$holder" 2>/dev/null || true; fi; cd /; rm -rf "$TMP"' EXIT

E=$ROOT/etc
echo 'left by a kill' >"$E/.kiln-0123456789abcdef"
ln -s nowhere "$E/.kiln-2222222222222222"
touch -h -d '1 hour ago' "$E/.kiln-2222222222222222"
keep=".kiln-0123456789abcdeg .kiln-0123456789abcde .kiln-0123456789abcdef0 kiln-0123456789abcdef
.kiln-0123456789ABCDEF .kiln-held00000000000 x.kiln-0123456789abcdef"
for f in $keep; do
	echo "user $f" >"$E/$f"
done
mkdir "$E/.kiln-1111111111111111"
ln -s nowhere "$E/.kiln-3333333333333333"
echo 'being written' >"$E/.kiln-4444444444444444"
(exec 9<"$E/.kiln-4444444444444444" && flock 9 && exec sleep 300) >/dev/null 2>&1 &
holder=$!
sleep 0.3

ct "$ROOT" write /etc/hostname box
[ "$rc" -eq 0 ] || fail "the write failed: $(cat out)"
[ ! -e "$E/.kiln-0123456789abcdef" ] || fail "a killed write's temporary stayed"
[ ! -L "$E/.kiln-2222222222222222" ] || fail "an old temporary symlink stayed"
for f in $keep; do
	[ "$(cat "$E/$f")" = "user $f" ] || fail "a user's file was touched: $f"
done
[ -d "$E/.kiln-1111111111111111" ] || fail "a directory with a temporary's name was removed"
[ -L "$E/.kiln-3333333333333333" ] || fail "a fresh symlink was removed"
[ "$(cat "$E/.kiln-4444444444444444")" = 'being written' ] || fail "a held temporary was removed"
kill $holder
wait $holder 2>/dev/null || true
holder=

# kiln's resolv.conf placeholder, left by a SIGKILL, is recognised and taken away
if [ -f /etc/resolv.conf ]; then
	rm -f "$E/resolv.conf"
	# (the first command makes the namespace, and with it the placeholder)
	"$CONN_TEST" "$ROOT" exec -- true :: sleep 300 >out 2>err &
	pid=$!
	i=0
	until grep -q '^ready' out 2>/dev/null; do
		i=$((i + 1))
		[ $i -le 100 ] || { kill -9 $pid; fail "conn_test did not get ready"; }
		sleep 0.1
	done
	kill -9 $pid
	wait $pid 2>/dev/null || true
	[ -f "$E/resolv.conf" ] || fail "no placeholder resolv.conf after the kill (test premise)"
	ct "$ROOT" stat /etc/hostname
	[ ! -e "$E/resolv.conf" ] || fail "the next connection left kiln's resolv.conf: $(cat "$E/resolv.conf")"
	# a user's own resolv.conf, even an empty one, stays
	: >"$E/resolv.conf"
	ct "$ROOT" stat /etc/hostname
	[ -f "$E/resolv.conf" ] || fail "a user's empty resolv.conf was removed"
fi
say "ok: leftovers in a rootfs are removed, nothing else"
