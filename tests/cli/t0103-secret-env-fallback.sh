#!/bin/sh
# A secret's default is env("NAME") and nothing else: env("NAME", "") writes a fallback in
# the source (E3011). The verdict of lint, compile, plan and apply (their diagnostics and
# exit status) is the same whether NAME is set in the environment or not, and lint finds
# it too. env("NAME") alone compiles when NAME is set and is E4001 when it is not.
. "$(dirname "$0")/../lib/test-lib.sh"
unset KILN_TEST_FALLBACK || true

cat >fallback.img <<'IMG'
param tok: secret = env("KILN_TEST_FALLBACK", "")
image app from busybox() {
  stage s {
    file "/etc/tok" { content = tok }
  }
}
IMG
cat >plain.img <<'IMG'
param tok: secret = env("KILN_TEST_FALLBACK")
image app from busybox() {
  stage s {
    file "/etc/tok" { content = tok }
  }
}
IMG

# verdict CMD...: run kiln CMD fallback.img with the variable unset, then set; both runs must
# give the same status and the same stderr and stdout, with E3011 and status 1.
verdict()
{
	run_kiln "$@" --color=never fallback.img
	rc_unset=$rc
	cp err err.unset
	cp out out.unset
	KILN_TEST_FALLBACK=Fallback-Secret-Lynx-93 run_kiln "$@" --color=never fallback.img
	[ "$rc" -eq "$rc_unset" ] ||
		fail "kiln $*: exit status $rc_unset without the variable, $rc with it"
	cmp -s err err.unset || {
		diff -u err.unset err >&2
		fail "kiln $*: the diagnostics differ with the variable set"
	}
	cmp -s out out.unset || fail "kiln $*: the output differs with the variable set"
	expect_rc 1
	expect_match err 'error\[E3011\]: a secret.s fallback must not be written in the source'
	expect_match err 'fallback.img:1:'
	expect_no_match err 'Lynx'
}

verdict lint
verdict compile -o -
verdict plan
verdict apply --work-dir="$TMP/work" --cache-dir="$TMP/cache" --progress=plain

# env("NAME") alone: the environment decides whether there is a value
KILN_TEST_FALLBACK=Plain-Secret-Lynx-93 run_kiln compile plain.img -o -
expect_rc 0
expect_no_match out 'Lynx'
run_kiln compile plain.img -o -
expect_rc 1
expect_match err "error\[E4001\]: 1 param has no value: 'tok'"
run_kiln lint plain.img
expect_rc 0
say "ok: a secret's env() fallback gets the same verdict with or without the variable"
