#!/bin/sh
# kiln lsp publishes exactly kiln lint's diagnostics: for every .img under
# examples/ and tests/compile/ (the golden inputs and the error corpus), each
# opened alone in one scripted session, the diagnostics published (code,
# severity, range in UTF-16 units, message with its help line; one in an
# imported file at the document's start as "in FILE: ...") equal, in order,
# those of `kiln lint --max-errors=0 --diagnostics=json FILE`. A file that is
# not UTF-8 cannot be sent by an editor and is skipped; one with a NUL byte is
# sent (JSON "\u0000") and gets lint's E0004.
# ctest-timeout: 600
. "$(dirname "$0")/../lib/test-lib.sh"
need python3

# values of params come from nowhere but the files, for both
for v in $(env | sed -n 's/^\(KILN_VAR_[A-Za-z0-9_]*\)=.*/\1/p'); do
	unset "$v"
done

find "$TOP/examples" "$TOP/tests/compile" -name '*.img' | sort >files
[ "$(wc -l <files)" -gt 100 ] || fail "too few inputs found: $(wc -l <files)"
grep -q 'E4007-no-kernel.img$' files || fail "no E4007 input"
grep -q 'E4008-output-clash.img$' files || fail "no E4008 input"
grep -q 'errors/0032-nul-in-string.img$' files || fail "no input with a NUL byte"

mkdir ws
printf 'import "c.img"\nimport "a.img"\nlet b1 = nope_b\n' >ws/b.img
printf 'let a1 = nope_a\n' >ws/a.img
printf 'let c1 = nope_c\n' >ws/c.img

cat >parity.py <<'PY'
import os, subprocess
kiln = os.environ["PARITY_KILN"].split()
files = open("files").read().split("\n")[:-1]
request("initialize", {"capabilities": {}, "rootUri": uri_of(os.getcwd())})
notify("initialized", {})

def lsp_pos(data, off):
    start = data.rfind(b"\n", 0, off) + 1
    col = len(data[start:off].decode("utf-8", "replace").encode("utf-16-le")) // 2
    return {"line": data.count(b"\n", 0, off), "character": col}

def lint(path, data):
    r = subprocess.run(kiln + ["lint", "--max-errors=0", "--diagnostics=json", path],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    check(r.returncode in (0, 1), "%s: kiln lint exited %d: %s" % (path, r.returncode, r.stderr[-300:]))
    out = []
    for line in r.stdout.decode().splitlines():
        d = json.loads(line)
        msg = d["message"] + ("\nhelp: " + d["help"] if "help" in d else "")
        if d["file"] == path:
            rng = {"start": lsp_pos(data, d["start"]["offset"]), "end": lsp_pos(data, d["end"]["offset"])}
        else:
            msg = "in %s: %s" % (d["file"], msg)
            rng = {"start": {"line": 0, "character": 0}, "end": {"line": 0, "character": 0}}
        out.append({"code": d["code"], "severity": 1 if d["severity"] == "error" else 2,
                    "range": rng, "message": msg})
    return out

def compare(path, got, want):
    if got == want:
        return
    failed.append(path)
    print("DIFFER: " + path)
    for w in want:
        if w not in got:
            print("  lint only: " + json.dumps(w)[:600])
    for g in got:
        if g not in want:
            print("  lsp only:  " + json.dumps(g)[:600])
    if sorted(map(json.dumps, got)) == sorted(map(json.dumps, want)):
        print("  (the same, in another order)")

failed, seen, codes = [], 0, set()
for path in files:
    data = open(path, "rb").read()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        continue
    want = lint(path, data)
    uri = uri_of(path)
    notify("textDocument/didOpen", {"textDocument": {"uri": uri, "languageId": "kiln",
                                                     "version": 1, "text": text}})
    got = [{k: d.get(k) for k in ("code", "severity", "range", "message")}
           for d in wait_diagnostics(uri)]
    notify("textDocument/didClose", {"textDocument": {"uri": uri}})
    check(wait_diagnostics(uri) == [], path + ": closing it did not clear its diagnostics")
    seen += 1
    codes.update(d["code"] for d in want)
    compare(path, got, want)

# an open import is read when lint would read its file: b.img imports c.img (on
# disk) then a.img (open, as on disk): lint's order, c's diagnostic before a's
ws = os.path.abspath("ws")
for name in ("a", "b"):
    path = os.path.join(ws, name + ".img")
    notify("textDocument/didOpen", {"textDocument": {"uri": uri_of(path), "languageId": "kiln",
                                                     "version": 1, "text": open(path).read()}})
    got = [{k: d.get(k) for k in ("code", "severity", "range", "message")}
           for d in wait_diagnostics(uri_of(path))]
want = lint(path, open(path, "rb").read())
check(len(want) == 3, "ws/b.img: lint gave %d diagnostics, not 3" % len(want))
compare(path, got, want)
print("%d files, %d codes, %d differ" % (seen, len(codes), len(failed)))
check(seen > 100, "too few files checked: %d" % seen)
for c in ("E0004", "E1002", "E2008", "E3014", "E4007", "E4008", "W4002"):
    check(c in codes, "no input gave " + c)
check(not failed, "%d files: the server's diagnostics are not kiln lint's" % len(failed))
PY
PARITY_KILN="$KILN" timeout 540 python3 "$TOP/tests/lib/lsp-client.py" "$KILN" parity.py >out 2>err ||
	fail "the language server and kiln lint disagree (or the session hung): $(cat out err | head -c 3000)"
say "$(tail -n 1 out)"
