#!/bin/sh
# tests/runtime/t1106-mod-service.sh: service in an image build: enabled makes (or removes)
# the symlinks systemctl enable would, from the unit's [Install]; started/restarted are
# recorded and skipped.
. "$(dirname "$0")/../lib/test-lib.sh"
. "$TOP/tests/runtime/lib-mod.sh"
make_rootfs "$ROOT"
mkdir -p "$ROOT/lib/systemd/system" "$ROOT/etc/systemd/system"
cat >"$ROOT/lib/systemd/system/ssh.service" <<'X'
[Unit]
Description=OpenBSD Secure Shell server

[Service]
ExecStart=/usr/sbin/sshd -D

[Install]
WantedBy=multi-user.target
Alias=sshd.service
X
cat >"$ROOT/etc/systemd/system/app.service" <<'X'
[Service]
ExecStart=/bin/true
[Install]
WantedBy=multi-user.target graphical.target
RequiredBy=web.target
X
printf '[Unit]\nDescription=static\n' >"$ROOT/lib/systemd/system/static.service"
S=$ROOT/etc/systemd/system

idempotent --in-image service '{"name":"ssh","enabled":true}'
[ "$(readlink "$S/multi-user.target.wants/ssh.service")" = /lib/systemd/system/ssh.service ] || fail "wants link"
[ "$(readlink "$S/sshd.service")" = /lib/systemd/system/ssh.service ] || fail "alias link"

idempotent --in-image service '{"name":"app.service","enabled":true}'
for l in multi-user.target.wants graphical.target.wants web.target.requires; do
	[ "$(readlink "$S/$l/app.service")" = /etc/systemd/system/app.service ] || fail "app: $l"
done

idempotent --in-image service '{"name":"ssh","enabled":false}'
[ ! -e "$S/multi-user.target.wants/ssh.service" ] && [ ! -L "$S/sshd.service" ] || fail "not disabled"
[ -L "$S/multi-user.target.wants/app.service" ] || fail "disabling ssh touched app"

mod --in-image service '{"name":"static","enabled":true}'
expect_status ok

# states are not applied in an image
before=$(tree_sum "$ROOT")
mod --in-image service '{"name":"ssh","state":"restarted"}'
expect_status skipped
expect_match res 'not restarted: image build'
mod --in-image service '{"name":"ssh","state":"started","enabled":true}'
expect_status changed
expect_match res 'enabled ssh.service; not started: image build'

mod --in-image service '{"name":"nosuch","enabled":true}'
expect_status failed
mod --in-image service '{"name":"ssh"}'
expect_status failed
mod --in-image service '{"name":"../x","enabled":true}'
expect_status failed

# an init script without update-rc.d (busybox): enabling says why it cannot
mkdir -p "$ROOT/etc/init.d"
printf '#!/bin/sh\n' >"$ROOT/etc/init.d/legacy"
mod --in-image service '{"name":"legacy","enabled":true}'
expect_status failed
expect_match res 'update-rc.d'
exit 0
