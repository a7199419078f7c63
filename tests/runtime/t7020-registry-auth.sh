#!/bin/sh
# tests/runtime/t7020-registry-auth.sh: output registry and the registry() base against
# real registries that want TLS or a login. TLS with a CA made here: refused without
# ca_file (a clear TLS error), pushed and pulled with it. htpasswd basic auth: pushed with
# username and a secret password; refused with a wrong one (a clear error; the secret never
# printed, nor in the plan); anonymous refused; credentials from $REGISTRY_AUTH_FILE.
# Token auth (a token service of the harness): pushed with the right password, refused
# with a wrong one, pulled with the auth file's credentials.
. "$(dirname "$0")/../lib/test-lib.sh"
. "$TOP/tests/runtime/lib-apply.sh"
. "$TOP/tests/runtime/lib-registry.sh"
need skopeo
SOURCE_DATE_EPOCH=1700000000
export SOURCE_DATE_EPOCH
TEST_PW=unused
export TEST_PW

push_img()
{
	cat >push.img <<IMG
param registry: string = "127.0.0.1:5000"
param pw: secret = env("TEST_PW")
image hello from busybox() {
  stage greet { file "/hello.txt" { content = "hello\n" } }
  output registry "\${registry}/kiln/hello" { $1 }
  output manifest "dist/m.json" {}
}
IMG
}
pull_img()
{
	cat >pull.img <<IMG
param registry: string = "127.0.0.1:5000"
image app from registry("\${registry}/kiln/hello:latest", $1) {
  stage app { shell "test -f /hello.txt" {} }
  output oci "dist/app" {}
}
IMG
}
no_secret()
{
	for f in out err "$@"; do
		expect_no_match "$f" "$REG_PASSWORD" "the password appears in $f"
		expect_no_match "$f" "wrong-$$-pw" "the wrong password appears in $f"
	done
}

# ---- TLS ----
registry_start tls
cp "$REG_CA" ca.pem
push_img ''
kapply -var registry=$REG push.img
expect_rc 1
expect_match err "TLS.*ca_file" "no clear TLS error without the CA"
push_img 'ca_file = "ca.pem"'
kapply -var registry=$REG push.img
expect_rc 0
d=$(skopeo inspect --cert-dir "$REG_DIR/certs-none" --tls-verify=false "docker://$REG/kiln/hello:latest" | jq -r .Digest)
[ "$d" = "$(jq -r '.artifacts[0].digest' dist/m.json)" ] || fail "TLS push: registry has $d"
pull_img 'ca_file = "ca.pem"'
kapply -var registry=$REG pull.img
expect_rc 0
registry_stop

# ---- htpasswd ----
registry_start htpasswd
push_img 'insecure = true'
kapply -var registry=$REG push.img
expect_rc 1
expect_match err "wants a login" "anonymous push: no clear error"
push_img 'insecure = true, username = "kiln", password = pw'
TEST_PW=wrong-$$-pw kapply -var registry=$REG push.img
expect_rc 1
expect_match err "authentication failed for user 'kiln'" "wrong password: no clear error"
no_secret
TEST_PW=$REG_PASSWORD kapply -var registry=$REG push.img
expect_rc 0
no_secret dist/m.json
TEST_PW=$REG_PASSWORD run_kiln compile -o plan.json push.img
no_secret plan.json
skopeo inspect --tls-verify=false --creds "$REG_USER:$REG_PASSWORD" \
	"docker://$REG/kiln/hello:latest" >/dev/null || fail "skopeo sees no kiln/hello"
# the auth file, as skopeo and podman write it
printf '{"auths": {"%s": {"auth": "%s"}}}\n' "$REG" \
	"$(printf '%s:%s' "$REG_USER" "$REG_PASSWORD" | base64 -w0)" >auth.json
push_img 'insecure = true, tags = ["from-auth-file"]'
REGISTRY_AUTH_FILE=$TMP/auth.json kapply -var registry=$REG push.img
expect_rc 0
no_secret
pull_img 'insecure = true'
REGISTRY_AUTH_FILE=$TMP/auth.json kapply -var registry=$REG pull.img
expect_rc 0
registry_stop

# ---- token ----
registry_start token
push_img 'insecure = true, username = "kiln", password = pw'
TEST_PW=wrong-$$-pw kapply -var registry=$REG push.img
expect_rc 1
expect_match err "token service refused" "wrong password (token): no clear error"
no_secret
TEST_PW=$REG_PASSWORD kapply -var registry=$REG push.img
expect_rc 0
no_secret dist/m.json
[ "$(jq -r '.artifacts[0].uploaded' dist/m.json)" -ge 2 ] || fail "token push uploaded nothing"
printf '{"auths": {"%s": {"auth": "%s"}}}\n' "$REG" \
	"$(printf '%s:%s' "$REG_USER" "$REG_PASSWORD" | base64 -w0)" >auth.json
pull_img 'insecure = true'
REGISTRY_AUTH_FILE=$TMP/auth.json kapply -var registry=$REG pull.img
expect_rc 0
