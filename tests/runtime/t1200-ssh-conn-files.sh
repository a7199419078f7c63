#!/bin/sh
# tests/runtime/t1200-ssh-conn-files.sh: the connection contract over SSH (conn_ssh.c against
# a real sshd, lib-sshd.sh): files over SFTP — write, read, stat, owner and mode (kept when
# replacing), mkdir, touch, chmod, chown (of a link itself), symlink replaced, readlink,
# remove -r — and a write replaces the file by rename, leaving no temporary name behind.
# Everything lands in the test's rootfs ($ROOT, the sshd's chroot), nothing in this
# machine's /.
. "$(dirname "$0")/../lib/test-lib.sh"
. "$TOP/tests/runtime/lib-conn.sh"
. "$TOP/tests/runtime/lib-sshd.sh"
sshd_start

n=kiln-t1200-$$
cts write /etc/$n hello :: read /etc/$n :: stat /etc/$n :: \
	write /etc/$n.m 'x' 0600 12 34 :: stat /etc/$n.m :: \
	read /etc/missing-$n :: stat /etc/missing-$n :: read /etc
expect_rc 2
[ -f "$ROOT/etc/$n" ] && [ "$(cat "$ROOT/etc/$n")" = hello ] || fail "the write did not land in the rootfs"
[ ! -e "/etc/$n" ] || fail "the write reached this machine's /etc"
expect_out '^helloexists 1 type reg mode 0644 uid 0 gid 0 size 5$'
expect_out '^exists 1 type reg mode 0600 uid 12 gid 34 size 1$'
expect_out "^error ENOENT cannot read '/etc/missing-$n' on root@127.0.0.1:$SSHD_PORT: "
expect_out '^exists 0$'
expect_out "^error EISDIR cannot read '/etc' on .*not a regular file"

# Replacing keeps the owner and mode, by a rename (a new inode), with no temporary left.
chown 7:8 "$ROOT/etc/$n"
chmod 0640 "$ROOT/etc/$n"
ino=$(stat -c %i "$ROOT/etc/$n")
cts write /etc/$n again :: stat /etc/$n :: write /etc/$n.m 'y' 0755
expect_rc 0
expect_out '^exists 1 type reg mode 0640 uid 7 gid 8 size 5$'
[ "$(cat "$ROOT/etc/$n")" = again ] || fail "the replacement did not land"
[ "$(stat -c %i "$ROOT/etc/$n")" != "$ino" ] || fail "the file was rewritten in place, not renamed over"
[ "$(stat -c %a:%u:%g "$ROOT/etc/$n.m")" = 755:12:34 ] || fail "mode given: $(stat -c %a:%u:%g "$ROOT/etc/$n.m")"
[ -z "$(ls -A "$ROOT/etc" | grep kiln- | grep -v "^$n")" ] || fail "temporary files left: $(ls -A "$ROOT/etc")"

# A big file both ways.
head -c 3000000 /dev/urandom >big
cts write /tmp/big @big :: exec --out o -- md5sum /tmp/big
expect_rc 0
cmp -s big "$ROOT/tmp/big" || fail "a 3 MB write arrived different"
cts read /tmp/big
cmp -s big out || fail "a 3 MB read came back different"

# Directories, links, owners, modes, removal.
cts mkdir /srv 0750 :: mkdir /srv :: mkdir /srv/a/b :: touch /srv/t :: stat /srv/t :: \
	chmod /srv/t 0600 :: chown /srv/t 3 4 :: stat /srv/t :: \
	symlink /etc/$n /srv/l :: readlink /srv/l :: symlink /etc/other /srv/l :: readlink /srv/l :: \
	chown /srv/l 5 6 :: stat /srv/l nofollow :: stat /srv/l :: readlink /srv/t :: \
	mkdir /srv/d :: write /srv/d/f x :: mkdir /srv/d/e :: remove /srv/d :: remove /srv/d -r :: \
	stat /srv/d :: remove /srv/nothing
expect_rc 2
expect_out "^error EEXIST cannot create directory '/srv' "
expect_out "^error ENOENT cannot create directory '/srv/a/b' "
expect_out '^exists 1 type reg mode 0644 uid 0 gid 0 size 0$'
expect_out '^exists 1 type reg mode 0600 uid 3 gid 4 size 0$'
[ "$(stat -c %a "$ROOT/srv")" = 750 ] || fail "mkdir mode: $(stat -c %a "$ROOT/srv")"
expect_out "^/etc/$n$"
expect_out '^/etc/other$'
[ "$(readlink "$ROOT/srv/l")" = /etc/other ] || fail "the symlink was not replaced"
expect_out '^exists 1 type lnk mode 0777 uid 5 gid 6 size 10$'
[ "$(stat -c %u:%g "$ROOT/etc/$n")" = 7:8 ] || fail "chown of a link changed its target"
expect_out "^error EINVAL cannot read the symlink '/srv/t' "
expect_out "^error ENOTEMPTY cannot remove '/srv/d' "
[ ! -e "$ROOT/srv/d" ] || fail "remove -r left /srv/d"
[ "$(grep -c '^ok$' out)" -eq 12 ] || fail "expected 12 ok lines: $(cat out)"
