#!/bin/sh
# tests/runtime/t3000-oci-layers.sh: a busybox tree, a base layer and two stages' layers,
# written as an OCI layout. skopeo reads it and shows the config; umoci unpacks it to the
# same tree (contents, types, modes, owners, link targets, hard links, file capabilities);
# what stage 2 removed is gone (whiteouts), a directory that became a file and a file that
# became a directory come out right; each layer holds only its stage's changes; kiln's own
# oci() base reads it back; a second write replaces the layout.
. "$(dirname "$0")/../lib/test-lib.sh"
. "$TOP/tests/runtime/lib-output.sh"
. "$TOP/tests/runtime/lib-containers.sh"
need skopeo
need umoci

make_tree "$TMP/rootfs"
mkdir work
# a file capability (security.capability) travels with the file, when setcap is here
caps=
if command -v setcap >/dev/null 2>&1 && command -v getcap >/dev/null 2>&1; then
	cp "$TMP/rootfs/bin/busybox" "$TMP/rootfs/bin/ping"
	setcap cap_net_raw+ep "$TMP/rootfs/bin/ping" && caps=$(getcap "$TMP/rootfs/bin/ping" | sed 's/.* //')
fi
cat >job.json <<EOF
{"rootfs": "$TMP/rootfs", "work": "$TMP/work", "local_root": "$TMP",
 "stages": [
   "echo 'www:x:33:33::/var/www:/bin/sh' >>etc/passwd && printf 'v=1\\\\n' >etc/app/new.conf && chmod 0640 etc/app/new.conf && chown 0:1000 etc/app/new.conf && mkdir -p var/lib/app && ln bin/busybox bin/vi && ln -sf busybox bin/ls",
   "rm usr/share/doc/remove-me && rm -r usr/share/doc/gone-dir && rmdir var/empty && echo now-a-file >var/empty && rm etc/app/empty && mkdir etc/app/empty && chmod 0640 etc/app/secret.conf"
 ],
 "image": {"name": "test", "source": "test.img:1:1", "from": {"base": "busybox", "args": {}},
   "stages": [{"name": "tools"}, {"name": "cleanup"}],
   "config": {"cmd": ["/bin/sh", "-c", "echo hi"], "entrypoint": ["/bin/busybox"],
     "env": {"B": "2", "A": "1"}, "workdir": "/home/user", "user": "1000",
     "expose": [8080, "53/udp"], "labels": {"org.example.team": "web"},
     "volumes": ["/var/lib/app"], "stop_signal": "SIGQUIT"}},
 "outputs": [{"type": "oci", "path": "dist/img", "args": {"tag": ["kiln/test:1.0", "latest"]}}]}
EOF
run_job_ok job.json
[ "$(jq_out '.layers | length')" -eq 3 ] || fail "expected 3 layers, got $(jq_out '.layers | length')"
[ -f dist/img/oci-layout ] && [ -f dist/img/index.json ] || fail "no OCI layout at dist/img"
[ "$(jq -r '[.manifests[].annotations."org.opencontainers.image.ref.name"] | join(",")' \
	dist/img/index.json)" = "kiln/test:1.0,latest" ] || fail "index.json ref names: $(cat dist/img/index.json)"

# each layer holds its stage's changes, whiteouts included
for i in 0 1 2; do
	tar -tvf "work/layer-$i.tar" >"layer-$i.list" 2>"layer-$i.err" || fail "tar cannot list layer $i"
	expect_empty "layer-$i.err"
done
expect_match layer-0.list ' bin/busybox$'
expect_match layer-1.list ' bin/vi link to bin/busybox$' "layer 1: bin/vi is not a hard link"
expect_match layer-1.list ' bin/ls -> busybox$'
expect_match layer-1.list ' etc/passwd.hard link to etc/passwd$'
expect_no_match layer-1.list 'remove-me|secret.conf|\.wh\.'
expect_match layer-2.list ' usr/share/doc/\.wh\.remove-me$'
expect_match layer-2.list ' usr/share/doc/\.wh\.gone-dir$'
expect_no_match layer-2.list 'gone-dir/' "layer 2 whites out what is below a removed directory"
expect_no_match layer-2.list 'bin/busybox|passwd' "layer 2 holds entries stage 2 did not change"
expect_match layer-2.list '^-rw-r----- 1000/1000 .* etc/app/secret.conf$'
expect_match layer-2.list '^-.* var/empty$'
expect_match layer-2.list '^d.* etc/app/empty/$'

