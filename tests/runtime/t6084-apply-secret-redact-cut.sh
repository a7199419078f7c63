#!/bin/sh
# tests/runtime/t6084-apply-secret-redact-cut.sh: a secret is blanked out before any text is
# shortened, and each line of a multi-line secret is blanked out too. A 68-character secret
# in a task's name (cut at 70 characters), one that straddles the 200th character of a
# command's "ran:" note, and a three-line secret in a task's name (cut at its first line),
# a failing command's last line and its stderr: with --progress=plain, --progress=tty and
# --events=json, no output holds any line of a secret, nor a 16-character piece of one, and
# neither do the plan, the stage cache or the work directory.
. "$(dirname "$0")/../lib/test-lib.sh"
. "$TOP/tests/runtime/lib-apply.sh"

LONG=Tok68-Quetzal-0123456789-abcdefghijklmnopqrstuvwxyz-ABCDEFGHIJKLMNOP
[ ${#LONG} -eq 68 ] || fail "the test's secret has ${#LONG} characters, not 68"
ML='Ml-First-Line-Quokka-5150
Ml-Second-Line-Narwhal-6260
Ml-Third-Line-Axolotl-7370'
KILN_VAR_tok=$LONG
KILN_VAR_ml=$ML
export KILN_VAR_tok KILN_VAR_ml
PAD=$(printf '%0190d' 0)

mkdir build
cat >build/r.img <<EOF2
param tok: secret
param ml: secret
image r from busybox() {
  stage s {
    command "echo \${tok}" {}
    command "echo $PAD \${tok}" {}
    shell "echo '\${ml}' > /dev/null" {}
    shell "lines on stderr" {
      cmd = "printf '%s\\\\n' \"\\\$M\" >&2; exit 3"
      env = { M = ml }
      ignore_errors = true
    }
  }
}
EOF2

# pieces: every line of each secret, and every 16-character piece of each line
pieces()
{
	printf '%s\n%s\n' "$LONG" "$ML" | while IFS= read -r l; do
		printf '%s\n' "$l"
		_i=1
		while [ $((_i + 15)) -le ${#l} ]; do
			printf '%s\n' "$l" | cut -c"$_i-$((_i + 15))"
			_i=$((_i + 8))
		done
	done
}
pieces >all-pieces.txt
# the cache keeps images' trees, busybox included: a piece of the alphabet that busybox
# itself holds says nothing about a leak
grep -a -F -o -f all-pieces.txt /bin/busybox | sort -u >in-busybox.txt || true
grep -v -x -F -f in-busybox.txt all-pieces.txt >pieces.txt || cp all-pieces.txt pieces.txt
[ "$(wc -l <pieces.txt)" -ge 10 ] || fail "too few pieces of the secrets are left to look for"
# no_piece WHAT FILE_OR_DIR...: no line of a secret, nor a piece of one, in them
no_piece()
{
	_what=$1
	shift
	if _hit=$(grep -r -a -F -o -f pieces.txt "$@" 2>/dev/null | head -n 1) && [ -n "$_hit" ]; then
		fail "$_what holds a piece of a secret: $_hit"
	fi
}

run_kiln compile build/r.img -o plan.json
expect_rc 0
no_piece "the plan" plan.json

kapply build/r.img
expect_rc 0
expect_match err 'changed command \*\*\*\*\*\*\*\*'
expect_match err 'exited with status 3: \*\*\*\*\*\*\*\*'
no_piece "--progress=plain" out err

kapply_json --cache-dir="$TMP/cache-json" build/r.img
expect_rc 0
[ "$(status_of r.s.3)" = failed ] || fail "the failing task's status is $(status_of r.s.3)"
expect_match out '"task":"command \*\*\*\*\*\*\*\*"'
no_piece "--events=json" out err

run_kiln apply --work-dir="$WORK" --cache-dir="$TMP/cache-tty" --progress=tty build/r.img
expect_rc 0
no_piece "--progress=tty" out err

no_piece "the stage cache" "$CACHE" "$TMP/cache-json" "$TMP/cache-tty"
no_piece "the work directory" "$WORK"
say "ok: secrets are blanked out before text is cut, line by line"
