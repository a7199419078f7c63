# tests/runtime/lib-sshd.sh: a real OpenSSH server (Debian's openssh-server) for the ssh
# tests t12NN-*.sh, sourced after tests/lib/test-lib.sh and a library that sets $ROOT to a
# busybox rootfs in $TMP (lib-conn.sh or lib-mod.sh + make_rootfs).
#
# How the target stays confined. The tests log in as root, so a module over ssh acting on
# this machine's / would change its real /etc. It cannot: sshd runs in a mount namespace of
# its own (unshare -m, private propagation) in which
#   - $ROOT is bind-mounted on /mnt and sshd_config says ChrootDirectory /mnt, so every
#     session, exec channels (busybox's /bin/sh) and SFTP (internal-sftp) alike, sees only
#     $ROOT as its /. (ChrootDirectory wants each component of its path owned by root and
#     not writable by others; $TMP under /tmp is not, hence /mnt.)
#   - /etc/passwd and /etc/shadow are bind-mounted copies from $SSHD_DIR in which root's
#     shell is /bin/sh (busybox has no bash) and root's password is $SSHD_PASSWORD, so a
#     password login can be tried; the machine's own files are read once, never written.
#   - /run is a fresh tmpfs when the machine has no /run/sshd (privilege separation).
# The mounts exist only in that namespace and end with sshd. Keys, config, pid file and
# log live in $SSHD_DIR under $TMP; sshd reads no system config (-f) and never /etc/ssh.
# Tests compare what they did against $ROOT from outside.
#
#   sshd_start          start sshd on 127.0.0.1 and a free port; sets SSHD_PORT, SSHD_PID,
#                       SSH_TARGET (root@127.0.0.1:PORT); the host key is in SSH_KH
#   sshd_stop           kill sshd and the session processes it started (also at exit)
#   sshd_sessions       the pids of sshd's session processes (its descendants)
#   SSH_KEY             the client's private key (ed25519), authorised for root
#   SSH_KH              a known_hosts file that holds the server's key
#   cts ARGS...         ct -s -i $SSH_KEY -k $SSH_KH $SSH_TARGET ARGS... (see lib-conn.sh)

[ "$(id -u)" -eq 0 ] || skip "the sshd harness needs root (mount namespace, chroot)"
[ -x /usr/sbin/sshd ] || skip "needs /usr/sbin/sshd (apt-get install openssh-server)"
command -v ssh-keygen >/dev/null 2>&1 || skip "needs ssh-keygen (openssh-client)"
command -v unshare >/dev/null 2>&1 || skip "needs unshare (util-linux)"
command -v openssl >/dev/null 2>&1 || skip "needs openssl (a password hash)"
[ -d /mnt ] || skip "needs an empty /mnt to mount the target on inside sshd's namespace"

SSHD_DIR=$TMP/sshd
SSHD_PASSWORD=kiln-test-$$-secret
SSHD_PID=
mkdir -p "$SSHD_DIR"
chmod 700 "$SSHD_DIR"
ssh-keygen -q -t ed25519 -N '' -C kiln-test-host -f "$SSHD_DIR/host_ed25519" ||
	fail "ssh-keygen (host key) failed"
ssh-keygen -q -t ed25519 -N '' -C kiln-test-client -f "$SSHD_DIR/client_ed25519" ||
	fail "ssh-keygen (client key) failed"
cp "$SSHD_DIR/client_ed25519.pub" "$SSHD_DIR/authorized_keys"
SSH_KEY=$SSHD_DIR/client_ed25519
SSH_KH=$SSHD_DIR/known_hosts

# passwd and shadow for sshd's namespace: root with /bin/sh and a known password
_hash=$(openssl passwd -6 "$SSHD_PASSWORD")
awk -F: -v OFS=: '$1 == "root" { $7 = "/bin/sh" } { print }' /etc/passwd >"$SSHD_DIR/passwd"
if [ -r /etc/shadow ]; then
	awk -F: -v OFS=: -v h="$_hash" '$1 == "root" { $2 = h } { print }' /etc/shadow \
		>"$SSHD_DIR/shadow"
else
	printf 'root:%s:19000:0:99999:7:::\n' "$_hash" >"$SSHD_DIR/shadow"
