#!/bin/sh
# tests/runtime/t6120-apply-oci-exact.sh: exact OCI artifacts, read back by skopeo and
# umoci. The ref name is the reference as written (skopeo inspect oci:DIR:dcsg/pixels-app:0.1
# finds it); two images and three tags written to one layout are all in its index.json, and
# writing one again replaces its entry and keeps the others; a checksum and a manifest
# declared before the other outputs cover them all (the checksum every artifact of the
# image, the manifest the checksum too), and not another image's; the image's description
# is the manifest's org.opencontainers.image.description; a stage that changes nothing has
# an empty layer. buildah (when installed; its
# storage in this test's directory) pulls the layout by that reference and the docker
# archive by its tag, and sees the description.
. "$(dirname "$0")/../lib/test-lib.sh"
. "$TOP/tests/runtime/lib-apply.sh"
need skopeo
need umoci

mkdir build
write_img()
{
	cat >build/two.img <<EOF
image pixels from busybox() {
  description = "Pixels: the app"
  stage app {
    file "/app.txt" { content = "pixels\n" }
  }
  output checksum "out/SHA256SUMS" {}
  output manifest "out/manifest.json" {}
  output oci "out/layout" { tag = ["dcsg/pixels-app:0.1", "a:1"] }
  output tar "out/pixels.tar" {}
  output docker-archive "out/pixels.docker.tar" { tag = "dcsg/pixels-app:0.1" }
}
image other from busybox() {
  stage b {
    file "/b.txt" { content = "$1\n" }
  }
  stage nothing {
    file "/tmp" { state = directory }
  }
  output oci "out/layout" { tag = "b:1" }
  output checksum "out/other.sha256" {}
}
EOF
}
write_img one
kapply build/two.img
expect_rc 0

L=build/out/layout
refs=$(jq -r '[.manifests[].annotations."org.opencontainers.image.ref.name"] | join(",")' "$L/index.json")
[ "$refs" = "dcsg/pixels-app:0.1,a:1,b:1" ] || fail "ref names: $refs"
skopeo inspect oci:$L:dcsg/pixels-app:0.1 >inspect.json 2>skopeo.err ||
	fail "skopeo inspect oci:$L:dcsg/pixels-app:0.1: $(cat skopeo.err)"
skopeo inspect --raw oci:$L:dcsg/pixels-app:0.1 >raw.json 2>skopeo.err || fail "skopeo --raw: $(cat skopeo.err)"
[ "$(jq -r '.annotations."org.opencontainers.image.description"' raw.json)" = "Pixels: the app" ] ||
	fail "no description annotation: $(cat raw.json)"
unpack "$L" dcsg/pixels-app:0.1 bundle-a
[ "$(cat bundle-a/rootfs/app.txt)" = pixels ] || fail "umoci: pixels has no /app.txt"
unpack "$L" b:1 bundle-b
[ "$(cat bundle-b/rootfs/b.txt)" = one ] || fail "umoci: other has no /b.txt"
[ ! -e bundle-b/rootfs/app.txt ] || fail "b:1 is the pixels image"

# a stage that changes nothing has an empty layer (and its history entry)
mb=$(jq -r '.manifests[2].digest' "$L/index.json" | sed 's/sha256://')
l2=$(jq -r '.layers[2].digest' "$L/blobs/sha256/$mb" | sed 's/sha256://')
[ "$(jq -r '.layers | length' "$L/blobs/sha256/$mb")" = 3 ] || fail "b:1 should have 3 layers"
[ -z "$(tar -tzf "$L/blobs/sha256/$l2")" ] || fail "the layer of stage nothing: $(tar -tzf "$L/blobs/sha256/$l2" | head -5)"

# the records cover every other output of their image, though declared first
grep -q '  pixels.tar$' build/out/SHA256SUMS || fail "the checksum misses the tar: $(cat build/out/SHA256SUMS)"
grep -q '  layout/index.json$' build/out/SHA256SUMS || fail "the checksum misses the layout"
[ "$(jq -r '[.artifacts[].type] | sort | join(",")' build/out/manifest.json)" = checksum,docker-archive,oci,tar ] ||
	fail "the manifest's artifacts: $(jq -c '[.artifacts[].type]' build/out/manifest.json)"
grep -q 'pixels.tar' build/out/other.sha256 && fail "the other image's checksum covers pixels' tar"
grep -q '  layout/index.json$' build/out/other.sha256 || fail "the other image's checksum misses its layout"

# b again, changed: its entry is replaced, pixels' stay and still unpack
write_img two
kapply build/two.img
expect_rc 0
refs=$(jq -r '[.manifests[].annotations."org.opencontainers.image.ref.name"] | join(",")' "$L/index.json")
[ "$refs" = "dcsg/pixels-app:0.1,a:1,b:1" ] || fail "ref names after the second apply: $refs"
rm -rf bundle-a bundle-b
unpack "$L" b:1 bundle-b
[ "$(cat bundle-b/rootfs/b.txt)" = two ] || fail "b:1 was not replaced"
unpack "$L" a:1 bundle-a
[ "$(cat bundle-a/rootfs/app.txt)" = pixels ] || fail "a:1 lost its blobs"
skopeo inspect oci:$L:a:1 >/dev/null 2>skopeo.err || fail "skopeo inspect a:1: $(cat skopeo.err)"
# buildah, with its storage here (vfs: nothing mounted)
if command -v buildah >/dev/null 2>&1; then
	B="buildah --root $TMP/broot --runroot $TMP/brun --storage-driver vfs"
	$B pull -q "oci:$L:dcsg/pixels-app:0.1" >bpull.out 2>&1 || fail "buildah pull oci: $(tail -n 3 bpull.out)"
	$B inspect --type image "$(tail -n 1 bpull.out)" >binspect.json 2>&1 || fail "buildah inspect: $(cat binspect.json)"
	[ "$(jq -r '.ImageAnnotations."org.opencontainers.image.description"' binspect.json)" = "Pixels: the app" ] ||
		fail "buildah sees no description: $(jq -c .ImageAnnotations binspect.json)"
	$B pull -q docker-archive:build/out/pixels.docker.tar >bpull.out 2>&1 ||
		fail "buildah pull docker-archive: $(tail -n 3 bpull.out)"
	$B images --format '{{.Name}}:{{.Tag}}' | grep -qx 'localhost/dcsg/pixels-app:0.1' ||
		fail "buildah: no dcsg/pixels-app:0.1 from the archive: $($B images)"
fi
say "ok: ref names as written, one layout for several images, records cover every output"
