#!/bin/sh
# tests/runtime/t5010-tarball.sh: tarball(path) gives back the tree GNU tar packed, for
# every compression: names, types, modes (setuid, setgid, sticky), numeric owners,
# sizes, mtimes, symlink targets, hard links, sparse files, a FIFO and a device node,
# file capabilities, and the root's own mode from the "./" entry.
. "$(dirname "$0")/../lib/test-lib.sh"
. "$TOP/tests/runtime/lib-base.sh"
need tar
[ "$(id -u)" -eq 0 ] || skip "owners and device nodes need root"

S=$TMP/src
mkdir -p "$S/etc/app" "$S/usr/bin" "$S/var/empty" "$S/srv/shared" "$S/deep/a/b/c/d/e"
chmod 0750 "$S"
printf 'hello\n' >"$S/etc/app/conf"
printf '#!/bin/sh\necho hi\n' >"$S/usr/bin/tool"
chmod 0755 "$S/usr/bin/tool"
cp "$S/usr/bin/tool" "$S/usr/bin/suid" && chmod 4755 "$S/usr/bin/suid"
cp "$S/usr/bin/tool" "$S/usr/bin/sgid" && chmod 2711 "$S/usr/bin/sgid"
chmod 1777 "$S/srv/shared"
chmod 0555 "$S/var/empty"
chown 1234:5678 "$S/etc/app/conf" "$S/srv/shared" # ids with no name on this machine
ln -s /etc/app/conf "$S/abs-link"
ln -s ../etc/app/conf "$S/usr/rel-link"
ln -s /nonexistent/target "$S/dangling"
ln "$S/etc/app/conf" "$S/etc/app/conf.hard"
mkfifo "$S/fifo"
mknod "$S/null" c 1 3
echo deep >"$S/deep/a/b/c/d/e/f"
dd if=/dev/urandom of="$S/blob" bs=1024 count=300 2>/dev/null
truncate -s 16M "$S/sparse" && printf 'end' >>"$S/sparse"
touch -h -d '2001-02-03 04:05:06' "$S/abs-link"
touch -d '2001-02-03 04:05:06' "$S/etc/app/conf" "$S/var/empty" "$S/usr/bin"
caps=0
if command -v setcap >/dev/null 2>&1 && setcap cap_net_raw+ep "$S/usr/bin/tool" 2>/dev/null; then
	caps=1
fi

tree_list "$S" >want
for comp in none gzip xz zstd bzip2; do
	case $comp in
	none) opt= ext=tar ;;
	gzip) opt=--gzip ext=tar.gz ;;
	xz) opt=--xz ext=tar.xz ;;
	zstd) opt=--zstd ext=tar.zst ;;
	bzip2) opt=--bzip2 ext=tar.bz2 ;;
	esac
	command -v "$comp" >/dev/null 2>&1 || [ "$comp" = none ] || continue
	tar -C "$S" --numeric-owner --xattrs --xattrs-include='security.*' -S $opt \
		-cf "$TMP/rootfs.$ext" .
	D=$TMP/dest-$comp
	create "{\"base\": \"tarball\", \"args\": {\"path\": \"$TMP/rootfs.$ext\"}}" "$D"
	expect_rc 0
	tree_list "$D" >got
	diff -u want got >diff || fail "$comp: the tree differs from the source:
$(head -20 diff)"
	cmp -s "$S/blob" "$D/blob" || fail "$comp: file data differs"
	cmp -s "$S/sparse" "$D/sparse" || fail "$comp: sparse file data differs"
	[ "$(stat -c %b "$D/sparse")" -lt 1024 ] || fail "$comp: the sparse file is not sparse"
	[ -p "$D/fifo" ] && [ -c "$D/null" ] || fail "$comp: FIFO or device node missing"
	[ "$(stat -c %i "$D/etc/app/conf")" = "$(stat -c %i "$D/etc/app/conf.hard")" ] ||
		fail "$comp: hard link is not a hard link"
	if [ "$caps" -eq 1 ]; then
		getcap "$D/usr/bin/tool" | grep -q cap_net_raw || fail "$comp: file capability lost"
	fi
	rm -rf "$D"
done

# A path relative to nothing is relative to the working directory (local_root unset).
cd "$TMP"
create '{"base": "tarball", "args": {"path": "rootfs.tar"}}' "$TMP/rel"
expect_rc 0
[ -f "$TMP/rel/etc/app/conf" ] || fail "a relative path was not found"

# A missing file and a file that is no archive: clear errors, nothing left behind.
create "{\"base\": \"tarball\", \"args\": {\"path\": \"$TMP/missing.tar\"}}" "$TMP/d2"
expect_refused "tarball\\(\\): '$TMP/missing.tar': cannot open: No such file"
printf 'not an archive at all\n' >"$TMP/junk.tar"
create "{\"base\": \"tarball\", \"args\": {\"path\": \"$TMP/junk.tar\"}}" "$TMP/d2"
expect_refused "junk.tar"
[ -z "$(ls -A "$TMP/d2")" ] || fail "a failed tarball() left files"
# A truncated archive fails and leaves nothing.
head -c 200000 "$TMP/rootfs.tar" >"$TMP/cut.tar"
create "{\"base\": \"tarball\", \"args\": {\"path\": \"$TMP/cut.tar\"}}" "$TMP/d2"
expect_refused "cut.tar"
[ -z "$(ls -A "$TMP/d2")" ] || fail "a truncated archive left files"
