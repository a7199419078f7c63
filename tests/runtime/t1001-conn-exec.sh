#!/bin/sh
# tests/runtime/t1001-conn-exec.sh: commands in a rootfs: status (exit codes, 128 + signal),
# stdout and stderr apart, the clean environment (and what a request adds or replaces),
# the working directory, the namespaces (pid 1 is kiln's holder, hostname kiln, /proc,
# read-only /sys, a minimal /dev, resolv.conf bound read-only, policy-rc.d), and that what
# kiln added to the image is gone after the connection closes, parent times restored.
. "$(dirname "$0")/../lib/test-lib.sh"
. "$TOP/tests/runtime/lib-conn.sh"

ct "$ROOT" exec --out o1 --err e1 -- sh -c 'echo out; echo err >&2; exit 3' :: \
	exec -- sh -c 'kill -9 $$' :: exec --out o2 -- env :: \
	exec --out o3 --env FOO=bar --env LANG=C --env 'X=a b' -- env :: \
	exec --cwd /tmp --out o4 -- pwd :: exec --cwd /nowhere --err e5 -- pwd
expect_rc 0
expect_out '^status 3 out 4 err 4$'
[ "$(cat o1)" = out ] && [ "$(cat e1)" = err ] || fail "stdout and stderr mixed up"
expect_out '^status 137 ' "a command killed by SIGKILL is not 128+9"
for v in 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' HOME=/root \
	LANG=C.UTF-8 DEBIAN_FRONTEND=noninteractive; do
	grep -qxF "$v" o2 || fail "the environment lacks $v"
done
[ "$(grep -cv '^PWD=\|^SHLVL=' o2)" -eq 4 ] || fail "the environment has more than the defaults: $(cat o2)"
grep -qx FOO=bar o3 && grep -qx 'X=a b' o3 || fail "env entries not passed"
[ "$(grep -c '^LANG=' o3)" -eq 1 ] && grep -qx LANG=C o3 || fail "LANG=C did not replace the default"
[ "$(cat o4)" = /tmp ] || fail "cwd /tmp: pwd printed $(cat o4)"
expect_out '^status 125 '
expect_match e5 "kiln: cannot enter directory '/nowhere'"

# The namespaces and what is mounted in them.
host_resolv=$(cat /etc/resolv.conf 2>/dev/null || true)
ct "$ROOT" exec --out o -- sh -c '
	echo "pid $$"; hostname; cat /proc/1/comm >/dev/null && echo proc;
	touch /sys/x 2>/dev/null || echo sys-ro;
	for d in null zero full random urandom tty; do [ -c /dev/$d ] && echo dev-$d; done;
	echo x >/dev/null && head -c 4 /dev/zero | wc -c;
	[ -d /dev/pts ] && [ -d /dev/shm ] && echo pts-shm;
	echo hack >/etc/resolv.conf 2>/dev/null || echo resolv-ro;
	/usr/sbin/policy-rc.d; echo "policy $?"; umask'
expect_rc 0
for w in proc sys-ro dev-null dev-zero dev-full dev-random dev-urandom dev-tty pts-shm \
	'policy 101' 0022 kiln; do
	grep -qxF "$w" o || fail "inside the rootfs: expected '$w' in: $(tr '\n' ' ' <o)"
done
pid=$(sed -n 's/^pid //p' o)
[ "$pid" -lt 10 ] || fail "the command is pid $pid: not in a new pid namespace"
[ "$(grep -c '^4$' o)" -eq 1 ] || fail "/dev/zero did not read"
if [ -f /etc/resolv.conf ]; then
	grep -qxF resolv-ro o || fail "/etc/resolv.conf was writable inside"
	[ "$(cat /etc/resolv.conf)" = "$host_resolv" ] || fail "the build machine's resolv.conf changed"
fi
# after close: no policy-rc.d, resolv.conf placeholder still empty, nothing mounted
[ ! -e "$ROOT/usr/sbin/policy-rc.d" ] || fail "policy-rc.d left in the image"
[ ! -s "$ROOT/etc/resolv.conf" ] || fail "the image's resolv.conf was written"
[ -z "$(host_mounts_under "$ROOT")" ] || fail "mounts left: $(host_mounts_under "$ROOT")"

# An image's own policy-rc.d is left alone.
printf '#!/bin/sh\nexit 0\n' >"$ROOT/usr/sbin/policy-rc.d"
chmod 755 "$ROOT/usr/sbin/policy-rc.d"
ct "$ROOT" exec -- /usr/sbin/policy-rc.d
expect_out '^status 0 '
expect_match "$ROOT/usr/sbin/policy-rc.d" '^exit 0$'

# A bare image (no /proc /sys /dev /etc /usr/sbin): the mount points are made for the
# connection and taken away after, and / gets its times back.
B=$TMP/bare
mkdir -p "$B/bin"
cp /bin/busybox "$B/bin/busybox"
ln -s busybox "$B/bin/sh"
ln -s busybox "$B/bin/ls"
touch -d '2001-02-03 04:05:06' "$B"
ct "$B" exec --out o -- ls /proc/1 :: stat /proc :: stat /dev
expect_rc 0
expect_out '^status 0 '
expect_match o '^cmdline$'
expect_out '^exists 1 type dir mode 0555 '
[ "$(ls -A "$B")" = bin ] || fail "the bare image holds $(ls -A "$B" | tr '\n' ' ') after close"
[ "$(stat -c %Y "$B")" -eq "$(date -d '2001-02-03 04:05:06' +%s)" ] || fail "the root's mtime changed"

# Long arguments travel in several records; a bad environment entry is refused.
big=$(head -c 100000 /dev/zero | tr '\0' a)
ct "$ROOT" exec --out o -- sh -c 'echo ${#1} ${#2}' sh "$big" "$big" :: \
	exec --env NOEQUALS -- true
expect_rc 2
[ "$(cat o)" = "100000 100000" ] || fail "long arguments arrived as: $(cut -c1-100 o)"
expect_out "^error EINVAL environment entry 'NOEQUALS' is not NAME=VALUE$"

# Opening: a missing directory, and the build machine's own root, are refused.
ct "$TMP/nowhere" stat /
expect_rc 1
expect_out "^error ENOENT cannot use '.*/nowhere' as a rootfs"
ct / stat /
expect_rc 1
expect_out "^error EINVAL refusing to use the build machine's / as a rootfs$"
