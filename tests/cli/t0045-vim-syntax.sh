#!/bin/sh
# editors/vim in Debian's neovim: ftdetect tells kiln files from disk images, the
# syntax file names keywords, modules, strings, interpolation, escapes, heredocs,
# comments and numbers, and the ftplugin's errorformat reads
# `kiln lint --diagnostics=short` into the quickfix list.
. "$(dirname "$0")/../lib/test-lib.sh"
need nvim

VIMDIR=$TOP/editors/vim
# nvim FILE SCRIPT: open FILE with the kiln files on the runtimepath, run SCRIPT.
nv()
{
	HOME=$TMP XDG_CONFIG_HOME=$TMP XDG_DATA_HOME=$TMP XDG_STATE_HOME=$TMP \
		timeout 60 nvim --headless -u NONE -i NONE -n --cmd "set rtp^=$VIMDIR" \
		--cmd 'filetype plugin indent on' --cmd 'syntax on' "$1" -c "source $2" \
		</dev/null >nvim.out 2>&1 || fail "nvim on $1: $(cat nvim.out)"
}

# --- ftdetect ---
cat >ft.vim <<'VIM'
call writefile([&filetype], 'ft.txt')
qa!
VIM
cp "$TOP/examples/web.img" web.img
cp "$TOP/examples/vars.kvars" vars.kvars
printf '# a comment first\n\n/* and a block\n   comment */\nparam x: int = 1\n' >commented.img
printf 'hello, this is a note\nimage of my holiday\n' >note.img
head -c 4096 /dev/zero >zeros.img
printf 'image\000x from scratch\n' >nul.img
for f in web.img:kiln vars.kvars:kiln commented.img:kiln note.img: zeros.img: nul.img:; do
	nv "${f%%:*}" ft.vim
	[ "$(cat ft.txt)" = "${f#*:}" ] || fail "${f%%:*}: filetype '$(cat ft.txt)', expected '${f#*:}'"
done

# --- syntax groups at chosen places ---
cat >syn.img <<'KILN'
# comment TODO
param port: int = 0644 // slash comment
let s = "a\tb ${upper("x")} \q $HOME"
let r = 'raw ${no}'
/* block */
let h = <<-EOT
  body ${port}
  EOT
image x from scratch() {
  config { user = "www-data" }
  stage s {
    file "f" { path = "/x", mode = 0x1F, state = absent }
  }
  output docker-archive "out/x.tar" {}
}
KILN
cat >syn.vim <<'VIM'
" [line, column] and the group expected there
let want = [
  \ [1, 1, 'kilnComment'], [1, 11, 'kilnTodo'],
  \ [2, 1, 'kilnKeyword'], [2, 13, 'kilnType'], [2, 19, 'kilnNumber'], [2, 24, 'kilnComment'],
  \ [3, 9, 'kilnString'], [3, 11, 'kilnEscape'], [3, 15, 'kilnInterpDelim'],
  \ [3, 17, 'kilnFunction'], [3, 23, 'kilnString'], [3, 29, 'kilnBadEscape'],
  \ [3, 32, 'kilnString'],
  \ [4, 9, 'kilnRawString'], [4, 15, 'kilnRawString'],
  \ [5, 1, 'kilnComment'],
  \ [6, 9, 'kilnHeredocDelim'], [7, 3, 'kilnHeredoc'], [7, 8, 'kilnInterpDelim'],
  \ [8, 3, 'kilnHeredocDelim'],
  \ [9, 1, 'kilnKeyword'], [9, 9, 'kilnKeyword'], [9, 14, 'kilnBase'],
  \ [10, 12, 'kilnAttrName'], [10, 19, 'kilnString'],
  \ [12, 5, 'kilnModule'], [12, 16, 'kilnAttrName'], [12, 36, 'kilnNumber'],
  \ [14, 10, 'kilnOutputKind'], [14, 17, 'kilnOutputKind'],
  \ ]
let out = []
for [l, c, g] in want
  let got = synIDattr(synID(l, c, 1), 'name')
  if got !=# g
    call add(out, printf('%d:%d %s: %s, expected %s', l, c, getline(l)[c - 1 :], got, g))
  endif
endfor
call writefile(out, 'syn.txt')
qa!
VIM
nv syn.img syn.vim
[ ! -s syn.txt ] || fail "syntax groups differ: $(cat syn.txt)"

# A real example: the image keyword, a module, a task's title, an interpolation.
cat >web.vim <<'VIM'
let out = []
function! At(pat, off, group) abort
  call cursor(1, 1)
  let l = search(a:pat, 'cW')
  let got = l ? synIDattr(synID(l, col('.') + a:off, 1), 'name') : 'not found'
  if got !=# a:group
    call add(g:out, a:pat . ': ' . got . ', expected ' . a:group)
  endif
endfunction
call At('^image app_base', 0, 'kilnKeyword')
call At('apt "install apache"', 0, 'kilnModule')
call At('apt "install apache"', 5, 'kilnString')
call At('state = latest', 0, 'kilnAttrName')
call At('my-app \${app_version}', 7, 'kilnInterpDelim')
call At('^# web.img', 3, 'kilnComment')
call At('mode  = 0755', 8, 'kilnNumber')
call At('enabled = true', 10, 'kilnConstant')
call writefile(out, 'web.txt')
qa!
VIM
nv web.img web.vim
[ ! -s web.txt ] || fail "web.img: $(cat web.txt)"

# --- ftplugin: commentstring, makeprg, and errorformat on real lint output ---
printf 'image x from scratch {\n  stage s {\n    file "a" { path = 1 }\n  }\n}\n' >bad.img
run_kiln lint --diagnostics=short bad.img
expect_rc 1
cp out lint.txt
[ -s lint.txt ] || cp err lint.txt
cat >qf.vim <<'VIM'
cgetfile lint.txt
let out = [&commentstring, &makeprg]
for e in getqflist()
  call add(out, printf('%s %d %d %s %s', bufname(e.bufnr), e.lnum, e.col, e.type, e.text))
endfor
call writefile(out, 'qf.txt')
qa!
VIM
nv bad.img qf.vim
sed -n 1p qf.txt | grep -qx '# %s' || fail "commentstring: $(sed -n 1p qf.txt)"
sed -n 2p qf.txt | grep -q '^kiln lint --diagnostics=short ' || fail "makeprg: $(sed -n 2p qf.txt)"
n=$(grep -c . lint.txt)
[ "$n" -ge 1 ] || fail "kiln lint printed nothing"
[ "$(grep -c '^bad.img [0-9]* [0-9]* e ' qf.txt)" -eq "$n" ] ||
	fail "quickfix entries: $(cat qf.txt) from: $(cat lint.txt)"
grep -q '^bad.img 3 23 e argument .path. expects string' qf.txt || fail "quickfix: $(cat qf.txt)"
exit 0
