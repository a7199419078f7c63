#!/bin/sh
# tests/runtime/t6000-apply-outputs.sh: kiln apply bakes a small busybox image and writes
# every kind of output, each read back by a real client: the OCI layout by skopeo (the
# config as config {} wrote it) and umoci (the files), the docker archive by skopeo, the
# tar.zst by zstd and tar, the checksum file by sha256sum -c, the manifest by jq. Nothing
# of the run stays in the work directory, no temporary file in the output directory.
. "$(dirname "$0")/../lib/test-lib.sh"
. "$TOP/tests/runtime/lib-apply.sh"
need skopeo
need umoci
need zstd
need sha256sum

mkdir build
cat >build/hello.img <<'EOF'
image hello from busybox() {
  stage greet {
    file "/hello.txt" {
      content = "hello from kiln\n"
      mode = 0644
    }
    file "/srv/app" { state = directory, mode = 0755 }
    file "/srv/app/index.html" { content = "<h1>it works</h1>\n", mode = 0640 }
    file "/srv/app/run" { content = "#!/bin/sh\necho run\n", mode = 0755 }
  }

  config {
    cmd = ["cat", "/hello.txt"]
    env = { GREETING = "hello", APP_ROOT = "/srv/app" }
    expose = [8080, "53/udp"]
    workdir = "/srv/app"
    labels = { "org.opencontainers.image.title" = "hello", "org.example.team" = "web" }
  }

  output oci "out/hello" { tag = "hello:1.0" }
  output docker-archive "out/hello.docker.tar" { tag = "kiln/hello:1.0" }
  output tar "out/hello.tar.zst" {}
  output checksum "out/hello.sha256" {}
  output manifest "out/hello.manifest.json" {}
}
EOF

kapply build/hello.img
expect_rc 0
expect_match err '^hello +: ok=0 +changed=4 +failed=0 +skipped=0 ' "the recap is not ok=0 changed=4"
expect_match err 'wrote +oci out/hello sha256:[0-9a-f]{64}'
[ -z "$(ls -A "$WORK")" ] || fail "the work directory still holds $(ls -A "$WORK")"
[ -z "$(temp_files build/out)" ] || fail "temporary files left: $(temp_files build/out)"

# the OCI layout: skopeo reads it, the config is what config {} says
skopeo inspect oci:build/out/hello:hello:1.0 >inspect.json 2>skopeo.err ||
	fail "skopeo inspect oci: $(cat skopeo.err)"
[ "$(jq -r '.Layers | length' inspect.json)" -ge 2 ] || fail "expected a base and a stage layer"
skopeo inspect --config oci:build/out/hello:hello:1.0 >config.json 2>skopeo.err ||
	fail "skopeo inspect --config oci: $(cat skopeo.err)"
jq -e '.config.Cmd == ["cat", "/hello.txt"]
	and .config.Env == ["APP_ROOT=/srv/app", "GREETING=hello"]
	and .config.ExposedPorts == {"8080/tcp": {}, "53/udp": {}}
	and .config.WorkingDir == "/srv/app"
	and .config.Labels == {"org.opencontainers.image.title": "hello", "org.example.team": "web"}
	and .os == "linux"' config.json >/dev/null || fail "the OCI config is not config {}: $(cat config.json)"

# umoci unpacks the files the stage wrote, with their modes
unpack build/out/hello hello:1.0 bundle
R=bundle/rootfs
[ "$(cat $R/hello.txt)" = "hello from kiln" ] || fail "/hello.txt: $(cat $R/hello.txt)"
[ "$(cat $R/srv/app/index.html)" = "<h1>it works</h1>" ] || fail "/srv/app/index.html is wrong"
[ "$(stat -c %a $R/hello.txt $R/srv/app $R/srv/app/index.html $R/srv/app/run | tr '\n' ' ')" = \
	"644 755 640 755 " ] ||
	fail "modes: $(stat -c '%n %a' $R/hello.txt $R/srv/app $R/srv/app/index.html $R/srv/app/run)"
[ -x $R/bin/busybox ] && [ -L $R/bin/sh ] || fail "the busybox base is not in the image"
[ "$(chroot $R /bin/sh -c 'cat /hello.txt')" = "hello from kiln" ] || fail "the unpacked image does not run"

# the docker archive: skopeo reads it, under the tag given
skopeo inspect docker-archive:build/out/hello.docker.tar:kiln/hello:1.0 >dinspect.json 2>skopeo.err ||
	fail "skopeo inspect docker-archive: $(cat skopeo.err)"
[ "$(jq -r '.Layers | length' dinspect.json)" = "$(jq -r '.Layers | length' inspect.json)" ] ||
	fail "the docker archive and the OCI layout have different layers"
skopeo inspect --config docker-archive:build/out/hello.docker.tar >dconfig.json 2>skopeo.err ||
	fail "skopeo inspect --config docker-archive: $(cat skopeo.err)"
[ "$(jq -c .config dconfig.json)" = "$(jq -c .config config.json)" ] ||
	fail "the docker archive's config differs: $(jq -c .config dconfig.json)"
tar -xOf build/out/hello.docker.tar manifest.json | jq -e '.[0].RepoTags == ["kiln/hello:1.0"]' \
	>/dev/null || fail "the docker archive's manifest.json has no RepoTags kiln/hello:1.0"

# the tar.zst: the image's whole tree
zstd -dc build/out/hello.tar.zst | tar -t >tar.list 2>tar.err || fail "zstd | tar -t: $(cat tar.err)"
expect_match tar.list '^(\./)?hello\.txt$'
expect_match tar.list '^(\./)?srv/app/index\.html$'
expect_match tar.list '^(\./)?bin/busybox$'
[ "$(zstd -dc build/out/hello.tar.zst | tar -xOf - hello.txt 2>/dev/null ||
	zstd -dc build/out/hello.tar.zst | tar -xOf - ./hello.txt)" = "hello from kiln" ] ||
	fail "hello.txt in the tar.zst is wrong"

# the checksum file verifies from its own directory, and covers the other outputs
(cd build/out && sha256sum -c hello.sha256) >sum.out 2>&1 || fail "sha256sum -c: $(cat sum.out)"
expect_match build/out/hello.sha256 '^[0-9a-f]{64}  hello\.tar\.zst$'
expect_match build/out/hello.sha256 '^[0-9a-f]{64}  hello\.docker\.tar$'
expect_match build/out/hello.sha256 '^[0-9a-f]{64}  hello/index\.json$'

# the manifest lists the artifacts, with their digests
M=build/out/hello.manifest.json
jq -e '.image == "hello"' $M >/dev/null || fail "the manifest does not name the image: $(cat $M)"
[ "$(jq -r '[.artifacts[] | "\(.type) \(.path)"] | join(",")' $M)" = \
	"oci out/hello,docker-archive out/hello.docker.tar,tar out/hello.tar.zst,checksum out/hello.sha256" ] ||
	fail "the manifest's artifacts: $(jq -c '[.artifacts[] | .path]' $M)"
[ "$(jq -r '.artifacts[] | select(.type == "oci") | .digest' $M)" = "$(oci_digest build/out/hello)" ] ||
	fail "the manifest's OCI digest is not the layout's"
for f in hello.tar.zst hello.docker.tar hello.sha256; do
	[ "$(jq -r --arg p "out/$f" '.artifacts[] | select(.path == $p) | .digest' $M)" = \
		"sha256:$(sha256sum build/out/$f | cut -d' ' -f1)" ] || fail "the manifest's digest of $f is wrong"
done
say "ok: oci (skopeo, umoci), docker-archive (skopeo), tar.zst, checksum and manifest read back"
