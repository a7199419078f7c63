#!/bin/sh
# A binary file (NUL bytes): one clear error with a location, exit 1, nothing dumped raw.
. "$(dirname "$0")/../lib/test-lib.sh"

# An ELF-like header, then random-looking bytes with NULs.
printf '\177ELF\002\001\001\000\000\000\000\000\000\000\000\000\003\000>\000' >prog.img
head -c 4096 /dev/zero >>prog.img
run_kiln lint prog.img
expect_rc 1
# About the file as a whole ("prog.img: error[E...]") or at the first NUL byte.
expect_match err '^prog\.img(:[0-9]+:[0-9]+)?: error\[E[0-9]{4}\]: ' \
	"no error diagnostic naming prog.img"
n=$(count_matches err ': error\[')
[ "$n" -le 3 ] || fail "a binary file gave $n errors; expected one clear error"
# Raw NUL bytes must never reach the terminal.
if tr -d '\000' <err | cmp -s - err; then :; else fail "stderr contains NUL bytes"; fi

# A NUL byte inside an otherwise valid file: an error, at the NUL (2:11) if it has a place.
printf 'let a = 1\nlet b = "x\000y"\n' >nul.img
run_kiln lint nul.img
expect_rc 1
expect_match err '^nul\.img(:2:11)?: error\[E[0-9]{4}\]: ' "no error at the NUL byte of nul.img"
expect_no_match err '^nul\.img:([013-9]|2:([0-9]|10|1[2-9])):' "the NUL byte is misplaced"
