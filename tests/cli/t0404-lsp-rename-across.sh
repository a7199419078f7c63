#!/bin/sh
# kiln lsp: references and rename across files. A name declared in one file is
# found in the open documents and the workspace folder's .img files that import
# that file, directly or through another (an open document as the editor has
# it, the others from disk), and nowhere else; rename edits them all as one
# WorkspaceEdit (changes, or documentChanges when the client takes them) and
# refuses a name that is not one or is already taken.
. "$(dirname "$0")/../lib/test-lib.sh"
need python3

mkdir -p ws/lib ws/sub elsewhere
cat >ws/lib/base.img <<'IMG'
param port: int = 8080
role tools(pkgs: list<string> = []) {
  apt "vim" {
    name = pkgs
  }
}
let banner = "listening on ${port}"
IMG
printf 'import "lib/base.img"\n\nlet mid_port = port + 1\n' >ws/mid.img
cat >ws/main.img <<'IMG'
import "mid.img"

image m from scratch() {
  stage s {
    use tools(pkgs = ["x"])
    file "/x" {
      content = "${mid_port} ${banner}"
    }
  }
}
IMG
cat >ws/sub/deep.img <<'IMG'
import "../mid.img"

let deep = port * 2
IMG
# its own port, and no import: not a reference
printf 'param port: int = 1\nlet other = port\n' >ws/unrelated.img
# outside the workspace folder and not open: not searched
printf 'import "../ws/lib/base.img"\nlet far = port\n' >elsewhere/far.img

cat >session.py <<'PY'
import os, re
base, mid, main, deep = (uri_of("ws/" + p) for p in ("lib/base.img", "mid.img", "main.img", "sub/deep.img"))



def apply(text, edits):
    lines = text.split("\n")
    offs = [sum(len(l) + 1 for l in lines[:i]) for i in range(len(lines))]
    for e in sorted(edits, key=lambda e: (e["range"]["start"]["line"], e["range"]["start"]["character"]), reverse=True):
        a = offs[e["range"]["start"]["line"]] + e["range"]["start"]["character"]
        b = offs[e["range"]["end"]["line"]] + e["range"]["end"]["character"]
        text = text[:a] + e["newText"] + text[b:]
    return text

request("initialize", {"processId": None, "rootUri": uri_of("ws"), "capabilities": {}})
notify("initialized", {})
# main.img as the editor has it: one more use of port, not on disk
main_text = open("ws/main.img").read().replace('content = "${mid_port}', 'content = "${port} ${mid_port}')
notify("textDocument/didOpen", {"textDocument": {"uri": main, "version": 3, "text": main_text}})
check(wait_diagnostics(main) == [], "main.img lints clean")
base_text = open("ws/lib/base.img").read()
notify("textDocument/didOpen", {"textDocument": {"uri": base, "version": 1, "text": base_text}})
wait_diagnostics(base)

def refs(uri, text, needle, delta, decl=True):
    r = request("textDocument/references", {"textDocument": {"uri": uri}, "position": pos(text, needle, delta),
                                            "context": {"includeDeclaration": decl}})
    return sorted((l["uri"], l["range"]["start"]["line"], l["range"]["start"]["character"],
                   l["range"]["end"]["character"]) for l in r["result"])

mid_text, deep_text = open("ws/mid.img").read(), open("ws/sub/deep.img").read()
want = sorted([(base, 0, 6, 10), (base, 6, 29, 33), (mid, 2, 15, 19), (deep, 2, 11, 15),
               (main, pos(main_text, "${port}")["line"], pos(main_text, "${port}")["character"] + 2,
                pos(main_text, "${port}")["character"] + 6)])
got = refs(main, main_text, "${port}", 3)
check(got == want, f"references of port from main.img:\n{got}\n!=\n{want}")
got = refs(base, base_text, "port", 1)
check(got == want, f"references of port from its declaration:\n{got}")
got = refs(base, base_text, "port", 1, decl=False)
check(got == [w for w in want if w[:2] != (base, 0)], f"without the declaration: {got}")
# a role's parameter is seen in its role only
got = refs(base, base_text, "name = pkgs", 8)
check(got == [(base, 1, 11, 15), (base, 3, 11, 15)], f"references of pkgs: {got}")
# a role used in main.img, declared in base.img
got = refs(main, main_text, "use tools", 5)
check([g[0] for g in got] == [base, main], f"references of tools: {got}")

# a workspace folder added: its importers count too; removed: no more
far = (uri_of("elsewhere/far.img"), 1, 10, 14)
notify("workspace/didChangeWorkspaceFolders", {"event": {"added": [{"uri": uri_of("elsewhere"), "name": "e"}],
                                                         "removed": []}})
got = refs(base, base_text, "port", 1)
check(got == sorted(want + [far]), f"references with elsewhere/ added: {got}")
notify("workspace/didChangeWorkspaceFolders", {"event": {"added": [],
                                                         "removed": [{"uri": uri_of("elsewhere"), "name": "e"}]}})
check(refs(base, base_text, "port", 1) == want, "references with elsewhere/ removed")

# rename: every file that sees port, as changes
r = request("textDocument/rename", {"textDocument": {"uri": main}, "position": pos(main_text, "${port}", 3),
                                    "newName": "http-port"})
