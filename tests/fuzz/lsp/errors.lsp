Content-Length: 83

{"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"capabilities": {}}}Content-Length: 5

{nopeContent-Length: 5

[1,2]Content-Length: 43

{"jsonrpc": "2.0", "id": {}, "method": "x"}Content-Length: x

Content-Length: 99

{"jsonrpc": "2.0", "id": 2, "method": "textDocument/hover", "params": {"textDocument": {"uri": 5}}}Content-Length: 130

{"jsonrpc": "2.0", "method": "textDocument/didChange", "params": {"textDocument": {"uri": "file:///nonexistent-kiln-fuzz/a.img"}}}Content-Length: 99

{