Content-Length: 331

{"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {"rootUri": "file:///nonexistent-kiln-fuzz", "workspaceFolders": [{"uri": "file:///nonexistent-kiln-fuzz/lib", "name": "x"}, {"uri": 5}], "capabilities": {"workspace": {"workspaceEdit": {"documentChanges": true}}, "textDocument": {"rename": {"prepareSupport": true}}}}}Content-Length: 57

{"jsonrpc": "2.0", "method": "initialized", "params": {}}Content-Length: 329

{"jsonrpc": "2.0", "method": "textDocument/didOpen", "params": {"textDocument": {"uri": "file:///nonexistent-kiln-fuzz/a.img", "version": 1, "text": "import \"lib/b.img\"\n\nimage w from debian(\"bookworm\") {\n  stage s {\n    use tools(pkgs = [port_name])\n    file \"/x\" { content = \"${port} ${restart-web}\" }\n  }\n}\n"}}}Content-Length: 304

{"jsonrpc": "2.0", "method": "textDocument/didOpen", "params": {"textDocument": {"uri": "file:///nonexistent-kiln-fuzz/lib/b.img", "version": 1, "text": "import \"../c.img\"\nparam port: int = 8080\nlet port_name = \"p${port}\"\nrole tools(pkgs: list<string> = []) {\n  apt \"x\" { name = pkgs }\n}\n"}}}Content-Length: 200

{"jsonrpc": "2.0", "method": "textDocument/didOpen", "params": {"textDocument": {"uri": "file:///nonexistent-kiln-fuzz/c.img", "version": 1, "text": "import \"a.img\"\nlet restart-web = port + 1\n"}}}Content-Length: 223

{"jsonrpc": "2.0", "id": 2, "method": "textDocument/references", "params": {"textDocument": {"uri": "file:///nonexistent-kiln-fuzz/a.img"}, "position": {"line": 5, "character": 32}, "context": {"includeDeclaration": true}}}Content-Length: 205

{"jsonrpc": "2.0", "id": 3, "method": "textDocument/rename", "params": {"textDocument": {"uri": "file:///nonexistent-kiln-fuzz/lib/b.img"}, "position": {"line": 1, "character": 7}, "newName": "http-port"}}Content-Length: 205

{"jsonrpc": "2.0", "id": 4, "method": "textDocument/rename", "params": {"textDocument": {"uri": "file:///nonexistent-kiln-fuzz/lib/b.img"}, "position": {"line": 1, "character": 7}, "newName": "port_name"}}Content-Length: 198

{"jsonrpc": "2.0", "id": 5, "method": "textDocument/rename", "params": {"textDocument": {"uri": "file:///nonexistent-kiln-fuzz/a.img"}, "position": {"line": 5, "character": 40}, "newName": "image"}}Content-Length: 185

{"jsonrpc": "2.0", "id": 6, "method": "textDocument/prepareRename", "params": {"textDocument": {"uri": "file:///nonexistent-kiln-fuzz/a.img"}, "position": {"line": 4, "character": 10}}}Content-Length: 177

{"jsonrpc": "2.0", "id": 7, "method": "textDocument/hover", "params": {"textDocument": {"uri": "file:///nonexistent-kiln-fuzz/a.img"}, "position": {"line": 4, "character": 23}}}Content-Length: 182

{"jsonrpc": "2.0", "id": 8, "method": "textDocument/completion", "params": {"textDocument": {"uri": "file:///nonexistent-kiln-fuzz/a.img"}, "position": {"line": 5, "character": 28}}}Content-Length: 182

{"jsonrpc": "2.0", "id": 9, "method": "textDocument/definition", "params": {"textDocument": {"uri": "file:///nonexistent-kiln-fuzz/a.img"}, "position": {"line": 5, "character": 40}}}Content-Length: 274

{"jsonrpc": "2.0", "method": "textDocument/didChange", "params": {"textDocument": {"uri": "file:///nonexistent-kiln-fuzz/lib/b.img", "version": 2}, "contentChanges": [{"range": {"start": {"line": 1, "character": 6}, "end": {"line": 1, "character": 10}}, "text": "nosuch"}]}}Content-Length: 197

{"jsonrpc": "2.0", "id": 10, "method": "textDocument/references", "params": {"textDocument": {"uri": "file:///nonexistent-kiln-fuzz/c.img"}, "position": {"line": 1, "character": 6}, "context": {}}}Content-Length: 133

{"jsonrpc": "2.0", "method": "textDocument/didClose", "params": {"textDocument": {"uri": "file:///nonexistent-kiln-fuzz/lib/b.img"}}}Content-Length: 195

{"jsonrpc": "2.0", "id": 11, "method": "textDocument/rename", "params": {"textDocument": {"uri": "file:///nonexistent-kiln-fuzz/a.img"}, "position": {"line": 4, "character": 10}, "newName": "t"}}Content-Length: 50

{"jsonrpc": "2.0", "id": 12, "method": "shutdown"}Content-Length: 36

{"jsonrpc": "2.0", "method": "exit"}