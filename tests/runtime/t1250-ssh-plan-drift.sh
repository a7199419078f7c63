#!/bin/sh
# tests/runtime/t1250-ssh-plan-drift.sh: kiln plan against hosts (a real sshd chrooted into
# the test's rootfs, lib-sshd.sh, and a second host entered as a rootfs directory). After
# an apply, plan finds no drift (exit 0 with -detailed-exitcode). Files changed behind
# kiln's back: plan shows each change with its symbol and diff and the totals, exits 2,
# and changes nothing on the hosts (every file's bytes, mode, owner and mtime compared);
# the next apply changes exactly as many tasks as plan counted (handlers included); plan is
# then clean again. A command without creates/removes would run; one whose creates path
# exists is in sync. A secret never shows; a host not reached is an error (exit 1);
# -refresh=false and a file with only images never connect.
. "$(dirname "$0")/../lib/test-lib.sh"
. "$TOP/tests/runtime/lib-apply.sh"
ROOT=$TMP/root
sh "$TOP/tests/lib/busybox-rootfs.sh" "$ROOT" >/dev/null || skip "no busybox-static"
sh "$TOP/tests/lib/busybox-rootfs.sh" "$TMP/site/two" >/dev/null || skip "no busybox-static"
. "$TOP/tests/runtime/lib-sshd.sh"
trap 'sshd_stop; _apply_cleanup' EXIT
sshd_start

cat >site/hosts.img <<EOF2
param token: secret

hosts web {
  "127.0.0.1" {
    port = $SSHD_PORT
    user = "root"
    identity_file = "$SSH_KEY"
    known_hosts = "$SSH_KH"
  }
  "two" { connection = rootfs }
}

apply web {
  file "/etc/motd" {
    content = "line one\nline two\nline three\n"
    mode = 0644
    notify = [log_motd]
  }
  lineinfile "/etc/hosts" { line = "10.0.0.1 db" }
  file "/etc/app" { state = directory, mode = 0755 }
  file "/etc/app/old.conf" { state = absent }
  file "/etc/app/token" { content = "token=\${token}\n", mode = 0600 }
  shell "echo stamped > /etc/app/stamp" { creates = "/etc/app/stamp" }
  handler log_motd { shell "echo motd >> /etc/app/motd.log" {} }
}
EOF2
TOKEN=Tok-$$-kiln-drift-secret
export KILN_VAR_token=$TOKEN

# The state of a host's tree: every entry's type, mode, owner, size, mtime and bytes.
tree_state()
{
	(cd "$1" && find . -xdev ! -path './proc/*' ! -path './sys/*' ! -path './dev/*' \
		-printf '%p %y %m %U:%G %s %T@\n' | sort
	 find . -xdev -type f ! -path './proc/*' ! -path './sys/*' ! -path './dev/*' \
		-exec sha256sum {} + | sort)
}

kplan()
{
	run_kiln plan -detailed-exitcode "$@"
}

# converge, then no drift
kapply site/hosts.img
expect_rc 0
[ "$(cat "$ROOT/etc/app/stamp")" = stamped ] || fail "the first apply did not configure the ssh host"
kplan site/hosts.img
expect_rc 0
expect_match out '^127\.0\.0\.1: in sync \(6 tasks ok\)$'
expect_match out '^two: in sync \(6 tasks ok\)$'
expect_match out '^Plan: no changes on 2 hosts, 12 tasks in sync\.$'
! grep -qF "$TOKEN" out err || fail "the secret was printed"

# drift behind kiln's back, on the ssh host only
printf 'line one\nline 2\nline three\n' >"$ROOT/etc/motd"
chmod 0600 "$ROOT/etc/motd"
sed -i '/^10\.0\.0\.1 db$/d' "$ROOT/etc/hosts"
rm -f "$ROOT/etc/app/stamp"
echo stale >"$ROOT/etc/app/old.conf"
echo "token=$TOKEN-old" >"$ROOT/etc/app/token"
tree_state "$ROOT" >before
tree_state site/two >before-two

kplan site/hosts.img
expect_rc 2
tree_state "$ROOT" >after
tree_state site/two >after-two
cmp -s before after || fail "plan changed the ssh host: $(diff before after | head -5)"
cmp -s before-two after-two || fail "plan changed the rootfs host"
# symbols and the legend
expect_match out '^  \+ create   ~ change   - remove   > a command would run   ! fails$'
expect_match out '^  \? fails in check mode after an earlier change: known once that is made$'
expect_match out '^127\.0\.0\.1: 6 to change, 1 in sync$'
expect_match out '^  ~ file /etc/motd  site/hosts\.img:[0-9]+:[0-9]+$'
expect_match out '^  ~ lineinfile /etc/hosts'
expect_match out '^  - file /etc/app/old\.conf'
expect_match out '^  ~ file /etc/app/token'
expect_match out '^  > shell echo stamped > /etc/app/stamp'
expect_match out '^  > shell echo motd >> /etc/app/motd\.log \(handler log_motd\)'
# the diff of the file's content, and its mode
expect_match out '^      -line 2$'
expect_match out '^      \+line two$'
expect_match out '0600 -> 0644'
expect_match out '^two: in sync \(6 tasks ok\)$'
expect_match out '^Plan: 6 tasks to change on 1 host, 7 in sync\.$'
! grep -qF "$TOKEN" out err || fail "the secret was printed"

