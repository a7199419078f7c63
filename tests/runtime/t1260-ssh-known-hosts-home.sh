#!/bin/sh
# tests/runtime/t1260-ssh-known-hosts-home.sh: the default known_hosts is ~/.ssh/known_hosts
# with ~ the one rule of docs/language.md: $HOME when set and not empty, else the home of
# the password file. kiln's own check, libssh's and the file an accepted key goes to are
# that one file, whatever the other home holds. Against a real sshd (lib-sshd.sh), with
# kiln run; kiln runs in a mount namespace of its own in which the password file's home
# ($PWHOME, /root) is a tmpfs of this test's, so the machine's is never read or written:
#   - HOME's file holds the right key, the password file's home a wrong one: connects;
#   - HOME's file holds a wrong key, the password file's home the right one: refused, the
#     error names HOME's file and the key it holds;
#   - HOME unset, or empty: the password file's home is used;
#   - kiln run's --known-hosts, and a host's known_hosts (~/ is HOME too), still win;
#   - --accept-new-host-keys adds the key to HOME's file, never to the other home.
. "$(dirname "$0")/../lib/test-lib.sh"
. "$TOP/tests/runtime/lib-apply.sh"
ROOT=$TMP/root
sh "$TOP/tests/lib/busybox-rootfs.sh" "$ROOT" >/dev/null || skip "no busybox-static"
. "$TOP/tests/runtime/lib-sshd.sh"
trap 'sshd_stop; _apply_cleanup' EXIT
command -v getent >/dev/null 2>&1 || skip "needs getent"
PWHOME=$(getent passwd "$(id -u)" | cut -d: -f6)
case $PWHOME in
/?*) [ -d "$PWHOME" ] || skip "the password file's home $PWHOME does not exist" ;;
*) skip "no home in the password file for uid $(id -u)" ;;
esac
sshd_start
fp=$(ssh-keygen -lf "$SSHD_DIR/host_ed25519.pub" | cut -d' ' -f2)
ssh-keygen -q -t ed25519 -N '' -f "$TMP/other" || fail "ssh-keygen failed"
otherfp=$(ssh-keygen -lf "$TMP/other.pub" | cut -d' ' -f2)
printf '[127.0.0.1]:%s %s\n' "$SSHD_PORT" "$(cut -d' ' -f1,2 "$TMP/other.pub")" >"$TMP/kh-wrong"
cp "$SSH_KH" "$TMP/kh-right"

mkdir -p local
cat >local/hosts.ini <<EOF2
[web]
127.0.0.1 ansible_port=$SSHD_PORT ansible_user=root ansible_ssh_private_key_file=$SSH_KEY
EOF2
cat >local/site.img <<EOF2
hosts web {
  "127.0.0.1" { port = $SSHD_PORT, user = "root", identity_file = "$SSH_KEY", known_hosts = "~/the-right-one" }
}
apply web {
  command "touch /etc/reached" {}
}
EOF2

# kiln, with $PWHOME a tmpfs whose .ssh/known_hosts is a copy of $PW_KH (none: no file);
# what $PWHOME/.ssh holds afterwards is copied to $TMP/pwhome-after
REAL_KILN=$KILN
cat >"$TMP/kiln-pwhome" <<'EOF2'
#!/bin/sh
exec unshare -m --propagation private sh -c '
	mount -t tmpfs -o mode=0700 kiln-t1260 "$PWHOME" || exit 125
	mkdir -p "$PWHOME/.ssh"
	[ -z "$PW_KH" ] || cp "$PW_KH" "$PWHOME/.ssh/known_hosts"
	rc=0
	"$@" || rc=$?
	rm -rf "$TMP/pwhome-after"
	cp -a "$PWHOME/.ssh" "$TMP/pwhome-after"
	exit $rc' sh "$@"
EOF2
chmod +x "$TMP/kiln-pwhome"
KILN="$TMP/kiln-pwhome $REAL_KILN"
export PWHOME TMP

# kh_home DIR FILE: DIR as a home whose .ssh/known_hosts is a copy of FILE (none: empty)
kh_home()
{
	rm -rf "$1"
	mkdir -p "$1/.ssh"
	[ -z "$2" ] || cp "$2" "$1/.ssh/known_hosts"
}

krun()
{
	run_kiln_in local run "$@" -m command -a 'touch /etc/reached'
}
reached()
{
	[ -e "$ROOT/etc/reached" ] || fail "$1: the host was not reached: $(cat out err)"
	rm -f "$ROOT/etc/reached"
}

# HOME right, the password file's home wrong: HOME's file is the one
kh_home "$TMP/h-right" "$TMP/kh-right"
HOME=$TMP/h-right PW_KH=$TMP/kh-wrong
export HOME PW_KH
krun web -i hosts.ini
expect_rc 0
reached "HOME holds the key"

# HOME wrong, the password file's home right: refused, naming HOME's file and its key
kh_home "$TMP/h-wrong" "$TMP/kh-wrong"
HOME=$TMP/h-wrong PW_KH=$TMP/kh-right
krun web -i hosts.ini
[ "$rc" -ne 0 ] || fail "a key that differs from HOME's known_hosts was accepted"
[ ! -e "$ROOT/etc/reached" ] || fail "the host was reached with a changed key"
grep -qF "has changed: $TMP/h-wrong/.ssh/known_hosts holds $otherfp, the host now offers ssh-ed25519 $fp" out err ||
	fail "the refusal does not name HOME's known_hosts and its key: $(cat out err)"

# HOME unset, then empty: the password file's home
unset HOME
krun web -i hosts.ini
expect_rc 0
reached "HOME unset"
HOME=
export HOME
krun web -i hosts.ini
expect_rc 0
reached "HOME empty"
PW_KH=$TMP/kh-wrong
krun web -i hosts.ini
[ "$rc" -ne 0 ] || fail "HOME empty: a key that differs from the password file's home's was accepted"
grep -qF "has changed: $PWHOME/.ssh/known_hosts holds $otherfp" out err ||
	fail "HOME empty: the refusal does not name $PWHOME/.ssh/known_hosts: $(cat out err)"

# --known-hosts and an inventory's known_hosts win over both homes
HOME=$TMP/h-wrong
export HOME
krun web -i hosts.ini --known-hosts="$TMP/kh-right"
expect_rc 0
reached "--known-hosts"
cp "$TMP/kh-right" "$TMP/h-wrong/the-right-one"
kapply local/site.img
expect_rc 0
reached "a host's known_hosts = \"~/the-right-one\""

# an accepted key goes to HOME's file
kh_home "$TMP/h-new" ""
HOME=$TMP/h-new PW_KH=
krun web -i hosts.ini --accept-new-host-keys
expect_rc 0
reached "--accept-new-host-keys"
grep -q "^\[127.0.0.1\]:$SSHD_PORT ssh-ed25519 " "$TMP/h-new/.ssh/known_hosts" ||
	fail "the accepted key is not in HOME's known_hosts"
[ ! -s "$TMP/pwhome-after/known_hosts" ] ||
	fail "the accepted key went to the password file's home: $(cat "$TMP/pwhome-after/known_hosts")"
krun web -i hosts.ini
expect_rc 0
reached "the accepted key, known"
say "ok"
