#!/bin/sh
# kiln lint takes -var and -var-file as compile does: a var-file must exist and parse, a
# value must fit its param, and the values given are checked with (a path param's file
# must exist). Without them, params need no values.
. "$(dirname "$0")/../lib/test-lib.sh"

cat >build.img <<'IMG'
param conf: path
param port: int = 80
image a from scratch() {
  description = "port ${port}"
  stage s { copy "/etc/app.conf" { src = conf } }
}
IMG

run_kiln lint --color=never build.img
expect_rc 0
expect_empty err

run_kiln lint --diagnostics=short --color=never -var-file=missing.kvars build.img
expect_rc 1
expect_match err '^missing\.kvars:1:1: error: cannot read: No such file or directory \[E0001\]$' \
	"a missing var-file"

echo 'port = ' >bad.kvars
run_kiln lint --diagnostics=short --color=never -var-file bad.kvars build.img
expect_rc 1
expect_match err '^bad\.kvars:2:1: error: .*\[E1002\]$' "a var-file that does not parse"

run_kiln lint --diagnostics=short --color=never -var port=eighty build.img
expect_rc 1
expect_match err '\[E3008\]$' "a value that does not fit its param"

printf 'conf = "missing.conf"\n' >ok.kvars
run_kiln lint --diagnostics=short --color=never -var-file=ok.kvars build.img
expect_rc 1
expect_match err '^build\.img:5:42: error: no such file: missing\.conf \[E2013\]$' \
	"the file a value names"
run_kiln compile --diagnostics=short --color=never -o - -var-file=ok.kvars build.img
expect_rc 1
expect_match err '^build\.img:5:42: error: no such file: missing\.conf \[E2013\]$' \
	"compile: the file a value names"

echo hi >missing.conf
run_kiln lint --color=never -var-file=ok.kvars -var port=8080 build.img
expect_rc 0
expect_empty err
