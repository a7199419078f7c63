#!/bin/sh
# tests/runtime/t6180-apply-podman.sh: kiln's artifacts read back by podman, with a storage of
# this test's own (vfs under $TMP, file locks, its own containers.conf, a tmpfs over
# /var/lib/containers in podman's own mount namespace; never the machine's).
#   - `podman pull oci:LAYOUT:dcsg/pixels-app:0.1` finds the image by the reference as written,
#     and two images with three tags in one layout each pull as themselves;
#   - `podman load` of the docker-archive gives the tag as written;
#   - a tag like My_App:1.0 is refused at lint (E3013), and podman indeed refuses an
#     archive that carries it (made here by hand from kiln's);
#   - a child's config as podman inspects it: env with the parent's PATH extended, workdir,
#     user, exposed ports, labels, entrypoint and cmd, the parent's history entries, the
#     description annotation;
#   - `podman run --rm` of the image's entrypoint, when this machine can start a container
#     (crun refuses a hybrid cgroup layout with controllers in cgroup v2: that part is then
#     skipped, and said).
. "$(dirname "$0")/../lib/test-lib.sh"
. "$TOP/tests/runtime/lib-apply.sh"
need podman
need unshare

# podman's whole state under $TMP
mkdir -p proot prun ptmp pvol pnet
cat >containers.conf <<EOF
[engine]
lock_type = "file"
events_logger = "file"
cgroup_manager = "cgroupfs"
tmp_dir = "$TMP/ptmp"
volume_path = "$TMP/pvol"
[network]
network_config_dir = "$TMP/pnet"
EOF
cat >storage.conf <<EOF
[storage]
driver = "vfs"
graphroot = "$TMP/proot"
runroot = "$TMP/prun"
EOF
CONTAINERS_CONF=$TMP/containers.conf
CONTAINERS_STORAGE_CONF=$TMP/storage.conf
export CONTAINERS_CONF CONTAINERS_STORAGE_CONF
P="podman --root $TMP/proot --runroot $TMP/prun --storage-driver vfs --tmpdir $TMP/ptmp"
P="$P --cgroup-manager cgroupfs --events-backend file --network-config-dir $TMP/pnet"
# podman 4.3 keeps a blob cache in /var/lib/containers/cache whatever --root says: a tmpfs
# over it in a mount namespace of podman's own keeps the machine's untouched
pm()
{
	TMPDIR=$TMP/ptmp timeout -k 10 120 unshare -m --propagation private sh -c '
		d=/var/lib/containers
		[ -d $d ] || d=/var/lib
		mount -t tmpfs -o mode=0700 kiln-test-podman $d && exec "$@"' sh $P "$@"
}

mkdir build
cat >build/pm.img <<'EOF'
image pixels from busybox() {
  description = "Pixels: the app"
  stage app {
    file "/app.txt" { content = "pixels\n" }
    file "/srv" { state = directory }
    file "/bin/pixels" {
      content = "#!/bin/sh\necho \"pixels says $GREETING from $(pwd) as $(id -un)\"\n"
      mode = 0755
    }
  }
  config {
    env = { PATH = "/usr/sbin:/usr/bin:/sbin:/bin", GREETING = "hello" }
    workdir = "/srv"
    user = "nobody"
    expose = [80]
    labels = { "org.example.tier" = "base" }
    entrypoint = ["/bin/sh", "-c"]
    cmd = ["echo parent"]
  }
  output oci "out/layout" { tag = ["dcsg/pixels-app:0.1", "a:1"] }
  output docker-archive "out/pixels.docker.tar" { tag = "dcsg/pixels-app:0.1" }
}
image child from pixels {
  description = "Pixels, child"
  stage c1 {
    file "/srv/c1.txt" { content = "child\n" }
  }
  config {
    env = { PATH = "$PATH:/opt/bin" }
    expose = [8080]
    labels = { "org.example.tier" = "app" }
    entrypoint = ["/bin/pixels"]
  }
  output oci "out/layout" { tag = "b:1" }
  output docker-archive "out/child.docker.tar" { tag = ["dcsg/child:2", "child:latest"] }
}
EOF
kapply build/pm.img
expect_rc 0
L=build/out/layout

# --- the layout: each reference pulls its own image ----------------------------------------
for ref in dcsg/pixels-app:0.1 a:1 b:1; do
	pm pull -q "oci:$L:$ref" >pull.out 2>pull.err || fail "podman pull oci:$L:$ref: $(tail -n 3 pull.err)"
	id=$(tail -n 1 pull.out)
	want=$(jq -r --arg r "$ref" '.manifests[] | select(.annotations."org.opencontainers.image.ref.name" == $r) | .digest' "$L/index.json")
	[ -n "$want" ] || fail "no $ref in index.json"
	pm image inspect --format '{{.Digest}}' "$id" >digest.out 2>&1 || fail "podman image inspect $id: $(cat digest.out)"
	[ "$(cat digest.out)" = "$want" ] || fail "podman pulled $(cat digest.out) for $ref, the layout says $want"
	echo "$id" >"id-$(echo "$ref" | tr '/:' '__')"
done
[ "$(cat id-a_1)" = "$(cat id-dcsg_pixels-app_0.1)" ] || fail "a:1 and dcsg/pixels-app:0.1 are one image"
[ "$(cat id-b_1)" != "$(cat id-a_1)" ] || fail "b:1 pulled the pixels image"
pm pull -q "oci:$L:nosuch:1" >pull.out 2>&1 && fail "podman pulled a reference the layout does not have"