# skopeo reads the layout and the config
skopeo inspect oci:dist/img:kiln/test:1.0 >inspect.json 2>skopeo.err || fail "skopeo inspect: $(cat skopeo.err)"
[ "$(jq -r '.Layers | length' inspect.json)" -eq 3 ] || fail "skopeo sees $(jq -r '.Layers | length' inspect.json) layers"
skopeo inspect --config oci:dist/img:latest >config.json 2>skopeo.err || fail "skopeo inspect --config: $(cat skopeo.err)"
jq -e '.config.Cmd == ["/bin/sh", "-c", "echo hi"] and .config.Entrypoint == ["/bin/busybox"]
	and .config.Env == ["A=1", "B=2"] and .config.WorkingDir == "/home/user"
	and .config.User == "1000" and .config.ExposedPorts == {"8080/tcp": {}, "53/udp": {}}
	and .config.Labels == {"org.example.team": "web"} and .config.Volumes == {"/var/lib/app": {}}
	and .config.StopSignal == "SIGQUIT" and (.history | length) == 3
	and .history[2].created_by == "kiln stage cleanup"' config.json >/dev/null ||
	fail "the config is not what the plan said: $(cat config.json)"
[ "$(jq -r '.Os + "/" + .Architecture' inspect.json)" = "linux/$(jq -r .architecture config.json)" ] ||
	fail "skopeo shows $(jq -r '.Os + "/" + .Architecture' inspect.json)"
[ "$(jq -c .rootfs.diff_ids config.json)" = "$(jq -c '[.layers[].diff_id]' "$TMP/out")" ] ||
	fail "diff_ids differ from the layers' digests"
for i in 0 1 2; do
	[ "$(sha256sum "work/layer-$i.tar" | cut -d' ' -f1)" = "$(jq_out ".layers[$i].diff_id" | cut -d: -f2)" ] ||
		fail "layer $i: diff_id is not the tar's sha256"
done
jq -e '[.layers[].mediaType] == ["application/vnd.oci.image.layer.v1.tar+gzip",
	"application/vnd.oci.image.layer.v1.tar+gzip", "application/vnd.oci.image.layer.v1.tar+gzip"]' \
	"dist/img/blobs/sha256/$(jq -r '.manifests[0].digest' dist/img/index.json | cut -d: -f2)" >/dev/null ||
	fail "layers are not gzip layers"
[ "$(jq_out '.artifacts[0].digest')" = "$(jq -r '.manifests[0].digest' dist/img/index.json)" ] ||
	fail "the artifact's digest is not the manifest's"

# umoci unpacks the same tree
umoci unpack --image dist/img:kiln/test:1.0 bundle >umoci.out 2>&1 || fail "umoci unpack: $(tail -n 5 umoci.out)"
same_tree "$TMP/rootfs" bundle/rootfs
[ ! -e bundle/rootfs/usr/share/doc/remove-me ] || fail "a removed file came back"
[ -f bundle/rootfs/var/empty ] && [ -d bundle/rootfs/etc/app/empty ] || fail "type changes lost"
[ "$(stat -c %i bundle/rootfs/bin/vi)" = "$(stat -c %i bundle/rootfs/bin/busybox)" ] ||
	fail "bin/vi and bin/busybox are not one file after unpack"
[ "$(stat -c %a bundle/rootfs/bin/busybox)" = 4755 ] || fail "setuid bit lost"
if [ -n "$caps" ]; then
	[ "$(getcap bundle/rootfs/bin/ping | sed 's/.* //')" = "$caps" ] ||
		fail "file capabilities lost: $(getcap bundle/rootfs/bin/ping)"
fi

# kiln's own oci() base reads it back to the same tree (when its driver is built)
base_test=${KILN_BUILD_DIR:-$TOP/build}/tests/runtime/base_test
if [ -x "$base_test" ]; then
	mkdir back
	KILN_CACHE_DIR=$TMP/cache $base_test create \
		"{\"base\": \"oci\", \"args\": {\"path\": \"$TMP/dist/img\", \"tag\": \"1.0\"}}" \
		back >base.out 2>&1 || fail "oci() cannot read the layout: $(tail -n 5 base.out)"
	same_tree "$TMP/rootfs" back
fi

# writing another tag again adds it to the layout: the other entries stay, with their blobs
jq '.stages = [] | .outputs[0].args.tag = "2.0"' job.json >again.json
run_job_ok again.json
[ "$(jq -r '[.manifests[].annotations."org.opencontainers.image.ref.name"] | join(",")' \
	dist/img/index.json)" = "kiln/test:1.0,latest,2.0" ] ||
	fail "the layout's entries were not merged: $(cat dist/img/index.json)"
[ "$(ls -A dist)" = img ] || fail "dist/ holds $(ls -A dist | tr '\n' ' ')"
umoci unpack --image dist/img:2.0 bundle2 >umoci.out 2>&1 || fail "umoci unpack: $(tail -n 5 umoci.out)"
same_tree "$TMP/rootfs" bundle2/rootfs
say "ok: skopeo and umoci read the layout; the unpacked tree is the built tree"
