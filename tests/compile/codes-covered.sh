#!/bin/sh
# tests/compile/codes-covered.sh DIAG_CODES_DEF GOLDEN_DIR
#
# Fails listing every diagnostic code of the front end (the families below) declared in
# base/diag_codes.def that appears in no GOLDEN_DIR/**/*.diag, and every code that
# a .diag shows but diag_codes.def does not declare. A code that no golden file can show
# (a file over 1 GiB) may be listed in GOLDEN_DIR/codes-elsewhere with the test covering it.
# Families checked: every stage of the compiler, E0xxx (input files) E1xxx (syntax) E2xxx
# (names) E3xxx (types) E4xxx (values and the plan) and their warnings W0xxx-W4xxx. The runtime's
# E5xxx are found by kiln apply, which no golden file runs. KILN_CODE_FAMILIES overrides the list.
set -u
LC_ALL=C
export LC_ALL
FAMILIES=${KILN_CODE_FAMILIES:-'E0 E1 E2 E3 E4 W0 W1 W2 W3 W4'}

def=$1
dir=$2
[ -f "$def" ] || {
	echo "codes-covered: $def not found" >&2
	exit 1
}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/kiln-codes.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT

# DIAG(E1001, UNEXPECTED_TOKEN, "...") -> E1001
sed -n 's/^[[:space:]]*DIAG([[:space:]]*\([EW][0-9][0-9][0-9][0-9]\)[[:space:]]*,.*/\1/p' "$def" |
	sort -u >"$tmp/declared"
if [ ! -s "$tmp/declared" ]; then
	echo "codes-covered: no DIAG(...) lines in $def" >&2
	exit 1
fi

# error[E1001]: / warning[W1001]: (text), or [E1001] at the end (short form)
find "$dir" -name '*.diag' -type f -exec cat {} + 2>/dev/null |
	grep -o '\[[EW][0-9][0-9][0-9][0-9]\]' | tr -d '[]' | sort -u >"$tmp/used"

# codes-elsewhere: "CODE path/of/test" lines; the test must exist and mention the code.
top=$(cd "$dir/../.." && pwd)
if [ -f "$dir/codes-elsewhere" ]; then
	grep -v '^[[:space:]]*#' "$dir/codes-elsewhere" | while read -r code test; do
		[ -n "$code" ] || continue
		if [ -f "$top/$test" ] && grep -q "$code" "$top/$test"; then
			echo "$code"
		else
			echo "codes-elsewhere: $test does not exist or does not mention $code" >&2
		fi
	done >>"$tmp/used"
	sort -u -o "$tmp/used" "$tmp/used"
fi

re=$(echo $FAMILIES | sed 's/ /|/g')
grep -E "^($re)" "$tmp/declared" >"$tmp/wanted" || true

status=0
missing=$(comm -23 "$tmp/wanted" "$tmp/used")
if [ -n "$missing" ]; then
	echo "codes in $(basename "$def") with no golden test under $dir:" >&2
	for c in $missing; do
		grep -E "^[[:space:]]*DIAG\([[:space:]]*$c[[:space:]]*," "$def" | sed 's/^/  /' >&2
	done
	status=1
fi
unknown=$(comm -13 "$tmp/declared" "$tmp/used")
if [ -n "$unknown" ]; then
	echo "codes used in .diag files but not declared in $(basename "$def"):" >&2
	for c in $unknown; do
		echo "  $c: $(grep -rl "\[$c\]" "$dir" --include='*.diag' | tr '\n' ' ')" >&2
	done
	status=1
fi
if [ "$status" -eq 0 ]; then
	echo "codes-covered: $(wc -l <"$tmp/wanted") codes ($FAMILIES) all covered by golden files (or codes-elsewhere)"
fi
exit $status
