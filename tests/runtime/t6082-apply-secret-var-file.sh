#!/bin/sh
# tests/runtime/t6082-apply-secret-var-file.sh: a secret set in a kiln-syntax var-file (or a
# JSON one) reaches the image when the .img files are applied, and when a plan.json is:
# read again from the var-file the plan names (relative to -C) or the variable of its
# env("NAME") default, or from apply's own -var-file, -var or KILN_VAR_. A secret the plan says came from -var, applied without
# one, is an error that names the param and says how to set it (no crash, nothing built).
. "$(dirname "$0")/../lib/test-lib.sh"
. "$TOP/tests/runtime/lib-apply.sh"

mkdir build
cat >build/x.img <<'EOF2'
param tok: secret
param user: string = "app"
image x from busybox() {
  stage s {
    file "/etc/tok" { content = "${user}:${tok}\n", mode = 0600 }
  }
  output tar "out/x.tar" {}
}
EOF2
printf '# a kiln var-file\ntok = "Kvars-Secret-Walrus-31"\nuser = "bob"\n' >build/s.kvars
printf '{ "tok": "Json-Secret-Heron-77" }\n' >build/s.json
printf 'tok = "Other-Secret-Puffin-52"\n' >other.kvars

# image_tok: what the image's /etc/tok holds
image_tok()
{
	tar -xOf build/out/x.tar etc/tok 2>/dev/null || tar -xOf build/out/x.tar ./etc/tok
}
expect_tok()
{
	[ "$(image_tok)" = "$1" ] || fail "the image holds '$(image_tok)', not '$1'"
}

# the .img files with a kiln var-file: apply reads the value once, with compile
kapply -var-file build/s.kvars build/x.img
expect_rc 0
expect_no_match err 'Walrus'
expect_tok 'bob:Kvars-Secret-Walrus-31'

kapply -var-file build/s.json build/x.img
expect_rc 0
expect_tok 'app:Json-Secret-Heron-77'

# a plan compiled with the kiln var-file, applied later: the var-file the plan names
run_kiln compile -var-file build/s.kvars build/x.img -o plan.json
expect_rc 0
grep -q Walrus plan.json && fail "the plan holds the secret"
[ "$(jq -r .params.tok.secret.file plan.json)" = s.kvars ] ||
	fail "the plan does not name the var-file relative to the root: $(jq -c .params.tok plan.json)"
rm -f build/out/x.tar
kapply -C build plan.json
expect_rc 0
expect_tok 'bob:Kvars-Secret-Walrus-31'
# apply's own -var-file, -var and KILN_VAR_ win over the var-file the plan names
kapply -var-file other.kvars -C build plan.json
expect_rc 0
expect_tok 'bob:Other-Secret-Puffin-52'
# the var-file of compile given again: its other params are the plan's already, unremarked
kapply -var-file build/s.kvars -C build plan.json
expect_rc 0
expect_no_match err 'warning'
# a -var for a param that is not a secret: the plan's value stays, with a warning;
# one for a name the plan has no param for is an error
kapply -var user=carol -C build plan.json
expect_rc 0
expect_match err "warning\[W4001\]: -var user: the plan holds param 'user' as it was compiled"
expect_tok 'bob:Kvars-Secret-Walrus-31'
kapply -var usr=carol -C build plan.json
expect_rc 1
expect_match err "error\[E4004\]: -var usr=...: no param 'usr' is declared"
expect_match err "did you mean 'user'"
kapply -var tok=Var-Secret-Marten-18 -C build plan.json
expect_rc 0
expect_tok 'bob:Var-Secret-Marten-18'
kapply -var-file other.kvars -var tok=Var-Secret-Marten-19 -C build plan.json
expect_rc 0
expect_tok 'bob:Var-Secret-Marten-19'

# from -var at compile, nothing at apply: a clear error, nothing built
run_kiln compile -var tok=Var-Secret-Marten-18 build/x.img -o plan-var.json
expect_rc 0
rm -f build/out/x.tar
kapply -C build plan-var.json
expect_rc 1
expect_match err "error\[E4001\]: secret param 'tok' of the plan has no value"
expect_match err 'set it for apply as well: -var tok=VALUE'
[ ! -e build/out/x.tar ] || fail "an image was written without the secret"
KILN_VAR_tok=Env-Secret-Otter-64 kapply -C build plan-var.json
expect_rc 0
expect_tok 'app:Env-Secret-Otter-64'
expect_no_match err 'Otter'
# an env("NAME") default: a plan.json reads NAME again at apply
sed 's/^param tok: secret$/param tok: secret = env("T6082_TOKEN")/' build/x.img >build/y.img
T6082_TOKEN=Env-Default-Tapir-45 run_kiln compile build/y.img -o plan-env.json
expect_rc 0
[ "$(jq -r .params.tok.secret.var plan-env.json)" = T6082_TOKEN ] ||
	fail "the plan does not name the variable: $(jq -c .params.tok plan-env.json)"
T6082_TOKEN=Env-Default-Tapir-46 kapply -C build plan-env.json
expect_rc 0
expect_tok 'app:Env-Default-Tapir-46'
kapply -C build plan-env.json
expect_rc 1
expect_match err "secret param 'tok' of the plan has no value \(compile took it from the environment's T6082_TOKEN\)"
say "ok: secrets from var-files reach apply, from the .img files and from a plan.json"
