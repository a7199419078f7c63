#!/bin/sh
# tests/runtime/t3010-docker-archive.sh: a busybox tree with two stages written as a
# docker-archive: manifest.json names the config and the layer tars with the RepoTags, the
# layers are the uncompressed layer tars; skopeo reads the archive (by tag too); copied to
# an OCI layout by skopeo and unpacked by umoci, it is the built tree. A tag without a name
# takes the image's name; writing again replaces the archive.
. "$(dirname "$0")/../lib/test-lib.sh"
. "$TOP/tests/runtime/lib-output.sh"
. "$TOP/tests/runtime/lib-containers.sh"
need skopeo
need umoci

make_tree "$TMP/rootfs"
mkdir work
cat >job.json <<EOF
{"rootfs": "$TMP/rootfs", "work": "$TMP/work", "local_root": "$TMP",
 "stages": ["echo added >etc/added && ln -sf sh bin/ls",
            "rm -r usr/share/doc/gone-dir etc/passwd.hard"],
 "image": {"name": "Web", "stages": [{"name": "one"}, {"name": "two"}],
   "config": {"cmd": ["/bin/sh"], "env": {"PATH": "/bin"}}},
 "outputs": [{"type": "docker-archive", "path": "dist/web.docker.tar",
              "args": {"tag": ["registry.example:5000/team/web:2.1", "3.0"]}},
             {"type": "docker-archive", "path": "dist/default.tar", "args": {}}]}
EOF
run_job_ok job.json
tar -xf dist/web.docker.tar -C work --one-top-level=x 2>tar.err || fail "tar cannot read the archive: $(cat tar.err)"
jq -e 'length == 1 and .[0].RepoTags == ["registry.example:5000/team/web:2.1", "web:3.0"]
	and (.[0].Layers | length) == 3' work/x/manifest.json >/dev/null ||
	fail "manifest.json: $(cat work/x/manifest.json)"
for i in 0 1 2; do
	l=$(jq -r ".[0].Layers[$i]" work/x/manifest.json)
	cmp "work/x/$l" "work/layer-$i.tar" || fail "layer $i in the archive is not the layer tar"
done
config=$(jq -r '.[0].Config' work/x/manifest.json)
[ "$(sha256sum "work/x/$config" | cut -d' ' -f1).json" = "$config" ] || fail "config name is not its digest"
jq -e '.config.Cmd == ["/bin/sh"] and (.rootfs.diff_ids | length) == 3' "work/x/$config" >/dev/null ||
	fail "config: $(cat "work/x/$config")"
jq -e '.[0].RepoTags == ["web:latest"]' "$(mkdir -p work/y && tar -xf dist/default.tar -C work/y &&
	echo work/y/manifest.json)" >/dev/null || fail "default tag: $(cat work/y/manifest.json)"

skopeo inspect docker-archive:dist/web.docker.tar >inspect.json 2>skopeo.err ||
	fail "skopeo inspect: $(cat skopeo.err)"
[ "$(jq -r '.Layers | length' inspect.json)" -eq 3 ] || fail "skopeo sees $(jq -r '.Layers | length' inspect.json) layers"
skopeo inspect docker-archive:dist/web.docker.tar:web:3.0 >/dev/null 2>skopeo.err ||
	fail "skopeo does not find web:3.0: $(cat skopeo.err)"
skopeo copy -q docker-archive:dist/web.docker.tar oci:copy:t >/dev/null 2>skopeo.err ||
	fail "skopeo copy: $(cat skopeo.err)"
umoci unpack --image copy:t bundle >umoci.out 2>&1 || fail "umoci unpack: $(tail -n 5 umoci.out)"
same_tree "$TMP/rootfs" bundle/rootfs
[ ! -e bundle/rootfs/etc/passwd.hard ] || fail "a removed hard link came back"

# a second write replaces the archive; no temporary file stays beside it
old=$(sha256sum dist/web.docker.tar | cut -d' ' -f1)
echo more >"$TMP/rootfs/etc/more"
jq '.stages = []' job.json >job2.json
run_job_ok job2.json
[ "$(sha256sum dist/web.docker.tar | cut -d' ' -f1)" != "$old" ] || fail "the archive was not replaced"
[ "$(ls -A dist | LC_ALL=C sort | tr '\n' ' ')" = "default.tar web.docker.tar " ] ||
	fail "dist/ holds $(ls -A dist | tr '\n' ' ')"
say "ok: docker-archive read by tar, skopeo and (through skopeo) umoci"
