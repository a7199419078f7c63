#!/bin/sh
# tests/runtime/t1103-mod-lineinfile.sh: lineinfile as Ansible's: regexp replaces the last
# match, insertafter/insertbefore place a new line, absent removes every match, create.
. "$(dirname "$0")/../lib/test-lib.sh"
. "$TOP/tests/runtime/lib-mod.sh"
make_rootfs "$ROOT"
F=$ROOT/etc/ssh.conf

# expect_file TEXT: the file is exactly TEXT (printf format)
expect_file()
{
	printf "$1" >want
	cmp -s want "$F" || fail "file differs: $(diff want "$F" | head -20)"
}

printf 'a\n#PermitRootLogin yes\nb\nPermitRootLogin maybe\nc' >"$F"
# regexp: the last matching line is replaced; the missing final newline comes with it
idempotent lineinfile '{"path":"/etc/ssh.conf","regexp":"^#?PermitRootLogin","line":"PermitRootLogin no"}'
expect_file 'a\n#PermitRootLogin yes\nb\nPermitRootLogin no\nc'
# without regexp: added at the end, after a newline the file lacked
idempotent lineinfile '{"path":"/etc/ssh.conf","line":"last"}'
expect_file 'a\n#PermitRootLogin yes\nb\nPermitRootLogin no\nc\nlast\n'
# insertafter a regexp: after its last match
idempotent lineinfile '{"path":"/etc/ssh.conf","line":"after-b","insertafter":"^b$"}'
expect_file 'a\n#PermitRootLogin yes\nb\nafter-b\nPermitRootLogin no\nc\nlast\n'
# insertbefore, and BOF
idempotent lineinfile '{"path":"/etc/ssh.conf","line":"before-c","insertbefore":"^c"}'
idempotent lineinfile '{"path":"/etc/ssh.conf","line":"first","insertbefore":"BOF"}'
expect_file 'first\na\n#PermitRootLogin yes\nb\nafter-b\nPermitRootLogin no\nbefore-c\nc\nlast\n'
# insertafter with no match: the end
idempotent lineinfile '{"path":"/etc/ssh.conf","line":"z","insertafter":"^nomatch"}'
expect_file 'first\na\n#PermitRootLogin yes\nb\nafter-b\nPermitRootLogin no\nbefore-c\nc\nlast\nz\n'
# a regexp with no match, and line present already: nothing to do
mod lineinfile '{"path":"/etc/ssh.conf","regexp":"^nomatch","line":"z"}'
expect_status ok
# absent by regexp: every match; by line
mod --check lineinfile '{"path":"/etc/ssh.conf","regexp":"PermitRootLogin","state":"absent"}'
expect_match res '2 lines removed'
idempotent lineinfile '{"path":"/etc/ssh.conf","regexp":"PermitRootLogin","state":"absent"}'
idempotent lineinfile '{"path":"/etc/ssh.conf","line":"z","state":"absent"}'
expect_file 'first\na\nb\nafter-b\nbefore-c\nc\nlast\n'
# the diff
mod --diff lineinfile '{"path":"/etc/ssh.conf","regexp":"^b$","line":"B"}'
res_text diff >d
printf -- '--- /etc/ssh.conf (before)\n+++ /etc/ssh.conf (after)\n@@ -1,6 +1,6 @@\n first\n a\n-b\n+B\n after-b\n before-c\n c\n' >d.want
cmp -s d d.want || fail "diff: $(cat d)"

# mode and owner of the file stay
chmod 0600 "$F"
chown 1:4 "$F"
mod lineinfile '{"path":"/etc/ssh.conf","line":"kept"}'
[ "$(stat -c '%a %u %g' "$F")" = "600 1 4" ] || fail "attrs lost: $(stat -c '%a %u %g' "$F")"

# a missing file: failure, or made with create; absent is fine
mod lineinfile '{"path":"/etc/new.conf","line":"x"}'
expect_status failed
expect_match res 'create = true'
idempotent lineinfile '{"path":"/etc/new.conf","line":"x","create":true}'
[ "$(cat "$ROOT/etc/new.conf")" = x ] || fail "create"
mod lineinfile '{"path":"/etc/none.conf","line":"x","state":"absent"}'
expect_status ok

# bad arguments
mod lineinfile '{"path":"/etc/ssh.conf","line":"x","regexp":"("}'
expect_status failed
mod lineinfile '{"path":"/etc/ssh.conf","line":"x","insertafter":"a","insertbefore":"b"}'
expect_status failed
mod lineinfile '{"path":"/etc/ssh.conf","state":"present"}'
expect_status failed
mod lineinfile '{"path":"/etc/ssh.conf","line":"two\nlines"}'
expect_status failed
exit 0
