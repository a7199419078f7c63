#!/bin/sh
# kiln lsp: a scripted session over stdio. Diagnostics carry the codes kiln lint
# gives on the same file, with ranges in UTF-16 code units and related
# information; hover, completion, definition, document symbols and formatting
# answer; malformed input gets JSON-RPC errors and the server keeps serving.
. "$(dirname "$0")/../lib/test-lib.sh"
need python3

cat >broken.img <<'IMG'
param port: int = 8080
param port: int = 1
let greeting = "é😀" + nosuch
role common(pkgs: list<string> = []) {
  apt "x" {
    name  = pkgs
    state = presnt
  }
}
image web from debian("bookworm") {
  stage base {
    use common(pkgs = ["vim"])
    fil "/x" {}
    file "/etc/motd" {
      content = "${greeting} ${port}"
    }
  }
}
IMG
run_kiln lint --diagnostics=json broken.img
expect_rc 1
python3 -c 'import json,sys; print(" ".join(sorted(json.loads(l)["code"] for l in open("out"))))' \
	>lint.codes
[ -s lint.codes ] || fail "kiln lint gave no diagnostics"

cat >session.py <<'PY'
import os
path = os.path.abspath("broken.img")
uri = "file://" + path
text = open(path, encoding="utf-8").read()

def check(cond, what):
    if not cond:
        raise AssertionError(what)

# before initialize: refused
r = request("textDocument/hover", {})
check(r["error"]["code"] == -32002, f"hover before initialize: {r}")

r = request("initialize", {"processId": None, "rootUri": None, "capabilities": {}})
caps = r["result"]["capabilities"]
for c in ("hoverProvider", "definitionProvider", "documentFormattingProvider",
          "documentSymbolProvider", "completionProvider"):
    check(c in caps, f"capability {c} missing: {caps}")
notify("initialized", {})

notify("textDocument/didOpen", {"textDocument": {"uri": uri, "languageId": "kiln",
                                                 "version": 1, "text": text}})
diags = wait_diagnostics(uri)
codes = " ".join(sorted(d["code"] for d in diags))
check(codes == open("lint.codes").read().strip(), f"codes {codes} != lint's")
for d in diags:
    check(d["severity"] == 1 and d["source"] == "kiln", f"severity/source: {d}")
# 'nosuch' follows "é😀": 22 code points, 23 UTF-16 units
nosuch = [d for d in diags if "'nosuch'" in d["message"]][0]
check(nosuch["range"] == {"start": {"line": 2, "character": 23},
                          "end": {"line": 2, "character": 29}}, f"UTF-16 range: {nosuch}")
twice = [d for d in diags if d["code"] == "E2003"][0]
rel = twice["relatedInformation"][0]
check(rel["location"]["uri"] == uri and rel["location"]["range"]["start"] ==
      {"line": 0, "character": 6} and "first" in rel["message"], f"related: {twice}")
check("help: rename" in twice["message"], f"help in message: {twice}")

# quick fixes from "did you mean": presnt -> present, fil -> file
presnt = [d for d in diags if "'presnt'" in d["message"]][0]
r = request("textDocument/codeAction", {"textDocument": {"uri": uri}, "range": presnt["range"],
                                        "context": {"diagnostics": diags}})
fixes = {a["title"]: a for a in r["result"]}
check(set(fixes) == {"Change to 'present'", "Change to 'file'"}, f"code actions: {list(fixes)}")
e = fixes["Change to 'present'"]["edit"]["changes"][uri]
check(e == [{"range": presnt["range"], "newText": "present"}], f"quick fix edit: {e}")

# full change: fixed file, no diagnostics
fixed = text.replace("param port: int = 1\n", "").replace(" + nosuch", "") \
            .replace("presnt", "present").replace("fil \"", "file \"")
notify("textDocument/didChange", {"textDocument": {"uri": uri, "version": 2},
                                  "contentChanges": [{"text": fixed}]})
check(wait_diagnostics(uri) == [], "diagnostics after the fix")
# incremental change: break line 1 (0-based) again, after the emoji
lines = fixed.split("\n")
col = len(lines[1].encode("utf-16-le")) // 2
notify("textDocument/didChange", {"textDocument": {"uri": uri, "version": 3},
       "contentChanges": [{"range": {"start": {"line": 1, "character": col},
                                     "end": {"line": 1, "character": col}},
                           "text": " + other"}]})
