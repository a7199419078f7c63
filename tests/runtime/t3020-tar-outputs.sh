#!/bin/sh
# tests/runtime/t3020-tar-outputs.sh: the root filesystem as a tarball, compressed by the
# path's extension (.tar, .tar.gz, .tgz, .tar.zst) or by args.compression. gzip -t and
# zstd -t accept the files, the uncompressed bytes are the same in all of them, GNU tar
# extracts the built tree (modes, owners, links, hard links, a fifo), entries are sorted
# with numeric owners, and each artifact's digest and size are those of its file.
. "$(dirname "$0")/../lib/test-lib.sh"
. "$TOP/tests/runtime/lib-output.sh"
need zstd
need gzip

make_tree "$TMP/rootfs"
# enough data for several gzip blocks (1 MiB each) and zstd jobs
head -c 3000000 /dev/urandom >"$TMP/rootfs/var/random.bin"
i=0
while [ $i -lt 3000 ]; do
	echo "line $i of a text that compresses well"
	i=$((i + 1))
done >"$TMP/rootfs/usr/share/doc/text"
mkdir work
cat >job.json <<EOF
{"rootfs": "$TMP/rootfs", "work": "$TMP/work", "local_root": "$TMP", "layers": false,
 "image": {"name": "t"},
 "outputs": [{"type": "tar", "path": "dist/root.tar", "args": {}},
             {"type": "tar", "path": "dist/root.tar.gz", "args": {}},
             {"type": "tar", "path": "dist/root.tgz", "args": {"compression": "auto"}},
             {"type": "tar", "path": "dist/root.tar.zst", "args": {}},
             {"type": "tar", "path": "dist/root.img", "args": {"compression": "zstd"}},
             {"type": "tar", "path": "dist/plain.tar.gz", "args": {"compression": "none"}}]}
EOF
run_job_ok job.json

gzip -t dist/root.tar.gz || fail "gzip -t rejects root.tar.gz"
gzip -t dist/root.tgz || fail "gzip -t rejects root.tgz"
zstd -q -t dist/root.tar.zst || fail "zstd -t rejects root.tar.zst"
zstd -q -t dist/root.img || fail "zstd -t rejects root.img (compression = zstd)"
! gzip -t dist/plain.tar.gz 2>/dev/null || fail "compression = none wrote gzip"
! gzip -t dist/root.tar 2>/dev/null || fail "root.tar is compressed"
gzip -dc dist/root.tar.gz | cmp - dist/root.tar || fail "root.tar.gz holds other bytes than root.tar"
gzip -dc dist/root.tgz | cmp - dist/root.tar || fail "root.tgz holds other bytes than root.tar"
zstd -q -dc dist/root.tar.zst | cmp - dist/root.tar || fail "root.tar.zst holds other bytes"
cmp dist/plain.tar.gz dist/root.tar || fail "compression = none is not the plain tar"
[ "$(stat -c %s dist/root.tar.gz)" -lt "$(stat -c %s dist/root.tar)" ] || fail "gzip did not compress"

for f in root.tar root.tar.gz root.tgz root.tar.zst root.img; do
	tar -tf "dist/$f" >"$f.list" 2>"$f.err" || fail "tar -tf $f failed: $(cat "$f.err")"
	expect_empty "$f.err"
	cmp "$f.list" root.tar.list || fail "$f lists other entries"
	mkdir "x-$f"
	tar --numeric-owner -xpf "dist/$f" -C "x-$f" || fail "tar cannot extract $f"
	same_tree "$TMP/rootfs" "x-$f"
done
# sorted as paths sort component by component ('/' lowest), no "./", numeric owners only
tr '/' '\001' <root.tar.list | LC_ALL=C sort | tr '\001' '/' | diff - root.tar.list >sort.diff ||
	fail "entries are not sorted: $(head sort.diff)"
expect_no_match root.tar.list '^\./|^/'
tar -tvf dist/root.tar >verbose.list
expect_match verbose.list '^-rwsr-xr-x 0/0 .* bin/busybox$'
expect_match verbose.list '^drwx------ 1000/1000 .* home/user/$'
expect_match verbose.list ' etc/passwd.hard link to etc/passwd$'

# the artifacts record what was written
n=$(jq_out '.artifacts | length')
[ "$n" -eq 6 ] || fail "expected 6 artifacts, got $n"
i=0
while [ $i -lt "$n" ]; do
	p=$(jq_out ".artifacts[$i].path")
	[ "$(jq_out ".artifacts[$i].digest")" = "sha256:$(sha256sum "$p" | cut -d' ' -f1)" ] ||
		fail "$p: the artifact's digest is not the file's"
	[ "$(jq_out ".artifacts[$i].size")" -eq "$(stat -c %s "$p")" ] || fail "$p: wrong size"
	[ "$(jq_out ".artifacts[$i].type")" = tar ] || fail "$p: wrong type"
	i=$((i + 1))
done
[ "$(jq_out '[.artifacts[].compression] | join(",")')" = "none,gzip,gzip,zstd,zstd,none" ] ||
	fail "compressions: $(jq_out '[.artifacts[].compression] | join(",")')"
[ -z "$(find dist -name '.*')" ] || fail "temporary files left: $(find dist -name '.*')"
say "ok: tar, tar.gz, tgz, tar.zst extract to the built tree"
