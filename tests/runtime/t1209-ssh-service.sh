#!/bin/sh
# tests/runtime/t1209-ssh-service.sh: the service module on a live host over SSH (a real sshd
# chrooted into the test's busybox rootfs, lib-sshd.sh). The host has no systemd, so the
# module uses its init script: /etc/init.d/benchd, a real one that runs busybox's httpd in
# the background with a pid file. started starts it (the page answers from this machine),
# a second started changes nothing (the script's status says it runs), restarted always
# acts (a new pid), stopped stops it and a second stopped changes nothing; check mode only
# asks the status (and looks for the rcN.d links of enabled). In an image build the state is skipped and nothing starts. A service
# without an init script, on a host without 'service', fails with a clear message.
. "$(dirname "$0")/../lib/test-lib.sh"
. "$TOP/tests/runtime/lib-mod.sh"
make_rootfs "$ROOT"
. "$TOP/tests/runtime/lib-sshd.sh"
need_httpd()
{
	"$ROOT/bin/busybox" --list | grep -qx httpd || skip "this busybox has no httpd applet"
}
need_httpd

# a free port for httpd
for _try in 1 2 3 4 5 6 7 8 9 10; do
	WEB_PORT=$((20000 + $(od -An -N2 -tu2 /dev/urandom | tr -d ' ') % 40000))
	_listening "$WEB_PORT" || break
done
PIDFILE=$ROOT/run/benchd.pid
stop_daemon()
{
	[ -s "$PIDFILE" ] && kill "$(cat "$PIDFILE")" 2>/dev/null || true
}
trap 'stop_daemon; sshd_stop; cd /; rm -rf "$TMP"' EXIT

mkdir -p "$ROOT/etc/init.d" "$ROOT/srv/www" "$ROOT/var/log"
echo "served by benchd" >"$ROOT/srv/www/index.html"
cat >"$ROOT/etc/init.d/benchd" <<EOF2
#!/bin/sh
# benchd: busybox httpd on 127.0.0.1:$WEB_PORT
PIDFILE=/run/benchd.pid
running() { [ -s "\$PIDFILE" ] && kill -0 "\$(cat "\$PIDFILE")" 2>/dev/null; }
case "\$1" in
start)
	running && exit 0
	httpd -f -p 127.0.0.1:$WEB_PORT -h /srv/www </etc/os-release >>/var/log/benchd.log 2>&1 &
	echo \$! >"\$PIDFILE"
	echo start >>/var/log/benchd.actions
	;;
stop)
	if running; then
		pid=\$(cat "\$PIDFILE")
		kill "\$pid"
		i=0
		while [ \$i -lt 50 ] && kill -0 "\$pid" 2>/dev/null; do sleep 0.1; i=\$((i + 1)); done
	fi
	rm -f "\$PIDFILE"
	echo stop >>/var/log/benchd.actions
	;;
restart)
	"\$0" stop && "\$0" start
	;;
status)
	running
	;;
*)
	echo "usage: \$0 start|stop|restart|status" >&2
	exit 3
	;;
esac
EOF2
chmod 755 "$ROOT/etc/init.d/benchd"

sshd_start
MOD_TEST="$MOD_TEST --ssh $SSH_TARGET --ssh-key $SSH_KEY --known-hosts $SSH_KH"

daemon_pid()
{
	[ -s "$PIDFILE" ] && cat "$PIDFILE"
}
daemon_runs()
{
	_p=$(daemon_pid) || return 1
	kill -0 "$_p" 2>/dev/null
}
page()
{
	_i=0
	while [ $_i -lt 50 ]; do
		_b=$(busybox wget -q -O - "http://127.0.0.1:$WEB_PORT/index.html" 2>/dev/null) &&
			{ echo "$_b"; return 0; }
		sleep 0.1
		_i=$((_i + 1))
	done
	return 1
}
actions()
{
	cat "$ROOT/var/log/benchd.actions" 2>/dev/null | tr '\n' ' '
}

# check mode: asks the status, starts nothing
mod --check service '{"name":"benchd","state":"started"}'
expect_status changed
! daemon_runs || fail "check mode started the service"
[ -z "$(actions)" ] || fail "check mode ran the script's start: $(actions)"

# check mode, enabled on a host without systemd: the rcN.d links are looked at (by find),
# nothing is run that check mode refuses
mod --check service '{"name":"benchd","enabled":true}'
expect_status changed
case $msg in
*'check mode: the module tried'*) fail "enabled tried to change the host in check mode: $msg" ;;
esac

# an image build: the state is not applied
mod --in-image service '{"name":"benchd","state":"started"}'
expect_status skipped
! daemon_runs || fail "an image build started the service"

mod service '{"name":"benchd","state":"started"}'
expect_status changed
[ "$(res_field conn)" = ssh ] || fail "the module did not run over ssh"
daemon_runs || fail "started did not start the service: $msg"
[ "$(page)" = "served by benchd" ] || fail "the service started but does not answer"
pid1=$(daemon_pid)

mod service '{"name":"benchd","state":"started"}'
expect_status ok
[ "$(daemon_pid)" = "$pid1" ] || fail "a second started restarted the service"
[ "$(actions)" = "start " ] || fail "a second started ran the script: $(actions)"

mod service '{"name":"benchd.service","state":"restarted"}'
expect_status changed
daemon_runs || fail "restarted left the service stopped"
[ "$(daemon_pid)" != "$pid1" ] || fail "restarted kept the old process"
[ "$(page)" = "served by benchd" ] || fail "the restarted service does not answer"
pid2=$(daemon_pid)

mod --check service '{"name":"benchd","state":"stopped"}'
expect_status changed
[ "$(daemon_pid)" = "$pid2" ] && daemon_runs || fail "check mode stopped the service"

mod service '{"name":"benchd","state":"stopped"}'
expect_status changed
! kill -0 "$pid2" 2>/dev/null || fail "stopped left the process running"
mod service '{"name":"benchd","state":"stopped"}'
expect_status ok
[ "$(actions)" = "start stop start stop " ] || fail "the script's actions: $(actions)"

# no systemd, no init script, no 'service' command on the host
mod service '{"name":"nosuch","state":"started"}'
expect_status failed
case $msg in
*"does not run systemd, has no /etc/init.d/nosuch and no 'service' command"*) ;;
*) fail "no clear error for a service the host cannot run: $msg" ;;
esac
