#!/bin/sh
# Tags are image references, checked at lint (and compile) against the distribution
# grammar that docker, podman, skopeo and buildah share: 'My_App:1.0' is an error at its
# literal with the reason (a repository name must be lowercase); good references pass,
# including a registry with a port, a digest, a plain tag, a computed one.
. "$(dirname "$0")/../lib/test-lib.sh"

cat >good.img <<'IMG'
param version: string = "1.0"
image a from busybox() {
  output oci "out/a" { tag = ["dcsg/pixels-app:0.1", "latest", "1.0", "a__b-c/e--f.g:V_1.0-rc",
    "localhost:5000/team/app:${version}", "registry.example.com/x",
    "app@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"] }
  output docker-archive "out/a.tar" { tag = "my-app:${version}" }
}
IMG
run_kiln lint --color=never good.img
expect_rc 0
expect_empty err

cat >bad.img <<'IMG'
param version: string = "1 0"
image a from busybox() {
  output oci "out/a" { tag = ["ok:1", "My_App:1.0"] }
  output docker-archive "out/a.tar" { tag = "app:${version}" }
  output oci "out/b" { tag = "app:" }
  output oci "out/c" { tag = "reg.example.com:http/app" }
  output oci "out/d" { tag = "a//b" }
}
IMG
for cmd in lint compile; do
	if [ $cmd = compile ]; then run_kiln compile --color=never -o plan.json bad.img; else run_kiln lint --color=never bad.img; fi
	expect_rc 1
	expect_match err "^bad.img:3:39: error\\[E3013\\]: tag 'My_App:1.0' is not a valid image reference" "$cmd: My_App"
	expect_match err "help: a repository name must be lowercase" "$cmd: the reason"
	expect_match err "^bad.img:4:45: error\\[E3013\\]: tag 'app:1 0'" "$cmd: a computed tag"
	expect_match err "^bad.img:5:.*tag 'app:'" "$cmd: an empty tag"
	expect_match err "^bad.img:6:.*tag 'reg.example.com:http/app'" "$cmd: a port that is no number"
	expect_match err "^bad.img:7:.*tag 'a//b'" "$cmd: an empty component"
	[ "$(grep -c 'E3013' err)" -eq 5 ] || fail "$cmd: expected 5 errors: $(cat err)"
done
[ ! -e plan.json ] || fail "compile wrote a plan despite the errors"
say "ok: references checked against the distribution grammar"
