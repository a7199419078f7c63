#!/bin/sh
# tests/runtime/t1202-ssh-host-keys.sh: host keys over SSH (conn_ssh.c against a real sshd):
# a key that is not in known_hosts is refused with its fingerprint and what to do; with
# the opt-in (accept_new, kiln's --accept-new-host-keys) it is added and then known; a key
# that changed is refused always, opt-in or not, naming both fingerprints.
. "$(dirname "$0")/../lib/test-lib.sh"
. "$TOP/tests/runtime/lib-conn.sh"
. "$TOP/tests/runtime/lib-sshd.sh"
sshd_start
fp=$(ssh-keygen -lf "$SSHD_DIR/host_ed25519.pub" | cut -d' ' -f2)

# Unknown: an empty known_hosts, and one that does not exist.
kh=$TMP/kh-empty
: >"$kh"
ct -s -i "$SSH_KEY" -k "$kh" "$SSH_TARGET" stat /
expect_rc 1
# (fingerprints hold + and /: compared as fixed strings)
grep -qxF "error ENOKEY the host key of root@127.0.0.1:$SSHD_PORT (ssh-ed25519 $fp) is unknown: it is not in $kh; check it and add it there, or pass --accept-new-host-keys" out ||
	fail "unknown host key: $(cat out)"
[ ! -s "$kh" ] || fail "a refused key was written to known_hosts"
ct -s -i "$SSH_KEY" -k "$TMP/nothing/kh" "$SSH_TARGET" stat /
expect_rc 1
expect_out "^error ENOKEY .* is unknown"

# Accepted with the opt-in, added, then known without it.
ct -s -a -i "$SSH_KEY" -k "$kh" "$SSH_TARGET" stat /
expect_rc 0
expect_out '^exists 1 type dir '
grep -q "^\[127.0.0.1\]:$SSHD_PORT ssh-ed25519 " "$kh" || fail "the accepted key was not added: $(cat "$kh")"
ct -s -i "$SSH_KEY" -k "$kh" "$SSH_TARGET" stat /
expect_rc 0

# Changed: known_hosts holds another key for this host; refused even with the opt-in.
ssh-keygen -q -t ed25519 -N '' -f "$TMP/other" || fail "ssh-keygen failed"
old=$(ssh-keygen -lf "$TMP/other.pub" | cut -d' ' -f2)
printf '[127.0.0.1]:%s %s\n' "$SSHD_PORT" "$(cut -d' ' -f1,2 "$TMP/other.pub")" >"$TMP/kh-changed"
cp "$TMP/kh-changed" "$TMP/kh-changed.orig"
for opt in -s "-s -a"; do
	ct $opt -i "$SSH_KEY" -k "$TMP/kh-changed" "$SSH_TARGET" write /etc/changed x
	expect_rc 1
	grep -qF "error EKEYREJECTED the host key of root@127.0.0.1:$SSHD_PORT has changed: $TMP/kh-changed holds $old, the host now offers ssh-ed25519 $fp; refusing to connect" out ||
		fail "changed host key ($opt): $(cat out)"
	expect_out "ssh-keygen -R '\[127.0.0.1\]:$SSHD_PORT' -f $TMP/kh-changed\)$"
	cmp -s "$TMP/kh-changed" "$TMP/kh-changed.orig" || fail "known_hosts was changed ($opt)"
	[ ! -e "$ROOT/etc/changed" ] || fail "a host with a changed key was written to ($opt)"
done
