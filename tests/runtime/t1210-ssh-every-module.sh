#!/bin/sh
# tests/runtime/t1210-ssh-every-module.sh: kiln apply runs every module over SSH (a real
# sshd chrooted into the test's busybox rootfs, lib-sshd.sh): command, shell, file, copy,
# template, lineinfile, user, group and service (an init script with a pid file: the host
# has no systemd) in one apply block, applied twice: the first run changes every task, the
# second none. Facts come from the host in one command (its host name, kernel, distribution
# and architecture, written into a file), and the idempotent run opens one exec channel
# for the facts and one for the service's status, nothing else: its checks go over the one
# SFTP session (sshd's log, LogLevel VERBOSE, names every session). A run in which no task
# reads a fact runs no command at all. apt on a host without
# apt-get fails with a clear message (the full apt-over-SSH run needs a Debian tree: t1109
# covers apt itself on a debootstrapped rootfs).
. "$(dirname "$0")/../lib/test-lib.sh"
. "$TOP/tests/runtime/lib-apply.sh"
ROOT=$TMP/root
sh "$TOP/tests/lib/busybox-rootfs.sh" "$ROOT" >/dev/null || skip "no busybox-static"
SSHD_LOGLEVEL=VERBOSE
. "$TOP/tests/runtime/lib-sshd.sh"
PIDFILE=$ROOT/run/sleeper.pid
trap '[ -s "$PIDFILE" ] && kill "$(cat "$PIDFILE")" 2>/dev/null; sshd_stop; _apply_cleanup' EXIT

mkdir -p "$ROOT/etc/init.d" "$ROOT/var/log"
cat >"$ROOT/etc/init.d/sleeper" <<'EOF2'
#!/bin/sh
PIDFILE=/run/sleeper.pid
running() { [ -s "$PIDFILE" ] && kill -0 "$(cat "$PIDFILE")" 2>/dev/null; }
case "$1" in
start) running || { sleep 100000 </etc/os-release >>/var/log/sleeper.log 2>&1 & echo $! >"$PIDFILE"; } ;;
stop) running && kill "$(cat "$PIDFILE")"; rm -f "$PIDFILE" ;;
restart) "$0" stop; "$0" start ;;
status) running ;;
*) exit 3 ;;
esac
EOF2
chmod 755 "$ROOT/etc/init.d/sleeper"
sshd_start

mkdir -p site/files/app/sub site/templates
echo one >site/files/app/a.txt
echo deep >site/files/app/sub/b.txt
cat >site/templates/app.conf.tmpl <<'EOF2'
# app.conf, written by kiln
listen {{ port }}
{% for b in backends %}
backend {{ b }}
{% endfor %}
EOF2
printf 'a\n#PermitRootLogin yes\nb\n' >"$ROOT/etc/sshd.conf"
cat >site/all.img <<EOF2
param port: int = 8080
let backends = ["10.0.0.1", "10.0.0.2"]
hosts web {
  "127.0.0.1" {
    port = $SSHD_PORT
    user = "root"
    identity_file = "$SSH_KEY"
    known_hosts = "$SSH_KH"
  }
}

apply web {
  group "web" { gid = 2000 }
  user "deploy" { uid = 2001, group = "web", home = "/home/deploy", shell = "/bin/sh" }
  file "/srv/app" { state = directory, mode = 0750, owner = "deploy", group = "web" }
  file "/etc/motd" { content = "hello over ssh\n", mode = 0640 }
  file "/etc/motd.link" { src = "/etc/motd", state = link }
  file "/etc/facts" {
    content = "\${facts.hostname} \${facts.kernel} \${facts.os.distribution} \${facts.arch}\n"
  }
  copy "/srv/app/files" { src = "files/app/", owner = "deploy" }
  template "/etc/app.conf" {
    src = "templates/app.conf.tmpl"
  }
  lineinfile "/etc/sshd.conf" { regexp = "^#?PermitRootLogin", line = "PermitRootLogin no" }
  command "touch /srv/app/stamp" { creates = "/srv/app/stamp" }
  shell "echo \"\$(id -u) \$PWD\" > /srv/app/shell.out" { creates = "/srv/app/shell.out", chdir = "/etc" }
  service "sleeper" { state = started }
}
EOF2
sessions()
{
	grep -c 'Starting session: command' "$SSHD_DIR/log" || true
}

