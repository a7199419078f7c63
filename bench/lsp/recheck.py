#!/usr/bin/env python3
"""recheck.py KILN [--lines N] [--changes N]: what a change costs kiln lsp.

Generates a N-line file with bench/compile/gen-img.py (10,000 lines by
default) in a temporary directory and measures three sessions over stdio:

  alone     the big file open, changed in its middle N times;
  importer  the same, with a small open file that imports it (the server
            checks the big file, then the importer again, which reads the
            big file's text from the editor);
  imported  a small open file changed N times, imported by the big one.

For each: the median and worst time from the change to the changed file's
diagnostics, to the last importer's, and the server's CPU time per change
(from /proc, which a loaded machine does not inflate as it does the wall
clock). docs/lsp.md quotes it.
"""
import argparse
import importlib.util
import os
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
spec = importlib.util.spec_from_file_location(
    "lsp_client", os.path.join(HERE, "..", "..", "tests", "lib", "lsp-client.py"))
lsp_client = importlib.util.module_from_spec(spec)
spec.loader.exec_module(lsp_client)


def cpu_ms(pid):
    f = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(f[11]) + int(f[12])) * 1000 / os.sysconf("SC_CLK_TCK")


def session(kiln, mode, text, changes):
    srv = lsp_client.Server([kiln, "lsp"])
    uri = {n: "file://" + os.path.abspath(n) for n in ("big.img", "main.img", "small.img")}
    srv.request("initialize", {"capabilities": {}, "rootUri": "file://" + os.getcwd()})

    def open_doc(name, t):
        srv.notify("textDocument/didOpen", {"textDocument": {"uri": uri[name], "version": 1, "text": t}})
        srv.wait_diagnostics(uri[name])

    if mode == "imported":
        open_doc("small.img", "let s_x = 1\n")
        text = 'import "small.img"\n' + text
    open_doc("big.img", text)
    if mode == "importer":
        open_doc("main.img", 'import "big.img"\n\nlet m = web_port_0\n')
    changed = "small.img" if mode == "imported" else "big.img"
    waits = {"alone": [], "importer": ["main.img"], "imported": ["big.img"]}[mode]
    line = text.count("\n") // 2
    own, last = [], []
    c0 = cpu_ms(srv.p.pid)
    for i in range(changes):
        if mode == "imported":
            change = {"text": "let s_x = %d\n" % i}
        else:
            at = {"line": line, "character": 0}
            change = {"range": {"start": at, "end": at} if i % 2 == 0 else
                      {"start": at, "end": {"line": line, "character": 1}},
                      "text": "#" if i % 2 == 0 else ""}
        t0 = time.perf_counter()
        srv.notify("textDocument/didChange", {"textDocument": {"uri": uri[changed], "version": i + 2},
                                              "contentChanges": [change]})
        srv.wait_diagnostics(uri[changed])
        t1 = time.perf_counter()
        for w in waits:
            srv.wait_diagnostics(uri[w])
        t2 = time.perf_counter()
        own.append((t1 - t0) * 1000)
        last.append((t2 - t0) * 1000)
    cpu = (cpu_ms(srv.p.pid) - c0) / changes
    srv.p.kill()
    srv.p.wait()
    print(f"{mode:9} {changed} published: median {statistics.median(own):5.1f} ms, worst {max(own):5.1f}"
          + (f"; its importer: median {statistics.median(last):5.1f} ms, worst {max(last):5.1f}" if waits else "")
          + f"; server CPU {cpu:.1f} ms per change")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("kiln")
    ap.add_argument("--lines", type=int, default=10000)
    ap.add_argument("--changes", type=int, default=40)
    a = ap.parse_args()
    kiln = os.path.abspath(a.kiln)
    with tempfile.TemporaryDirectory() as d:
        os.chdir(d)
        subprocess.run([sys.executable, os.path.join(HERE, "..", "compile", "gen-img.py"), "--lines",
                        str(a.lines), "-o", "big.img", "--write-files", ".", "--quiet"], check=True)
        print(f"{a.lines} lines, {a.changes} changes, load average {os.getloadavg()[0]:.1f}")
        text = open("big.img").read()
        for mode in ("alone", "importer", "imported"):
            session(kiln, mode, text, a.changes)


if __name__ == "__main__":
    main()
