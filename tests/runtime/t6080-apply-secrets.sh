#!/bin/sh
# tests/runtime/t6080-apply-secrets.sh: a secret param set by KILN_VAR_x is used in a file's
# content, a shell command line, a command's environment, a line of lineinfile and the
# stderr of a failing command. Its value appears in no output (plain, --events=json, with
# --diff, kiln plan), not in the plan.json of kiln compile, not in a file name of the
# stage cache or the work directory; the unpacked image holds it where the tasks put it.
# Another value of the secret makes a new cache entry.
. "$(dirname "$0")/../lib/test-lib.sh"
. "$TOP/tests/runtime/lib-apply.sh"
need umoci

SECRET='S3cr3t-Zebra-42'
KILN_VAR_db_password=$SECRET
export KILN_VAR_db_password

mkdir build
cat >build/secret.img <<'EOF'
param db_password: secret
param user: string = "app"

image sec from busybox() {
  stage s {
    file "/etc/app.conf" { content = "user=${user}\npassword=${db_password}\n", mode = 0600 }
    shell "echo pw=${db_password} > /etc/from-shell; echo said ${db_password}" {}
    shell "password in the environment" {
      cmd = "echo \"$PW\" > /etc/from-env"
      env = { PW = db_password }
    }
    lineinfile "password line" { path = "/etc/other.conf", line = "pw=${db_password}", create = true }
    shell "leaks on stderr" {
      cmd = "echo \"oops ${db_password}\" >&2; exit 1"
      ignore_errors = true
    }
  }
  output oci "out/sec" { tag = "sec:1" }
  output manifest "out/sec.manifest.json" {}
}
EOF

# no_secret FILE...: none of the files holds the value
no_secret()
{
	for _f in "$@"; do
		if grep -q -- "$SECRET" "$_f"; then
			fail "the secret is in $_f: $(grep -m1 -- "$SECRET" "$_f" | cut -c1-200)"
		fi
	done
}

run_kiln compile build/secret.img -o plan.json
expect_rc 0
no_secret plan.json out err
jq -e '.params.db_password.secret.from == "env"' plan.json >/dev/null ||
	fail "the plan does not say where the secret comes from: $(jq -c .params.db_password plan.json)"
run_kiln plan build/secret.img
expect_rc 0
no_secret out err

kapply --diff build/secret.img
expect_rc 0
no_secret out err
expect_match err 'oops \*+' "the failing command's stderr is not shown redacted"
cp err plain.err
kapply_json --diff --cache-dir="$TMP/cache-json" build/secret.img
expect_rc 0
no_secret out err
[ "$(status_of sec.s.4)" = failed ] || fail "the failing task's status is $(status_of sec.s.4)"
# the plan: applied from plan.json, with the secret read from the environment again
run_kiln apply --work-dir="$WORK" --cache-dir="$TMP/cache-plan" --progress=plain --diff -C build plan.json
expect_rc 0
no_secret out err

# the names of the files kiln keeps
[ -z "$(find "$CACHE" "$TMP/cache-json" "$TMP/cache-plan" "$WORK" build -name "*$SECRET*")" ] ||
	fail "a file name holds the secret: $(find "$CACHE" "$WORK" build -name "*$SECRET*")"
no_secret build/out/sec.manifest.json build/out/sec/index.json

# the image holds it
unpack build/out/sec sec:1 bundle
R=bundle/rootfs/etc
[ "$(sed -n 2p $R/app.conf)" = "password=$SECRET" ] || fail "app.conf does not hold the secret"
[ "$(stat -c %a $R/app.conf)" = 600 ] || fail "app.conf is not 0600"
[ "$(cat $R/from-shell)" = "pw=$SECRET" ] || fail "the shell command did not get the secret"
[ "$(cat $R/from-env)" = "$SECRET" ] || fail "the environment did not get the secret"
[ "$(cat $R/other.conf)" = "pw=$SECRET" ] || fail "lineinfile did not write the secret"

# another value: the stage runs again (the secret is part of its cache key)
KILN_VAR_db_password='An0ther-Okapi-77'
kapply_json build/secret.img
expect_rc 0
expect_status sec.s.0 changed
grep -q 'An0ther-Okapi-77' out err && fail "the new secret is in the output"
rm -rf bundle
unpack build/out/sec sec:1 bundle
[ "$(sed -n 2p bundle/rootfs/etc/app.conf)" = "password=An0ther-Okapi-77" ] ||
	fail "the new secret is not in the image"
say "ok: the secret reaches the image and no output, plan or file name"
