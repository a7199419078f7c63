#!/bin/sh
# kiln lint - reads the text from standard input; --stdin-filename NAME names it in
# diagnostics and resolves its relative imports from NAME's directory.
. "$(dirname "$0")/../lib/test-lib.sh"

mkdir -p proj/sub
printf 'image b from scratch() {}\n' >proj/sub/lib.img
printf 'import "lib.img"\nimage a from b {}\n' >good.txt
printf 'import "lib.img"\nimage a from b {\n  stage s {\n    file "/x" { content = nope }\n  }\n}\n' >bad.txt

# a good text with an import next to NAME: no error (the file NAME itself need not exist)
rc=0
timeout 60 $KILN lint --stdin-filename proj/sub/unsaved.img - <good.txt >out 2>err || rc=$?
[ "$rc" -eq 0 ] || fail "lint - of a good text: exit $rc"

# the error names NAME, line and column
rc=0
timeout 60 $KILN lint --diagnostics=short --stdin-filename=proj/sub/unsaved.img - <bad.txt >out 2>err || rc=$?
[ "$rc" -eq 1 ] || fail "lint - of a bad text: exit $rc, expected 1"
expect_match err '^proj/sub/unsaved.img:4:27: error' "the diagnostic does not name --stdin-filename"

# without --stdin-filename the import is looked for in the current directory
rc=0
timeout 60 $KILN lint --diagnostics=short - <good.txt >out 2>err || rc=$?
[ "$rc" -eq 1 ] || fail "lint - without a name: exit $rc, expected 1"
expect_match err '^lib.img:1:1: error: cannot read' "the import was not resolved from the current directory"
expect_match err '^<stdin>:2:14: error' "the text is not called <stdin>"

# the text from stdin together with files on disk is one build
printf 'image c from a {}\n' >proj/c.img
rc=0
timeout 60 $KILN lint --stdin-filename proj/sub/unsaved.img proj/c.img - <good.txt >out 2>err || rc=$?
[ "$rc" -eq 0 ] || fail "lint FILE - : exit $rc"

# usage errors
run_kiln lint - - </dev/null
expect_rc 2
run_kiln lint --stdin-filename x.img ok.img
expect_rc 2
expect_match err "give '-'" "the message does not say --stdin-filename needs '-'"
exit 0
