#!/bin/sh
# The README's five-minute tour, as a user would type it: its ```sh blocks, in order, run
# from a copy of the tree's top (build/kiln, examples/hello.img) with /tmp/kiln-tour moved
# into this test's directory and HOME, the cache and podman's storage there too (podman's
# blob cache in /var/lib/containers is a tmpfs in a mount namespace of its own). Each
# command must succeed (set -e; the tour's own "|| echo exit status" lines show the two that
# fail on purpose), and what the tour's prose says they print is checked. podman run is
# real; on a machine whose container runtime cannot start a container (crun refuses a
# hybrid cgroup layout) that one command is reported and passed over.
. "$(dirname "$0")/../lib/test-lib.sh"
. "$TOP/tests/runtime/lib-containers.sh"

[ "$(id -u)" -eq 0 ] || skip "the tour runs kiln apply: needs root"
[ -x /bin/busybox ] || skip "hello.img's busybox() base needs /bin/busybox"
need skopeo
need umoci
README=$TOP/README.md

# the tour's commands: the ```sh blocks between its heading and the next one
awk '/^## Five-minute tour/ { on = 1; next } on && /^## / { exit }
	on && /^```sh$/ { code = 1; next } code && /^```$/ { code = 0; next } code' "$README" >cmds
[ -s cmds ] || fail "no tour in the README (## Five-minute tour with \`\`\`sh blocks)"
grep -q '^kiln apply hello.img$' cmds || fail "the tour does not apply hello.img"
grep -q '^kiln run ' cmds || fail "the tour has no kiln run"
grep -q '/tmp/kiln-tour' cmds || fail "the tour no longer works in /tmp/kiln-tour"

mkdir -p top/build top/examples home
cp "$TOP/examples/hello.img" top/examples/
cat >top/build/kiln <<W
#!/bin/sh
exec $KILN "\$@"
W
chmod +x top/build/kiln
# kiln's cache and work directories (as root: /var/cache/kiln, /var/tmp/kiln) here
export HOME="$TMP/home" XDG_CACHE_HOME="$TMP/home/.cache" KILN_CACHE_DIR="$TMP/cache" \
	KILN_WORK_DIR="$TMP/work"
unset SOURCE_DATE_EPOCH || true

# podman with a storage of this test's own; a runtime that cannot start a container here
# is said, not failed
mkdir -p pm/root pm/run pm/tmp
cat >pm/containers.conf <<EOF2
[engine]
lock_type = "file"
events_logger = "file"
cgroup_manager = "cgroupfs"
tmp_dir = "$TMP/pm/tmp"
[network]
network_config_dir = "$TMP/pm/net"
EOF2
{
	echo 'set -e'
	echo "podman() {
	command -v podman >/dev/null 2>&1 || { echo 'podman: not installed, passed over'; return 0; }
	_rc=0
	TMPDIR=$TMP/pm/tmp CONTAINERS_CONF=$TMP/pm/containers.conf unshare -m --propagation private \\
		sh -c 'd=/var/lib/containers; [ -d \$d ] || d=/var/lib
			mount -t tmpfs -o mode=0700 kiln-test-podman \$d && exec \"\$@\"' sh \\
		podman --root $TMP/pm/root --runroot $TMP/pm/run --storage-driver vfs \"\$@\" \\
		>$TMP/pm/out 2>$TMP/pm/err || _rc=\$?
	cat $TMP/pm/out
	if [ \$_rc -ne 0 ] && grep -q 'OCI runtime error\\|crun: \\|runc: ' $TMP/pm/err; then
		echo \"podman: this machine cannot start a container, passed over: \$(tail -n 1 $TMP/pm/err)\"
		return 0
	fi
	return \$_rc
}"
	sed "s|/tmp/kiln-tour|$TMP/tour|g" cmds
} >tour.sh
# the tour's skopeo (and podman) keep to $TMP: /var/lib/containers is a tmpfs of its own
(cd top && in_own_containers timeout -k 10 300 sh -x "$TMP/tour.sh") >tour.out 2>&1 || {
	tail -n 30 tour.out >&2
	fail "a command of the README's tour failed (above)"
}

# what the tour's prose says
check()
{
	grep -qF -- "$1" tour.out || { tail -n 40 tour.out >&2; fail "the tour's output lacks: $1"; }
}
check "broken.img:11:17: error[E1008]: invalid digit in octal number '0648'"
check "exit status 1"
check "stages: 0 built, 1 cached; outputs: 0 written, 1 up to date"
check "+ stage  hello/greet  to build: task hello.greet.0 changed"
check "exit status 2"
check "hello from kiln, again"
check "CHANGED => created /etc/motd"
check "SUCCESS => /etc/motd is as asked"
for claim in "broken.img:11:17: error[E1008]: invalid digit in octal number '0648'" \
	"stages: 0 built, 1 cached; outputs: 0 written, 1 up to date" \
	"+ stage  hello/greet  to build: task hello.greet.0 changed"; do
	grep -qF -- "$claim" "$README" || fail "the README no longer quotes: $claim"
done
if grep -q '^podman: this machine cannot' tour.out; then
	say "$(grep '^podman: this machine cannot' tour.out)"
else
	grep -q '^hello from kiln$' tour.out || fail "podman run did not print hello.txt"
fi
[ "$(cat tour/bundle/rootfs/etc/motd)" = "managed by kiln" ] || fail "kiln run wrote no /etc/motd"
# conmon starts `podman container cleanup` when a container ends, in the background: let
# it finish with this test's storage before that goes
for _i in $(seq 100); do
	pgrep -f -- "$TMP/pm/root" >/dev/null 2>&1 || break
	sleep 0.1
done
