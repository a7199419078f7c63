#!/bin/sh
# tests/runtime/t6130-apply-config-inherit.sh: a child image inherits its parent's config as
# Docker's FROM does, read back by skopeo and umoci: env (merged; "$PATH:/opt/bin" extends
# the parent's PATH, $$ is a dollar), workdir, user, exposed ports and volumes (added up),
# labels (merged), entrypoint and cmd (replaced; an entrypoint of its own drops the parent's
# cmd). The child's history keeps the parent's entries (base, then the parent's stages).
. "$(dirname "$0")/../lib/test-lib.sh"
. "$TOP/tests/runtime/lib-apply.sh"
need skopeo
need umoci

mkdir build
cat >build/fam.img <<'EOF'
image parent from busybox() {
  stage p1 { file "/p1" { content = "1\n" } }
  stage p2 { file "/p2" { content = "2\n" } }
  config {
    env = { PATH = "/usr/sbin:/usr/bin:/sbin:/bin", APP_HOME = "/srv", KEEP = "same" }
    workdir = "/srv"
    user = "nobody"
    expose = [80]
    volumes = ["/data"]
    labels = { "org.example.tier" = "base", "org.example.owner" = "ops" }
    entrypoint = ["/bin/sh", "-c"]
    cmd = ["echo parent"]
  }
  output oci "out/parent" { tag = "fam/parent:1" }
}
image child from parent {
  stage c1 { file "/c1" { content = "c\n" } }
  config {
    env = { PATH = "$PATH:/opt/bin", PRICE = "$$5", HOME_APP = "${"$"}{APP_HOME}/app" }
    expose = [8080]
    labels = { "org.example.tier" = "app" }
    cmd = ["echo child"]
  }
  output oci "out/child" { tag = "fam/child:1" }
}
image grandchild from child {
  config { entrypoint = ["/bin/true"] }
  output oci "out/grandchild" { tag = "fam/grandchild:1" }
}
EOF
kapply build/fam.img
expect_rc 0

skopeo inspect --config oci:build/out/child:fam/child:1 >child.json 2>skopeo.err ||
	fail "skopeo inspect child: $(cat skopeo.err)"
c() { jq -c "$1" child.json; }
[ "$(c '.config.Env')" = '["APP_HOME=/srv","HOME_APP=/srv/app","KEEP=same","PATH=/usr/sbin:/usr/bin:/sbin:/bin:/opt/bin","PRICE=$5"]' ] ||
	fail "child env: $(c '.config.Env')"
[ "$(c '.config.WorkingDir')" = '"/srv"' ] || fail "child workdir: $(c '.config.WorkingDir')"
[ "$(c '.config.User')" = '"nobody"' ] || fail "child user: $(c '.config.User')"
[ "$(c '.config.ExposedPorts | keys')" = '["80/tcp","8080/tcp"]' ] || fail "child ports: $(c '.config.ExposedPorts')"
[ "$(c '.config.Volumes | keys')" = '["/data"]' ] || fail "child volumes: $(c '.config.Volumes')"
[ "$(c '.config.Labels')" = '{"org.example.owner":"ops","org.example.tier":"app"}' ] ||
	fail "child labels: $(c '.config.Labels')"
[ "$(c '.config.Entrypoint')" = '["/bin/sh","-c"]' ] || fail "child entrypoint: $(c '.config.Entrypoint')"
[ "$(c '.config.Cmd')" = '["echo child"]' ] || fail "child cmd: $(c '.config.Cmd')"
[ "$(c '[.history[].created_by]')" = '["kiln base busybox {}","kiln stage p1","kiln stage p2","kiln stage c1"]' ] ||
	fail "child history: $(c '[.history[].created_by]')"
[ "$(c '.rootfs.diff_ids | length')" = 4 ] || fail "child layers: $(c '.rootfs.diff_ids')"

skopeo inspect --config oci:build/out/grandchild:fam/grandchild:1 >gc.json 2>skopeo.err ||
	fail "skopeo inspect grandchild: $(cat skopeo.err)"
[ "$(jq -c '.config.Entrypoint' gc.json)" = '["/bin/true"]' ] || fail "grandchild entrypoint"
[ "$(jq -c '.config.Cmd' gc.json)" = null ] || fail "the parent's cmd stayed with a new entrypoint: $(jq -c '.config.Cmd' gc.json)"
[ "$(jq -r '.config.Env | map(select(startswith("PATH="))) | .[0]' gc.json)" = \
	'PATH=/usr/sbin:/usr/bin:/sbin:/bin:/opt/bin' ] || fail "grandchild PATH: $(jq -c '.config.Env' gc.json)"

# umoci's runtime config of the unpacked child says the same
unpack build/out/child fam/child:1 bundle
[ "$(jq -r '.process.cwd' bundle/config.json)" = /srv ] || fail "umoci cwd: $(jq -c '.process.cwd' bundle/config.json)"
jq -r '.process.env[]' bundle/config.json | grep -qx 'PATH=/usr/sbin:/usr/bin:/sbin:/bin:/opt/bin' ||
	fail "umoci env: $(jq -c '.process.env' bundle/config.json)"
[ -f bundle/rootfs/p1 ] && [ -f bundle/rootfs/c1 ] || fail "the child's tree lacks the parent's files"
say "ok: a child inherits its parent's config and history"
