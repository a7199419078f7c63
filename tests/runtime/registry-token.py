#!/usr/bin/env python3
# tests/runtime/registry-token.py PORT KEY CERT USER PASSWORD: a token service for the
# registry tests (lib-registry.sh, mode token), on 127.0.0.1:PORT. GET /token with basic
# auth USER:PASSWORD answers {"token": JWT} granting the asked scopes; other credentials
# get 401, none get a token without any access. The JWT is RS256, signed with KEY by the
# openssl command, its "kid" the libtrust key ID of CERT's public key (what
# distribution's token auth matches against its rootcertbundle). It serves until killed.
import base64
import hashlib
import http.server
import json
import subprocess
import sys
import time
import urllib.parse

PORT, KEY, CERT, USER, PASSWORD = sys.argv[1:6]


def b64url(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def key_id():
    der = subprocess.run(
        ["openssl", "x509", "-in", CERT, "-pubkey", "-noout"], check=True, capture_output=True
    ).stdout
    der = subprocess.run(
        ["openssl", "pkey", "-pubin", "-outform", "DER"], input=der, check=True,
        capture_output=True,
    ).stdout
    b32 = base64.b32encode(hashlib.sha256(der).digest()[:30]).decode()
    return ":".join(b32[i : i + 4] for i in range(0, 48, 4))


KID = key_id()


def sign(claims):
    header = {"typ": "JWT", "alg": "RS256", "kid": KID}
    head = b64url(json.dumps(header).encode()) + "." + b64url(json.dumps(claims).encode())
    sig = subprocess.run(
        ["openssl", "dgst", "-sha256", "-sign", KEY], input=head.encode(), check=True,
        capture_output=True,
    ).stdout
    return head + "." + b64url(sig)


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        url = urllib.parse.urlparse(self.path)
        if url.path != "/token":
            self.send_error(404)
            return
        q = urllib.parse.parse_qs(url.query)
        auth = self.headers.get("Authorization", "")
        access = []
        if auth:
            ok = False
            if auth.startswith("Basic "):
                try:
                    user, _, pw = base64.b64decode(auth[6:]).decode().partition(":")
                    ok = user == USER and pw == PASSWORD
                except Exception:
                    ok = False
            if not ok:
                self.send_response(401)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(b'{"details": "wrong username or password"}')
                return
            for scope in q.get("scope", []):
                for one in scope.split(" "):
                    parts = one.split(":")
                    if len(parts) == 3:
                        access.append(
                            {"type": parts[0], "name": parts[1], "actions": parts[2].split(",")}
                        )
        now = int(time.time())
        claims = {
            "iss": "kiln-test-issuer",
            "sub": USER if auth else "",
            "aud": q.get("service", [""])[0],
            "exp": now + 300,
            "nbf": now - 10,
            "iat": now,
            "jti": str(now) + "-" + str(len(access)),
            "access": access,
        }
        body = json.dumps({"token": sign(claims), "expires_in": 300}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, fmt, *args):
        sys.stderr.write("token: " + (fmt % args) + "\n")


http.server.ThreadingHTTPServer(("127.0.0.1", int(PORT)), Handler).serve_forever()
