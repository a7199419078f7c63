# tests/runtime/lib-sshd-many.sh: several real sshd, one per host, for the tests of kiln
# apply on many hosts (t122N-*.sh). Source after tests/lib/test-lib.sh, a library that
# sets $ROOT to a busybox rootfs, and lib-sshd.sh (its keys, passwd and shadow, and its
# way of confining sshd: see there). Host I gets its own root, $TMP/hosts/hI (a copy of
# $ROOT whose files are hard links: kiln replaces files by renaming, so a host's change
# stays its own; a file linked on purpose is shared by all, see many_shared), its own
# sshd on 127.0.0.1 and a free port, in its own mount namespace.
#
#   many_start N         start hosts 1..N; sets MANY_N; the host key of each port is in
#                        $SSH_KH; $TMP/hosts.ini lists them (h01..hNN, ansible_host,
#                        ansible_port)
#   many_port I          host I's port
#   many_root I          host I's root
#   many_stop I          kill host I's sshd and the sessions it started (SIGKILL)
#   many_restart I       start host I's sshd again, on the same port
#   many_stop_all        stop them all (also at exit)
#   many_shared PATH     make PATH (in $ROOT, before many_start) one file shared by every
#                        host's root (hard links), e.g. a log every host appends to

MANY_N=0

many_port()
{
	cat "$TMP/sshd-$1/port"
}

many_root()
{
	printf '%s/hosts/h%s' "$TMP" "$1"
}

many_shared()
{
	: >"$ROOT$1"
	chmod 666 "$ROOT$1"
}

# _many_run I PORT: start host I's sshd on PORT; 0 when it listens, 1 when the port is
# taken, fails the test otherwise.
_many_run()
{
	_d=$TMP/sshd-$1
	mkdir -p "$_d"
	sed -e "s|^Port .*|Port $2|" -e "s|^PidFile .*|PidFile $_d/sshd.pid|" \
		"$SSHD_DIR/sshd_config" >"$_d/sshd_config"
	unshare -m --propagation private sh -c '
		set -e
		mount --bind "$1" /mnt
		mount --bind "$2/passwd" /etc/passwd
		mount --bind "$2/shadow" /etc/shadow
		if [ ! -d /run/sshd ]; then
			mount -t tmpfs -o mode=0755 kiln-test-sshd /run
			mkdir -m 0755 /run/sshd
		fi
		exec /usr/sbin/sshd -D -e -f "$3/sshd_config"' sh "$(many_root "$1")" "$SSHD_DIR" "$_d" \
		>"$_d/log" 2>&1 &
	echo $! >"$_d/pid"
	echo "$2" >"$_d/port"
	_i=0
	while [ $_i -lt 100 ]; do
		_listening "$2" && return 0
		kill -0 "$(cat "$_d/pid")" 2>/dev/null || break
		_i=$((_i + 1))
		sleep 0.1
	done
	case $(cat "$_d/log") in
	*'Address already in use'*) return 1 ;;
	esac
	fail "sshd of host $1 did not start: $(cat "$_d/log")"
}

many_start()
{
	# the config of lib-sshd.sh, with the port and pid file of each host
	_sshd_config 0
	mkdir -p "$TMP/hosts"
	: >"$TMP/hosts.ini"
	_n=1
	while [ "$_n" -le "$1" ]; do
		_h=$(printf '%02d' "$_n")
		[ -d "$(many_root "$_n")" ] || cp -al "$ROOT" "$(many_root "$_n")"
		echo "h$_h" >"$(many_root "$_n")/etc/hostname.kiln-test"
		_ok=
		for _try in 1 2 3 4 5 6 7 8; do
			_p=$((20000 + $(od -An -N2 -tu2 /dev/urandom | tr -d ' ') % 40000))
			if _many_run "$_n" "$_p"; then
				_ok=1
				break
			fi
		done
		[ -n "$_ok" ] || fail "no free port for host $_n"
		printf '[127.0.0.1]:%s %s\n' "$_p" "$(cut -d' ' -f1,2 "$SSHD_DIR/host_ed25519.pub")" >>"$SSH_KH"
		printf 'h%s ansible_host=127.0.0.1 ansible_port=%s\n' "$_h" "$_p" >>"$TMP/hosts.ini"
		MANY_N=$_n
		_n=$((_n + 1))
	done
}

# _many_tree PID: PID and its descendants, from one reading of the process table (fast
# enough to kill a session in the middle of a task on a busy machine).
_many_tree()
{
	ps -e -o pid=,ppid= | awk -v root="$1" '
		{ kids[$2] = kids[$2] " " $1 }
		END {
			todo = root
			while (todo != "") {
				n = split(todo, a, " ")
				todo = ""
				for (i = 1; i <= n; i++) {
					print a[i]
					if (a[i] in kids) todo = todo kids[a[i]]
				}
			}
		}'
}

many_stop()
{
	_pidf=$TMP/sshd-$1/pid
	[ -s "$_pidf" ] || return 0
	_pid=$(cat "$_pidf")
	# SIGSTOP first: a session cannot end (or fork) while its tree is read
	_tree=$(_many_tree "$_pid")
	kill -STOP $_tree 2>/dev/null || true
	kill -KILL $(_many_tree "$_pid") $_tree 2>/dev/null || true
	wait "$_pid" 2>/dev/null || true
	: >"$_pidf"
}

many_restart()
{
	_many_run "$1" "$(many_port "$1")" || fail "the port of host $1 was taken meanwhile"
}

many_stop_all()
{
	_k=1
	while [ "$_k" -le "$MANY_N" ]; do
		many_stop "$_k"
		_k=$((_k + 1))
	done
}
