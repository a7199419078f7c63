#!/bin/sh
# tests/runtime/t3030-checksum-manifest.sh: checksum and manifest outputs after an OCI
# layout and a tarball. `sha256sum -c` and `sha512sum -c` verify the checksum files (every
# file of the layout, the tarball; args.of; names with a backslash or a newline), and fail
# once a file changes; the manifest records the image, its source and every artifact with
# the digest and size of what was written.
. "$(dirname "$0")/../lib/test-lib.sh"
. "$TOP/tests/runtime/lib-output.sh"

make_tree "$TMP/rootfs"
mkdir work extra
echo odd >'extra/back\slash'
echo odder >'extra/new
line'
cat >job.json <<EOF
{"rootfs": "$TMP/rootfs", "work": "$TMP/work", "local_root": "$TMP",
 "stages": ["echo x >etc/x"],
 "image": {"name": "t", "source": "t.img:3:1", "stages": [{"name": "s"}]},
 "outputs": [{"type": "oci", "path": "dist/img", "args": {"tag": "t:1"}},
             {"type": "tar", "path": "dist/root.tar.zst", "args": {}},
             {"type": "checksum", "path": "dist/SHA256SUMS", "args": {}},
             {"type": "checksum", "path": "dist/root.sha512",
              "args": {"algorithm": "sha512", "of": ["dist/root.tar.zst", "extra"]}},
             {"type": "manifest", "path": "dist/manifest.json",
              "args": {"custom_data": {"team": "web"}}}]}
EOF
SOURCE_DATE_EPOCH=1700000000
export SOURCE_DATE_EPOCH
run_job_ok job.json

(cd dist && sha256sum --strict -c SHA256SUMS) >check.out 2>&1 || fail "sha256sum -c: $(cat check.out)"
files=$(find dist/img -type f | wc -l)
[ "$(wc -l <dist/SHA256SUMS)" -eq $((files + 1)) ] ||
	fail "SHA256SUMS has $(wc -l <dist/SHA256SUMS) lines for $((files + 1)) files"
expect_match dist/SHA256SUMS '^[0-9a-f]{64}  img/index\.json$'
expect_match dist/SHA256SUMS '^[0-9a-f]{64}  root\.tar\.zst$'
(cd dist && sha512sum --strict -c root.sha512) >check.out 2>&1 || fail "sha512sum -c: $(cat check.out)"
expect_match dist/root.sha512 '^[0-9a-f]{128}  root\.tar\.zst$'
expect_match dist/root.sha512 '^\\[0-9a-f]{128}  \.\./extra/back\\\\slash$'
[ "$(grep -c . dist/root.sha512)" -eq 3 ] || fail "root.sha512: $(cat dist/root.sha512)"
echo tampered >>dist/root.tar.zst
! (cd dist && sha256sum -c --quiet SHA256SUMS) >/dev/null 2>&1 || fail "sha256sum -c accepts a changed file"

m=dist/manifest.json
jq -e '.image == "t" and .source == "t.img:3:1" and .source_file == "t.img"
	and .source_date_epoch == 1700000000 and .build_time == 1700000000
	and .custom_data == {"team": "web"} and (.kiln_version | length) > 0
	and ([.artifacts[].type] == ["oci", "tar", "checksum", "checksum"])
	and ([.artifacts[].path] == ["dist/img", "dist/root.tar.zst", "dist/SHA256SUMS", "dist/root.sha512"])' \
	$m >/dev/null || fail "manifest: $(cat $m)"
[ "$(jq -r '.artifacts[0].digest' $m)" = "$(jq -r '.manifests[0].digest' dist/img/index.json)" ] ||
	fail "the oci artifact's digest is not the manifest's"
for i in 2 3; do
	p=$(jq -r ".artifacts[$i].path" $m)
	[ "$(jq -r ".artifacts[$i].digest" $m)" = "sha256:$(sha256sum "$p" | cut -d' ' -f1)" ] ||
		fail "$p: digest in the manifest is not the file's"
	[ "$(jq -r ".artifacts[$i].size" $m)" -eq "$(stat -c %s "$p")" ] || fail "$p: size"
done
[ "$(jq_out '.artifacts[4].type')" = manifest ] && [ "$(jq_out '.artifacts[4].digest')" = \
	"sha256:$(sha256sum $m | cut -d' ' -f1)" ] || fail "the manifest's own artifact record"
tail -c 1 $m | od -c | grep -q '\\n' || fail "the manifest does not end with a newline"
say "ok: checksums verify, the manifest records every artifact"