ch = r["result"]["changes"]
check(sorted(ch) == sorted([base, mid, main, deep]), f"rename touches {sorted(ch)}")
check(all(e["newText"] == "http-port" for es in ch.values() for e in es), "newText")
texts = {base: base_text, mid: mid_text, main: main_text, deep: deep_text}
for u, es in ch.items():
    t = apply(texts[u], es)
    check(not re.search(r"(?<![\w-])port(?![\w-])", t), f"{u} after rename: {t}")
    open(u[len("file://"):], "w").write(t)
PY
timeout 60 python3 "$TOP/tests/lib/lsp-client.py" "$KILN" session.py 2>err ||
	{ cat err >&2; fail "the LSP session failed"; }
# the renamed files lint clean, and the others were left alone
run_kiln lint ws/main.img ws/sub/deep.img
expect_rc 0
expect_match ws/unrelated.img 'param port' "unrelated.img was renamed"
expect_match elsewhere/far.img 'let far = port' "far.img was renamed"

cat >errors.py <<'PY'
import os
base, mid, main = uri_of("ws/lib/base.img"), uri_of("ws/mid.img"), uri_of("ws/main.img")

# a client that takes documentChanges: the open documents' versions, null for the others
r = request("initialize", {"processId": None, "workspaceFolders": [{"uri": uri_of("ws"), "name": "ws"}],
            "capabilities": {"workspace": {"workspaceEdit": {"documentChanges": True}},
                             "textDocument": {"rename": {"prepareSupport": True}}}})
check(r["result"]["capabilities"]["renameProvider"] == {"prepareProvider": True}, f"capabilities: {r}")
notify("initialized", {})
base_text = open("ws/lib/base.img").read()
notify("textDocument/didOpen", {"textDocument": {"uri": base, "version": 7, "text": base_text}})
wait_diagnostics(base)
# prepareRename: the name and its range, or null where nothing can be renamed
r = request("textDocument/prepareRename", {"textDocument": {"uri": base}, "position": pos(base_text, "${http-port}", 7)})
check(r["result"] == {"range": {"start": pos(base_text, "http-port}"), "end": pos(base_text, "}\"")},
                      "placeholder": "http-port"}, f"prepareRename: {r}")
r = request("textDocument/prepareRename", {"textDocument": {"uri": base}, "position": pos(base_text, "apt", 1)})
check(r["result"] is None, f"prepareRename of a module: {r}")
def rename(name, needle="http-port", delta=1):
    return request("textDocument/rename", {"textDocument": {"uri": base},
                   "position": pos(base_text, needle, delta), "newName": name})
r = rename("port")
dc = {c["textDocument"]["uri"]: c for c in r["result"]["documentChanges"]}
check(sorted(dc) == sorted([base, mid, main, uri_of("ws/sub/deep.img")]), f"documentChanges: {sorted(dc)}")
check(dc[base]["textDocument"]["version"] == 7 and dc[mid]["textDocument"]["version"] is None,
      f"versions: {dc}")
check(len(dc[base]["edits"]) == 2 and len(dc[main]["edits"]) == 1, f"edits: {dc}")

# refused: not a name, a keyword, a name another declaration has where a use would see it
for bad in ("9x", "a b", "", "image", "facts"):
    r = rename(bad)
    check(r.get("error", {}).get("code") == -32602 and "is not a name" in r["error"]["message"],
          f"rename to {bad!r}: {r}")
r = rename("mid_port")
e = r.get("error", {})
check(e.get("code") == -32803 and "'mid_port' is already taken" in e["message"] and
      os.path.abspath("ws/mid.img") + ":3:5" in e["message"], f"rename to mid_port: {r}")
r = rename("banner")
e = r.get("error", {})
check(e.get("code") == -32803 and "let banner is declared at " + os.path.abspath("ws/lib/base.img") + ":7:5"
      in e["message"], f"rename to banner: {r}")
r = rename("deep")  # deep.img's own let: deep.img sees port through mid.img
check(r.get("error", {}).get("code") == -32803 and "sub/deep.img:3:5" in r["error"]["message"],
      f"rename to deep: {r}")
r = rename("pkgs", "tools", 1)  # the role's name vs its own parameter: no clash
check("result" in r, f"rename tools to pkgs: {r}")
r = rename("x", "param", 0)
check(r.get("error", {}).get("code") == -32803 and "no param, let" in r["error"]["message"],
      f"rename of a keyword: {r}")
# a name with '-' is one word: a handler renamed from its use in notify
h = 'image c from scratch() {\n  handler restart-web {\n    service "nginx" { state = restarted }\n  }\n' \
    '  stage t {\n    file "/b" { notify = [restart-web] }\n  }\n}\n'
notify("textDocument/didOpen", {"textDocument": {"uri": uri_of("h.img"), "version": 1, "text": h}})
wait_diagnostics(uri_of("h.img"))
r = request("textDocument/rename", {"textDocument": {"uri": uri_of("h.img")},
                                    "position": pos(h, "[restart-web", 9), "newName": "reload-web"})
e = r["result"]["documentChanges"][0]["edits"]
check([x["range"]["start"] for x in e] == [pos(h, "restart-web"), pos(h, "[restart-web", 1)] and
      all(x["range"]["end"]["character"] - x["range"]["start"]["character"] == 11 for x in e),
      f"rename of restart-web: {r}")
request("shutdown")
notify("exit")
PY
timeout 60 python3 "$TOP/tests/lib/lsp-client.py" "$KILN" errors.py 2>err ||
	{ cat err >&2; fail "the LSP session with errors failed"; }
exit 0
