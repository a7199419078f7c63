#!/bin/sh
# tests/runtime/t1220-ssh-forks-20.sh: kiln apply to 20 hosts over SSH, each a real sshd of
# its own (lib-sshd-many.sh), from an Ansible inventory. With --forks 20 the 20 hosts run
# at once (each host's task sleeps 2 s: the whole apply takes far less than 20 x 2 s, and
# the hosts' start/end marks in a file they all share overlap); with --forks 5 never more
# than 5 run at once. Every host is configured, its recap line is right, every line of the
# report names its host, whole; a second apply changes nothing.
. "$(dirname "$0")/../lib/test-lib.sh"
. "$TOP/tests/runtime/lib-apply.sh"
ROOT=$TMP/root
sh "$TOP/tests/lib/busybox-rootfs.sh" "$ROOT" >/dev/null || skip "no busybox-static"
. "$TOP/tests/runtime/lib-sshd.sh"
. "$TOP/tests/runtime/lib-sshd-many.sh"
trap 'many_stop_all; _apply_cleanup' EXIT

many_shared /var/marks
many_start 20
cp "$TMP/hosts.ini" site.ini
cat >site.img <<EOF2
inventory "site.ini"

apply all {
  user = "root"
  identity_file = "$SSH_KEY"
  known_hosts = "$SSH_KH"
  shell "h=\$(cat /etc/hostname.kiln-test); echo start \$h >>/var/marks; sleep 2; echo end \$h >>/var/marks" {
    creates = "/etc/slept"
  }
  file "/etc/slept" { content = "yes\n" }
  file "/etc/motd" { content = "one of twenty\n", mode = 0640 }
}
EOF2

# the most hosts between a start and an end mark at any moment
overlap()
{
	awk '$1 == "start" { n++; if (n > m) m = n } $1 == "end" { n-- } END { print m + 0 }' "$ROOT/var/marks"
}

t0=$(date +%s.%N)
kapply --forks 20 site.img
s=$(echo "$t0 $(date +%s.%N)" | awk '{ printf "%.1f", $2 - $1 }')
expect_rc 0
say "20 hosts, --forks 20: ${s}s, at most $(overlap) at once"
awk -v s="$s" 'BEGIN { exit !(s < 20) }' || fail "20 hosts of 2 s with --forks 20 took ${s}s: not in parallel"
[ "$(overlap)" -ge 10 ] || fail "at most $(overlap) hosts ran at once with --forks 20: $(cat "$ROOT/var/marks")"
[ "$(grep -c '^start' "$ROOT/var/marks")" = 20 ] && [ "$(grep -c '^end' "$ROOT/var/marks")" = 20 ] ||
	fail "not every host ran its task once: $(cat "$ROOT/var/marks")"
i=1
while [ $i -le 20 ]; do
	h=$(printf 'h%02d' $i)
	r=$(many_root $i)
	[ "$(cat "$r/etc/motd")" = "one of twenty" ] && [ "$(stat -c %a "$r/etc/motd")" = 640 ] ||
		fail "host $h was not configured"
	expect_match err "^$h +: ok=0 +changed=3 +failed=0 +skipped=0 +unreachable=0 +rescued=0 +ignored=0 "
	i=$((i + 1))
done
[ ! -e "$ROOT/etc/motd" ] || fail "a host's change reached the others' shared files"
# every line between the first and the recap comes from a worker and names its host
sed -n '2,/^RECAP/p' err | grep -v '^RECAP$' | grep -v '^$' | grep -Ev '^\[h(0[1-9]|1[0-9]|20)\] ' &&
	fail "a line without its host (interleaved?)"

kapply --forks 20 site.img
expect_rc 0
[ "$(grep -Ec '^h[0-9]{2} +: ok=3 +changed=0 +failed=0 ' err)" = 20 ] || fail "the second apply changed something: $(cat err)"

# --forks 5: never more than 5 at once
: >"$ROOT/var/marks"
i=1
while [ $i -le 20 ]; do
	rm -f "$(many_root $i)/etc/slept"
	i=$((i + 1))
done
kapply --forks 5 site.img
expect_rc 0
[ "$(overlap)" -le 5 ] || fail "$(overlap) hosts ran at once with --forks 5"
[ "$(grep -c '^end' "$ROOT/var/marks")" = 20 ] || fail "with --forks 5 not every host ran"