fi
grep -q '^root:' "$SSHD_DIR/shadow" || printf 'root:%s:19000:0:99999:7:::\n' "$_hash" \
	>>"$SSHD_DIR/shadow"
chmod 644 "$SSHD_DIR/passwd"
chmod 640 "$SSHD_DIR/shadow"

# The descendants of a pid, deepest first.
_descendants()
{
	for _s in /proc/[0-9]*/stat; do
		_line=$(cat "$_s" 2>/dev/null) || continue
		_rest=${_line##*) }
		set -- $_rest
		if [ "$2" = "$_parent" ]; then
			_p=${_s#/proc/}
			echo "${_p%/stat}"
		fi
	done
}

sshd_sessions()
{
	[ -n "$SSHD_PID" ] || return 0
	_todo=$SSHD_PID
	while [ -n "$_todo" ]; do
		_next=
		for _parent in $_todo; do
			for _c in $(_descendants); do
				echo "$_c"
				_next="$_next $_c"
			done
		done
		_todo=$_next
	done
}

sshd_stop()
{
	[ -n "$SSHD_PID" ] || return 0
	_kids=$(sshd_sessions)
	kill -9 "$SSHD_PID" $_kids 2>/dev/null || true
	wait "$SSHD_PID" 2>/dev/null || true
	SSHD_PID=
}

_sshd_config()
{
	cat >"$SSHD_DIR/sshd_config" <<EOF
ListenAddress 127.0.0.1
Port $1
HostKey $SSHD_DIR/host_ed25519
PidFile $SSHD_DIR/sshd.pid
AuthorizedKeysFile $SSHD_DIR/authorized_keys
StrictModes no
UsePAM no
PermitRootLogin yes
PubkeyAuthentication yes
PasswordAuthentication yes
KbdInteractiveAuthentication no
ChrootDirectory /mnt
Subsystem sftp internal-sftp
UseDNS no
MaxStartups 100
MaxSessions 100
LogLevel ${SSHD_LOGLEVEL:-INFO}
EOF
}

# Whether something listens on 127.0.0.1:PORT (/proc/net/tcp: local address, state 0A).
_listening()
{
	awk -v a="$(printf '0100007F:%04X' "$1")" '$2 == a && $4 == "0A" { f = 1 } END { exit !f }' \
		/proc/net/tcp
}

sshd_start()
{
	[ -d "$ROOT/bin" ] || fail "sshd_start: no rootfs in \$ROOT ($ROOT)"
	for _try in 1 2 3 4 5 6 7 8; do
		SSHD_PORT=$((20000 + $(od -An -N2 -tu2 /dev/urandom | tr -d ' ') % 40000))
		_sshd_config "$SSHD_PORT"
		unshare -m --propagation private sh -c '
			set -e
			mount --bind "$1" /mnt
			mount --bind "$2/passwd" /etc/passwd
			mount --bind "$2/shadow" /etc/shadow
			if [ ! -d /run/sshd ]; then
				mount -t tmpfs -o mode=0755 kiln-test-sshd /run
				mkdir -m 0755 /run/sshd
			fi
			exec /usr/sbin/sshd -D -e -f "$2/sshd_config"' sh "$ROOT" "$SSHD_DIR" \
			>"$SSHD_DIR/log" 2>&1 &
		SSHD_PID=$!
		_i=0
		while [ $_i -lt 100 ]; do
			if _listening "$SSHD_PORT"; then
				printf '[127.0.0.1]:%s %s\n' "$SSHD_PORT" \
					"$(cut -d' ' -f1,2 "$SSHD_DIR/host_ed25519.pub")" >"$SSH_KH"
				SSH_TARGET=root@127.0.0.1:$SSHD_PORT
				return 0
			fi
			kill -0 "$SSHD_PID" 2>/dev/null || break
			_i=$((_i + 1))
			sleep 0.1
		done
		_log=$(cat "$SSHD_DIR/log")
		sshd_stop
		case $_log in
		*'Address already in use'*) continue ;;
		esac
		fail "sshd did not start: $_log"
	done
	fail "sshd found no free port"
}

cts()
{
	ct -s -i "$SSH_KEY" -k "$SSH_KH" "$SSH_TARGET" "$@"
}

trap 'sshd_stop; cd /; rm -rf "$TMP"' EXIT
