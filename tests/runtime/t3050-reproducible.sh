#!/bin/sh
# tests/runtime/t3050-reproducible.sh: with SOURCE_DATE_EPOCH set, two builds of the same
# tree give the same bytes: layers, OCI layout, docker-archive, tarballs (gzip and zstd),
# checksums and manifest, although the trees were made at other times, in another order
# (so directories list their entries in another order) and in other directories. Every
# mtime in the tars is clamped to SOURCE_DATE_EPOCH; without it, to the image time 0.
. "$(dirname "$0")/../lib/test-lib.sh"
. "$TOP/tests/runtime/lib-output.sh"

SOURCE_DATE_EPOCH=1700000000 # 2023-11-14 22:13:20 UTC
export SOURCE_DATE_EPOCH

# build NAME [reverse]: make a tree under NAME/ and write every output into NAME/dist
build()
{
	make_tree "$TMP/$1/rootfs" ${2:-}
	mkdir -p "$TMP/$1/work"
	cat >"$1/job.json" <<EOF
{"rootfs": "$TMP/$1/rootfs", "work": "$TMP/$1/work", "local_root": "$TMP/$1",
 "stages": ["echo one >etc/one && rm usr/share/doc/remove-me", "ln etc/one etc/one.link && rm -r srv"],
 "image": {"name": "r", "source": "r.img:1:1", "from": {"base": "busybox", "args": {}},
   "stages": [{"name": "a"}, {"name": "b"}], "config": {"cmd": ["/bin/sh"]}},
 "outputs": [{"type": "oci", "path": "dist/img", "args": {"tag": "r:1"}},
             {"type": "docker-archive", "path": "dist/r.docker.tar", "args": {}},
             {"type": "tar", "path": "dist/r.tar.zst", "args": {}},
             {"type": "tar", "path": "dist/r.tar.gz", "args": {}},
             {"type": "checksum", "path": "dist/SHA256SUMS", "args": {}},
             {"type": "manifest", "path": "dist/manifest.json", "args": {}}]}
EOF
	run_job_ok "$1/job.json"
	cp "$TMP/out" "$1/result.json"
}

build a
sleep 1.1
build b reverse
touch -h -d '2025-06-01 12:00:00' "$TMP/b/rootfs/etc/passwd" "$TMP/b/rootfs/bin/sh"

for q in '[.layers[].diff_id]' '[.artifacts[].digest]'; do
	[ "$(jq -c "$q" a/result.json)" = "$(jq -c "$q" b/result.json)" ] ||
		fail "$q differ: $(jq -c "$q" a/result.json) vs $(jq -c "$q" b/result.json)"
done
diff -r a/dist b/dist >dist.diff || fail "the outputs differ: $(head -n 5 dist.diff)"
for i in 0 1 2; do
	cmp "a/work/layer-$i.tar" "b/work/layer-$i.tar" || fail "layer $i differs"
done

# every mtime is SOURCE_DATE_EPOCH, whiteouts included
for f in a/work/layer-0.tar a/work/layer-2.tar a/dist/r.tar.gz; do
	tar -tvf "$f" --full-time --utc >times.list 2>/dev/null || fail "tar -tvf $f"
	awk '{ print $4, $5 }' times.list | sort -u >dates
	[ "$(cat dates)" = '2023-11-14 22:13:20' ] || fail "$f: mtimes not clamped: $(head -n 3 dates)"
done
tar -tf a/work/layer-2.tar | grep -q '\.wh\.srv$' || fail "no whiteout in layer 2"

# without SOURCE_DATE_EPOCH, every mtime is the image time, 0 (the build's own time is
# never used); an mtime before it is kept
unset SOURCE_DATE_EPOCH
touch -d '2021-03-04 05:06:07 UTC' "$TMP/a/rootfs/etc/passwd"
touch -h -d '1969-12-31 23:00:00 UTC' "$TMP/a/rootfs/bin/sh"
jq '.stages = [] | .outputs = []' a/job.json >plain.json
run_job_ok plain.json
tar -tvf a/work/layer-0.tar --full-time --utc | grep ' etc/passwd$' >passwd.line
expect_match passwd.line ' 1970-01-01 00:00:00 etc/passwd$' "mtime not clamped: $(cat passwd.line)"
tar -tvf a/work/layer-0.tar --full-time --utc | grep ' bin/sh ' >sh.line
expect_match sh.line ' 1969-12-31 23:00:00 bin/sh ' "an earlier mtime not kept: $(cat sh.line)"
say "ok: two builds of the same tree give the same bytes"
