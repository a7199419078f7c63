#!/bin/sh
# The word lists of the editor files (vim syntax, Emacs mode, TextMate grammar) are
# what editors/gen.py writes from this kiln's `kiln doc --json`; --check notices a
# new module and writes nothing.
. "$(dirname "$0")/../lib/test-lib.sh"
need python3

run_kiln doc --json
expect_rc 0
cp out doc.json
python3 "$TOP/editors/gen.py" --check doc.json >check.out 2>&1 ||
	fail "editor files are stale: $(cat check.out)"

# The check can fail: a module kiln does not have makes every file stale.
files="$TOP/editors/vim/syntax/kiln.vim $TOP/editors/emacs/kiln-mode.el
$TOP/editors/vscode/syntaxes/kiln.tmLanguage.json"
cat $files | cksum >before
python3 -c 'import json, sys
d = json.load(open("doc.json"))
d["modules"].append(dict(d["modules"][0], name="frobnicate"))
json.dump(d, open("more.json", "w"))'
if python3 "$TOP/editors/gen.py" --check more.json >check.out 2>&1; then
	fail "gen.py --check passed with a module the files do not have"
fi
for f in vim/syntax/kiln.vim emacs/kiln-mode.el vscode/syntaxes/kiln.tmLanguage.json; do
	grep -q "editors/$f: stale" check.out || fail "gen.py --check did not name $f: $(cat check.out)"
done
cat $files | cksum >after
cmp -s before after || fail "gen.py --check changed the files"

# Not JSON: one line saying so, exit 1.
printf '{"modules": [' >broken.json
if python3 "$TOP/editors/gen.py" --check broken.json >check.out 2>&1; then
	fail "gen.py took broken JSON"
fi
grep -q 'broken.json: not JSON' check.out || fail "gen.py on broken JSON said: $(cat check.out)"
exit 0
