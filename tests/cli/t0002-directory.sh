#!/bin/sh
# A directory given as a file: a clear error, exit 1, no crash, no hang.
. "$(dirname "$0")/../lib/test-lib.sh"

mkdir somedir
run_kiln lint somedir
expect_rc 1
expect_match err '^somedir(:[0-9]+:[0-9]+)?: error\[E0002\]: ' "no E0002 error naming the directory"
expect_count err ': error\[' 1

# Also with a trailing slash, and next to a good file (which is still linted).
echo 'image a from scratch() {}' >good.img
echo 'let b = = 1' >bad.img
run_kiln lint good.img somedir/ bad.img
expect_rc 1
expect_match err '^somedir/?(:[0-9]+:[0-9]+)?: error\[E0002\]' "no E0002 for somedir/"
expect_match err '^bad\.img:1:[0-9]+: error\[E' "the file after the directory was not linted"
expect_no_match err '^kiln: 0 errors' "a directory counted as a clean file"
