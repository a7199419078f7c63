#!/bin/sh
# tests/cli/t0040-man.sh: the manual pages the build writes (tools/gen-man.py) are well-formed
# roff (groff reports nothing but lines it cannot adjust), kiln(1) has a section for every
# command `kiln --help` lists and names every option `kiln help COMMAND` gives, kiln.img(5)
# has every section of docs/language.md, and the generator gives the same bytes twice.
. "$(dirname "$0")/../lib/test-lib.sh"
need groff
need python3
B=${KILN_BUILD_DIR:-$TOP/build}
[ -f "$B/man/kiln.1" ] && [ -f "$B/man/kiln.img.5" ] || fail "the build wrote no manual pages in $B/man"

for page in "$B/man/kiln.1" "$B/man/kiln.img.5"; do
	groff -t -man -Tutf8 -ww -z "$page" 2>groff.err || fail "groff $page: $(cat groff.err)"
	grep -v 'cannot adjust line' groff.err >groff.rest || true
	[ ! -s groff.rest ] || fail "groff warns about $(basename "$page"): $(head -n 5 groff.rest)"
done
groff -man -Tascii -P-c -P-b -P-u -rLL=200n "$B/man/kiln.1" 2>/dev/null | sed 's/\x08.//g' >kiln.1.txt
groff -t -man -Tascii -P-c -P-b -P-u -rLL=200n "$B/man/kiln.img.5" 2>/dev/null | sed 's/\x08.//g' >kiln.img.5.txt

# every command, every option
$KILN --help >help.txt 2>&1
awk '/^commands:/ { on = 1; next } on && /^  [a-z]/ { print $1 } on && /^$/ { on = 0 }' help.txt >cmds
[ -s cmds ] || fail "kiln --help lists no commands"
while read -r cmd; do
	grep -q "^   kiln $cmd\$" kiln.1.txt || fail "kiln(1) has no section for 'kiln $cmd'"
	$KILN help "$cmd" >"help-$cmd.txt" 2>&1 || true
	awk '/^options:/ { on = 1; next } on && /^[^ ]/ { on = 0 }
		on && /^  -/ { sub(/^  /, ""); split($0, p, /  +/); n = split(p[1], o, /, */)
			for (i = 1; i <= n; i++) { x = o[i]; sub(/[ =].*/, "", x); print x } }' \
		"help-$cmd.txt" >opts
	while read -r opt; do
		grep -qF -- "$opt" kiln.1.txt || fail "kiln(1) does not name '$opt' of kiln $cmd"
	done <opts
done <cmds

# every section of the language reference
grep '^## ' "$TOP/docs/language.md" | sed 's/^## [0-9]*\.* *//' | grep -vx Contents >sections
while read -r s; do
	want=$(printf '%s' "$s" | tr '[:lower:]' '[:upper:]')
	grep -qF -- "$want" kiln.img.5.txt || fail "kiln.img(5) has no section '$want'"
done <sections

# deterministic: the generator again gives the same bytes
mkdir again
python3 "$TOP/tools/gen-man.py" "$(echo $KILN | awk '{ print $NF }')" "$TOP/docs/language.md" again \
	"$($KILN --version | awk '{ print $2 }')" 2>gen.err || fail "gen-man.py: $(cat gen.err)"
cmp -s again/kiln.1 "$B/man/kiln.1" || fail "kiln.1 written twice differs (or is stale)"
cmp -s again/kiln.img.5 "$B/man/kiln.img.5" || fail "kiln.img.5 written twice differs (or is stale)"
