#!/bin/sh
# kiln lsp across files: an import that is open in the editor is read from the
# editor's text, not the disk, for diagnostics, hover, completion and
# definition; a change to it publishes again the diagnostics of the open
# documents that import it, directly or through another file, and of no other,
# once no message waits or at most a second after the change.
. "$(dirname "$0")/../lib/test-lib.sh"
need python3

mkdir lib
# on disk: base.img has no 'extra'; main.img uses it through mid.img
printf 'param port: int = 8080\nrole tools() {\n  apt "vim" {}\n}\n' >lib/base.img
printf 'import "lib/base.img"\n\nlet mid_name = "m-${port}"\n' >mid.img
cat >main.img <<'IMG'
import "mid.img"

image m from scratch() {
  stage s {
    use tools()
    file "/x" {
      content = "${mid_name} ${extra}"
    }
  }
}
IMG
printf 'let alone = 1\nimage o from scratch() {\n  stage s {\n    file "/a" { content = "${alone}" }\n  }\n}\n' >other.img
# two files: direct.img imports base.img itself
printf 'import "lib/base.img"\n\nlet direct = "${extra}-${port}"\n' >direct.img
# kiln lint reads the disk: 'extra' is unknown
run_kiln lint --diagnostics=json main.img
expect_rc 1
expect_match out '"E2001"' "kiln lint does not report 'extra' as unknown"

cat >session.py <<'PY'
import os
main, base, other = uri_of("main.img"), uri_of("lib/base.img"), uri_of("other.img")
direct = uri_of("direct.img")
main_text = open("main.img").read()



def sync():
    """A request answered after every notification sent before it."""
    request("textDocument/documentSymbol", {"textDocument": {"uri": main}})

def errors(diags):
    return [x for x in diags if x["severity"] == 1]

def published(uri):
    return [m for m in srv.pending if m.get("method") == "textDocument/publishDiagnostics"
            and m["params"]["uri"] == uri]

request("initialize", {"processId": None, "rootUri": uri_of("."), "capabilities": {}})
notify("initialized", {})
notify("textDocument/didOpen", {"textDocument": {"uri": main, "version": 1, "text": main_text}})
d = wait_diagnostics(main)
check([x["code"] for x in d] == ["E2001"] and "'extra'" in d[0]["message"],
      f"main.img before base.img is open: {d}")
notify("textDocument/didOpen", {"textDocument": {"uri": direct, "version": 1,
                                                 "text": open("direct.img").read()}})
d = errors(wait_diagnostics(direct))
check([x["code"] for x in d] == ["E2001"], f"direct.img before base.img is open: {d}")
notify("textDocument/didOpen", {"textDocument": {"uri": other, "version": 1,
                                                 "text": open("other.img").read()}})
check(wait_diagnostics(other) == [], "other.img")

# base.img opened with a text that is not on disk: 'extra' is declared there
base_text = 'param port: int = 8080\n\n# only in the editor\nlet extra = "e-${port}"\n' \
            'role tools() {\n  apt "vim" {}\n}\n'
notify("textDocument/didOpen", {"textDocument": {"uri": base, "version": 1, "text": base_text}})
check(errors(wait_diagnostics(base)) == [], "base.img's own diagnostics")
check(wait_diagnostics(main) == [], "main.img sees 'extra' of base.img's open text")
check(errors(wait_diagnostics(direct)) == [], "direct.img sees 'extra' of base.img's open text")
sync()
check(published(other) == [], f"other.img imports nothing, yet was published: {published(other)}")

doc = {"uri": main}
r = request("textDocument/definition", {"textDocument": doc, "position": pos(main_text, "${extra}", 3)})
check(r["result"]["uri"] == base and r["result"]["range"]["start"] == {"line": 3, "character": 4},
      f"definition of extra in the open text: {r}")
r = request("textDocument/definition", {"textDocument": doc, "position": pos(main_text, "use tools", 5)})
check(r["result"]["uri"] == base and r["result"]["range"]["start"] == {"line": 4, "character": 5},
      f"definition of tools in the open text: {r}")
r = request("textDocument/hover", {"textDocument": doc, "position": pos(main_text, "${extra}", 3)})
v = r["result"]["contents"]["value"]
check("let extra" in v and "lib/base.img`, line 4" in v and '"e-${port}"' in v, f"hover extra: {v}")
r = request("textDocument/hover", {"textDocument": doc, "position": pos(main_text, "${mid_name}", 3)})
v = r["result"]["contents"]["value"]
check("let mid_name" in v and "mid.img`, line 3" in v, f"hover mid_name (on disk): {v}")
r = request("textDocument/completion", {"textDocument": doc, "position": pos(main_text, '"${mid', 0)})
labels = {i["label"] for i in r["result"]["items"]}
check({"extra", "port", "tools", "mid_name"} <= labels, f"completion: names of the imports {sorted(labels)}")

# an error in base.img's text shows in its importers, through mid.img
notify("textDocument/didChange", {"textDocument": {"uri": base, "version": 2},
       "contentChanges": [{"range": {"start": {"line": 3, "character": 12},
                                     "end": {"line": 3, "character": 23}},
                           "text": "nosuch"}]})
