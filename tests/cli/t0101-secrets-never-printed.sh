#!/bin/sh
# A secret's value is never printed and never written to a plan: secrets set through
# KILN_VAR_..., env("..."), a kiln var-file, a JSON var-file and -var go through compile,
# plan, graph, --dump=ir and lint, with every diagnostics format, in builds that succeed and
# in builds with errors about the secret params. No output holds a value, in any case, a
# prefix of one, or its SHA-256.
. "$(dirname "$0")/../lib/test-lib.sh"

# The values: distinctive, and each with its own prefix.
v_env=EnvSecret-4c1f9b7e2d
v_fn=FnSecret-8a3e5d0c61
v_kvars=KvarsSecret-2b9d7f4a13
v_json=JsonSecret-6e0a1c8b57
v_var=VarSecret-9d5b3e7f20
values="$v_env $v_fn $v_kvars $v_json $v_var"

mkdir -p templates saved
cat >build.img <<'IMG'
param tok_env: secret
param tok_fn: secret = env("KILN_TEST_SECRET_SOURCE")
param tok_kvars: secret
param tok_json: secret
param tok_var: secret
param user: string = "deploy"

let bearer = "Bearer ${tok_env}"
let digest = sha256(tok_kvars)

role uses_secret(key: secret, name: string = "r") {
  file "/etc/${name}.key" { content = key, mode = 0600 }
}

image app from busybox() {
  description = "app ${tok_json}"
  stage s {
    file "/etc/app/token" { content = "token=${tok_env}\n" }
    file "/etc/app/bearer" { content = bearer }
    file "/etc/app/digest" { content = digest }
    command "upper" { cmd = upper(tok_fn) }
    command "gated" {
      cmd = "true"
      when tok_var == "on" || length(tok_json) > 3
    }
    template "client" { src = "templates/client.tmpl", dest = "/etc/client.conf" }
    shell "login" {
      cmd = "login ${user}"
      env = { A = tok_env, B = tok_fn, C = tok_kvars, D = tok_json, E = tok_var }
    }
    use uses_secret(tok_var)
  }
  config { env = { TOKEN = tok_kvars } }
  output oci "out/app" { tag = "app:${tok_json}" }
}

hosts web { password = tok_var, "web1.example.com" { password = tok_fn } }

apply web {
  password = tok_env
  command "check" { cmd = "check ${tok_kvars}" }
}
IMG
cat >templates/client.tmpl <<'TMPL'
user = {{ user }}
token = {{ tok_env }}
{% if tok_var == "x" %}x = {{ tok_json }}{% endif %}
{% if length(tok_kvars) > 2 %}
long = {{ lower(tok_kvars) }}
{% endif %}
TMPL
printf '# a kiln var-file\ntok_kvars = "%s"\n' "$v_kvars" >vars.kvars
printf '{ "tok_json": "%s" }\n' "$v_json" >vars.json

# A build with errors about the secret params, with the same values given.
cat >broken.img <<'IMG'
param tok_env: secret
param tok_fn: secret = env("KILN_TEST_SECRET_SOURCE")
param tok_kvars: secret
param tok_json: secret
param tok_var: secret
param tok_missing: secret

image bad from busybox() {
  stage s {
    file "/a" { content = tok_env + 1 }
    command "b" { cmd = "x", when tok_var }
    file "per part" {
      for part in split(",", tok_kvars)
      path = "/p/${part}"
      state = touch
    }
    file "/c" { content = "${tok_json.field}" }
    file "/d" { content = "${tok_fn}" + 1 }
    shell "e" { cmd = "x", env = { M = tok_missing } }
  }
}
IMG
# A JSON var-file that gives a secret a value of the wrong type: the value is not shown.
printf '{ "tok_json": ["%s"] }\n' "$v_json" >wrong.json

KILN_VAR_tok_env=$v_env
KILN_TEST_SECRET_SOURCE=$v_fn
export KILN_VAR_tok_env KILN_TEST_SECRET_SOURCE
set -- -var-file vars.kvars -var-file=vars.json -var "tok_var=$v_var"

runs=0
# keep NAME: save the last run's stdout and stderr under saved/.
keep()
{
	runs=$((runs + 1))
	cp out "saved/$1.stdout"
	cp err "saved/$1.stderr"
}

# The build that succeeds: compile, plan, graph, the IR, lint, from .img and from the plan.
run_kiln compile --color=never "$@" build.img -o saved/plan.json
expect_rc 0
keep compile
run_kiln compile --color=never "$@" build.img -o -
expect_rc 0
keep compile-stdout
cmp -s out "saved/plan.json" || fail "the plan on stdout differs from the plan written to a file"
run_kiln compile --color=never "$@" build.img
expect_rc 0
keep compile-default
[ -f plan.json ] || fail "kiln compile without -o wrote no plan.json"
mv plan.json saved/default-plan.json
run_kiln compile --dump=ir --color=never "$@" build.img
expect_rc 0
expect_nonempty out
keep dump-ir
for fmt in text short json; do
	run_kiln compile --diagnostics=$fmt --color=always "$@" build.img -o "saved/plan-$fmt.json"
	expect_rc 0
	keep "compile-$fmt"