# without -detailed-exitcode, drift is not an error
run_kiln plan site/hosts.img
expect_rc 0

# apply changes as many tasks as plan said
kapply site/hosts.img
expect_rc 0
expect_match err '^127\.0\.0\.1 +: ok=1 +changed=6 +failed=0 ' "apply's count differs from plan's"
expect_match err '^two +: ok=6 +changed=0 +failed=0 '
[ "$(sed -n 2p "$ROOT/etc/motd")" = "line two" ] || fail "apply did not fix the drift"
kplan site/hosts.img
expect_rc 0
expect_match out '^Plan: no changes on 2 hosts, 12 tasks in sync\.$'

# a command without creates/removes would always run; a plan.json is planned the same way
cat >site/cmd.img <<EOF2
hosts web { "127.0.0.1" { port = $SSHD_PORT, user = "root", identity_file = "$SSH_KEY", known_hosts = "$SSH_KH" } }
apply web {
  command "touch /etc/app/ran" {}
  command "touch /etc/app/never" { removes = "/etc/app/missing" }
}
EOF2
run_kiln compile site/cmd.img -o site/cmd.json
expect_rc 0
run_kiln_in site plan -detailed-exitcode cmd.json
expect_rc 2
expect_match out '^  > command touch /etc/app/ran'
expect_match out 'would run: touch /etc/app/ran'
expect_match out '^127\.0\.0\.1: 1 to change, 1 in sync$'
[ ! -e "$ROOT/etc/app/ran" ] || fail "plan ran a command"
# -C: a plan.json planned from elsewhere, its paths (here the key) relative to DIR
mkdir -p site/keys
cp "$SSH_KEY" site/keys/id
sed "s|identity_file = \"$SSH_KEY\"|identity_file = \"keys/id\"|" site/cmd.img >site/rel.img
grep -q '"keys/id"' site/rel.img || fail "the test did not make a relative identity_file"
run_kiln compile site/rel.img -o site/rel.json
expect_rc 0
run_kiln plan -detailed-exitcode site/rel.json
expect_rc 1
run_kiln plan -detailed-exitcode -C site site/rel.json
expect_rc 2
expect_match out '^127\.0\.0\.1: 1 to change, 1 in sync$'

# a task that fails in check mode because an earlier one would change the host first (a
# file owned by a user still to add) is '?': counted with the changes, as apply makes it
cat >site/dep.img <<EOF2
hosts web { "127.0.0.1" { port = $SSHD_PORT, user = "root", identity_file = "$SSH_KEY", known_hosts = "$SSH_KH" } }
apply web {
  user "drifter" {}
  file "/etc/app/drifter.conf" { content = "x\n", owner = "drifter" }
}
EOF2
kplan site/dep.img
expect_rc 2
expect_match out '^  \+ user drifter'
expect_match out '^  \? file /etc/app/drifter\.conf'
expect_match out "no user 'drifter'"
expect_match out '^Plan: 2 tasks to change on 1 host, 0 in sync\.$'
kapply site/dep.img
expect_rc 0
expect_match err '^127\.0\.0\.1 +: ok=0 +changed=2 +failed=0 '
kplan site/dep.img
expect_rc 0
# alone, a task that fails in check mode is an error
cat >site/fail.img <<EOF2
hosts web { "127.0.0.1" { port = $SSHD_PORT, user = "root", identity_file = "$SSH_KEY", known_hosts = "$SSH_KH" } }
apply web { file "/etc/app/nobody.conf" { content = "x\n", owner = "nosuchuser" } }
EOF2
kplan site/fail.img
expect_rc 1
expect_match out '^  ! file /etc/app/nobody\.conf'
expect_match out '; 1 task fails in check mode\.$'

# a host not reached is an error
sshd_stop
kplan site/hosts.img
expect_rc 1
expect_match out '^127\.0\.0\.1: unreachable: '
expect_match out '; 1 host not reached\.$'
# -refresh=false: the apply blocks are shown, no host is reached (their tasks are to do)
run_kiln plan -refresh=false -detailed-exitcode site/hosts.img
expect_rc 2
expect_match out '^~ apply to web \(6 tasks\)'
expect_no_match out 'unreachable|^Hosts'

# a build with only images never connects (its hosts block is not applied)
cat >site/img.img <<EOF2
hosts web { "127.0.0.1" { port = $SSHD_PORT } }
image hello from busybox() {
  stage s { file "/hello" { content = "hi\n" } }
}
EOF2
kplan site/img.img
expect_rc 2
expect_no_match out '^Hosts'
expect_no_match out 'unreachable'
