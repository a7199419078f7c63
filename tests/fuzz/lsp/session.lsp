Content-Length: 83

{"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"capabilities": {}}}Content-Length: 57

{"jsonrpc": "2.0", "method": "initialized", "params": {}}Content-Length: 409

{"jsonrpc": "2.0", "method": "textDocument/didOpen", "params": {"textDocument": {"uri": "file:///nonexistent-kiln-fuzz/a.img", "text": "param port: int = \"x\"\nlet g = \"\u00e9\ud83d\ude00\" + nosuch\nrole r(p: int) {\n  apt \"x\" { state = presnt }\n}\nimage w from debian(\"bookworm\") {\n  handler h {\n    apt \"y\" {}\n  }\n  stage s {\n    use r(p = port)\n    fil \"/x\" { notify = [h] }\n  }\n}\n"}}}Content-Length: 176

{"jsonrpc": "2.0", "id": 2, "method": "textDocument/hover", "params": {"textDocument": {"uri": "file:///nonexistent-kiln-fuzz/a.img"}, "position": {"line": 3, "character": 4}}}Content-Length: 182

{"jsonrpc": "2.0", "id": 3, "method": "textDocument/completion", "params": {"textDocument": {"uri": "file:///nonexistent-kiln-fuzz/a.img"}, "position": {"line": 3, "character": 14}}}Content-Length: 183

{"jsonrpc": "2.0", "id": 4, "method": "textDocument/definition", "params": {"textDocument": {"uri": "file:///nonexistent-kiln-fuzz/a.img"}, "position": {"line": 10, "character": 10}}}Content-Length: 224

{"jsonrpc": "2.0", "id": 5, "method": "textDocument/references", "params": {"textDocument": {"uri": "file:///nonexistent-kiln-fuzz/a.img"}, "position": {"line": 10, "character": 10}, "context": {"includeDeclaration": true}}}Content-Length: 195

{"jsonrpc": "2.0", "id": 6, "method": "textDocument/rename", "params": {"textDocument": {"uri": "file:///nonexistent-kiln-fuzz/a.img"}, "position": {"line": 10, "character": 10}, "newName": "q"}}Content-Length: 144

{"jsonrpc": "2.0", "id": 7, "method": "textDocument/documentSymbol", "params": {"textDocument": {"uri": "file:///nonexistent-kiln-fuzz/a.img"}}}Content-Length: 155

{"jsonrpc": "2.0", "id": 8, "method": "textDocument/formatting", "params": {"textDocument": {"uri": "file:///nonexistent-kiln-fuzz/a.img"}, "options": {}}}Content-Length: 252

{"jsonrpc": "2.0", "method": "textDocument/didChange", "params": {"textDocument": {"uri": "file:///nonexistent-kiln-fuzz/a.img"}, "contentChanges": [{"range": {"start": {"line": 1, "character": 9}, "end": {"line": 1, "character": 11}}, "text": "ab"}]}}Content-Length: 388

{"jsonrpc": "2.0", "id": 9, "method": "textDocument/codeAction", "params": {"textDocument": {"uri": "file:///nonexistent-kiln-fuzz/a.img"}, "range": {"start": {"line": 10, "character": 10}, "end": {"line": 10, "character": 10}}, "context": {"diagnostics": [{"message": "did you mean 'present'?", "range": {"start": {"line": 10, "character": 10}, "end": {"line": 10, "character": 10}}}]}}}Content-Length: 129

{"jsonrpc": "2.0", "method": "textDocument/didClose", "params": {"textDocument": {"uri": "file:///nonexistent-kiln-fuzz/a.img"}}}Content-Length: 64

{"jsonrpc": "2.0", "id": 10, "method": "shutdown", "params": {}}Content-Length: 50

{"jsonrpc": "2.0", "method": "exit", "params": {}}