#!/bin/sh
# kiln lsp with a real client: headless neovim (its built-in LSP client, as in
# neovim 0.7, which has no vim.lsp.start) opens a broken file and must get the
# diagnostics kiln lint gives, at the same places, then a hover, a completion
# and a go-to-definition. Then vim.lsp.buf.rename of a param declared in an
# imported file, both files open: both buffers are edited, and the result lints.
. "$(dirname "$0")/../lib/test-lib.sh"
need nvim
need python3
# neovim keeps its log (lsp.log), state and cache under HOME and XDG_*: this test's own
HOME=$TMP/home XDG_CONFIG_HOME=$TMP/home/.config XDG_DATA_HOME=$TMP/home/.local/share
XDG_STATE_HOME=$TMP/home/.local/state XDG_CACHE_HOME=$TMP/home/.cache
export HOME XDG_CONFIG_HOME XDG_DATA_HOME XDG_STATE_HOME XDG_CACHE_HOME
mkdir -p "$HOME"

cat >broken.img <<'IMG'
param port: int = 8080
param port: int = 1
let greeting = "é😀" + nosuch
image web from debian("bookworm") {
  stage base {
    apt "nginx" {
      state = presnt
    }
    fil "/x" {}
    file "/etc/motd" {
      content = "${greeting} ${port}"
    }
  }
}
IMG
run_kiln lint --diagnostics=json broken.img
expect_rc 1
# code line:col (0-based line, byte column) of each of lint's diagnostics
python3 - >lint.txt <<'PY'
import json
for l in open("out"):
    d = json.loads(l)
    line = open("broken.img", "rb").read().split(b"\n")[d["start"]["line"] - 1]
    col = len(line.decode()[: d["start"]["column"] - 1].encode())
    print(d["code"], "%d:%d" % (d["start"]["line"] - 1, col))
PY
sort lint.txt >lint.sorted

cat >test.lua <<'LUA'
local out = assert(io.open("nvim.txt", "w"))
local cmd = vim.split(os.getenv("KILN_LSP_CMD"), " ", { trimempty = true })
table.insert(cmd, "lsp")
vim.cmd("edit broken.img")
local buf = vim.api.nvim_get_current_buf()
local id = vim.lsp.start_client({ name = "kiln", cmd = cmd, root_dir = vim.fn.getcwd() })
vim.lsp.buf_attach_client(buf, id)
vim.wait(20000, function() return #vim.diagnostic.get(buf) > 0 end, 20)
for _, d in ipairs(vim.diagnostic.get(buf)) do
	local code = d.code or (d.user_data and d.user_data.lsp and d.user_data.lsp.code)
	out:write(string.format("diag %s %d:%d\n", code, d.lnum, d.col))
end
local uri = vim.uri_from_bufnr(buf)
local function ask(method, line, character)
	local r = vim.lsp.buf_request_sync(buf, method, {
		textDocument = { uri = uri },
		position = { line = line, character = character },
	}, 10000)
	return r and r[id] and r[id].result
end
-- hover over ${port} (line 10, 0-based, on "port" of ${port})
local hover = ask("textDocument/hover", 10, 32)
out:write("hover ", hover and hover.contents.value:gsub("\n", " ") or "none", "\n")
local def = ask("textDocument/definition", 10, 32)
if def and def[1] then def = def[1] end
out:write(string.format("definition %s %d:%d\n", def and def.uri == uri and "same" or "other",
	def and def.range.start.line or -1, def and def.range.start.character or -1))
local comp = ask("textDocument/completion", 6, 6)
local labels = {}
for _, item in ipairs(comp and (comp.items or comp) or {}) do table.insert(labels, item.label) end
table.sort(labels)
out:write("completion ", table.concat(labels, " "), "\n")
out:close()
vim.lsp.stop_client(id)
vim.cmd("qall!")
LUA
# run_nvim SCRIPT.lua RESULTS: headless neovim runs the script, which writes RESULTS
run_nvim()
{
	KILN_LSP_CMD="$KILN" timeout -k 5 60 nvim --headless -u NONE -i NONE -n -c "luafile $1" \
		>nvim.out 2>&1 </dev/null || { cat nvim.out >&2; fail "neovim failed ($1)"; }
	[ -s "$2" ] || { cat nvim.out >&2; fail "neovim wrote no results ($1)"; }
}
run_nvim test.lua nvim.txt
sed -n 's/^diag //p' nvim.txt | sort >nvim.sorted
cmp -s lint.sorted nvim.sorted || { diff lint.sorted nvim.sorted >&2; fail "neovim's diagnostics differ from kiln lint's"; }
expect_match nvim.txt '^hover .*param port.*int.*8080' "no hover for port"
expect_match nvim.txt '^definition same 0:6$' "definition of port is not its param"
expect_match nvim.txt '^completion .*name .*state .*update_cache' "no completion of apt's arguments"

# rename across two files: lib.img declares web_port, app.img uses it
mkdir rn
printf 'param web_port: int = 80\nlet url = "http://x:${web_port}"\n' >rn/lib.img
cat >rn/app.img <<'IMG'
import "lib.img"

image a from scratch() {
  stage s {
    file "/etc/port" {
      content = "${web_port} ${url}"
    }
  }
}
IMG
cat >rename.lua <<'LUA'
local out = assert(io.open("rename.txt", "w"))
local cmd = vim.split(os.getenv("KILN_LSP_CMD"), " ", { trimempty = true })
table.insert(cmd, "lsp")
vim.cmd("cd rn")
local id = vim.lsp.start_client({ name = "kiln", cmd = cmd, root_dir = vim.fn.getcwd() })
vim.cmd("edit lib.img")
local lib = vim.api.nvim_get_current_buf()
vim.lsp.buf_attach_client(lib, id)
vim.cmd("edit app.img")
local app = vim.api.nvim_get_current_buf()
vim.lsp.buf_attach_client(app, id)
vim.wait(20000, function() return vim.lsp.buf_is_attached(app, id) and vim.lsp.get_client_by_id(id).initialized end, 20)
-- on web_port in ${web_port}, line 6 (1-based), column 19 (0-based)
vim.api.nvim_win_set_cursor(0, { 6, 19 })
vim.lsp.buf.rename("http_port")
local function both()
	local a = table.concat(vim.api.nvim_buf_get_lines(app, 0, -1, false), "\n")
	local l = table.concat(vim.api.nvim_buf_get_lines(lib, 0, -1, false), "\n")
	return a:find("http_port", 1, true) and l:find("http_port", 1, true), a, l
end
vim.wait(20000, function() return both() end, 20)
local _, a, l = both()
out:write("app:\n", a, "\nlib:\n", l, "\n")
out:close()
vim.cmd("wall")
vim.lsp.stop_client(id)
vim.cmd("qall!")
LUA
run_nvim rename.lua rename.txt
if grep -q web_port rename.txt || [ "$(grep -c http_port rename.txt)" != 3 ]; then
	cat rename.txt >&2
	fail "rename across the two buffers"
fi
expect_match rn/lib.img '^param http_port: int = 80$' "lib.img was not written renamed"
run_kiln lint rn/app.img
expect_rc 0
exit 0
