#!/bin/sh
# A file that does not exist: an error naming it, exit 1, and the other files still linted.
. "$(dirname "$0")/../lib/test-lib.sh"

run_kiln lint no-such-file.img
expect_rc 1
expect_match err '^no-such-file\.img(:[0-9]+:[0-9]+)?: error\[E0001\]: ' \
	"no E0001 error naming the missing file"
expect_match err 'No such file' "the error does not say why the file cannot be read"
expect_count err ': error\[' 1
expect_empty out

# Alongside a good file: the good one is read, the exit status is still 1.
echo 'image a from scratch() {}' >good.img
echo 'let b = ' >bad.img
run_kiln lint good.img no-such-file.img bad.img
expect_rc 1
expect_match err '^no-such-file\.img(:[0-9]+:[0-9]+)?: error\[E0001\]' \
	"the missing file is not reported next to others"
expect_match err '^bad\.img:[12]:[0-9]+: error\[E' "the file after the missing one was not linted"