done
run_kiln plan -refresh=false --color=always "$@" build.img
expect_rc 0
expect_nonempty out
keep plan-img
run_kiln plan -refresh=false -detailed-exitcode --color=never "$@" build.img
expect_rc 2
keep plan-detailed
run_kiln plan -refresh=false --color=never saved/plan.json
expect_rc 0
expect_nonempty out
keep plan-json
run_kiln graph "$@" build.img
expect_rc 0
expect_match out '^digraph' "kiln graph printed no graph"
keep graph-img
run_kiln graph saved/plan.json
expect_rc 0
keep graph-json
for fmt in text short json; do
	run_kiln lint --diagnostics=$fmt build.img
	expect_rc 0
	keep "lint-$fmt"
done

# The plan names the secrets and where apply reads them.
jq -e '.params.tok_env.secret == {"from": "env", "var": "KILN_VAR_tok_env"}' saved/plan.json >/dev/null ||
	fail "tok_env: the plan does not say it comes from KILN_VAR_tok_env"
jq -e '.params.tok_fn.secret == {"from": "env", "var": "KILN_TEST_SECRET_SOURCE"}' saved/plan.json \
	>/dev/null || fail "tok_fn: the plan does not say it comes from KILN_TEST_SECRET_SOURCE"
jq -e '.params.tok_kvars.secret == {"from": "var-file", "file": "vars.kvars", "name": "tok_kvars"}' \
	saved/plan.json >/dev/null || fail "tok_kvars: the plan does not name its var-file"
jq -e '.params.tok_json.secret == {"from": "var-file", "file": "vars.json", "name": "tok_json"}' \
	saved/plan.json >/dev/null || fail "tok_json: the plan does not name its var-file"
jq -e '.params.tok_var.secret == {"from": "var", "name": "tok_var"}' saved/plan.json >/dev/null ||
	fail "tok_var: the plan does not say it comes from -var"
jq -e '[.. | objects | select(has("secret")) | .secret | strings] | unique ==
	["tok_env", "tok_fn", "tok_json", "tok_kvars", "tok_var"]' saved/plan.json >/dev/null ||
	fail "the plan's expressions do not name each secret"

# Builds with errors, whose messages are about the secret params.
for fmt in text short json; do
	run_kiln compile --diagnostics=$fmt --color=never "$@" broken.img -o saved/never.json
	expect_rc 1
	keep "broken-compile-$fmt"
	run_kiln lint --diagnostics=$fmt --color=never broken.img
	expect_rc 1
	keep "broken-lint-$fmt"
	run_kiln plan --diagnostics=$fmt --color=never "$@" broken.img
	expect_rc 1
	keep "broken-plan-$fmt"
	run_kiln graph --diagnostics=$fmt "$@" broken.img
	expect_rc 1
	keep "broken-graph-$fmt"
done
[ ! -f saved/never.json ] || fail "a build with errors wrote a plan"
run_kiln compile --color=never "$@" broken.img -o -
expect_rc 1
for want in E3009 E3001 E2014; do
	expect_match err "error\\[$want\\]" "the broken build reports no $want"
done
# Type errors stop the build before values: what needs them, alone.
cat >values.img <<'IMG'
param tok_env: secret
param tok_kvars: secret
param tok_json: secret
param tok_var: secret
param tok_missing: secret

image bad from busybox() {
  stage s {
    file "per part" {
      for part in split(",", tok_kvars)
      path = "/p/${part}"
      state = touch
    }
    shell "e" { cmd = "x", env = { A = tok_env, B = tok_json, C = tok_var, M = tok_missing } }
  }
}
IMG
run_kiln compile --color=never "$@" values.img -o -
expect_rc 1
keep values-missing
expect_match err 'error\[E4001\].*tok_missing' "no E4001 for tok_missing"
run_kiln compile --color=never -var-file vars.kvars -var-file vars.json -var "tok_var=$v_var" \
	-var tok_missing=x values.img -o -
expect_rc 1
keep values-not-constant
expect_match err 'error\[E4003\]' "no E4003 for a loop over a secret"
run_kiln compile --color=never "$@" -var-file wrong.json -var tok_missing=x values.img -o -
expect_rc 1
keep values-wrong-type
expect_match err "error\\[E3008\\].*tok_json" "no E3008 for a secret of the wrong type in JSON"
# a misspelt name given a secret value
run_kiln compile --color=never -var-file vars.kvars -var-file vars.json \
	-var "tok_vr=$v_var" -var "tok_var=$v_var" -var tok_missing=x values.img -o -
expect_rc 1
keep values-misspelt
expect_match err 'error\[E4004\].*tok_vr' "no E4004 for -var tok_vr"
for fmt in short json; do
	run_kiln compile --diagnostics=$fmt --color=never "$@" values.img -o -
	expect_rc 1
	keep "values-$fmt"
done

# Nothing printed or written holds a value, in any case, or a prefix of one, or its digest.
[ "$runs" -ge 30 ] || fail "expected at least 30 runs, made $runs"
for v in $values; do
	prefix=$(printf '%s' "$v" | cut -c1-14)
	digest=$(printf '%s' "$v" | sha256sum | cut -d' ' -f1)
	for pat in "$v" "$prefix" "$digest"; do
		if grep -r -i -F -l -- "$pat" saved >hits; then
			fail "'$pat' (from the secret $v) is in: $(tr '\n' ' ' <hits)"
		fi
	done
done