diags = wait_diagnostics(uri)
check([d["code"] for d in diags] == ["E2001"] and diags[0]["range"]["start"] ==
      {"line": 1, "character": col + 3}, f"incremental: {diags}")
notify("textDocument/didChange", {"textDocument": {"uri": uri, "version": 4},
                                  "contentChanges": [{"text": fixed}]})
wait_diagnostics(uri)
doc = {"uri": uri}

def pos_of(needle, nth=0, delta=0):
    off = -1
    for _ in range(nth + 1):
        off = fixed.index(needle, off + 1)
    off += delta
    line = fixed.count("\n", 0, off)
    start = fixed.rfind("\n", 0, off) + 1
    return {"line": line, "character": len(fixed[start:off].encode("utf-16-le")) // 2}

# hover: a module, an argument, a param
r = request("textDocument/hover", {"textDocument": doc, "position": pos_of("apt", 0, 1)})
check("**apt**" in r["result"]["contents"]["value"], f"hover apt: {r}")
r = request("textDocument/hover", {"textDocument": doc, "position": pos_of("state", 0, 2)})
v = r["result"]["contents"]["value"]
check("apt.state" in v and "enum(" in v, f"hover state: {r}")
r = request("textDocument/hover", {"textDocument": doc, "position": pos_of("${port}", 0, 3)})
v = r["result"]["contents"]["value"]
check("param port" in v and "int" in v and "8080" in v, f"hover port: {r}")

# definition: a param used in a template, a role used in a stage
r = request("textDocument/definition", {"textDocument": doc, "position": pos_of("${port}", 0, 3)})
check(r["result"]["uri"] == uri and r["result"]["range"]["start"] == {"line": 0, "character": 6},
      f"definition port: {r}")
r = request("textDocument/definition", {"textDocument": doc, "position": pos_of("use common", 0, 5)})
check(r["result"]["range"]["start"] == pos_of("common"), f"definition common: {r}")
r = request("textDocument/definition", {"textDocument": doc, "position": pos_of("name  = pkgs", 0, 9)})
check(r["result"]["range"]["start"] == pos_of("pkgs"), f"definition pkgs: {r}")

# references: the declaration and each use; rename edits them all
r = request("textDocument/references", {"textDocument": doc, "position": pos_of("${greeting}", 0, 4),
                                        "context": {"includeDeclaration": True}})
starts = sorted((l["range"]["start"]["line"], l["range"]["start"]["character"]) for l in r["result"])
check(starts == [(1, 4), (pos_of("${greeting}")["line"], pos_of("${greeting}")["character"] + 2)],
      f"references of greeting: {starts}")
r = request("textDocument/references", {"textDocument": doc, "position": pos_of("pkgs", 1, 1),
                                        "context": {"includeDeclaration": False}})
check([l["range"]["start"] for l in r["result"]] == [pos_of("pkgs", 1)],
      f"references of the role's pkgs: {r}")
r = request("textDocument/rename", {"textDocument": doc, "position": pos_of("common", 0, 2),
                                    "newName": "base_tools"})
edits = r["result"]["changes"][uri]
check(sorted(e["range"]["start"]["line"] for e in edits) ==
      [pos_of("common")["line"], pos_of("use common")["line"]] and
      all(e["newText"] == "base_tools" for e in edits), f"rename common: {edits}")
r = request("textDocument/rename", {"textDocument": doc, "position": pos_of("common", 0, 2),
                                    "newName": "9 x"})
check(r["error"]["code"] == -32602 and "newName" in r["error"]["message"], f"bad rename: {r}")

# completion: arguments inside a task, enum values after state =, modules at task position
r = request("textDocument/completion", {"textDocument": doc, "position": pos_of("state", 0, 0)})
labels = {i["label"] for i in r["result"]["items"]}
check({"name", "state", "update_cache"} <= labels, f"apt's arguments: {sorted(labels)}")
r = request("textDocument/completion", {"textDocument": doc, "position": pos_of("present", 0, 0)})
labels = {i["label"] for i in r["result"]["items"]}
check({"present", "absent"} <= labels, f"enum values: {sorted(labels)}")
r = request("textDocument/completion", {"textDocument": doc, "position": pos_of("use common", 0, 0)})
labels = {i["label"] for i in r["result"]["items"]}
check({"apt", "file", "copy", "port", "common"} <= labels, f"modules and names: {sorted(labels)}")

# notify: the handlers only; facts.: the facts' next level; a task's own attributes
extra = fixed.replace('    file "/etc/motd" {\n', '    file "/etc/motd" {\n      notify = [\n'
                      '      when facts.os.\n')
extra = extra.replace("  stage base {", "  handler restart_web {\n    apt \"x\" {}\n  }\n  stage base {")
notify("textDocument/didChange", {"textDocument": {"uri": uri, "version": 7},
                                  "contentChanges": [{"text": extra}]})
wait_diagnostics(uri)
def pos_in(t, needle, delta):
    off = t.index(needle) + delta
    start = t.rfind("\n", 0, off) + 1
    return {"line": t.count("\n", 0, off), "character": len(t[start:off].encode("utf-16-le")) // 2}
r = request("textDocument/completion", {"textDocument": doc, "position": pos_in(extra, "notify = [", 10)})
labels = [i["label"] for i in r["result"]["items"]]
check(labels == ["restart_web"], f"notify: {labels}")
r = request("textDocument/completion", {"textDocument": doc, "position": pos_in(extra, "facts.os.", 9)})
labels = {i["label"] for i in r["result"]["items"]}
check({"family", "distribution"} <= labels and "os" not in labels, f"facts.os.: {sorted(labels)}")
r = request("textDocument/completion", {"textDocument": doc, "position": pos_in(extra, "facts.os.", 6)})
labels = {i["label"] for i in r["result"]["items"]}
check("os" in labels and "family" not in labels, f"facts.: {sorted(labels)}")
r = request("textDocument/completion", {"textDocument": doc, "position": pos_in(extra, "content", 0)})
labels = {i["label"] for i in r["result"]["items"]}
check({"notify", "content", "mode"} <= labels, f"file's arguments and a task's: {sorted(labels)}")
whole = extra.replace("notify = [\n", "notify = [restart_web]\n").replace("facts.os.\n", "facts.os.family == \"debian\"\n")
notify("textDocument/didChange", {"textDocument": {"uri": uri, "version": 8},
                                  "contentChanges": [{"text": whole}]})
check(wait_diagnostics(uri) == [], "the handler and notify are fine")
r = request("textDocument/hover", {"textDocument": doc, "position": pos_in(whole, "notify", 1)})
check("every task" in r["result"]["contents"]["value"], f"hover notify: {r}")
notify("textDocument/didChange", {"textDocument": {"uri": uri, "version": 9},
                                  "contentChanges": [{"text": fixed}]})
wait_diagnostics(uri)

# document symbols
r = request("textDocument/documentSymbol", {"textDocument": doc})
names = [s["name"] for s in r["result"]]
check(names == ["port", "greeting", "common", "web"], f"symbols: {names}")
web = r["result"][3]
check(web["children"][0]["name"] == "base", f"web's children: {web}")

# formatting: kiln fmt's layout, of a badly laid out text
messy = fixed.replace("  stage base {", "stage   base{").replace("state = present", "state=present")
notify("textDocument/didChange", {"textDocument": {"uri": uri, "version": 5},
                                  "contentChanges": [{"text": messy}]})
wait_diagnostics(uri)
r = request("textDocument/formatting", {"textDocument": doc,
            "options": {"tabSize": 2, "insertSpaces": True}})
edits = r["result"]
check(len(edits) == 1 and edits[0]["range"]["start"] == {"line": 0, "character": 0},
      f"formatting: {edits}")
check(edits[0]["newText"] == fixed, "formatted text: " + edits[0]["newText"])
open("formatted.img", "w", encoding="utf-8").write(edits[0]["newText"])
notify("textDocument/didChange", {"textDocument": {"uri": uri, "version": 6},
                                  "contentChanges": [{"text": fixed}]})
wait_diagnostics(uri)
r = request("textDocument/formatting", {"textDocument": doc, "options": {}})
check(r["result"] == [], f"formatting a formatted text: {r}")

# errors, and the server lives on
send_raw(b"Content-Length: 9\r\n\r\n{not json")
r = wait(lambda m: m.get("error", {}).get("code") == -32700)
check(r["id"] is None, f"parse error: {r}")
send({"jsonrpc": "2.0", "id": 70, "method": 5})
check(wait_id(70)["error"]["code"] == -32600, "method not a string")
send([1, 2])
wait(lambda m: m.get("error", {}).get("code") == -32600)
r = request("textDocument/nosuch", {})
check(r["error"]["code"] == -32601, f"unknown method: {r}")
r = request("textDocument/hover", {"textDocument": {"uri": 5}, "position": {}})
check(r["error"]["code"] == -32602 and "textDocument.uri" in r["error"]["message"], f"{r}")
r = request("textDocument/hover", {"textDocument": doc, "position": {"line": -1}})
check(r["error"]["code"] == -32602 and "position.line" in r["error"]["message"], f"{r}")
r = request("textDocument/hover", {"textDocument": {"uri": "file:///nope.img"},
                                   "position": {"line": 0, "character": 0}})
check(r["error"]["code"] == -32602 and "not open" in r["error"]["message"], f"{r}")
notify("$/cancelRequest", {"id": 1})
notify("textDocument/didChange", {"textDocument": {"uri": uri}})  # no contentChanges
log = wait(lambda m: m.get("method") == "window/logMessage")
check("contentChanges" in log["params"]["message"], f"log: {log}")
send_raw(b"Content-Length: x\r\n\r\n")
wait(lambda m: m.get("error", {}).get("code") == -32700)

# definition in an imported file: on disk, or the editor's text when it is open
os.makedirs("lib", exist_ok=True)
open("lib/roles.img", "w").write('import "more.img"\n\nrole tools() {\n  apt "vim" {}\n}\n')
open("lib/more.img", "w").write('param deep: string = "x"\n')
main_uri = "file://" + os.path.abspath("main.img")
main = 'import "lib/roles.img"\n\nimage m from scratch() {\n  stage s {\n    use tools()\n' \
       '    file "/x" { content = deep }\n  }\n}\n'
notify("textDocument/didOpen", {"textDocument": {"uri": main_uri, "text": main}})
check(wait_diagnostics(main_uri) == [], "main.img lints clean")
roles_uri = "file://" + os.path.abspath("lib/roles.img")
r = request("textDocument/definition", {"textDocument": {"uri": main_uri},
                                        "position": {"line": 4, "character": 9}})
check(r["result"]["uri"] == roles_uri and r["result"]["range"]["start"] ==
      {"line": 2, "character": 5}, f"definition in an import: {r}")
r = request("textDocument/definition", {"textDocument": {"uri": main_uri},
                                        "position": {"line": 5, "character": 27}})
check(r["result"]["uri"] == "file://" + os.path.abspath("lib/more.img") and
      r["result"]["range"]["start"] == {"line": 0, "character": 6}, f"import of an import: {r}")
notify("textDocument/didOpen", {"textDocument": {"uri": roles_uri,
       "text": '\n\nimport "more.img"\nrole tools() {}\n'}})
wait_diagnostics(roles_uri)
r = request("textDocument/definition", {"textDocument": {"uri": main_uri},
                                        "position": {"line": 4, "character": 9}})
check(r["result"]["range"]["start"] == {"line": 3, "character": 5}, f"the open text: {r}")
r = request("textDocument/hover", {"textDocument": {"uri": main_uri},
                                   "position": {"line": 4, "character": 9}})
check("Declared in `" + os.path.abspath("lib/roles.img") + "`, line 4" in
      r["result"]["contents"]["value"], f"hover on an imported role: {r}")

notify("textDocument/didClose", {"textDocument": doc})
check(wait_diagnostics(uri) == [], "diagnostics cleared on close")
r = request("shutdown")
check("result" in r and r["result"] is None, f"shutdown: {r}")
notify("exit")
check(srv.p.wait(timeout=10) == 0, "exit status after shutdown and exit")
PY
timeout 60 python3 "$TOP/tests/lib/lsp-client.py" "$KILN" session.py 2>err ||
	{ cat err >&2; fail "the LSP session failed"; }

# the formatting edit is kiln fmt's output
run_kiln fmt --check formatted.img
expect_rc 0
exit 0
