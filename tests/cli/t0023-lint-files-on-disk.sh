#!/bin/sh
# kiln lint reports the missing files that kiln compile reports (copy, template and
# unarchive src, tarball() and oci() bases, file()), with no -var values: what depends
# on a param without a value, or on the environment, is left to compile.
. "$(dirname "$0")/../lib/test-lib.sh"

cat >build.img <<'IMG'
param dir: string
image a from scratch() {
  stage s {
    copy "/etc/a" { src = "missing-copy.txt" }
    unarchive "/opt" { src = "missing.tar" }
    copy "/etc/b" { src = "${dir}/x" }
    command "echo ${env("KILN_T0023_UNSET")}" {}
    file "/etc/c" { content = file("missing-file.txt") }
  }
  output tar "out/a.tar" {}
}
image b from tarball("missing-base.tar") {}
image c from oci("missing-layout") {}
image d from tarball("out/a.tar") {}
IMG
unset KILN_T0023_UNSET || true

run_kiln lint --diagnostics=short --color=never build.img
expect_rc 1
grep -E '\[E[0-9]{4}\]$' err >lint.diags || true
for want in '^build\.img:4:27: error: no such file: missing-copy\.txt \[E2013\]$' \
	'^build\.img:5:30: error: no such file: missing\.tar \[E2013\]$' \
	'^build\.img:8:31: error: file\(\) failed: .*missing-file\.txt.* \[E4002\]$' \
	'^build\.img:12:22: error: no such file: missing-base\.tar \[E2013\]$' \
	'^build\.img:13:18: error: no such file: missing-layout \[E2013\]$'; do
	expect_match err "$want" "lint does not report $want"
done
expect_count err 'error' 5 "lint reports more than the five missing files"

# compile, given the values, reports the same
echo x >x
run_kiln compile --diagnostics=short --color=never -o - -var dir=. build.img
expect_rc 1
expect_match err 'E4001|KILN_T0023' "compile has a value lint did not need"
export KILN_T0023_UNSET=set
run_kiln compile --diagnostics=short --color=never -o - -var dir=. build.img
expect_rc 1
grep -E '\[E[0-9]{4}\]$' err >compile.diags || true
cmp -s lint.diags compile.diags || fail "lint and compile differ: $(diff lint.diags compile.diags)"

# a template that does not exist (checked before the rest)
cat >tmpl.img <<'IMG'
image a from scratch() { stage s { template "/etc/t" { src = "missing.tmpl" } } }
IMG
run_kiln lint --diagnostics=short --color=never tmpl.img
expect_rc 1
expect_match err '^tmpl\.img:1:62: error: cannot read template missing\.tmpl' "template src"

# a local task's creates need not exist, nor what a local task makes for later tasks
cat >local.img <<'IMG'
image a from scratch() {
  stage s {
    local "make it" { cmd = "echo hi >made.txt", creates = "made.txt" }
    copy "/etc/made" { src = "made.txt" }
  }
}
IMG
run_kiln lint --color=never local.img
expect_rc 0
expect_empty err
run_kiln compile --color=never -o - local.img
expect_rc 0
