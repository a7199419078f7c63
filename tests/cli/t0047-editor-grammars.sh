#!/bin/sh
# editors/vscode: package.json, the language configuration and the TextMate grammar
# parse as JSON, every grammar regex compiles (Python's re, a close cousin of
# Oniguruma; a back-reference to the begin pattern is checked as an identifier),
# and the grammar's scopes fall where they should on a line of kiln; extension.js
# parses (node --check, when node is installed).
# editors/emacs/kiln-mode.el: Emacs is not installed here, so its brackets are
# checked by a small reader (strings, comments and ?x literals skipped), and its
# compilation regexp, translated to Python's syntax, reads real
# `kiln lint --diagnostics=short` output.
. "$(dirname "$0")/../lib/test-lib.sh"
need python3

VS=$TOP/editors/vscode
cat >grammar.py <<'PY'
import json, os, re, sys
vs = sys.argv[1]
pkg = json.load(open(os.path.join(vs, "package.json")))
langs = pkg["contributes"]["languages"]
assert langs[0]["id"] == "kiln", langs
assert set(langs[0]["extensions"]) == {".img", ".kvars"}, langs[0]["extensions"]
assert "vscode-languageclient" in pkg["dependencies"], pkg["dependencies"]
assert os.path.exists(os.path.join(vs, pkg["main"])), pkg["main"]
conf = json.load(open(os.path.join(vs, langs[0]["configuration"])))
assert conf["comments"]["lineComment"] == "#" and conf["comments"]["blockComment"] == ["/*", "*/"]
assert ["{", "}"] in conf["brackets"]
for k in ("increaseIndentPattern", "decreaseIndentPattern"):
    re.compile(conf["indentationRules"][k])
re.compile(conf["wordPattern"])
re.compile(langs[0]["firstLine"])
g = pkg["contributes"]["grammars"][0]
assert g["language"] == "kiln"
gram = json.load(open(os.path.join(vs, g["path"])))
assert gram["scopeName"] == g["scopeName"] == "source.kiln"

n = 0
def walk(node, where):
    global n
    if isinstance(node, dict):
        for k, v in node.items():
            if k in ("match", "begin", "end") and isinstance(v, str):
                # \2 in an end pattern refers to the begin pattern's capture.
                src = re.sub(r"\\[1-9]", "[A-Za-z_][A-Za-z0-9_-]*", v) if k == "end" else v
                try:
                    re.compile(src)
                except re.error as e:
                    sys.exit("%s.%s: %r does not compile: %s" % (where, k, v, e))
                n += 1
            elif k == "include" and v.startswith("#"):
                assert v[1:] in gram["repository"], "missing %s at %s" % (v, where)
            else:
                walk(v, where + "." + k)
    elif isinstance(node, list):
        for i, v in enumerate(node):
            walk(v, "%s[%d]" % (where, i))
walk(gram, "grammar")
assert n >= 20, n

# Scopes on a line: the first pattern of "words" that matches a word wins.
words = gram["repository"]["words"]["patterns"]
def scope(text, word):
    i = text.index(word)
    for p in words:
        for m in re.finditer(p["match"], text):
            if m.start() == i:
                return p["name"]
    return None
line = 'image app from debian() { output docker-archive "x" {} user = lower("A") }'
want = {"image": "keyword.control.kiln", "debian": "support.class.base.kiln",
        "docker-archive": "support.class.output.kiln", "user": "variable.other.property.kiln",
        "lower": "support.function.builtin.kiln", "output": "keyword.control.kiln"}
for w, s in want.items():
    assert scope(line, w) == s, (w, scope(line, w), s)
assert scope("let images = 1", "images") != "keyword.control.kiln"
assert scope("mode = 0644", "mode") == "variable.other.property.kiln"
assert scope("param m: mode = 0644", "mode") == "storage.type.kiln"
strings = gram["repository"]["strings"]["patterns"][0]["patterns"]
assert re.fullmatch(strings[0]["match"], r"\u{1F600}") and re.fullmatch(strings[0]["match"], r"\$")
assert not re.fullmatch(strings[0]["match"], r"\q")
heredoc = gram["repository"]["heredoc"]["patterns"][0]
m = re.search(heredoc["begin"], "  content = <<-EOT")
assert m and m.group(2) == "EOT", m
print("%d regexes" % n)
PY
python3 grammar.py "$VS" >grammar.out 2>&1 || fail "vscode files: $(cat grammar.out)"
if command -v node >/dev/null 2>&1; then
	node --check "$VS/extension.js" >node.out 2>&1 || fail "extension.js: $(cat node.out)"
	grep -q "args: \['lsp'\]" "$VS/extension.js" || fail "extension.js does not start kiln lsp"
