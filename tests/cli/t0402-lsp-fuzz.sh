#!/bin/sh
# kiln lsp survives any input: random bytes, broken headers, JSON of every
# shape and requests with wrongly typed or random parameters, in a fixed
# pseudo-random order (the seed is printed on failure). After it all the
# server still answers a request, and it never dies of a signal.
. "$(dirname "$0")/../lib/test-lib.sh"
need python3

cat >fuzz.py <<'PY'
import json, os, random, subprocess, sys, threading

seed = int(sys.argv[2])
rng = random.Random(seed)
p = subprocess.Popen(sys.argv[1].split() + ["lsp"], stdin=subprocess.PIPE,
                     stdout=subprocess.PIPE)
got = []
threading.Thread(target=lambda: got.append(p.stdout.read()), daemon=True).start()

def frame(body):
    return b"Content-Length: %d\r\n\r\n" % len(body) + body

def rand_json(depth=0):
    k = rng.randrange(8 if depth < 3 else 5)
    if k == 0: return None
    if k == 1: return rng.choice([True, False])
    if k == 2: return rng.choice([0, -1, 2**31, 2**63 - 1, 1.5, rng.randrange(100)])
    if k == 3: return rng.choice(["", "x", "file:///t.img", "é😀", "\u0000"[:0] + "a" * 50])
    if k == 4: return rng.choice(["textDocument/hover", "initialize", "param p: int = 1\n"])
    if k == 5: return [rand_json(depth + 1) for _ in range(rng.randrange(4))]
    return {rng.choice(["uri", "text", "line", "character", "textDocument", "position",
                        "range", "start", "end", "contentChanges", "version", "id"]):
            rand_json(depth + 1) for _ in range(rng.randrange(5))}

texts = ["", "param p: int = \"x\"\n", "image a from scratch() {\n stage s {\n  file \"/x\" {\n",
         "let é😀 = 1\n" * 3, "}}}{{{\"\n", "role r(x: int) {\n  apt \"y\" { state = ",
         "import \"nonexistent.img\"\n", "import \"t.img\"\nlet q = p\n",
         "import \"u.img\"\nparam p: int = 1\nlet r = q\n", "\xff\xfe bad utf8".encode("latin-1").decode("utf-8", "replace")]
methods = ["textDocument/hover", "textDocument/completion", "textDocument/definition",
           "textDocument/formatting", "textDocument/documentSymbol", "textDocument/didOpen",
           "textDocument/didChange", "textDocument/didClose", "initialize", "shutdown",
           "textDocument/references", "textDocument/rename", "textDocument/codeAction",
           "nosuch", "$/cancelRequest", "initialized", "textDocument/prepareRename",
           "workspace/didChangeWorkspaceFolders", "workspace/didChangeWatchedFiles"]
# two documents that import each other, in a workspace folder with .img files
uris = ["file://" + os.path.abspath("ws/t.img"), "file://" + os.path.abspath("ws/u.img")]
os.makedirs("ws/sub", exist_ok=True)
open("ws/t.img", "w").write("param p: int = 1\n")
open("ws/sub/v.img", "w").write("import \"../u.img\"\nlet v = p + q\n")
out = [frame(json.dumps({"jsonrpc": "2.0", "id": 0, "method": "initialize",
                         "params": {"capabilities": {"workspace": {"workspaceEdit": {"documentChanges": True}}},
                                    "rootUri": "file://" + os.path.abspath("ws")}}).encode())]
for i in range(600):
    k = rng.randrange(6)
    if k == 0:
        out.append(bytes(rng.randrange(256) for _ in range(rng.randrange(40))))
    elif k == 1:
        out.append(frame(bytes(rng.randrange(256) for _ in range(rng.randrange(40)))))
    elif k == 2:
        out.append(frame(json.dumps(rand_json()).encode()))
    else:
        m = {"jsonrpc": "2.0", "method": rng.choice(methods)}
        if rng.randrange(2):
            m["id"] = rng.choice([i + 1, str(i), None, [1], 1.5])
        t = rng.choice(texts)
        uri = rng.choice(uris)
        pos = {"line": rng.randrange(6), "character": rng.randrange(30)}
        m["params"] = rng.choice([
            {"textDocument": {"uri": uri, "text": t}},
            {"textDocument": {"uri": uri}, "position": pos},
            {"textDocument": {"uri": uri}, "position": pos, "newName": rand_json(),
             "context": {"includeDeclaration": rand_json(), "diagnostics": [
                 {"message": rng.choice(["did you mean '", "did you mean 'x'?", "x"]),
                  "range": rand_json()}]}},
            {"textDocument": {"uri": uri}, "contentChanges": [
                {"range": {"start": pos, "end": {"line": rng.randrange(6),
                                                 "character": rng.randrange(30)}},
                 "text": t}]},
            {"textDocument": {"uri": uri}, "contentChanges": [{"text": t}]},
            {"event": {"added": [{"uri": rng.choice(uris + ["file:///nonexistent-dir", "x:y", 5])}],
                       "removed": [{"uri": rng.choice(uris + ["file://" + os.path.abspath("ws")])}]},
             "changes": [{"uri": rng.choice(uris + [None, "file:///nonexistent-dir/z.img"]), "type": 2}]},
            rand_json(),
        ])
        if m["method"] == "shutdown" and rng.randrange(3):
            continue
        out.append(frame(json.dumps(m).encode()))
    if rng.randrange(40) == 0:  # a truncated message
        out.append(b"Content-Length: 30\r\n\r\n{\"jsonrpc\"")
out.append(frame(b'{"jsonrpc": "2.0", "id": "last", "method": "textDocument/documentSymbol", '
                 b'"params": {"textDocument": {"uri": "file:///not-open.img"}}}'))
data = b"".join(out)
try:
    p.stdin.write(data)
    p.stdin.close()
except BrokenPipeError:
    pass
rc = p.wait(timeout=120)
threading.Event().wait(0.2)
if rc < 0:
    sys.exit(f"seed {seed}: kiln lsp died of signal {-rc}")
if rc not in (0, 1):
    sys.exit(f"seed {seed}: kiln lsp exited {rc}")
PY
for seed in 1 2 3 4 5; do
	timeout -k 5 150 python3 fuzz.py "$KILN" $seed 2>err || { cat err >&2; fail "fuzz seed $seed"; }
done

# after garbage, a well-formed request still gets its answer
printf 'Content-Length: 3\r\n\r\n{{{Content-Length: 58\r\n\r\n{"jsonrpc":"2.0","id":7,"method":"initialize","params":{}}' |
	$KILN lsp >out 2>err || true
grep -q '"id":7,"result":{"capabilities"' out || fail "no answer after garbage: $(cat out)"
exit 0
