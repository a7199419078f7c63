#!/bin/sh
# SSH connection costs: what conn_ssh.c (libssh) pays on loopback against a real sshd
# (the tests' harness, tests/runtime/lib-sshd.sh: OpenSSH chrooted into a busybox rootfs in
# a temporary directory, its own keys and config). Run by hand, as root (not part of CI;
# the figures depend on the machine and its load):
#
#   bench/ssh-conn/run.sh            # 200 rounds of each operation, 20 connects
#   bench/ssh-conn/run.sh 1000 50
#
# Printed, medians:
#   connect_ms  a whole conn_test run that connects (TCP, key exchange, host key check,
#               ed25519 key login, SFTP session), stats / and disconnects: process wall time
#   exec_us     an exec channel running `true` (open, exec, exit status, close)
#   stat_us     an SFTP stat
#   read_us     an SFTP read of a 6-byte file (open, fstat, read, close)
#   write_us    an atomic 6-byte write (temporary name, write, fsync, chmod, posix-rename)
# Needs: a build (build/tests/runtime/conn_test), busybox-static, openssh-server.
N=${1:-200}
C=${2:-20}
. "$(cd "$(dirname "$0")/../.." && pwd)/tests/lib/test-lib.sh"
. "$TOP/tests/runtime/lib-conn.sh"
. "$TOP/tests/runtime/lib-sshd.sh"
sshd_start
say "sshd on 127.0.0.1:$SSHD_PORT; $(/usr/sbin/sshd -V 2>&1 | head -n 1); load $(cut -d' ' -f1-3 /proc/loadavg)"

i=0
: >connect
while [ $i -lt "$C" ]; do
	t0=$(date +%s%N)
	cts stat / >/dev/null
	t1=$(date +%s%N)
	[ "$rc" -eq 0 ] || fail "connect failed: $(cat out)"
	echo $(((t1 - t0) / 1000)) >>connect
	i=$((i + 1))
done
printf 'connect_ms %s\n' "$(sort -n connect | awk '{ v[NR] = $1 } END { printf "%.1f", v[int((NR + 1) / 2)] / 1000 }')"

CT_TIMEOUT=600 cts bench "$N"
[ "$rc" -eq 0 ] || fail "bench failed: $(cat out)"
cat out
