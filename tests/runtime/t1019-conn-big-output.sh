#!/bin/sh
# tests/runtime/t1019-conn-big-output.sh: 10 MB on stdout and 10 MB on stderr at once do not
# deadlock; each is cut to EXEC_OUTPUT_MAX (1 MiB) keeping its head and its tail, with one
# line that counts what was dropped.
. "$(dirname "$0")/../lib/test-lib.sh"
. "$TOP/tests/runtime/lib-conn.sh"

CT_TIMEOUT=30
ct "$ROOT" exec --out o --err e -- sh -c 'echo HEAD; echo EHEAD >&2;
	yes 0123456789 | head -c 10000000 | tee /proc/self/fd/2; echo; echo >&2; echo TAIL
	echo ETAIL >&2'
expect_rc 0
expect_out '^status 0 '
for f in o e; do
	size=$(wc -c <$f)
	[ "$size" -le 1048576 ] && [ "$size" -ge 1048000 ] || fail "$f holds $size bytes"
	[ "$(grep -c 'bytes of output dropped' $f)" -eq 1 ] || fail "no drop marker in $f"
done
[ "$(head -n 1 o)" = HEAD ] && [ "$(tail -n 1 o)" = TAIL ] || fail "stdout lost its head or tail"
[ "$(head -n 1 e)" = EHEAD ] && [ "$(tail -n 1 e)" = ETAIL ] || fail "stderr lost its head or tail"
# what is kept plus what is dropped is what was written (10000011 bytes on stdout)
dropped=$(sed -n 's/^\[kiln: \([0-9]*\) bytes of output dropped\]$/\1/p' o)
marker=$(printf '\n[kiln: %s bytes of output dropped]\n' "$dropped" | wc -c)
[ $(($(wc -c <o) - marker + dropped)) -eq 10000011 ] ||
	fail "kept $(wc -c <o) - $marker + dropped $dropped != 10000011"
# the lines around the marker are whole lines of the stream, cut only at the seam
grep -v -e '^HEAD$' -e '^TAIL$' -e '^$' -e 'dropped' o | grep -vx 0123456789 | wc -l >cut
[ "$(cat cut)" -le 2 ] || fail "the output is garbled: $(cat cut) odd lines"