# the description: an annotation of the manifest (before the archives, whose docker manifests
# have none, give the same images another manifest)
pm image inspect "$(cat id-b_1)" >b.json 2>&1 || fail "podman image inspect b:1: $(cat b.json)"
[ "$(jq -r '.[0].Annotations."org.opencontainers.image.description"' b.json)" = "Pixels, child" ] ||
	fail "podman sees no description: $(jq -c '.[0].Annotations' b.json)"
pm image inspect "$(cat id-a_1)" >a.json 2>&1 || fail "podman image inspect a:1: $(cat a.json)"
[ "$(jq -r '.[0].Annotations."org.opencontainers.image.description"' a.json)" = "Pixels: the app" ] ||
	fail "podman sees no description on pixels: $(jq -c '.[0].Annotations' a.json)"

# --- docker archives: podman load gives the tags as written ---------------------------------
pm load -i build/out/pixels.docker.tar >load.out 2>&1 || fail "podman load pixels: $(tail -n 3 load.out)"
grep -q 'Loaded image.*localhost/dcsg/pixels-app:0.1' load.out || fail "podman load said: $(cat load.out)"
pm load -i build/out/child.docker.tar >load.out 2>&1 || fail "podman load child: $(tail -n 3 load.out)"
pm images --format '{{.Repository}}:{{.Tag}}' >images.out
for t in localhost/dcsg/pixels-app:0.1 localhost/dcsg/child:2 localhost/child:latest; do
	grep -qx "$t" images.out || fail "no $t in podman's images: $(cat images.out)"
done

# --- the child's config, as podman sees it ----------------------------------------------------
pm image inspect localhost/dcsg/child:2 >child.json 2>&1 || fail "podman image inspect child: $(cat child.json)"
c() { jq -c ".[0]$1" child.json; }
[ "$(c '.Config.Env')" = '["GREETING=hello","PATH=/usr/sbin:/usr/bin:/sbin:/bin:/opt/bin"]' ] ||
	fail "child env: $(c '.Config.Env')"
[ "$(c '.Config.WorkingDir')" = '"/srv"' ] || fail "child workdir: $(c '.Config.WorkingDir')"
[ "$(c '.Config.User')" = '"nobody"' ] || fail "child user: $(c '.Config.User')"
[ "$(c '.Config.ExposedPorts | keys')" = '["80/tcp","8080/tcp"]' ] || fail "child ports: $(c '.Config.ExposedPorts')"
[ "$(c '.Config.Labels')" = '{"org.example.tier":"app"}' ] || fail "child labels: $(c '.Config.Labels')"
[ "$(c '.Config.Entrypoint')" = '["/bin/pixels"]' ] || fail "child entrypoint: $(c '.Config.Entrypoint')"
# an entrypoint of its own drops the parent's cmd, as Docker's FROM does
[ "$(c '.Config.Cmd')" = null ] || fail "child cmd: $(c '.Config.Cmd')"
pm history --format '{{.CreatedBy}}' localhost/dcsg/child:2 >history.out 2>&1 || fail "podman history: $(cat history.out)"
[ "$(tr '\n' ',' <history.out)" = 'kiln stage c1,kiln stage app,kiln base busybox {},' ] ||
	fail "child history (newest first): $(cat history.out)"
# --- a tag podman refuses is refused at lint ------------------------------------------------
sed 's|tag = "dcsg/pixels-app:0.1" }|tag = "My_App:1.0" }|' build/pm.img >build/bad.img
run_kiln lint build/bad.img
expect_rc 1
grep -q 'E3013' err || fail "lint did not refuse My_App:1.0 with E3013"
grep -q 'bad.img:[0-9]*:[0-9]*' err || fail "no file:line:col in the diagnostic"
# podman's own verdict on such a name: an archive carrying it (kiln's, its tag rewritten)
mkdir arch
tar -xf build/out/pixels.docker.tar -C arch
jq -c '.[0].RepoTags = ["My_App:1.0"]' arch/manifest.json >arch/m.json && mv arch/m.json arch/manifest.json
(cd arch && tar -cf ../bad.docker.tar -- *)
pm load -i bad.docker.tar >load.out 2>&1 && fail "podman loaded an archive tagged My_App:1.0: $(cat load.out)"
grep -q 'Invalid tag "My_App:1.0"' load.out || fail "podman's refusal does not name the tag: $(cat load.out)"

# --- run the child's entrypoint, when this machine can start a container -----------------------
run_opts="--rm --network none --ulimit nofile=1024:1024 --ulimit nproc=1024:1024"
if pm run $run_opts localhost/dcsg/child:2 >run.out 2>run.err; then
	[ "$(cat run.out)" = "pixels says hello from /srv as nobody" ] || fail "podman run said: $(cat run.out)"
	say "ok: podman run started the entrypoint"
elif grep -q 'OCI runtime error\|crun: \|runc: ' run.err; then
	say "podman run skipped: this machine's runtime cannot start a container: $(tail -n 1 run.err)"
else
	fail "podman run: $(cat run.err)"
fi
# conmon starts `podman container cleanup` when a container ends, in the background: let
# it finish with this test's storage before that goes
for _i in $(seq 100); do
	pgrep -f -- "$TMP/proot" >/dev/null 2>&1 || break
	sleep 0.1
done
! pgrep -a -f -- "$TMP/proot" >pgrep.out 2>&1 || fail "podman still runs on this test's storage: $(cat pgrep.out)"
say "ok: podman pulls the layout by reference, loads the archives, sees the inherited config"
