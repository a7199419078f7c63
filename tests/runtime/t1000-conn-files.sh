#!/bin/sh
# tests/runtime/t1000-conn-files.sh: the file primitives of a rootfs connection: write
# (modes, owners, what a replace keeps, atomic rename, no temporary file left), read, stat,
# mkdir (EEXIST, mode whatever the umask), chmod, chown (of a link itself), symlink and
# readlink, touch, remove (recursive or not), and the errors of each.
. "$(dirname "$0")/../lib/test-lib.sh"
. "$TOP/tests/runtime/lib-conn.sh"
umask 077 # kiln's modes must not depend on it

# write: a new file is 0644 root:root, whatever the umask
ct "$ROOT" write /etc/x hello :: stat /etc/x
expect_rc 0
[ "$(cat "$ROOT/etc/x")" = hello ] || fail "/etc/x in the rootfs does not hold hello"
expect_out '^exists 1 type reg mode 0644 uid 0 gid 0 size 5$'
ct "$ROOT" read /etc/x
[ "$(cat out)" = hello ] || fail "read did not return the content"

# write with a mode and owner; a replace without them keeps the old ones
ct "$ROOT" write /etc/y one 0600 1000 1001 :: stat /etc/y :: chmod /etc/y 0640 :: \
	chown /etc/y 5 6 :: write /etc/y two :: stat /etc/y
expect_rc 0
expect_out '^exists 1 type reg mode 0600 uid 1000 gid 1001 size 3$'
expect_out '^exists 1 type reg mode 0640 uid 5 gid 6 size 3$' "a replace did not keep mode and owner"
# set-id bits survive the owner change (mode after owner)
ct "$ROOT" write /etc/y three 4755 7 8 :: stat /etc/y
expect_out '^exists 1 type reg mode 4755 uid 7 gid 8 size 5$'

# atomic: a new inode each time, nothing left beside it
before=$(stat -c %i "$ROOT/etc/y")
ct "$ROOT" write /etc/y four
[ "$(stat -c %i "$ROOT/etc/y")" != "$before" ] || fail "write did not replace the file (same inode)"
[ -z "$(find "$ROOT/etc" -name '.kiln-*')" ] || fail "a temporary file was left in /etc"
# content from a larger file, byte for byte
head -c 3000000 /dev/urandom >big
ct "$ROOT" write /big @big
cmp -s big "$ROOT/big" || fail "a 3 MB write differs"

# errors
ct "$ROOT" write /etc hello :: write /nodir/x hello :: write /etc/.. x :: write / x
expect_rc 2
expect_out '^error EISDIR .*/etc.*directory'
expect_out '^error ENOENT .*/nodir/x'
expect_out '^error EINVAL '
[ "$(grep -c '^error' out)" -eq 4 ] || fail "expected 4 errors"

# stat: missing, follow or not, the root
ct "$ROOT" stat /missing :: stat /etc/passwd/x :: stat / :: stat /bin/sh :: stat /bin/sh nofollow
expect_rc 0
[ "$(grep -c '^exists 0$' out)" -eq 2 ] || fail "missing paths do not stat as missing"
expect_out '^exists 1 type dir '
expect_out '^exists 1 type reg mode 0755 '
expect_out '^exists 1 type lnk '

# read: a directory, a FIFO (no hang), a missing file
mkfifo "$ROOT/fifo"
ct "$ROOT" read /etc :: read /fifo :: read /missing
expect_out '^error EISDIR '
expect_out '^error EINVAL .*not a regular file'
expect_out '^error ENOENT '

# mkdir: 0755 by default, EEXIST, no parents
ct "$ROOT" mkdir /d :: stat /d :: mkdir /d :: mkdir /d2 0750 3 4 :: stat /d2 :: mkdir /no/d
expect_out '^exists 1 type dir mode 0755 uid 0 gid 0 '
expect_out '^error EEXIST .*/d'
expect_out '^exists 1 type dir mode 0750 uid 3 gid 4 '
expect_out '^error ENOENT .*/no/d'

# symlink and readlink; a symlink replaces a file atomically; chown acts on the link itself
ct "$ROOT" symlink /etc/y /lnk :: readlink /lnk :: stat /lnk :: stat /lnk nofollow :: \
	symlink ../etc/x /etc/z :: symlink /etc/passwd /etc/x :: readlink /etc/x :: \
	chown /lnk 3 3 :: stat /lnk nofollow :: stat /etc/y :: readlink /etc/passwd :: symlink /x /d
[ "$(readlink "$ROOT/lnk")" = /etc/y ] || fail "the link /lnk is not there"
[ -L "$ROOT/etc/x" ] || fail "symlink did not replace the file /etc/x"
expect_out '^/etc/y$'
expect_out '^/etc/passwd$'
expect_out '^exists 1 type lnk mode 0777 uid 3 gid 3 '
expect_out '^exists 1 type reg mode 4755 uid 7 gid 8 ' "chown of a link changed its target"
expect_out '^error EINVAL .*not a symlink'
expect_out '^error EISDIR .*/d' "a symlink replaced a directory"

# touch: creates empty 0644, or only updates the time (content and mode kept)
touch -d '2001-01-01' "$ROOT/etc/passwd"
ct "$ROOT" touch /t :: stat /t :: touch /etc/passwd :: touch /t2 0600 :: stat /t2
expect_out '^exists 1 type reg mode 0644 uid 0 gid 0 size 0$'
expect_out '^exists 1 type reg mode 0600 uid 0 gid 0 size 0$'
[ "$(stat -c %Y "$ROOT/etc/passwd")" -gt 978307200 ] || fail "touch did not update the time"
expect_match "$ROOT/etc/passwd" '^root:'

# remove: a file, a link (not its target), missing is fine, non-empty needs -r, not /
mkdir -p "$ROOT/d/a/b"
echo x >"$ROOT/d/a/b/f"
ct "$ROOT" remove /t :: remove /lnk :: remove /missing :: remove /missing/x :: remove /d :: \
	remove /d -r :: remove /
[ ! -e "$ROOT/t" ] && [ ! -L "$ROOT/lnk" ] && [ -f "$ROOT/etc/y" ] || fail "remove of a file or link"
[ ! -e "$ROOT/d" ] || fail "remove -r left /d"
expect_out '^error ENOTEMPTY '
expect_out '^error EBUSY .*root'
[ "$(grep -c '^error' out)" -eq 2 ] || fail "expected exactly 2 errors from remove"
