#!/bin/sh
# tests/runtime/t1111-mod-diff.sh: the unified diff of --diff (text_diff, Myers): for many
# random edits, patch(1) turns the old file into the new one with it, with 3 lines of context
# and no "\ No newline" confusion; a huge change says how many lines changed instead.
. "$(dirname "$0")/../lib/test-lib.sh"
. "$TOP/tests/runtime/lib-mod.sh"
need patch
need awk
make_rootfs "$ROOT"

i=0
while [ $i -lt 40 ]; do
	# old: 0-60 lines from a small alphabet (many equal lines); new: edits of it
	awk -v seed=$i 'BEGIN { srand(seed); n = int(rand() * 60);
		for (k = 0; k < n; k++) print "l" int(rand() * 8) }' >old
	awk -v seed=$((i + 1000)) 'BEGIN { srand(seed) } {
		r = rand(); if (r < 0.15) next; if (r < 0.3) print "new" int(rand() * 5); print
		if (rand() < 0.1) print "ins" int(rand() * 3) }' old >new
	if [ $((i % 3)) -eq 0 ]; then printf 'tail-without-newline' >>new; fi
	if [ $((i % 5)) -eq 0 ]; then printf 'old-tail' >>old; fi
	cp old "$ROOT/etc/f"
	mod --diff file "$(jq -nc --rawfile c new '{path:"/etc/f", content:$c}')"
	if cmp -s old new; then
		expect_status ok
	else
		expect_status changed
		res_text diff >d
		cp old patched
		patch -s patched d >/dev/null 2>&1 || fail "patch rejected the diff of case $i: $(cat d)"
		cmp -s patched new || fail "case $i: patched file differs from new"
		# context: no hunk has more than 3 unchanged lines before its first change
		awk '/^@@/ { n = 0; seen = 0; next } /^ / && !seen { if (++n > 3) bad = 1 }
			/^[-+]/ { seen = 1 } END { exit bad }' d || fail "case $i: too much context"
	fi
	i=$((i + 1))
done

# huge: a count, not the lines (too many lines; then too many differences)
awk 'BEGIN { for (k = 0; k < 150000; k++) print "a" k }' >"$ROOT/etc/big"
awk 'BEGIN { print "x"; for (k = 0; k < 150000; k++) print "b" k }' >newbig
jq -nc --rawfile c newbig '{path:"/etc/big", content:$c}' >args.json
mod --diff file @args.json
expect_status changed
res_text diff | grep -q '150001 lines changed (too many to show)' || fail "no summary for a huge diff"
[ "$(res_text diff | wc -l)" -lt 5 ] || fail "a huge diff was printed"
cmp -s newbig "$ROOT/etc/big" || fail "big file not written"

awk 'BEGIN { for (k = 0; k < 40000; k++) print "c" k }' >newbig
jq -nc --rawfile c newbig '{path:"/etc/big", content:$c}' >args.json
mod --diff file @args.json
expect_status changed
res_text diff | grep -q 'lines changed (too many to show)' || fail "no summary for a distant diff"
exit 0
