#!/bin/sh
# Five independent mistakes in five blocks: exactly five errors in one run, each with
# file:line:col and a caret line; the parser recovers after each.
. "$(dirname "$0")/../lib/test-lib.sh"

cat >five.img <<'IMG'
role common() {
  apt "one" { name = "vim", state = = present }
}

hosts webservers { "w.example.com" }

image base from scratch() {
  stage s {
    use common()
    command "fine" { notify = [h] }
    file "two" { mode = 0644 + }
    command "fine too" {}
  }
  handler h {
    service "three" { name = "x", state = ] }
  }
  test "t" {
    command "four" { chdir = (1 }
  }
}

apply webservers {
  copy "five" { content = "a", dest = "/x" mode = , }
  command "fine at the end" {}
}
IMG
run_kiln lint five.img
expect_rc 1
expect_count err "$RE_TEXT_ERROR" 5 \
	"expected exactly 5 errors, got $(count_matches err ': error\[')"
expect_count err ': error\[' 5
for line in 2 11 15 18 23; do
	expect_match err "^five\\.img:$line:[0-9]+: error\\[E[0-9]{4}\\]: " \
		"no error reported on line $line"
done
# Each error is followed, within 3 lines, by a caret line (mawk: no {n} in regexes).
expect_count err "$RE_CARET" 5 "expected a caret line under each of the 5 errors"
awk '
	/^[^ :][^:]*:[0-9]+:[0-9]+: error\[E[0-9]+\]: / { if (want) bad = 1; want = 3; next }
	want { want--; if ($0 ~ /^ +\|[ \t]*\^/) want = 0; else if (!want) bad = 1 }
	END { exit bad || want }' err || fail "an error is not followed by a caret line"
expect_match err '^kiln: 5 errors, 0 warnings' "summary line missing or wrong"