fi

# --- Emacs ---
EL=$TOP/editors/emacs/kiln-mode.el
cat >parens.py <<'PY'
import sys
# Do an Emacs Lisp file's brackets balance? Strings, comments, character literals
# (?x, ?\x) and escapes are skipped. Prints the first problem and exits 1.
def check(text):
    stack, i, n, line = [], 0, len(text), 1
    while i < n:
        c = text[i]
        if c == "\n":
            line += 1
        elif c == ";":
            while i < n and text[i] != "\n":
                i += 1
            continue
        elif c == '"':
            start = line
            i += 1
            while i < n and text[i] != '"':
                if text[i] == "\\":
                    i += 1
                if i < n and text[i] == "\n":
                    line += 1
                i += 1
            if i >= n:
                return "line %d: string never ends" % start
        elif c == "?":
            i += 2 if i + 1 < n and text[i + 1] == "\\" else 1
        elif c == "\\":
            i += 1
        elif c in "([":
            stack.append((c, line))
        elif c in ")]":
            if not stack:
                return "line %d: '%s' closes nothing" % (line, c)
            o, l = stack.pop()
            if "([".index(o) != ")]".index(c):
                return "line %d: '%s' closes '%s' of line %d" % (line, c, o, l)
        i += 1
    if stack:
        return "line %d: '%s' never closed" % (stack[-1][1], stack[-1][0])
    return None
for f in sys.argv[1:]:
    err = check(open(f, encoding="utf-8").read())
    if err:
        sys.exit("%s: %s" % (f, err))
PY
python3 parens.py "$EL" >parens.out 2>&1 || fail "kiln-mode.el: $(cat parens.out)"
# The checker can fail.
printf '(defun f ()\n  "a ) in a string" ?\\) (g)\n' >open.el
if python3 parens.py open.el >parens.out 2>&1; then fail "parens.py missed an unclosed ("; fi
grep -q "open.el: line 1: '(' never closed" parens.out || fail "parens.py said: $(cat parens.out)"
printf '(a "(" ?\\( (b) [c])\n' >ok.el
python3 parens.py ok.el >parens.out 2>&1 || fail "parens.py on a balanced file: $(cat parens.out)"

grep -q "(add-to-list 'eglot-server-programs '(kiln-mode \"kiln\" \"lsp\"))" "$EL" ||
	fail "kiln-mode.el does not register kiln lsp with eglot"
grep -q "(define-derived-mode kiln-mode prog-mode" "$EL" || fail "no kiln-mode"

printf 'image x from scratch {\n  stage s {\n    file "a" { path = 1 }\n  }\n}\n' >bad.img
run_kiln lint --diagnostics=short bad.img
expect_rc 1
cat >compile.py <<'PY'
import re, sys
el = open(sys.argv[1], encoding="utf-8").read()
m = re.search(r"\(defconst kiln-compilation-regexp\s+'\(kiln \"((?:[^\"\\]|\\.)*)\"", el)
assert m, "no kiln-compilation-regexp"
rx = m.group(1).replace("\\\\", "\\")          # the Lisp string's contents
rx = rx.replace("\\(?:", "(?:").replace("\\(", "(").replace("\\)", ")").replace("\\|", "|")
lines = [l for l in open(sys.argv[2]).read().splitlines() if l]
assert lines, "kiln lint printed nothing"
for l in lines:
    g = re.match(rx, l)
    assert g, "%r does not match %r" % (rx, l)
    assert g.group(1) == "bad.img" and g.group(2).isdigit() and g.group(3).isdigit(), g.groups()
    assert g.group(4) is None, "an error taken for a warning: %r" % l
w = re.match(rx, "a b.img:3:4: warning: unused [W2001]")
assert w and w.group(1) == "a b.img" and w.group(4) == "warning", w
assert re.match(rx, "bad.img:3:23: error: argument 'path' expects string, found int [E3001]").groups()[:3] == ("bad.img", "3", "23")
PY
python3 compile.py "$EL" err >compile.out 2>&1 || fail "compilation regexp: $(cat compile.out)"
exit 0
