#!/usr/bin/env python3
"""lsp-client.py KILN SCRIPT: run `KILN lsp` and play SCRIPT against it.

SCRIPT is Python: it calls send(obj) / send_raw(bytes) to write messages,
request(method, params) to send a request and get its response, notify(),
and wait_diagnostics(uri) for the next publishDiagnostics of uri; check(cond,
what) fails with `what`, pos(text, needle, delta) is the LSP position of a
needle's offset (+delta) in text, uri_of(path) a path's file:// URI. A failed
check raises; the exit status is 1 then, and 0 when the script ran through.
"""

import json
import os
import subprocess
import sys


def check(cond, what):
    if not cond:
        raise AssertionError(what)


def pos(text, needle, delta=0):
    """The position (UTF-16 columns) of text.index(needle) + delta."""
    off = text.index(needle) + delta
    start = text.rfind("\n", 0, off) + 1
    return {"line": text.count("\n", 0, off),
            "character": len(text[start:off].encode("utf-16-le")) // 2}


def uri_of(path):
    return "file://" + os.path.abspath(path)


class Server:
    def __init__(self, cmd):
        self.p = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        self.next_id = 1
        self.pending = []

    def send_raw(self, data):
        self.p.stdin.write(data)
        self.p.stdin.flush()

    def send(self, obj):
        body = json.dumps(obj).encode()
        self.send_raw(b"Content-Length: %d\r\n\r\n" % len(body) + body)

    def read(self):
        length = None
        while True:
            line = self.p.stdout.readline()
            if not line:
                raise EOFError("the server closed its output")
            line = line.strip()
            if not line:
                if length is None:
                    continue
                break
            k, _, v = line.decode().partition(":")
            if k.lower() == "content-length":
                length = int(v)
        return json.loads(self.p.stdout.read(length))

    def wait(self, pred):
        for i, m in enumerate(self.pending):
            if pred(m):
                return self.pending.pop(i)
        while True:
            m = self.read()
            if pred(m):
                return m
            self.pending.append(m)

    def request(self, method, params=None):
        i = self.next_id
        self.next_id += 1
        msg = {"jsonrpc": "2.0", "id": i, "method": method}
        if params is not None:
            msg["params"] = params
        self.send(msg)
        return self.wait(lambda m: m.get("id") == i and "method" not in m)

    def notify(self, method, params=None):
        msg = {"jsonrpc": "2.0", "method": method}
        if params is not None:
            msg["params"] = params
        self.send(msg)

    def wait_diagnostics(self, uri):
        m = self.wait(lambda m: m.get("method") == "textDocument/publishDiagnostics"
                      and m["params"]["uri"] == uri)
        return m["params"]["diagnostics"]

    def wait_id(self, i):
        return self.wait(lambda m: "method" not in m and m.get("id") == i)


def main():
    srv = Server(sys.argv[1].split() + ["lsp"])
    env = {name: getattr(srv, name) for name in
           ("send", "send_raw", "request", "notify", "wait_diagnostics", "wait_id", "wait")}
    env["srv"] = srv
    env["json"] = json
    env.update(check=check, pos=pos, uri_of=uri_of)
    with open(sys.argv[2]) as f:
        code = f.read()
    try:
        exec(compile(code, sys.argv[2], "exec"), env)
    except Exception as e:  # noqa: BLE001 - any failure is the test's
        srv.p.kill()
        print(f"lsp-client: {type(e).__name__}: {e}", file=sys.stderr)
        sys.exit(1)
    sys.exit(0)


if __name__ == "__main__":
    main()