kapply site/all.img
expect_rc 0
expect_match err '^127\.0\.0\.1 +: ok=0 +changed=12 +failed=0 +skipped=0 +unreachable=0 ' "first recap"
grep -q '^web:x:2000:' "$ROOT/etc/group" || fail "group"
grep -q '^deploy:x:2001:2000:' "$ROOT/etc/passwd" || fail "user"
[ "$(stat -c '%a %u %g' "$ROOT/srv/app")" = "750 2001 2000" ] || fail "directory: $(stat -c '%a %u %g' "$ROOT/srv/app")"
[ "$(cat "$ROOT/etc/motd")" = "hello over ssh" ] && [ "$(stat -c %a "$ROOT/etc/motd")" = 640 ] || fail "file"
[ "$(readlink "$ROOT/etc/motd.link")" = /etc/motd ] || fail "link"
[ "$(cat "$ROOT/srv/app/files/sub/b.txt")" = deep ] && [ "$(stat -c %u "$ROOT/srv/app/files/a.txt")" = 2001 ] || fail "copy"
[ "$(cat "$ROOT/etc/app.conf")" = "$(printf '# app.conf, written by kiln\nlisten 8080\nbackend 10.0.0.1\nbackend 10.0.0.2')" ] ||
	fail "template: $(cat "$ROOT/etc/app.conf")"
[ "$(cat "$ROOT/etc/sshd.conf")" = "$(printf 'a\nPermitRootLogin no\nb')" ] || fail "lineinfile"
[ -e "$ROOT/srv/app/stamp" ] || fail "command"
[ "$(cat "$ROOT/srv/app/shell.out")" = "0 /etc" ] || fail "shell: $(cat "$ROOT/srv/app/shell.out")"
[ -s "$PIDFILE" ] && kill -0 "$(cat "$PIDFILE")" || fail "service: not started"
pid=$(cat "$PIDFILE")
# the facts are the host's (here this machine's kernel and name, the rootfs's os-release)
[ "$(cat "$ROOT/etc/facts")" = "$(uname -n) $(uname -r) busybox $(dpkg --print-architecture 2>/dev/null || echo amd64)" ] ||
	fail "facts over ssh: $(cat "$ROOT/etc/facts")"
[ ! -e /etc/app.conf ] && ! grep -q '^deploy:' /etc/passwd || fail "this machine's /etc was written"

before=$(sessions)
kapply site/all.img
expect_rc 0
expect_match err '^127\.0\.0\.1 +: ok=12 +changed=0 +failed=0 +skipped=0 +unreachable=0 ' "second recap"
[ "$(cat "$PIDFILE")" = "$pid" ] || fail "a second apply restarted the service"
n=$(($(sessions) - before))
[ "$n" -eq 2 ] || fail "the idempotent apply opened $n exec channels (facts and the service status are 2): $(grep 'Starting session' "$SSHD_DIR/log" | tail -n 20)"

# no task reads a fact: no command runs at all (facts are gathered when first needed)
cat >site/files.img <<EOF2
hosts web { "127.0.0.1" { port = $SSHD_PORT, user = "root", identity_file = "$SSH_KEY", known_hosts = "$SSH_KH" } }
apply web {
  file "/etc/motd" { content = "hello over ssh\n", mode = 0640 }
  lineinfile "/etc/sshd.conf" { line = "PermitRootLogin no" }
  file "/etc/skipped" {
    content = "x\n"
    when facts.os.distribution == "debian"
  }
}
EOF2
before=$(sessions)
kapply site/files.img
expect_rc 0
expect_match err '^127\.0\.0\.1 +: ok=2 +changed=0 +failed=0 +skipped=1 ' "recap of a run with a condition on a fact"
[ ! -e "$ROOT/etc/skipped" ] || fail "a condition on a fact did not hold the task back"
n=$(($(sessions) - before))
[ "$n" -eq 1 ] || fail "a run whose only fact is in a condition opened $n exec channels, not 1"
cat >site/files.img <<EOF2
hosts web { "127.0.0.1" { port = $SSHD_PORT, user = "root", identity_file = "$SSH_KEY", known_hosts = "$SSH_KH" } }
apply web {
  file "/etc/motd" { content = "hello over ssh\n", mode = 0640 }
  lineinfile "/etc/sshd.conf" { line = "PermitRootLogin no" }
}
EOF2
before=$(sessions)
kapply site/files.img
expect_rc 0
expect_match err '^127\.0\.0\.1 +: ok=2 +changed=0 +failed=0 ' "recap of a run without facts"
n=$(($(sessions) - before))
[ "$n" -eq 0 ] || fail "a run that reads no fact opened $n exec channels"

# apt on a host without apt-get: a clear error, not a crash
cat >site/apt.img <<EOF2
hosts web { "127.0.0.1" { port = $SSHD_PORT, user = "root", identity_file = "$SSH_KEY", known_hosts = "$SSH_KH" } }
apply web {
  apt "curl" {}
}
EOF2
kapply site/apt.img
expect_rc 1
expect_match err "task apt curl failed: the target has no apt-get: apt works on Debian"
