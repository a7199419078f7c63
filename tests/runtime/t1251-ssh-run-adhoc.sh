#!/bin/sh
# tests/runtime/t1251-ssh-run-adhoc.sh: kiln run PATTERN -i INVENTORY -m MODULE -a ARGS
# (Ansible's ad-hoc command) against a real sshd chrooted into the test's rootfs
# (lib-sshd.sh) and a chroot host of the same inventory. Free-form shell with its output;
# key=value arguments with Ansible's quoting, typed by the module's schema (a mode, a
# bool), applied once then ok; --check changes nothing; -b runs through sudo; the
# pattern selects hosts (group, !exclusion, glob, no match); an unknown argument and a
# wrong type get the diagnostics a file gets; a failing command and an unreachable host
# exit 1.
. "$(dirname "$0")/../lib/test-lib.sh"
. "$TOP/tests/runtime/lib-apply.sh"
ROOT=$TMP/root
sh "$TOP/tests/lib/busybox-rootfs.sh" "$ROOT" >/dev/null || skip "no busybox-static"
sh "$TOP/tests/lib/busybox-rootfs.sh" "$TMP/local/one" >/dev/null || skip "no busybox-static"
. "$TOP/tests/runtime/lib-sshd.sh"
trap 'sshd_stop; _apply_cleanup' EXIT
sshd_start

cat >local/hosts.ini <<EOF2
[web]
127.0.0.1 ansible_port=$SSHD_PORT ansible_user=root ansible_ssh_private_key_file=$SSH_KEY
[local]
one ansible_connection=chroot
EOF2

# the host key is checked against the test's known_hosts (--known-hosts)
krun()
{
	run_kiln_in local run --known-hosts="$SSH_KH" "$@"
}

# free form: shell, with its output
krun web -i hosts.ini -m shell -a 'echo "hello  there"; echo to-stderr >&2; cat /etc/os-release | grep -c ID='
expect_rc 0
expect_match out '^127\.0\.0\.1 \| CHANGED \| rc=0 >>$'
expect_match out '^hello  there$'
expect_no_match out '^one '
# the default module is command; its words are split as sh splits them
krun all -i hosts.ini -a 'touch /etc/by-command'
expect_rc 0
expect_count out '\| CHANGED \| rc=0 >>$' 2
[ -e "$ROOT/etc/by-command" ] && [ -e local/one/etc/by-command ] || fail "command did not run on every host"

# key=value arguments, quoted as Ansible quotes them, typed by the schema
krun web -i hosts.ini -m lineinfile -a 'path=/etc/hosts line="10.0.0.2 db two" create=yes'
expect_rc 0
expect_match out '^127\.0\.0\.1 \| CHANGED => '
grep -qx '10.0.0.2 db two' "$ROOT/etc/hosts" || fail "lineinfile over ssh: $(cat "$ROOT/etc/hosts")"
krun web -i hosts.ini -m lineinfile -a "path=/etc/hosts line='10.0.0.2 db two'"
expect_rc 0
expect_match out '^127\.0\.0\.1 \| SUCCESS => '
krun 'all:!web' -i hosts.ini -m file -a 'path=/etc/adhoc state=directory mode=0750'
expect_rc 0
[ "$(stat -c %a local/one/etc/adhoc)" = 750 ] || fail "file on the chroot host"
[ ! -e "$ROOT/etc/adhoc" ] || fail "'all:!web' reached the web host"
krun '12*' -i hosts.ini -m file -a 'path=/etc/adhoc state=directory mode=0750'
expect_rc 0
[ "$(stat -c %a "$ROOT/etc/adhoc")" = 750 ] || fail "a glob pattern did not select the ssh host"

# --check changes nothing, and says what would change
krun all -i hosts.ini -m file -a 'path=/etc/checked state=touch' --check
expect_rc 0
expect_count out '\| CHANGED => ' 2
[ ! -e "$ROOT/etc/checked" ] && [ ! -e local/one/etc/checked ] || fail "--check changed a host"

# free form with creates: skipped when the path exists
krun web -i hosts.ini -m shell -a 'echo ran >> /etc/ran creates=/etc/by-command'
expect_rc 0
expect_match out '^127\.0\.0\.1 \| SUCCESS => skipped: /etc/by-command exists'
[ ! -e "$ROOT/etc/ran" ] || fail "creates did not skip the command"

# -b: commands through sudo (a stand-in that records its arguments and runs the command)
cat >"$ROOT/usr/bin/sudo" <<'X'
#!/bin/sh
echo "$*" >>/tmp/sudo-args
while [ "$1" != "--" ]; do shift; done
shift
exec "$@"
X
chmod 755 "$ROOT/usr/bin/sudo"
krun web -i hosts.ini -b -m shell -a 'echo as root'
expect_rc 0
expect_match out '^as root$'
grep -q -- '-u root -- ' "$ROOT/tmp/sudo-args" || fail "-b did not go through sudo"

# the arguments are checked as in a file
krun web -i hosts.ini -m lineinfile -a 'path=/etc/hosts lien=x'
expect_rc 1
expect_match err "error\[E3002\]: module 'lineinfile' has no argument 'lien'"
expect_match err "did you mean 'line'\?"
krun web -i hosts.ini -m lineinfile -a 'path=/etc/hosts line=x create=maybe'
expect_rc 1
expect_match err "error\[E3001\]: argument 'create' expects bool, found string"
krun web -i hosts.ini -m lineinfile -a 'path=/etc/hosts "line=x'
expect_rc 1
expect_match err 'quote .* is not closed'
krun web -i hosts.ini -m file -a '/etc/x'
expect_rc 1
expect_match err "'/etc/x' is not a key=value argument"
krun web -i hosts.ini -m fiel -a 'path=/x'
expect_rc 1
expect_match err "no module 'fiel'; did you mean 'file'\?"
krun nowhere -i hosts.ini -a 'true'
expect_rc 1
expect_match err "host pattern 'nowhere' matches no host of the plan"
krun web -a 'true'
expect_rc 2
expect_match err 'name the inventory: -i FILE'

# a failing command: its status and stderr, exit 1
krun web -i hosts.ini -m shell -a 'echo out-line; echo err-line >&2; exit 3'
expect_rc 1
expect_match out '^127\.0\.0\.1 \| FAILED \| rc=3 >>$'
expect_match out '^out-line$'
expect_match out '^err-line$'

# a host not reached: UNREACHABLE, the others still run, exit 1
sshd_stop
krun all -i hosts.ini -m shell -a 'echo still here'
expect_rc 1
expect_match out '^127\.0\.0\.1 \| UNREACHABLE! => '
expect_match out '^one \| CHANGED \| rc=0 >>$'