d = errors(wait_diagnostics(base))
check([x["code"] for x in d] == ["E2001"] and d[0]["range"]["start"] == {"line": 3, "character": 12},
      f"base.img after the change: {d}")
d = wait_diagnostics(main)
check(len(d) == 1 and d[0]["message"].startswith("in " + os.path.abspath("lib/base.img") + ":")
      and "'nosuch'" in d[0]["message"], f"main.img shows base.img's error: {d}")
d = errors(wait_diagnostics(direct))
check(len(d) == 1 and "'nosuch'" in d[0]["message"], f"direct.img shows base.img's error: {d}")
sync()
check(published(other) == [], "other.img published again")

# 'extra' removed from the text: main.img's use of it is unknown again
notify("textDocument/didChange", {"textDocument": {"uri": base, "version": 3},
       "contentChanges": [{"text": 'param port: int = 8080\nrole tools() {}\n'}]})
check(errors(wait_diagnostics(base)) == [], "base.img")
d = wait_diagnostics(main)
check([x["code"] for x in d] == ["E2001"] and d[0]["range"]["start"] == pos(main_text, "extra"),
      f"main.img after extra went: {d}")
notify("textDocument/didChange", {"textDocument": {"uri": base, "version": 4},
       "contentChanges": [{"text": base_text}]})
wait_diagnostics(base)
check(wait_diagnostics(main) == [], "extra is back")

# closed: base.img is read from disk again, where there is no 'extra'
notify("textDocument/didClose", {"textDocument": {"uri": base}})
check(wait_diagnostics(base) == [], "closing clears base.img's diagnostics")
d = wait_diagnostics(main)
check([x["code"] for x in d] == ["E2001"], f"main.img reads base.img from disk again: {d}")
r = request("textDocument/definition", {"textDocument": doc, "position": pos(main_text, "use tools", 5)})
check(r["result"]["range"]["start"] == {"line": 1, "character": 5}, f"tools on disk: {r}")
# base.img saved with 'extra' by another program: the client says so
open("lib/base.img", "w").write(base_text)
notify("workspace/didChangeWatchedFiles", {"changes": [{"uri": base, "type": 2}]})
check(wait_diagnostics(main) == [], "main.img after base.img changed on disk")
r = request("shutdown")
notify("exit")
check(srv.p.wait(timeout=10) == 0, "exit status")
PY
timeout 60 python3 "$TOP/tests/lib/lsp-client.py" "$KILN" session.py 2>err ||
	{ cat err >&2; fail "the LSP session failed"; }

# A burst of changes with no pause: the importer's diagnostics do not wait
# for the end of the burst (at most a second after the first change).
python3 -c 'print("let v0 = 0"); [print("let v%d = v%d + 1" % (i, i - 1)) for i in range(1, 3000)]' >chain.img
printf 'import "chain.img"\nlet top = v2999\n' >uses.img
cat >burst.py <<'PY'
import threading, time
chain, uses = uri_of("chain.img"), uri_of("uses.img")
text = open("chain.img").read()
request("initialize", {"processId": None, "capabilities": {}})
notify("textDocument/didOpen", {"textDocument": {"uri": uses, "version": 1, "text": open("uses.img").read()}})
wait_diagnostics(uses)
notify("textDocument/didOpen", {"textDocument": {"uri": chain, "version": 1, "text": text}})
wait_diagnostics(chain)
wait_diagnostics(uses)  # published again: chain.img is open now
changes = 1500
end = pos(text, "v2998 + 1", 9)
burst = b""
for i in range(changes):
    body = json.dumps({"jsonrpc": "2.0", "method": "textDocument/didChange", "params": {
        "textDocument": {"uri": chain, "version": i + 2},
        "contentChanges": [{"range": {"start": end, "end": end}, "text": " "}]}}).encode()
    burst += b"Content-Length: %d\r\n\r\n" % len(body) + body
t0 = time.monotonic()
# written by a thread: the server answers while it reads, and its answers must be read
threading.Thread(target=send_raw, args=(burst,), daemon=True).start()
before = 0
while True:
    m = wait(lambda m: m.get("method") == "textDocument/publishDiagnostics")
    if m["params"]["uri"] == uses:
        break
    before += 1
elapsed = time.monotonic() - t0
for _ in range(changes - before):
    wait_diagnostics(chain)
total = time.monotonic() - t0
# only meaningful when the burst took well over the second the importer may wait
check(total < 2.5 or before < changes, f"uses.img waited for the whole burst: after {before} "
      f"of {changes} changes, {elapsed:.2f} s of {total:.2f} s")
print(f"burst: uses.img published after {before} of {changes} changes, {elapsed:.2f} s of {total:.2f} s")
PY
timeout 120 python3 "$TOP/tests/lib/lsp-client.py" "$KILN" burst.py >burst.out 2>err ||
	{ cat err >&2; fail "the burst session failed"; }
cat burst.out
exit 0
