#!/usr/bin/env python3
# tests/runtime/registry-proxy.py LISTEN_PORT UPSTREAM_PORT KILL_PID N [nopatch]: an HTTP proxy on
# 127.0.0.1:LISTEN_PORT in front of the registry on 127.0.0.1:UPSTREAM_PORT, for the test of
# a registry that dies mid-push (t7030). It forwards requests as they come; when the N-th
# PATCH (a chunk of a blob upload) arrives, it kills KILL_PID (the registry) with SIGKILL
# and exits itself, dropping the connection. Writes "killed" to stdout then. With nopatch
# (KILL_PID and N unused) it answers every PATCH with 405, as a registry without chunked
# uploads does, and writes "refused" to stdout.
import http.client
import http.server
import os
import signal
import sys

LISTEN, UPSTREAM, KILL_PID, N = (int(a) for a in sys.argv[1:5])
NOPATCH = sys.argv[5:6] == ["nopatch"]
patches = 0


class Proxy(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def forward(self):
        global patches
        if self.command == "PATCH" and NOPATCH:
            length = int(self.headers.get("Content-Length", "0") or 0)
            self.rfile.read(length)
            print("refused", flush=True)
            self.send_response(405)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        if self.command == "PATCH":
            patches += 1
            if patches == N:
                os.kill(KILL_PID, signal.SIGKILL)
                print("killed", flush=True)
                os._exit(0)
        length = int(self.headers.get("Content-Length", "0") or 0)
        body = self.rfile.read(length) if length else None
        conn = http.client.HTTPConnection("127.0.0.1", UPSTREAM, timeout=30)
        headers = {k: v for k, v in self.headers.items() if k.lower() != "connection"}
        conn.request(self.command, self.path, body=body, headers=headers)
        resp = conn.getresponse()
        data = resp.read()
        self.send_response(resp.status)
        for k, v in resp.getheaders():
            if k.lower() not in ("connection", "transfer-encoding", "content-length"):
                self.send_header(k, v)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)
        conn.close()

    do_GET = do_HEAD = do_PUT = do_POST = do_PATCH = do_DELETE = forward

    def log_message(self, fmt, *args):
        pass


http.server.ThreadingHTTPServer(("127.0.0.1", LISTEN), Proxy).serve_forever()
