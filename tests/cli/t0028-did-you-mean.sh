#!/bin/sh
# A mistyped command or option gets the closest name ("did you mean"), and a
# command that needs root says so in one line before doing anything.
. "$(dirname "$0")/../lib/test-lib.sh"

echo 'image a from scratch() {}' >ok.img

# suggest CMDLINE... EXPECTED: exit 2, one suggestion naming EXPECTED, nothing on stdout
suggest()
{
	want=$1
	shift
	run_kiln "$@"
	expect_rc 2
	expect_match err "did you mean '$want'\\?" "kiln $*: no suggestion of $want"
	[ ! -s out ] || fail "kiln $*: wrote to stdout"
}

suggest apply aply ok.img
suggest lint lnt ok.img
suggest inventory inventroy -i x --list
suggest apply help aply
suggest --check apply --chek ok.img
suggest --syntax-only lint --syntax-onyl ok.img
suggest -var compile -vars x=1 ok.img
suggest --detailed-exitcode plan --detailed-exitcod ok.img
suggest --work-dir apply --work-dri=/nowhere ok.img
suggest --list inventory -i x --lsit
suggest --stdin-filename lint --stdin-filenam=x.img -
# nothing close: no suggestion
run_kiln frobnicate ok.img
expect_rc 2
expect_no_match err 'did you mean' "a far-off command got a suggestion"
run_kiln lint --zzzzzzzzzz ok.img
expect_rc 2
expect_no_match err 'did you mean' "a far-off option got a suggestion"

# needs root: a user that is not root gets one line, and nothing is built
command -v setpriv >/dev/null 2>&1 || skip "setpriv is missing"
[ "$(id -u)" = 0 ] || skip "not root: cannot switch to another user"
chmod 755 "$TMP"
mkdir out-dir && chmod 777 out-dir
cat >bake.img <<'IMG'
image a from scratch() {
  stage s {
    file "/x" { content = "x" }
  }
  output tar "out-dir/a.tar" {}
}
IMG
chmod 644 bake.img
nobody()
{
	rc=0
	timeout 60 setpriv --reuid=65534 --regid=65534 --clear-groups $KILN "$@" >out 2>err || rc=$?
}
nobody apply --work-dir="$TMP/out-dir/w" --cache-dir="$TMP/out-dir/c" bake.img
expect_rc 1
expect_match err '^kiln: apply needs root for baking images' "no needs-root message"
[ "$(wc -l <err)" -eq 1 ] || fail "the needs-root error is not one line"
[ -z "$(ls out-dir)" ] || fail "something was written before the needs-root error"
# lint and compile need no root
nobody lint bake.img
expect_rc 0
# hosts in a root filesystem need root too; hosts over SSH do not (they fail later)
mkdir -p roots/web
cat >roots.img <<'IMG'
hosts web { "roots/web" { connection = rootfs } }
apply web {
  file "x" {
    path = "/x"
    content = "x"
  }
}
IMG
chmod 644 roots.img
nobody apply roots.img
expect_rc 1
expect_match err '^kiln: apply needs root for configuring hosts in a root filesystem' \
	"no needs-root message for rootfs hosts"
exit 0
